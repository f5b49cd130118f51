package usage

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

func boundary(trigger string, pre int64, at string) string {
	return fmt.Sprintf(`{"type":"system","subtype":"compact_boundary","timestamp":%q,"compactMetadata":{"trigger":%q,"preTokens":%d,"postTokens":10,"durationMs":100}}`, at, trigger, pre)
}

func costLineOf(model string, total float64, in, out int64) string {
	return fmt.Sprintf(`{"type":"cost-state","totalCostUSD":%v,"modelUsage":{%q:{"inputTokens":%d,"outputTokens":%d,"costUSD":%v}}}`, total, model, in, out, total)
}

// A run's compactions share what its cost-state counts beyond its
// responses, by preTokens; each call goes under the compact span the
// hook numbered per session (CompactBase), or under the top span when
// the hook saw another number of compactions.
func TestCompactionCalls(t *testing.T) {
	dir := t.TempDir()
	// Run 1: a response (100/10: 0.00045 $) and two compactions with
	// 4000/400 between them (0.018 $), 3:1 by preTokens. Run 2: one
	// compaction of 500/50 (0.00225 $).
	p := writeLines(t, dir, "s.jsonl",
		line("m1", "r1", sonnet, 100, 10, 0, 0, "end_turn"),
		boundary("manual", 3000, "2026-12-07T10:00:01Z"),
		boundary("manual", 1000, "2026-12-07T10:00:02Z"),
		costLineOf(sonnet, 0.01845, 4100, 410),
		boundary("manual", 700, "2026-12-07T10:00:03Z"),
		costLineOf(sonnet, 0.0207, 4600, 460))
	run1 := &tracing.Span{Name: semconv.SpanRoot, SpanID: tracing.SpanID{1}}
	run1.SetAttr(tracing.String(semconv.GenAIConversationID, "sid"))
	run1.SetAttr(tracing.Int(semconv.SessionCompactions, 2))
	finish(t, run1, Ref{Scope: "session", Path: p})
	if len(run1.Extra) != 2 {
		t.Fatalf("%d compaction calls", len(run1.Extra))
	}
	for i, w := range []struct {
		in, out int64
		usd     float64
	}{{3000, 300, 0.0135}, {1000, 100, 0.0045}} {
		c := run1.Extra[i]
		cost, _ := c.Attr(semconv.UsageCostUSD)
		if c.ParentSpanID != CompactSpanID("sid", i+1) || attrInt(c, semconv.GenAIUsageInputTokens) != w.in ||
			attrInt(c, semconv.GenAIUsageOutputTokens) != w.out || math.Abs(cost.Float-w.usd) > 1e-9 || c.End.Sub(c.Start) != 100*time.Millisecond {
			t.Errorf("call %d: parent %s, %d/%d tokens, $%v, %v; want %+v", i+1, c.ParentSpanID, attrInt(c, semconv.GenAIUsageInputTokens),
				attrInt(c, semconv.GenAIUsageOutputTokens), cost.Float, c.End.Sub(c.Start), w)
		}
	}
	if attrInt(run1, semconv.GenAIUsageInputTokens) != 4100 || attrInt(run1, semconv.UsageAPIRequests) != 3 {
		t.Errorf("run 1: %d input tokens, %d requests", attrInt(run1, semconv.GenAIUsageInputTokens), attrInt(run1, semconv.UsageAPIRequests))
	}

	run2 := &tracing.Span{Name: semconv.SpanRoot, SpanID: tracing.SpanID{2}}
	run2.SetAttr(tracing.String(semconv.GenAIConversationID, "sid"))
	run2.SetAttr(tracing.Int(semconv.SessionRun, 1))
	run2.SetAttr(tracing.Int(semconv.SessionCompactions, 1))
	finish(t, run2, Ref{Scope: "session", Path: p, Offset: endOfLine(t, p, `"totalCostUSD":0.01845`), CompactBase: 2})
	if len(run2.Extra) != 1 || run2.Extra[0].ParentSpanID != CompactSpanID("sid", 3) || attrInt(run2.Extra[0], semconv.GenAIUsageInputTokens) != 500 {
		t.Errorf("run 2's compaction: %+v", run2.Extra)
	}

	// The hook saw one compaction where the transcript has two: the calls
	// go under the top span rather than a compact span that may not exist.
	odd := &tracing.Span{Name: semconv.SpanRoot, SpanID: tracing.SpanID{3}}
	odd.SetAttr(tracing.String(semconv.GenAIConversationID, "sid"))
	odd.SetAttr(tracing.Int(semconv.SessionCompactions, 1))
	finish(t, odd, Ref{Scope: "session", Path: p})
	for _, c := range odd.Extra {
		if c.ParentSpanID != odd.SpanID {
			t.Errorf("call under %s, want the top span", c.ParentSpanID)
		}
	}
}

// unpriced is a model neither the built-in table nor a config prices.
const unpriced = "claude-unpriced-9"

// A model the table lacks is priced from the run's cost-state: its cost
// split over its requests by the standard rate ratios, adding up to
// Claude Code's figure.
func TestUnpricedModelSplit(t *testing.T) {
	dir := t.TempDir()
	const opus = unpriced
	// Weighted tokens: 100 + 5×10 = 150 and 300 + 5×30 = 450; 0.006 $ in all.
	p := writeLines(t, dir, "s.jsonl",
		`{"type":"user","promptId":"p1","message":{"content":"one"}}`,
		line("m1", "r1", opus, 100, 10, 0, 0, "end_turn"),
		`{"type":"user","promptId":"p2","message":{"content":"two"}}`,
		line("m2", "r2", opus, 300, 30, 0, 0, "end_turn"),
		costLineOf(opus, 0.006, 400, 40))
	for _, w := range []struct {
		prompt string
		usd    float64
	}{{"p1", 0.0015}, {"p2", 0.0045}} {
		s := &tracing.Span{Name: semconv.SpanTurn}
		finish(t, s, Ref{Scope: "turn", Path: p, PromptID: w.prompt})
		cost, ok := s.Attr(semconv.UsageCostUSD)
		if src, _ := s.Attr(semconv.CostSource); !ok || math.Abs(cost.Float-w.usd) > 1e-9 || src.Str != semconv.CostSourceClaudeCode {
			t.Errorf("turn %s: cost %v (%v, %s), want %v from Claude Code", w.prompt, cost.Float, ok, src.Str, w.usd)
		}
	}
	// Before the run's cost-state is written: no cost, the model named.
	q := writeLines(t, dir, "open.jsonl", `{"type":"user","promptId":"p1","message":{"content":"one"}}`, line("m1", "r1", opus, 100, 10, 0, 0, "end_turn"))
	s := &tracing.Span{Name: semconv.SpanTurn}
	finish(t, s, Ref{Scope: "turn", Path: q, PromptID: "p1"})
	if _, ok := s.Attr(semconv.UsageCostUSD); ok {
		t.Errorf("a cost before Claude Code's accounting was written")
	}
}

// Claude Code's default models are in the table: a turn gets its cost
// from the table at once, before the run's cost-state is written (the
// interactive TUI writes it only when the session ends).
func TestDefaultModelPricedBeforeCostState(t *testing.T) {
	p := writeLines(t, t.TempDir(), "open.jsonl",
		`{"type":"user","promptId":"p1","message":{"content":"one"}}`,
		line("m1", "r1", "claude-opus-5-5", 100, 10, 1000, 200, "tool_use"),
		line("m2", "r2", "claude-haiku-5-5", 100, 10, 1000, 200, "end_turn"))
	s := &tracing.Span{Name: semconv.SpanTurn}
	finish(t, s, Ref{Scope: "turn", Path: p, PromptID: "p1"})
	// opus: 100×4 + 10×20 + 1000×0.2 + 200×5 = 1800; haiku: 100×0.1 +
	// 10×0.5 + 1000×0.01 + 200×0.125 = 50 (µ$).
	cost, ok := s.Attr(semconv.UsageCostUSD)
	if src, _ := s.Attr(semconv.CostSource); !ok || math.Abs(cost.Float-0.00185) > 1e-12 || src.Str != semconv.CostSourcePriceTable {
		t.Errorf("turn: cost %v (%v, %q), want 0.00185 from the table", cost.Float, ok, src.Str)
	}
}

// A request the table cannot price though it knows the model (here fast
// mode) takes its share of Claude Code's cost by the model's own rate
// ratios: claude-opus-5-5 reads its cache at 0.05× input, so 1000 cache
// reads weigh 50 and 100 input tokens 100, 1:2 (the standard 0.1× would
// make it 1:1).
func TestSplitWeightsModelRatios(t *testing.T) {
	const opus = "claude-opus-5-5"
	fast := func(id string, in, cr int64) string {
		return fmt.Sprintf(`{"type":"user","promptId":"p%s","message":{"content":"x"}}`+"\n"+
			`{"type":"assistant","requestId":"r%s","message":{"id":"m%s","model":%q,"stop_reason":"end_turn","usage":{"input_tokens":%d,"output_tokens":0,"cache_read_input_tokens":%d,"speed":"fast"}}}`,
			id, id, id, opus, in, cr)
	}
	p := writeLines(t, t.TempDir(), "s.jsonl", fast("1", 0, 1000), fast("2", 100, 0), costLineOf(opus, 0.003, 100, 0))
	for _, w := range []struct {
		prompt string
		usd    float64
	}{{"p1", 0.001}, {"p2", 0.002}} {
		s := &tracing.Span{Name: semconv.SpanTurn}
		finish(t, s, Ref{Scope: "turn", Path: p, PromptID: w.prompt})
		cost, ok := s.Attr(semconv.UsageCostUSD)
		if src, _ := s.Attr(semconv.CostSource); !ok || math.Abs(cost.Float-w.usd) > 1e-12 || src.Str != semconv.CostSourceClaudeCode {
			t.Errorf("turn %s: cost %v (%v, %q), want %v from Claude Code", w.prompt, cost.Float, ok, src.Str, w.usd)
		}
	}
}

func finish(t *testing.T, s *tracing.Span, ref Ref) {
	t.Helper()
	s.Pending, _ = json.Marshal(ref)
	s.End = time.Now()
	if done, _ := New(Options{NoWait: true})(s, s.End); !done {
		t.Fatal("not done")
	}
}

func attrInt(s *tracing.Span, k string) int64 {
	a, _ := s.Attr(k)
	return a.Int
}

// A compact span gets the compactMetadata of the compact_boundary line
// written while it ran; until that line is there, the finisher waits.
func TestCompactSpanMetadata(t *testing.T) {
	dir := t.TempDir()
	p := writeLines(t, dir, "s.jsonl",
		boundary("manual", 3000, "2026-12-07T10:00:01Z"),
		line("m1", "r1", sonnet, 100, 10, 0, 0, "end_turn"),
		boundary("auto", 1000, "2026-12-07T10:05:01Z"))
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	fin := New(Options{})
	for _, w := range []struct {
		start, end string
		pre        int64
	}{{"2026-12-07T10:00:00Z", "2026-12-07T10:00:01Z", 3000}, {"2026-12-07T10:05:00Z", "2026-12-07T10:05:00.5Z", 1000}} {
		s := &tracing.Span{Name: semconv.SpanCompact, Start: at(w.start), End: at(w.end)}
		s.Pending, _ = json.Marshal(Ref{Scope: "compact", Path: p})
		if done, _ := fin(s, s.End.Add(5*time.Second)); !done || attrInt(s, semconv.CompactPreTokens) != w.pre || attrInt(s, semconv.CompactDurationMs) != 100 {
			t.Errorf("compaction at %s: done %v, pre %d", w.start, done, attrInt(s, semconv.CompactPreTokens))
		}
	}
	s := &tracing.Span{Name: semconv.SpanCompact, Start: at("2026-12-07T10:09:00Z"), End: at("2026-12-07T10:09:01Z")}
	s.Pending, _ = json.Marshal(Ref{Scope: "compact", Path: p})
	if done, _ := fin(s, s.End.Add(5*time.Second)); done {
		t.Errorf("done before the compaction's line was written")
	}
	if done, _ := fin(s, s.End.Add(2*time.Minute)); !done || attrInt(s, semconv.CompactPreTokens) != 0 {
		t.Errorf("not given up after MaxWait: done %v", done)
	}
}

// A subagent of a model the table lacks is priced from its own run's
// cost-state: the run of the Agent call that launched it (its meta
// file), not an earlier run that ended.
func TestUnpricedSubagentRun(t *testing.T) {
	const opus = unpriced
	call := func(id string) string {
		return fmt.Sprintf(`{"type":"assistant","requestId":"r-%s","message":{"id":"m-%s","model":%q,"stop_reason":"tool_use","usage":{"input_tokens":100,"output_tokens":10},"content":[{"type":"tool_use","id":%q,"name":"Agent"}]}}`, id, id, opus, id)
	}
	for _, tc := range []struct {
		launch string
		priced bool
	}{{"T1", true}, {"T2", false}} {
		dir := t.TempDir()
		writeLines(t, dir, "s.jsonl", call("T1"), costLineOf(opus, 0.0003, 200, 20), call("T2"))
		agent := writeLines(t, dir, "s/subagents/agent-x.jsonl", line("m-x", "r-x", opus, 100, 10, 0, 0, "end_turn"))
		writeLines(t, dir, "s/subagents/agent-x.meta.json", fmt.Sprintf(`{"toolUseId":%q}`, tc.launch))
		s := &tracing.Span{Name: "invoke_agent general-purpose"}
		finish(t, s, Ref{Scope: "agent", Path: agent})
		if _, ok := s.Attr(semconv.UsageCostUSD); ok != tc.priced {
			t.Errorf("launched by %s: cost set %v, want %v", tc.launch, ok, tc.priced)
		}
	}
}
