package usage

import (
	"path/filepath"
	"slices"
	"strconv"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// apply sets the usage attributes of res on s: tokens, models, cost, the
// time breakdown, the chat spans of a turn or a subagent and the
// compactions' model calls of a session or run (s.Extra).
func (f *finisher) apply(s *tracing.Span, ref *Ref, res *result) {
	counted := countedOf(res.reqs)
	led, mine := f.ledgerFor(ref, res, counted)
	counted = append(counted, mine...)
	responses := 0
	for _, r := range counted {
		responses += max(r.folded, 1) // a sum of folded responses counts each
	}
	s.SetAttr(tracing.Int(semconv.UsageAPIRequests, int64(responses)))
	if res.main != nil {
		f.breakdown(s, res.main, mine)
	}
	switch ref.Scope {
	case "turn", "agent":
		s.Extra = f.chatSpans(s, res, led)
	case "session":
		s.Extra = f.compactionSpans(s, ref, mine, led)
	}
	// A session's or run's cost is Claude Code's own figure when the
	// transcript has it: the running total at the run's end less the
	// total before the run.
	if ref.Scope == "session" && res.main != nil && len(res.main.costs) > 0 {
		end := res.main.costs[len(res.main.costs)-1]
		c := end.total
		if p := res.main.costPrev; p != nil {
			c -= p.total
		}
		setCost(s, max(c, 0), true)
	}
	if len(counted) == 0 {
		return
	}
	var t tally
	for _, r := range counted {
		t.add(f.prices, led, r)
	}
	t.set(s)
	if len(t.models) > 0 {
		// The hook names a turn's model from the last model switch it saw,
		// but Claude Code does not wait for a PostModelSwitch hook: the
		// next prompt's hook can run first. A turn or subagent whose
		// requests all went to one model takes that model from the
		// transcript, which has no such race.
		_, ok := s.Attr(semconv.GenAIRequestModel)
		if !ok || (len(t.models) == 1 && (ref.Scope == "turn" || ref.Scope == "agent")) {
			s.SetAttr(tracing.String(semconv.GenAIRequestModel, t.models[0]))
		}
		s.SetAttr(tracing.String(semconv.GenAIResponseModel, t.models[0]))
		if len(t.models) > 1 {
			s.SetAttr(tracing.Strings(semconv.UsageModels, t.models...))
		}
	}
	if _, ok := s.Attr(semconv.UsageCostUSD); !ok && t.costKnown {
		setCost(s, t.cost, t.cc)
	}
	if len(t.unpriced) > 0 {
		s.SetAttr(tracing.Strings(semconv.CostUnpricedModels, t.unpriced...))
	}
}

// setCost sets claude_code.cost.usd and where it comes from.
func setCost(s *tracing.Span, usd float64, cc bool) {
	s.SetAttr(tracing.Float(semconv.UsageCostUSD, roundUSD(usd)))
	src := semconv.CostSourcePriceTable
	if cc {
		src = semconv.CostSourceClaudeCode
	}
	s.SetAttr(tracing.String(semconv.CostSource, src))
}

// countedOf is the requests with usage (not the failed ones).
func countedOf(reqs []*request) []*request {
	var out []*request
	for _, r := range reqs {
		if !r.noUsage {
			out = append(out, r)
		}
	}
	return out
}

// ledgerFor is the ledger of the run res belongs to, when Claude Code's
// accounting of that run is written (its cost-state line), and the
// compactions' calls that count in the span: all of a session's or
// run's, those inside a turn. A turn or subagent needs the ledger only
// for a compaction or a model the price table lacks.
func (f *finisher) ledgerFor(ref *Ref, res *result, counted []*request) (*ledger, []*request) {
	sc := res.main
	if sc == nil {
		return nil, nil
	}
	if ref.Scope == "session" {
		if len(sc.costs) == 0 {
			return nil, nil
		}
		led := newLedger(f.prices, counted, sc.costPrev, sc.costs[len(sc.costs)-1], sc.compacts)
		return led, led.compacts
	}
	need := len(sc.compacts) > 0
	for _, r := range counted {
		if _, ok := f.prices.cost(r); !ok {
			need = true
		}
	}
	if !need {
		return nil, nil
	}
	led := f.runLedger(ref, res)
	if led == nil {
		return nil, nil
	}
	var mine []*request
	for _, c := range sc.compacts {
		for _, r := range led.compacts {
			if r.key == "#compact"+strconv.FormatInt(c.line, 10) {
				mine = append(mine, r)
			}
		}
	}
	return led, mine
}

// runLedger reads the run of the main transcript that a turn or subagent
// belongs to (a turn: the run its first line is in; a subagent: the last
// run that ended, if the Agent call that launched it is in it) and
// returns its ledger, or nil while the run's cost-state line is not
// written.
func (f *finisher) runLedger(ref *Ref, res *result) *ledger {
	path, anchor := ref.Path, int64(-1)
	if ref.Scope == "agent" {
		path = filepath.Dir(filepath.Dir(path)) + ".jsonl" // <session>/subagents/agent-<id>.jsonl
	} else if anchor = res.main.turnStart; anchor < 0 {
		anchor = ref.Offset
	}
	start, ok := runStart(path, anchor)
	if !ok {
		return nil
	}
	run, err := f.read(&Ref{Scope: "session", Path: path, Offset: start}, &tracing.Span{})
	if err != nil || run.main == nil || !run.main.runEnded {
		return nil
	}
	if id, ok := LaunchingCall(ref.Path); ok && ref.Scope == "agent" && run.main.tools[id] == nil {
		return nil // the subagent's run has not ended: the last one is another
	}
	res.keys = append(res.keys, run.keys...)
	cs := run.main.costs
	return newLedger(f.prices, countedOf(run.reqs), run.main.costPrev, cs[len(cs)-1], run.main.compacts)
}

// tally sums requests.
type tally struct {
	in, out, cr, cw, cw1h int64
	cost                  float64
	costKnown             bool
	cc                    bool // some of the cost is Claude Code's own figure
	models, unpriced      []string
	n                     int
}

func (t *tally) add(p *Prices, led *ledger, r *request) {
	if t.n == 0 {
		t.costKnown = true
	}
	t.n++
	t.in += r.input
	t.out += r.output
	t.cr += r.cacheRead
	t.cw += r.cacheWrite
	t.cw1h += r.cache1h
	if r.model != "" && !slices.Contains(t.models, r.model) {
		t.models = append(t.models, r.model)
	}
	if c, ok, cc := led.cost(p, r); ok {
		t.cost += c
		t.cc = t.cc || cc
	} else {
		t.costKnown = false
		m := r.model
		if m == "" {
			m = semconv.Unknown
		}
		if !slices.Contains(t.unpriced, m) {
			t.unpriced = append(t.unpriced, m)
		}
	}
}

// set writes the token attributes.
func (t *tally) set(s *tracing.Span) {
	s.SetAttr(tracing.Int(semconv.GenAIUsageInputTokens, t.in+t.cr+t.cw))
	s.SetAttr(tracing.Int(semconv.GenAIUsageOutputTokens, t.out))
	s.SetAttr(tracing.Int(semconv.GenAIUsageCacheReadInputTokens, t.cr))
	s.SetAttr(tracing.Int(semconv.GenAIUsageCacheCreationInputTokens, t.cw))
	s.SetAttr(tracing.Int(semconv.UsageUncachedInputTokens, t.in))
	if t.cw1h > 0 {
		s.SetAttr(tracing.Int(semconv.UsageCacheCreation1hInputTokens, t.cw1h))
	}
}
