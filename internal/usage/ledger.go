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
//     included) in proportion to their tokens weighted by Anthropic's
//     standard rate ratios. The run's per-request costs then add up to
//     Claude Code's figure.

// compaction is a compact_boundary line.
type compaction struct {
	at   time.Time // when the line was written: the compaction's end
	line int64     // where the line starts in its file
	meta compactV
}

// Anthropic's standard rate ratios, to the input price: output 5×, cache
// writes 1.25× (5 minutes) and 2× (1 hour), cache reads 0.1×.
const (
	ratioOutput       = 5
	ratioCacheWrite5m = 1.25
	ratioCacheWrite1h = 2
	ratioCacheRead    = 0.1
)

// weighted is r's tokens weighted by the standard rate ratios.
func weighted(r *request) float64 {
	return float64(r.input) + ratioOutput*float64(r.output) +
		ratioCacheWrite5m*float64(r.cacheWrite-r.cache1h) + ratioCacheWrite1h*float64(r.cache1h) +
		ratioCacheRead*float64(r.cacheRead)
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
	resid := map[string]*request{} // per model: the run's calls that wrote no response
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
	var table = map[string]float64{} // per model: what the price table gave its requests
	var w = map[string]float64{}     // per model: the weighted tokens of the requests it did not price
	for _, r := range reqs {
		x := resid[r.model]
		if x == nil {
			continue
		}
		x.input -= r.input
		x.output -= r.output
		x.cacheRead -= r.cacheRead
		x.cacheWrite -= r.cacheWrite
		x.cache1h -= r.cache1h
		if c, ok := prices.cost(r); ok {
			table[r.model] += c
		} else {
			w[r.model] += weighted(r)
		}
	}
	var total float64 // the residual calls' cost, all models
	var dominant *request
	for _, m := range models {
		x := resid[m]
		x.input, x.output, x.cacheRead = max(x.input, 0), max(x.output, 0), max(x.cacheRead, 0)
		x.cacheWrite, x.cache1h = max(x.cacheWrite, 0), min(max(x.cache1h, 0), max(x.cacheWrite, 0))
		left := x.ccCost - table[m] // Claude Code's cost of what the table did not price
		if d := w[m] + weighted(x); d > 0 && left > 0 {
			led.rates[m] = left / d
		}
		x.ccCost = max(left-w[m]*led.rates[m], 0)
		total += x.ccCost
		if dominant == nil || weighted(x) > weighted(dominant) {
			dominant = x
		}
	}
	if len(compacts) == 0 || dominant == nil || weighted(dominant) == 0 {
		return led
	}
	led.compacts = shareCompactions(resid, models, dominant.model, compacts)
	return led
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
			return rate * weighted(r), true, true
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
