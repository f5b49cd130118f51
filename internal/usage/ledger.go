package usage

import (
	"crypto/sha256"
	"sort"
	"strconv"
	"time"

	"github.com/ccotel/ccotel/tracing"
)

// A run's ledger: what Claude Code's own accounting (the cost-state line
// that ends the run, less the one before) says beyond the transcript's
// responses. Two things come from it:
//
//   - the compactions' model calls, which write no assistant line: their
//     tokens and cost are the run's cost-state difference less every
//     response of the run (main transcript and the run's subagents),
//     shared among the run's compactions in proportion to their preTokens;
//   - a price for models the table lacks (Claude Code's defaults): the
//     model's cost in the run, split over its requests (the compactions'
//     included) in proportion to their tokens weighted by the model's
//     rate ratios (Anthropic's standard ones for a model no table knows).
//     The run's per-request costs then add up to Claude Code's figure.

// compaction is a compact_boundary line.
type compaction struct {
	at   time.Time // when the line was written: the compaction's end
	line int64     // where the line starts in its file
	meta compactV
}

// standardRatios are Anthropic's standard rate ratios, to the input price:
// output 5×, cache writes 1.25× (5 minutes) and 2× (1 hour), cache reads
// 0.1×.
var standardRatios = mtok(1, 5)

// ratios are the ratios of model's rates to its input rate: those of its
// price where the config or the built-in table has one (a request the
// table does not price, billed off the standard tier or above a size
// whose rate is unknown, is split with its model's own ratios), else the
// standard ones.
func ratios(prices *Prices, model string) Price {
	p, ok := prices.rates(model)
	if !ok || p.Input <= 0 {
		return standardRatios
	}
	return Price{Input: 1, Output: p.Output / p.Input, CacheWrite5m: p.CacheWrite5m / p.Input,
		CacheWrite1h: p.CacheWrite1h / p.Input, CacheRead: p.CacheRead / p.Input}
}

// weighted is r's tokens weighted by its model's rate ratios.
func weighted(prices *Prices, r *request) float64 {
	w := ratios(prices, r.model)
	return float64(r.input) + w.Output*float64(r.output) +
		w.CacheWrite5m*float64(r.cacheWrite-r.cache1h) + w.CacheWrite1h*float64(r.cache1h) +
		w.CacheRead*float64(r.cacheRead)
}

// ledger is a run's accounting beyond its responses.
type ledger struct {
	// rates: USD per weighted token, per model, from Claude Code's cost
	// of the model in the run.
	rates map[string]float64
	// compacts are the compactions' model calls (requests priced by
	// Claude Code: ccCost), in the order of the run.
	compacts []*request
}

// newLedger builds the ledger of a run from its counted responses, the
// cost-state before it (nil: none, the session's first run) and the one
// that ended it, and its compactions.
func newLedger(prices *Prices, reqs []*request, prev *costState, end costState, compacts []compaction) *ledger {
	led := &ledger{rates: map[string]float64{}}
	resid, models := runDelta(prev, end)
	var main *request // the model with the most residual tokens
	for _, m := range models {
		x := resid[m]
		led.residual(prices, x, reqs)
		if main == nil || weighted(prices, x) > weighted(prices, main) {
			main = x
		}
	}
	if len(compacts) > 0 && main != nil && weighted(prices, main) > 0 {
		led.compacts = shareCompactions(resid, models, main.model, compacts)
	}
	return led
}

// runDelta is, per model, what Claude Code counted in the run: the
// cost-state at its end less the one before (ccCost: the cost), and the
// models in order.
func runDelta(prev *costState, end costState) (map[string]*request, []string) {
	resid := map[string]*request{}
	var models []string
	for m, u := range end.byModel {
		var p modelUseV
		if prev != nil {
			p = prev.byModel[m]
		}
		resid[m] = &request{model: m, input: u.Input - p.Input, output: u.Output - p.Output,
			cacheRead: u.CacheRead - p.CacheRead, cacheWrite: u.CacheWrite - p.CacheWrite,
			cache1h: u.CacheWrite1h - p.CacheWrite1h, ccCost: u.CostUSD - p.CostUSD}
		models = append(models, m)
	}
	sort.Strings(models)
	return resid, models
}

// residual turns x, Claude Code's count of one model in the run, into
// what the run's responses (reqs) leave of it: the calls that wrote no
// response, with their cost; and sets the model's rate: what the price
// table did not price of Claude Code's cost, over the weighted tokens of
// the requests it did not price and of the residual calls.
func (led *ledger) residual(prices *Prices, x *request, reqs []*request) {
	var table, w float64
	for _, r := range reqs {
		if r.model != x.model {
			continue
		}
		x.input -= r.input
		x.output -= r.output
		x.cacheRead -= r.cacheRead
		x.cacheWrite -= r.cacheWrite
		x.cache1h -= r.cache1h
		if c, ok := prices.cost(r); ok {
			table += c
		} else {
			w += weighted(prices, r)
		}
	}
	x.input, x.output, x.cacheRead = max(x.input, 0), max(x.output, 0), max(x.cacheRead, 0)
	x.cacheWrite = max(x.cacheWrite, 0)
	x.cache1h = min(max(x.cache1h, 0), x.cacheWrite)
	left := x.ccCost - table
	if d := w + weighted(prices, x); d > 0 && left > 0 {
		led.rates[x.model] = left / d
	}
	x.ccCost = max(left-w*led.rates[x.model], 0)
}

// shareCompactions splits the residual calls of each model among the
// compactions, in proportion to their preTokens (equally without them).
// Each compaction is one request, of the model with the most residual
// tokens.
func shareCompactions(resid map[string]*request, models []string, model string, compacts []compaction) []*request {
	var pre int64
	for _, c := range compacts {
		pre += max(c.meta.PreTokens, 0)
	}
	out := make([]*request, len(compacts))
	for i, c := range compacts {
		share := 1 / float64(len(compacts))
		if pre > 0 {
			share = float64(max(c.meta.PreTokens, 0)) / float64(pre)
		}
		meta := c.meta
		r := &request{key: "#compact" + strconv.FormatInt(c.line, 10), model: model, compact: &meta, ccPriced: true,
			start: c.at.Add(-time.Duration(max(c.meta.DurationMs, 0)) * time.Millisecond), end: c.at}
		for _, m := range models {
			x := resid[m]
			r.input += part(x.input, share, i, len(compacts))
			r.output += part(x.output, share, i, len(compacts))
			r.cacheRead += part(x.cacheRead, share, i, len(compacts))
			r.cacheWrite += part(x.cacheWrite, share, i, len(compacts))
			r.cache1h += part(x.cache1h, share, i, len(compacts))
			r.ccCost += x.ccCost * share
		}
		out[i] = r
	}
	return out
}

// part is the i-th of n shares of v: rounded, the last share a single
// compaction gets whole.
func part(v int64, share float64, i, n int) int64 {
	if n == 1 {
		return v
	}
	return int64(float64(v)*share + 0.5)
}

// cost prices r: Claude Code's own figure for a compaction's call, the
// price table, else the run's rate for its model. cc says the figure
// comes from Claude Code's accounting.
func (led *ledger) cost(prices *Prices, r *request) (usd float64, ok, cc bool) {
	if r.ccPriced {
		return r.ccCost, true, true
	}
	if c, ok := prices.cost(r); ok {
		return c, true, false
	}
	if led != nil {
		if rate, ok := led.rates[r.model]; ok && r.model != "" {
			return rate * weighted(prices, r), true, true
		}
	}
	return 0, false, false
}

// CompactSpanID is the span ID of the session's n-th compaction: the hook
// makes the span, the finisher puts the compaction's model call under it.
func CompactSpanID(sessionID string, n int) tracing.SpanID {
	var s tracing.SpanID
	sum := sha256.Sum256([]byte("ccotel/compact/" + sessionID + "/" + strconv.Itoa(n)))
	copy(s[:], sum[:])
	if !s.IsValid() {
		s[len(s)-1] = 1
	}
	return s
}
