package usage

import "strings"

// Price is a model's price in USD per million tokens (the config file's
// [prices."model"] tables use the same names).
type Price struct {
	Input        float64 `toml:"input"`
	Output       float64 `toml:"output"`
	CacheWrite5m float64 `toml:"cache_write_5m"`
	CacheWrite1h float64 `toml:"cache_write_1h"`
	CacheRead    float64 `toml:"cache_read"`
}

// longContextThreshold is the request size (input + cache tokens) above
// which models with a 1M-token context window bill at long-context rates,
// unless the model's entry sets its own (builtinPrice.above).
const longContextThreshold = 200_000

// webSearchUSD is the price of one server-side web search request
// ($10 per 1,000).
const webSearchUSD = 0.01

// builtinPrice is one model family's Anthropic API list price.
type builtinPrice struct {
	family string // model id without the date suffix
	price  Price
	// long is the price of requests above longContextThreshold, for
	// models with a 1M-token window; nil with longKnown=false means such
	// requests get no cost (the rate is not in the table); nil with
	// longKnown=true means the model cannot take such requests and the
	// base price applies.
	long      *Price
	longKnown bool
	above     int64 // the long rate's threshold; 0: longContextThreshold
}

// mtok builds a price from input and output USD per million tokens with
// Anthropic's cache multipliers: 5-minute writes 1.25×, 1-hour writes 2×,
// reads 0.1× the input price.
func mtok(in, out float64) Price {
	return Price{Input: in, Output: out, CacheWrite5m: in * 1.25, CacheWrite1h: in * 2, CacheRead: in * 0.1}
}

func ptr(p Price) *Price { return &p }

// withRead is p with its cache reads at read USD per million tokens.
func withRead(p Price, read float64) Price {
	p.CacheRead = read
	return p
}

// Builtin prices, USD per million tokens (Anthropic API list prices; see
// docs/TOKENS.md). Families are matched exactly or with a date suffix
// ("claude-sonnet-4-5-20250929"), never as plain prefixes, so that
// "claude-opus-4" does not price "claude-opus-4-6".
var builtinPrices = []builtinPrice{
	{family: "claude-opus-4-6", price: mtok(5, 25)},
	{family: "claude-opus-4-5", price: mtok(5, 25), longKnown: true},
	{family: "claude-opus-4-1", price: mtok(15, 75), longKnown: true},
	{family: "claude-opus-4", price: mtok(15, 75), longKnown: true},
	{family: "claude-sonnet-4-6", price: mtok(3, 15)},
	{family: "claude-sonnet-4-5", price: mtok(3, 15), long: ptr(mtok(6, 22.5)), longKnown: true},
	{family: "claude-sonnet-4", price: mtok(3, 15), long: ptr(mtok(6, 22.5)), longKnown: true},
	{family: "claude-3-7-sonnet", price: mtok(3, 15), longKnown: true},
	{family: "claude-3-5-sonnet", price: mtok(3, 15), longKnown: true},
	{family: "claude-haiku-4-5", price: mtok(1, 5), longKnown: true},
	{family: "claude-3-5-haiku", price: mtok(0.8, 4), longKnown: true},
	{family: "claude-3-haiku", price: mtok(0.25, 1.25), longKnown: true},
	{family: "claude-3-opus", price: mtok(15, 75), longKnown: true},
	// Claude Code 2.1.328's default models: the rates it charges, derived
	// from its cost-state lines in testdata/claude (every recorded costUSD
	// is these rates to float precision, usage.TestTablePricesRecordedCostStates)
	// and as its built-in model catalog has them: claude-opus-5-5 reads its
	// cache at 0.05× input and has no long-context rate (a flat 1M-token
	// window); claude-haiku-5-5 bills requests above 100 000 prompt tokens
	// at 5× every rate.
	{family: "claude-opus-5-5", price: withRead(mtok(4, 20), 0.2), longKnown: true},
	{family: "claude-haiku-5-5", price: mtok(0.1, 0.5), long: ptr(mtok(0.5, 2.5)), longKnown: true, above: 100_000},
}

// Prices looks up model prices: the config's overrides first (exact id,
// then the longest key that prefixes the id), then the built-in table.
type Prices struct {
	overrides map[string]Price
}

// NewPrices returns a price table with overrides (from the config's
// [prices."<model>"] tables). An override's missing cache prices (zero) are
// derived from its input price with Anthropic's multipliers.
func NewPrices(overrides map[string]Price) *Prices {
	p := &Prices{overrides: map[string]Price{}}
	for k, v := range overrides {
		if v.CacheWrite5m == 0 {
			v.CacheWrite5m = v.Input * 1.25
		}
		if v.CacheWrite1h == 0 {
			v.CacheWrite1h = v.Input * 2
		}
		if v.CacheRead == 0 {
			v.CacheRead = v.Input * 0.1
		}
		p.overrides[k] = v
	}
	return p
}

// price returns the price of one request, or false when it is not known:
// an unknown model, a long-context request whose rate is not in the table,
// or a request billed outside the standard tier (priority tier, fast mode,
// data-residency surcharges), which the table does not model.
func (p *Prices) price(r *request) (Price, bool) {
	if r.model == "" || r.offStandard {
		return Price{}, false
	}
	if v, ok := p.override(r.model); ok {
		return v, true
	}
	b := lookupBuiltin(r.model)
	if b == nil {
		return Price{}, false
	}
	if r.longCtx {
		switch {
		case b.long != nil:
			return *b.long, true
		case !b.longKnown:
			return Price{}, false
		}
	}
	return b.price, true
}

// override is the config's price of model: the exact id, then the longest
// key that prefixes it.
func (p *Prices) override(model string) (Price, bool) {
	if p == nil {
		return Price{}, false
	}
	if v, ok := p.overrides[model]; ok {
		return v, true
	}
	best := ""
	for k := range p.overrides {
		if k != "" && strings.HasPrefix(model, k) && len(k) > len(best) {
			best = k
		}
	}
	if best == "" {
		return Price{}, false
	}
	return p.overrides[best], true
}

// rates is model's standard price, whatever a request's size or tier: the
// config's, else the built-in table's.
func (p *Prices) rates(model string) (Price, bool) {
	if v, ok := p.override(model); ok {
		return v, true
	}
	if b := lookupBuiltin(model); b != nil {
		return b.price, true
	}
	return Price{}, false
}

// threshold is the request size above which b's long rate applies.
func (b *builtinPrice) threshold() int64 {
	if b.above > 0 {
		return b.above
	}
	return longContextThreshold
}

// longContext reports whether one request of model with prompt tokens
// (input and cache) bills at long-context rates: above the model's
// threshold in the built-in table, else longContextThreshold. Decided per
// request as it is read, so that a sum of requests (a run's totals, the
// oldest responses folded together) keeps its requests' class.
func longContext(model string, prompt int64) bool {
	if b := lookupBuiltin(model); b != nil {
		return prompt > b.threshold()
	}
	return prompt > longContextThreshold
}

// lookupBuiltin finds model's family: the id itself, or the family followed
// by "-YYYYMMDD" or "-latest". Cloud-provider ids (Bedrock's
// "anthropic.claude-…-v1:0", Vertex's "claude-…@date") are not matched:
// their regional prices differ; price them in the config.
func lookupBuiltin(model string) *builtinPrice {
	for i := range builtinPrices {
		b := &builtinPrices[i]
		rest, ok := strings.CutPrefix(model, b.family)
		if !ok {
			continue
		}
		if rest == "" || rest == "-latest" || isDateSuffix(rest) {
			return b
		}
	}
	return nil
}

func isDateSuffix(s string) bool {
	if len(s) != 9 || s[0] != '-' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// cost returns the request's cost in USD, or false when its price is not
// known.
func (p *Prices) cost(r *request) (float64, bool) {
	mp, ok := p.price(r)
	if !ok {
		return 0, false
	}
	c := float64(r.input)*mp.Input +
		float64(r.output)*mp.Output +
		float64(r.cacheWrite-r.cache1h)*mp.CacheWrite5m +
		float64(r.cache1h)*mp.CacheWrite1h +
		float64(r.cacheRead)*mp.CacheRead
	return c/1e6 + float64(r.webSearch)*webSearchUSD, true
}

// UnpricedModels returns the models among models that p (nil: the built-in
// table) cannot price, for doctor and status to name: their requests and
// turns get no claude_code.cost.usd (sessions still get Claude Code's own
// figure from the transcript's cost-state lines).
func UnpricedModels(p *Prices, models ...string) []string {
	if p == nil {
		p = NewPrices(nil)
	}
	var out []string
	for _, m := range models {
		if _, ok := p.price(&request{model: m}); !ok {
			out = append(out, m)
		}
	}
	return out
}
