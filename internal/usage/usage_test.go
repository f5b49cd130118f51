package usage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

const (
	sonnet = "claude-sonnet-4-5-20250929"
	haiku  = "claude-haiku-4-5-20251001"
)

var fixtures = filepath.Join("..", "..", "testdata", "transcripts")

// want is a span's expected usage, computed by hand from the fixture lines.
type want struct {
	requests                        int64
	uncached, cacheRead, cacheWrite int64
	output                          int64
	models                          []string
	cost                            float64 // < 0: no cost attribute
	incomplete                      bool
	cacheWrite1h                    int64
	requestModel                    string // "" = models[0]
}

func (w want) check(t *testing.T, s *tracing.Span) {
	t.Helper()
	if len(s.Pending) != 0 {
		t.Fatalf("Pending not cleared")
	}
	intAttr(t, s, semconv.UsageAPIRequests, w.requests)
	if w.requests == 0 {
		return
	}
	intAttr(t, s, semconv.GenAIUsageInputTokens, w.uncached+w.cacheRead+w.cacheWrite)
	intAttr(t, s, semconv.UsageUncachedInputTokens, w.uncached)
	intAttr(t, s, semconv.GenAIUsageOutputTokens, w.output)
	intAttr(t, s, semconv.GenAIUsageCacheReadInputTokens, w.cacheRead)
	intAttr(t, s, semconv.GenAIUsageCacheCreationInputTokens, w.cacheWrite)
	if w.cacheWrite1h > 0 {
		intAttr(t, s, semconv.UsageCacheCreation1hInputTokens, w.cacheWrite1h)
	} else if _, ok := s.Attr(semconv.UsageCacheCreation1hInputTokens); ok {
		t.Errorf("unexpected %s", semconv.UsageCacheCreation1hInputTokens)
	}
	rm := w.requestModel
	if rm == "" {
		rm = w.models[0]
	}
	strAttr(t, s, semconv.GenAIRequestModel, rm)
	strAttr(t, s, semconv.GenAIResponseModel, w.models[0])
	a, ok := s.Attr(semconv.UsageModels)
	if len(w.models) > 1 {
		if !ok || strings.Join(a.Strings, ",") != strings.Join(w.models, ",") {
			t.Errorf("%s = %v, want %v", semconv.UsageModels, a.Strings, w.models)
		}
	} else if ok {
		t.Errorf("%s set for one model: %v", semconv.UsageModels, a.Strings)
	}
	c, ok := s.Attr(semconv.UsageCostUSD)
	switch {
	case w.cost < 0 && ok:
		t.Errorf("cost set (%v), want none", c.Float)
	case w.cost >= 0 && !ok:
		t.Errorf("no cost, want %v", w.cost)
	case ok && math.Abs(c.Float-w.cost) > 1e-9:
		t.Errorf("cost = %.9f, want %.9f", c.Float, w.cost)
	}
	inc, ok := s.Attr(semconv.UsageComplete)
	if w.incomplete != (ok && !inc.Bool) {
		t.Errorf("incomplete marker = %v (present %v), want incomplete=%v", inc.Bool, ok, w.incomplete)
	}
}

func intAttr(t *testing.T, s *tracing.Span, k string, v int64) {
	t.Helper()
	a, ok := s.Attr(k)
	if !ok || a.Type != "int" || a.Int != v {
		t.Errorf("%s = %+v (present %v), want %d", k, a, ok, v)
	}
}

func strAttr(t *testing.T, s *tracing.Span, k, v string) {
	t.Helper()
	a, ok := s.Attr(k)
	if !ok || a.Type != "string" || a.Str != v {
		t.Errorf("%s = %+v (present %v), want %q", k, a, ok, v)
	}
}

// offsetOf returns the byte offset of the start of the line of path that
// contains sub (what the hook would have stat'ed at UserPromptSubmit).
func offsetOf(t *testing.T, path, sub string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(sub))
	if i < 0 {
		t.Fatalf("%s: %q not found", path, sub)
	}
	return int64(bytes.LastIndexByte(b[:i], '\n') + 1)
}

// endOfLine returns the offset just after the line containing sub.
func endOfLine(t *testing.T, path, sub string) int64 {
	t.Helper()
	b, _ := os.ReadFile(path)
	i := bytes.Index(b, []byte(sub))
	return int64(i + bytes.IndexByte(b[i:], '\n') + 1)
}

// span builds a span that ended at end with Pending = ref.
func span(ref Ref, end time.Time) *tracing.Span {
	b, _ := json.Marshal(ref)
	return &tracing.Span{Name: "turn", Start: end.Add(-time.Minute), End: end, Pending: b, ReadyAt: end.Add(3 * time.Second)}
}

type logSink struct{ lines []string }

func (l *logSink) logf(format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logSink) has(sub string) bool {
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// finishNow runs the finisher once at a time well after the span's end,
// when the fixture (unmodified since checkout, or aged by age()) is quiet.
func finishNow(t *testing.T, fin tracing.Finisher, s *tracing.Span) {
	t.Helper()
	done, _ := fin(s, s.End.Add(10*time.Second))
	if !done {
		t.Fatalf("not done")
	}
}

// Turn A of turns.jsonl, by hand:
//
//	msg_A1/req_A1 sonnet, 3 lines (output 8, 8, 231): input 9, cache read 12834,
//	  cache write 5061 (5m), output 231
//	msg_A2/req_A2 haiku, 2 lines (output 12, 57): input 3, cache read 18000,
//	  cache write 400 (1h), output 57
//	broken line, empty line, <synthetic> line: not counted
//
// cost sonnet: 9×3 + 231×15 + 5061×3.75 + 12834×0.3 = 26320.95 µ$
// cost haiku:  3×1 + 57×5 + 400×2 + 18000×0.1        =  2888    µ$
var turnA = want{
	requests: 2, uncached: 12, cacheRead: 30834, cacheWrite: 5461, cacheWrite1h: 400, output: 288,
	models: []string{sonnet, haiku}, cost: 0.02920895,
}

// Turn B: msg_B1 sonnet: input 5, cache read 23000, output 120;
// cost 5×3 + 120×15 + 23000×0.3 = 8715 µ$.
var turnB = want{requests: 1, uncached: 5, cacheRead: 23000, output: 120, models: []string{sonnet}, cost: 0.008715}

// agent-aa11: msg_S1 (output 5 then 90): input 1200; msg_S2: input 40,
// cache read 1150, output 300; cost 1240×1 + 390×5 + 1150×0.1 = 3305 µ$.
var agentAA11 = want{requests: 2, uncached: 1240, cacheRead: 1150, output: 390, models: []string{haiku}, cost: 0.003305}

func TestTurnWithPromptIDs(t *testing.T) {
	path := filepath.Join(fixtures, "turns.jsonl")
	end := time.Now()
	fin := New(Options{})
	cases := []struct {
		name string
		ref  Ref
		want want
	}{
		{"A from its offset", Ref{Scope: "turn", Path: path, PromptID: "p-1", Offset: offsetOf(t, path, `"promptId":"p-1"`)}, turnA},
		{"A offset unknown", Ref{Scope: "turn", Path: path, PromptID: "p-1"}, turnA},
		{"B from its offset", Ref{Scope: "turn", Path: path, PromptID: "p-2", Offset: offsetOf(t, path, `"promptId":"p-2"`)}, turnB},
		{"B offset unknown", Ref{Scope: "turn", Path: path, PromptID: "p-2"}, turnB},
		// The prompt line was written before the hook stat'ed the file.
		{"B prompt before offset", Ref{Scope: "turn", Path: path, PromptID: "p-2", Offset: endOfLine(t, path, `"promptId":"p-2"`)}, turnB},
		// The stat caught a line half written: the offset points into it.
		{"B offset mid-line", Ref{Scope: "turn", Path: path, PromptID: "p-2", Offset: offsetOf(t, path, `"promptId":"p-2"`) - 7}, turnB},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := span(tc.ref, end)
			// The turn is visibly over (end_turn, stop-hook summary, next
			// prompt): done at ReadyAt, however fresh the file.
			done, _ := fin(s, s.ReadyAt)
			if !done {
				t.Fatalf("not done at ReadyAt")
			}
			tc.want.check(t, s)
		})
	}
}

// Old transcripts without promptId: turns by position (see noprompt.jsonl).
//
//	turn 1: msg_O1: input 10, cache read 1000, output 50
//	turn "fix the flaky test": msg_O2 (input 20, cr 2000, cw 100, out 70) +
//	  msg_O3 (input 30, cr 2100, out 80); cost 50×3 + 150×15 + 4100×0.3 + 100×3.75 = 4005 µ$
func TestTurnWithoutPromptIDs(t *testing.T) {
	path := filepath.Join(fixtures, "noprompt.jsonl")
	fix := want{requests: 2, uncached: 50, cacheRead: 4100, cacheWrite: 100, output: 150, models: []string{sonnet}, cost: 0.004005}
	first := want{requests: 1, uncached: 10, cacheRead: 1000, output: 50, models: []string{sonnet}, cost: 10*3e-6 + 50*15e-6 + 1000*0.3e-6}
	fin := New(Options{})
	for _, tc := range []struct {
		name string
		off  int64
		want want
	}{
		{"first turn", 0, first},
		{"at prompt", offsetOf(t, path, "fix the flaky test"), fix},
		{"prompt before offset", endOfLine(t, path, "fix the flaky test"), fix},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := span(Ref{Scope: "turn", Path: path, Offset: tc.off}, time.Now())
			if done, _ := fin(s, s.ReadyAt); !done {
				t.Fatal("not done")
			}
			tc.want.check(t, s)
		})
	}
}

func TestAgent(t *testing.T) {
	path := filepath.Join(fixtures, "turns", "subagents", "agent-aa11.jsonl")
	s := span(Ref{Scope: "agent", Path: path, AgentID: "aa11"}, time.Now())
	fin := New(Options{})
	if done, _ := fin(s, s.ReadyAt); !done { // ends with end_turn
		t.Fatal("not done")
	}
	agentAA11.check(t, s)
}

// Session totals: the main transcript plus every subagent transcript.
//
//	requests 2+1+2 = 5; uncached 12+5+1240 = 1257; cache read
//	30834+23000+1150 = 54984; cache write 5461; output 288+120+390 = 798;
//	cost 0.02920895 + 0.008715 + 0.003305 = 0.04122895
func TestSession(t *testing.T) {
	ref := Ref{Scope: "session", Path: filepath.Join(fixtures, "turns.jsonl"), SubagentDir: filepath.Join(fixtures, "turns", "subagents")}
	s := span(ref, time.Now())
	s.SetAttr(tracing.String(semconv.GenAIRequestModel, "claude-sonnet-4-5")) // from SessionStart: kept
	fin := New(Options{})
	if done, _ := fin(s, s.ReadyAt); !done {
		t.Fatal("not done")
	}
	want{requests: 5, uncached: 1257, cacheRead: 54984, cacheWrite: 5461, cacheWrite1h: 400, output: 798,
		models: []string{sonnet, haiku}, cost: 0.04122895, requestModel: "claude-sonnet-4-5"}.check(t, s)
}

// The transcript lags the Stop event: at ReadyAt it ends inside the line
// that carries the final output_tokens. The finisher must wait, and count
// the final line once it is there.
//
// Final numbers (msg_L1): input 7, cache read 9000, cache write 1500 (5m),
// output 410; cost 7×3 + 410×15 + 1500×3.75 + 9000×0.3 = 14496 µ$.
func TestLaggingTranscript(t *testing.T) {
	part1, err := os.ReadFile(filepath.Join(fixtures, "lag-part1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	part2, err := os.ReadFile(filepath.Join(fixtures, "lag-part2.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "session.jsonl")
	if err := os.WriteFile(path, part1, 0o600); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	s := span(Ref{Scope: "turn", Path: path, PromptID: "p-9"}, end)
	fin := New(Options{})

	if done, _ := fin(s, end); done {
		t.Fatal("done before ReadyAt")
	}
	now := s.ReadyAt
	done, retry := fin(s, now)
	if done {
		t.Fatal("done while the transcript ends mid-line and was just written")
	}
	if !retry.After(now) || retry.After(end.Add(defaultMaxWait)) {
		t.Errorf("retryAt %v not in (now, end+MaxWait]", retry)
	}
	if _, ok := s.Attr(semconv.GenAIUsageOutputTokens); ok || len(s.Pending) == 0 {
		t.Fatal("span changed while not done")
	}

	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(part2)
	f.Close()
	if done, _ := fin(s, now.Add(time.Second)); !done {
		t.Fatal("not done after the final line arrived")
	}
	want{requests: 1, uncached: 7, cacheRead: 9000, cacheWrite: 1500, output: 410, models: []string{sonnet}, cost: 0.014496}.check(t, s)
}

// A transcript that never completes: after MaxWait the span goes out with
// what is there, marked incomplete.
func TestMaxWait(t *testing.T) {
	part1, _ := os.ReadFile(filepath.Join(fixtures, "lag-part1.jsonl"))
	path := filepath.Join(t.TempDir(), "session.jsonl")
	os.WriteFile(path, part1, 0o600)
	end := time.Now()
	log := &logSink{}
	fin := New(Options{MaxWait: 30 * time.Second, Logf: log.logf})
	s := span(Ref{Scope: "turn", Path: path, PromptID: "p-9"}, end)
	// Keep the file "fresh" as seen from each call.
	for _, now := range []time.Time{s.ReadyAt, end.Add(20 * time.Second)} {
		os.Chtimes(path, now, now)
		if done, _ := fin(s, now); done {
			t.Fatalf("done at %v", now.Sub(end))
		}
	}
	now := end.Add(30 * time.Second)
	os.Chtimes(path, now, now)
	if done, _ := fin(s, now); !done {
		t.Fatal("not done at MaxWait")
	}
	// Only the partial first line of msg_L1 was there: output 4.
	want{requests: 1, uncached: 7, cacheRead: 9000, cacheWrite: 1500, output: 4, models: []string{sonnet},
		cost: (7*3 + 4*15 + 1500*3.75 + 9000*0.3) / 1e6, incomplete: true}.check(t, s)
	if !log.has("not settled") {
		t.Errorf("no log line: %q", log.lines)
	}
}

// A file nobody has written to for Quiet counts as settled, even without
// a line that says the turn is over.
func TestQuietFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.jsonl")
	part1, _ := os.ReadFile(filepath.Join(fixtures, "lag-part1.jsonl"))
	os.WriteFile(path, part1, 0o600)
	end := time.Now()
	os.Chtimes(path, end, end)
	fin := New(Options{Quiet: 5 * time.Second})
	s := span(Ref{Scope: "turn", Path: path, PromptID: "p-9"}, end)
	done, retry := fin(s, end.Add(3*time.Second))
	if done || !retry.Equal(end.Add(5*time.Second)) {
		t.Fatalf("done=%v retry=%v, want not done, retry at mtime+Quiet", done, retry.Sub(end))
	}
	if done, _ := fin(s, retry); !done {
		t.Fatal("not done once quiet")
	}
	intAttr(t, s, semconv.GenAIUsageOutputTokens, 4)
	if _, ok := s.Attr(semconv.UsageComplete); ok {
		t.Error("quiet file marked incomplete")
	}
}

func TestMissingAndBadRefs(t *testing.T) {
	log := &logSink{}
	fin := New(Options{Logf: log.logf})
	for _, tc := range []struct {
		name    string
		pending string
		logged  string
	}{
		{"missing file", `{"scope":"turn","path":"/nonexistent/x.jsonl","prompt_id":"p"}`, "transcript not found"},
		{"no path", `{"scope":"turn"}`, "no transcript path"},
		{"bad scope", `{"scope":"galaxy","path":"` + filepath.Join(fixtures, "turns.jsonl") + `"}`, "unknown scope"},
		{"garbage", `[1,2`, "undecodable"},
		{"offset past end", `{"scope":"turn","path":"` + filepath.Join(fixtures, "turns.jsonl") + `","offset":99999999}`, "offset beyond"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &tracing.Span{End: time.Now(), Pending: json.RawMessage(tc.pending)}
			done, _ := fin(s, time.Now())
			if !done || len(s.Pending) != 0 || len(s.Attrs) != 0 {
				t.Fatalf("done=%v pending=%s attrs=%v", done, s.Pending, s.Attrs)
			}
			if !log.has(tc.logged) {
				t.Errorf("log lacks %q: %q", tc.logged, log.lines)
			}
		})
	}
	// No Pending: nothing to do.
	s := &tracing.Span{}
	if done, _ := fin(s, time.Now()); !done || len(s.Attrs) != 0 {
		t.Error("span without Pending touched")
	}
}

// writeLines writes a transcript of the given lines (each followed by a
// newline) and returns its path.
func writeLines(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0o700)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func line(mid, rid, model string, in, out, cr, cw int64, stop string) string {
	sr := "null"
	if stop != "" {
		sr = `"` + stop + `"`
	}
	return fmt.Sprintf(`{"type":"assistant","requestId":%q,"message":{"id":%q,"model":%q,"stop_reason":%s,"usage":{"input_tokens":%d,"output_tokens":%d,"cache_read_input_tokens":%d,"cache_creation_input_tokens":%d}}}`,
		rid, mid, model, sr, in, out, cr, cw)
}

// A model without a known price: tokens yes, cost never.
func TestUnknownModelHasNoCost(t *testing.T) {
	dir := t.TempDir()
	p := writeLines(t, dir, "a.jsonl",
		line("m1", "r1", sonnet, 10, 20, 0, 0, "tool_use"),
		line("m2", "r2", "claude-opus-4-7-20270101", 1, 2, 0, 0, "end_turn"))
	s := span(Ref{Scope: "agent", Path: p}, time.Now())
	finishNow(t, New(Options{}), s)
	want{requests: 2, uncached: 11, output: 22, models: []string{sonnet, "claude-opus-4-7-20270101"}, cost: -1}.check(t, s)

	// The config prices it: cost again (1×1 + 2×2 per MTok for the new one).
	s = span(Ref{Scope: "agent", Path: p}, time.Now())
	finishNow(t, New(Options{Prices: map[string]Price{"claude-opus-4-7": {Input: 1, Output: 2}}}), s)
	want{requests: 2, uncached: 11, output: 22, models: []string{sonnet, "claude-opus-4-7-20270101"},
		cost: (10*3 + 20*15 + 1*1 + 2*2) / 1e6}.check(t, s)
}

// Session totals count a response found in two files once (the line with
// the larger output_tokens), and a missing subagent directory is fine.
func TestSessionDedupAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	main := writeLines(t, dir, "s.jsonl",
		line("m1", "r1", haiku, 100, 10, 0, 0, "tool_use"),
		line("m2", "r2", haiku, 5, 7, 0, 0, "end_turn"))
	writeLines(t, dir, "s/subagents/agent-x.jsonl",
		line("m1", "r1", haiku, 100, 30, 0, 0, "tool_use"),
		line("m3", "r3", haiku, 1, 1, 0, 0, "end_turn"))
	s := span(Ref{Scope: "session", Path: main, SubagentDir: filepath.Join(dir, "s", "subagents")}, time.Now())
	finishNow(t, New(Options{}), s)
	// m1 once with output 30, m2, m3: input 106, output 38; cost 106×1 + 38×5 = 296 µ$.
	want{requests: 3, uncached: 106, output: 38, models: []string{haiku}, cost: 0.000296}.check(t, s)

	s = span(Ref{Scope: "session", Path: main, SubagentDir: filepath.Join(dir, "nope")}, time.Now())
	finishNow(t, New(Options{}), s)
	want{requests: 2, uncached: 105, output: 17, models: []string{haiku}, cost: (105*1 + 17*5) / 1e6}.check(t, s)
}

// Lines longer than MaxLine are skipped without being loaded and make the
// usage incomplete; the other lines still count.
func TestHugeLine(t *testing.T) {
	dir := t.TempDir()
	huge := `{"type":"user","message":{"role":"user","content":"` + strings.Repeat("x", MaxLine+10) + `"}}`
	p := writeLines(t, dir, "h.jsonl",
		line("m1", "r1", haiku, 1, 2, 0, 0, "tool_use"),
		huge,
		line("m2", "r2", haiku, 3, 4, 0, 0, "end_turn"))
	log := &logSink{}
	s := span(Ref{Scope: "agent", Path: p}, time.Now())
	finishNow(t, New(Options{Logf: log.logf}), s)
	want{requests: 2, uncached: 4, output: 6, models: []string{haiku}, cost: (4*1 + 6*5) / 1e6, incomplete: true}.check(t, s)
	if !log.has("over") {
		t.Errorf("no log line for the huge line: %q", log.lines)
	}
}

// Odd but valid shapes: no usage, no ids, numbers as strings (malformed),
// negative counts, unknown types, a partial last line.
func TestOddLines(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "o.jsonl")
	content := strings.Join([]string{
		`{"type":"assistant","message":{"model":"` + haiku + `","content":[]}}`,                                 // no usage: not a response
		`{"type":"assistant","message":{"model":"` + haiku + `","usage":{"input_tokens":2,"output_tokens":3}}}`, // no ids: its own response
		`{"type":"assistant","message":{"model":"` + haiku + `","usage":{"input_tokens":2,"output_tokens":3}}}`, // … and so is this one
		`{"type":"assistant","message":{"id":"m9","usage":{"input_tokens":"many"}}}`,                            // malformed
		`{"type":"assistant","message":{"id":"m8","usage":{"input_tokens":-5,"output_tokens":1}}}`,              // impossible
		`{"type":"mystery","payload":{"a":[1,2,3]}}`,
		`"just a string"`,
		`[]`,
		`null`,
		line("m1", "r1", haiku, 10, 1, 0, 0, "end_turn"),
	}, "\n") + "\n" + line("m1", "r1", haiku, 10, 99, 0, 0, "end_turn")[:40] // being written
	os.WriteFile(p, []byte(content), 0o600)
	log := &logSink{}
	s := span(Ref{Scope: "agent", Path: p}, time.Now())
	now := time.Now()
	os.Chtimes(p, now.Add(-time.Minute), now.Add(-time.Minute))
	finishNow(t, New(Options{Logf: log.logf}), s)
	want{requests: 3, uncached: 14, output: 7, models: []string{haiku}, cost: (14*1 + 7*5) / 1e6}.check(t, s)
	if !log.has("malformed") {
		t.Errorf("no log line for malformed lines: %q", log.lines)
	}
}

// Unknown service tiers, fast mode, and long-context requests whose rate is
// not in the table give no cost; Sonnet 4.5's and Haiku 5.5's long-context
// rates are known.
func TestPricingEdges(t *testing.T) {
	p := NewPrices(nil)
	r := func(model string, in, out, cr, cw, cw1h int64) *request {
		return &request{model: model, input: in, output: out, cacheRead: cr, cacheWrite: cw, cache1h: cw1h, longCtx: longContext(model, in+cr+cw)}
	}
	cases := []struct {
		name string
		req  *request
		want float64 // < 0: unknown
	}{
		{"sonnet 4.5 dated", r("claude-sonnet-4-5-20250929", 1_000_000, 0, 0, 0, 0), 6}, // long context: $6/MTok
		{"sonnet 4.5 short", r("claude-sonnet-4-5", 100_000, 100_000, 0, 0, 0), 0.3 + 1.5},
		{"sonnet 4 long", r("claude-sonnet-4-20250514", 150_000, 1000, 60_000, 0, 0), 150_000*6e-6 + 1000*22.5e-6 + 60_000*0.6e-6},
		{"sonnet 4.6 long unknown", r("claude-sonnet-4-6", 250_000, 1, 0, 0, 0), -1},
		{"sonnet 4.6 short", r("claude-sonnet-4-6", 1000, 1000, 0, 0, 0), 1000*3e-6 + 1000*15e-6},
		{"opus 4.5 cache split", r("claude-opus-4-5-20251101", 0, 0, 0, 1000, 400), 600*6.25e-6 + 400*10e-6},
		{"opus 4 not opus 4.6", r("claude-opus-4-20250514", 1000, 0, 0, 0, 0), 1000 * 15e-6},
		{"opus 4.1", r("claude-opus-4-1-20250805", 0, 1000, 0, 0, 0), 1000 * 75e-6},
		{"haiku 3.5", r("claude-3-5-haiku-20241022", 1_000_000, 1_000_000, 1_000_000, 1_000_000, 0), 0.8 + 4 + 0.08 + 1},
		// Claude Code 2.1.328's defaults: opus 5.5 is flat over its 1M
		// window and reads its cache at 0.05× input; haiku 5.5 bills
		// requests above 100 000 prompt tokens at 5× its rates.
		{"opus 5.5 1h write", r("claude-opus-5-5", 0, 0, 1000, 1000, 400), 1000*0.2e-6 + 600*5e-6 + 400*8e-6},
		{"opus 5.5 long", r("claude-opus-5-5", 900_000, 1000, 0, 0, 0), 900_000*4e-6 + 1000*20e-6},
		{"haiku 5.5 at 100k", r("claude-haiku-5-5", 50_000, 1000, 40_000, 10_000, 0), 50_000*0.1e-6 + 1000*0.5e-6 + 40_000*0.01e-6 + 10_000*0.125e-6},
		{"haiku 5.5 long", r("claude-haiku-5-5", 50_000, 1000, 40_000, 10_001, 1), 50_000*0.5e-6 + 1000*2.5e-6 + 40_000*0.05e-6 + 10_000*0.625e-6 + 1e-6},
		{"bedrock id", r("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 1, 1, 0, 0, 0), -1},
		{"prefix lookalike", r("claude-opus-4-5x", 1, 1, 0, 0, 0), -1},
		{"empty model", r("", 1, 1, 0, 0, 0), -1},
	}
	for _, tc := range cases {
		c, ok := p.cost(tc.req)
		if tc.want < 0 {
			if ok {
				t.Errorf("%s: cost %v, want unknown", tc.name, c)
			}
			continue
		}
		if !ok || math.Abs(c-tc.want) > 1e-9 {
			t.Errorf("%s: cost %v (known %v), want %v", tc.name, c, ok, tc.want)
		}
	}
	fast := r("claude-opus-4-6", 1, 1, 0, 0, 0)
	fast.offStandard = true
	if _, ok := p.cost(fast); ok {
		t.Error("off-standard tier priced")
	}
	// Web searches: $10 per 1000.
	ws := r("claude-haiku-4-5", 0, 0, 0, 0, 0)
	ws.webSearch = 3
	if c, _ := p.cost(ws); math.Abs(c-0.03) > 1e-12 {
		t.Errorf("web search cost %v", c)
	}
	// An override by exact id beats a prefix, which beats the built-in.
	p = NewPrices(map[string]Price{"claude-sonnet": {Input: 1, Output: 1}, "claude-sonnet-4-5-20250929": {Input: 2, Output: 2, CacheRead: 7}})
	if c, _ := p.cost(r("claude-sonnet-4-5-20250929", 1e6, 0, 1e6, 0, 0)); c != 2+7 {
		t.Errorf("exact override: %v", c)
	}
	if c, _ := p.cost(r("claude-sonnet-4-6", 1e6, 0, 1e6, 1e6, 0)); math.Abs(c-(1+0.1+1.25)) > 1e-9 {
		t.Errorf("prefix override with derived cache prices: %v", c)
	}
}

// Offstandard tiers are read from the transcript.
func TestServiceTierFromTranscript(t *testing.T) {
	dir := t.TempDir()
	p := writeLines(t, dir, "t.jsonl",
		`{"type":"assistant","requestId":"r","message":{"id":"m","model":"claude-opus-4-6","stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1,"service_tier":"priority"}}}`)
	s := span(Ref{Scope: "agent", Path: p}, time.Now())
	finishNow(t, New(Options{}), s)
	want{requests: 1, uncached: 1, output: 1, models: []string{"claude-opus-4-6"}, cost: -1}.check(t, s)
}

// Replay treats recorded transcripts as final: no waiting, no marker.
func TestNoWait(t *testing.T) {
	part1, _ := os.ReadFile(filepath.Join(fixtures, "lag-part1.jsonl"))
	path := filepath.Join(t.TempDir(), "session.jsonl")
	os.WriteFile(path, part1, 0o600)
	s := span(Ref{Scope: "turn", Path: path, PromptID: "p-9"}, time.Now())
	if done, _ := New(Options{NoWait: true})(s, s.Start); !done {
		t.Fatal("NoWait finisher waited")
	}
	intAttr(t, s, semconv.GenAIUsageOutputTokens, 4)
	if _, ok := s.Attr(semconv.UsageComplete); ok {
		t.Error("NoWait marked incomplete")
	}
}

func BenchmarkTurnScan(b *testing.B) {
	path := filepath.Join(fixtures, "turns.jsonl")
	for b.Loop() {
		if _, err := scanFile(path, 0, &turnFilter{promptID: "p-1"}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestUnpricedModels(t *testing.T) {
	got := UnpricedModels(nil, "claude-opus-5-5", sonnet, "claude-sonnet-5", "claude-haiku-5-5", "claude-opus-5")
	if len(got) != 2 || got[0] != "claude-sonnet-5" || got[1] != "claude-opus-5" {
		t.Errorf("UnpricedModels = %v", got)
	}
	if got := UnpricedModels(NewPrices(map[string]Price{"claude-sonnet-5": {Input: 2, Output: 10}}), "claude-sonnet-5"); len(got) != 0 {
		t.Errorf("a configured price: %v", got)
	}
}

// A transcript_path that is a FIFO or a device is refused at once, never
// read (a read would block or never end).
func TestNonRegularTranscript(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	for _, p := range []string{fifo, "/dev/zero"} {
		done := make(chan error, 1)
		go func() { _, err := scanFile(p, 0, nil); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: %v", p, err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: read blocked", p)
		}
	}
}
