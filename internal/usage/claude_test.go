package usage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// The ground truth of the real Claude Code 2.1.328 (testdata/claude, see
// its README) played through the hook and the flusher, as live and as
// replay: tokens, cost and chat spans must be what the scripted API
// declared and what Claude Code itself accounted.

var claudeData = filepath.Join("..", "..", "testdata", "claude")

// apiDoc is the part of api.json these tests read.
type apiDoc struct {
	Requests []struct {
		Run       int    `json:"run"`
		Kind      string `json:"kind"`
		Model     string `json:"model"`
		MessageID string `json:"message_id"`
		RequestID string `json:"request_id"`
		Stop      string `json:"stop_reason"`
		Status    int64  `json:"status"`
		Usage     struct {
			In  int64 `json:"input_tokens"`
			Out int64 `json:"output_tokens"`
			CR  int64 `json:"cache_read_input_tokens"`
			CW  int64 `json:"cache_creation_input_tokens"`
		} `json:"usage"`
	} `json:"requests"`
}

// staged is a scenario copied to where its events say its files are.
type staged struct {
	dir    string
	events [][]byte
	api    apiDoc
	// times, when set, are the events' times (else one a second).
	times []time.Time
}

// stage copies testdata/claude/<name> into a temporary $HOME layout and
// rewrites the events' path placeholders to it.
func stage(t *testing.T, name string) *staged {
	t.Helper()
	src := filepath.Join(claudeData, name)
	st := &staged{dir: t.TempDir()}
	home := filepath.Join(st.dir, "home")
	proj := filepath.Join(home, ".claude", "projects", "PROJECT")
	raw, err := os.ReadFile(filepath.Join(src, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("$HOME/.claude/projects/$PROJECT"), []byte(proj))
	raw = bytes.ReplaceAll(raw, []byte("$HOME"), []byte(home))
	raw = bytes.ReplaceAll(raw, []byte("$CWD"), []byte(st.dir))
	// Transcripts: one per session id, in the order the sessions appear.
	var sessions []string
	for _, l := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		st.events = append(st.events, l)
		var ev struct {
			SessionID string `json:"session_id"`
		}
		json.Unmarshal(l, &ev)
		if ev.SessionID != "" && (len(sessions) == 0 || sessions[len(sessions)-1] != ev.SessionID) {
			sessions = append(sessions, ev.SessionID)
		}
	}
	for i, sid := range sessions {
		file := "transcript.jsonl"
		if i > 0 {
			file = "transcript-run" + string(rune('1'+i)) + ".jsonl"
			if _, err := os.Stat(filepath.Join(src, file)); err != nil {
				file = "transcript-clear" + string(rune('0'+i)) + ".jsonl" // the session a /clear started
			}
		}
		copyFile(t, filepath.Join(src, file), filepath.Join(proj, sid+".jsonl"))
		if i == 0 {
			subs, _ := filepath.Glob(filepath.Join(src, "subagents", "*"))
			for _, p := range subs {
				copyFile(t, p, filepath.Join(proj, sid, "subagents", filepath.Base(p)))
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(src, "api.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st.api); err != nil {
		t.Fatal(err)
	}
	return st
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// liveSize emulates the transcript's size when a hook ran: at SessionStart
// of a resume, the end of the previous run (after its cost-state line); at
// UserPromptSubmit, the start of the prompt's line; otherwise 0.
func liveSize(path string, ev map[string]any, runs int) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var off int64
	costs := 0
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		var e struct {
			Type     string `json:"type"`
			PromptID string `json:"promptId"`
		}
		json.Unmarshal(l, &e)
		switch {
		case ev["hook_event_name"] == "UserPromptSubmit" && e.Type == "user" && e.PromptID == ev["prompt_id"]:
			return off
		case e.Type == "cost-state":
			costs++
			if ev["hook_event_name"] == "SessionStart" && costs == runs {
				return off + int64(len(l))
			}
		}
		off += int64(len(l))
	}
	if ev["hook_event_name"] == "SessionStart" {
		return 0
	}
	return off
}

type sink struct{ spans []*tracing.Span }

func (c *sink) Export(_ context.Context, spans []*tracing.Span) error {
	c.spans = append(c.spans, spans...)
	return nil
}
func (c *sink) Close() error { return nil }

// play runs the staged events through the hook and the flusher. live
// emulates the transcript sizes the hooks saw; otherwise every size is 0,
// as `ccotel replay` has it (internal/cli/replay.go).
func (st *staged) play(t *testing.T, live bool) []*tracing.Span {
	t.Helper()
	cfg, err := config.Load(config.LoadOptions{Getenv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	cfg.StateDir = filepath.Join(st.dir, "state-"+map[bool]string{true: "live", false: "replay"}[live])
	store, err := state.Open(state.Options{Dir: cfg.StateDir, LockTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ho := cfg.Hook()
	ho.Logf = t.Logf
	var cur map[string]any
	runs := map[string]int{}
	if live {
		ho.TranscriptSize = func(p string) (int64, bool) {
			return liveSize(p, cur, runs[cur["session_id"].(string)]), true
		}
	} else {
		ho.TranscriptSize = func(string) (int64, bool) { return 0, true }
	}
	t0 := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	for i, l := range st.events {
		cur = map[string]any{}
		json.Unmarshal(l, &cur)
		if cur["hook_event_name"] == "SessionStart" && cur["source"] == "resume" {
			runs[cur["session_id"].(string)]++
		}
		ev, err := hook.DecodeBytes(l)
		if err != nil {
			t.Fatalf("event %d: %v", i+1, err)
		}
		if err := store.Update(func(tx *state.Tx) error {
			at := t0.Add(time.Duration(i) * time.Second)
			if st.times != nil {
				at = st.times[i]
			}
			_, err := hook.Record(tx, ev, at, ho)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	var out sink
	o := cfg.Flush()
	o.Exporter, o.WaitPending, o.Sweep = &out, true, nil
	uo := cfg.Usage()
	uo.NoWait = true
	uo.Logf = t.Logf
	o.Finisher = usage.New(uo)
	o.Logf = t.Logf
	if _, err := delivery.Flush(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return out.spans
}

func attrInt(s *tracing.Span, k string) int64 {
	a, _ := s.Attr(k)
	return a.Int
}

func attrFloat(s *tracing.Span, k string) (float64, bool) {
	a, ok := s.Attr(k)
	return a.Float, ok
}

// costStates returns the totalCostUSD of each cost-state line of a
// transcript of the scenario.
func costStates(t *testing.T, name, file string) []float64 {
	b, err := os.ReadFile(filepath.Join(claudeData, name, file))
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, l := range bytes.Split(b, []byte("\n")) {
		var e struct {
			Type  string  `json:"type"`
			Total float64 `json:"totalCostUSD"`
		}
		if json.Unmarshal(l, &e) == nil && e.Type == "cost-state" {
			out = append(out, e.Total)
		}
	}
	return out
}

var scenarios = []string{"default-model", "directory-added", "fork", "model-haiku", "model-switch", "one-tool",
	"resume", "subagent-background", "subagent-foreground", "three-tools", "tool-errors", "usage-per-block",
	"compact-manual", "compact-auto", "api-retry", "api-fail", "long-session", "tui"}

// Every run's tokens are the sum of what the API declared for it, its
// cost is Claude Code's own figure, live and replay agree, and the chat
// spans are the API's responses, under their turn or subagent, summing to
// their parent's usage.
func TestClaudeScenarios(t *testing.T) {
	for _, name := range scenarios {
		t.Run(name, func(t *testing.T) {
			st := stage(t, name)
			live, replay := st.play(t, true), st.play(t, false)
			checkScenario(t, name, st, live)
			if a, b := summary(live), summary(replay); a != b {
				t.Errorf("replay differs from live:\nlive:\n%s\nreplay:\n%s", a, b)
			}
		})
	}
}

// summary prints the usage attributes of every span, by span ID.
func summary(spans []*tracing.Span) string {
	var b strings.Builder
	keys := []string{semconv.GenAIUsageInputTokens, semconv.GenAIUsageOutputTokens, semconv.UsageCostUSD, semconv.UsageAPIRequests}
	for _, s := range spans {
		b.WriteString(s.SpanID.String() + " " + s.Name)
		for _, k := range keys {
			if a, ok := s.Attr(k); ok {
				b.WriteString(" " + k + "=")
				j, _ := json.Marshal(a)
				b.Write(j)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func checkScenario(t *testing.T, name string, st *staged, spans []*tracing.Span) {
	byID := map[tracing.SpanID]*tracing.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	checkTops(t, name, st, spans)
	chats := checkChats(t, name, spans, byID)
	checkAttempts(t, st, chats, byID)
	checkChatSums(t, spans, byID)
}

// chatSet is a scenario's chat spans: the responses by message id, the
// failed attempts and the compactions' calls in the order they began.
type chatSet struct {
	responses        map[string]*tracing.Span
	failed, compacts []*tracing.Span
}

// checkTops: every run's tokens are what the API declared for it (its
// compactions included), its cost is Claude Code's own figure, and its
// chat spans' costs add up to that figure.
func checkTops(t *testing.T, name string, st *staged, spans []*tracing.Span) {
	// Tops: the root (run 1) and each resumed run; a fork is a second
	// session with its own root; so is the session a /clear started
	// (the same claude process: api.json's run 1).
	type top struct {
		s   *tracing.Span
		run int
	}
	var tops []top
	for _, s := range spans {
		if s.Name == semconv.SpanRoot {
			run := 1 // api.json's runs: the root is 1, the N-th resume N+1
			if _, ok := s.Attr(semconv.SessionRun); ok {
				run = int(attrInt(s, semconv.SessionRun)) + 1
			}
			if strings.HasPrefix(name, "fork") && !s.ParentSpanID.IsValid() && len(tops) == 1 {
				run = 2 // the forked session: api.json's run 2
			}
			tops = append(tops, top{s, run})
		}
	}
	if len(tops) == 0 {
		t.Fatal("no root span")
	}
	type sum struct {
		in, out        int64
		cost, chatCost float64
		costSet        bool
	}
	runs := map[int]*sum{}
	for _, tp := range tops {
		r := runs[tp.run]
		if r == nil {
			r = &sum{}
			runs[tp.run] = r
		}
		r.in += attrInt(tp.s, semconv.GenAIUsageInputTokens)
		r.out += attrInt(tp.s, semconv.GenAIUsageOutputTokens)
		c, ok := attrFloat(tp.s, semconv.UsageCostUSD)
		r.cost += c
		r.costSet = r.costSet || ok
		if ok && strAttrOf(tp.s, semconv.CostSource) != semconv.CostSourceClaudeCode {
			t.Errorf("run %d: cost source %q", tp.run, strAttrOf(tp.s, semconv.CostSource))
		}
	}
	byID := map[tracing.SpanID]*tracing.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	for _, s := range spans {
		if strAttrOf(s, semconv.GenAIOperationName) != semconv.OperationChat {
			continue
		}
		p := byID[s.ParentSpanID]
		for p != nil && p.Name != semconv.SpanRoot {
			p = byID[p.ParentSpanID]
		}
		for _, tp := range tops {
			if p != nil && tp.s == p {
				c, _ := attrFloat(s, semconv.UsageCostUSD)
				runs[tp.run].chatCost += c
			}
		}
	}
	for run, r := range runs {
		var in, out int64
		for _, q := range st.api.Requests {
			if q.Run == run || (name == "fork" && run == 2 && q.Run == 1) {
				in += q.Usage.In + q.Usage.CR + q.Usage.CW
				out += q.Usage.Out
			}
		}
		if r.in != in || r.out != out {
			t.Errorf("run %d: tokens %d/%d, the API declared %d/%d", run, r.in, r.out, in, out)
		}
		want := claudeCost(t, name, run)
		if !r.costSet || math.Abs(r.cost-want) > want/100 {
			t.Errorf("run %d: cost %v (set %v), Claude Code says %v", run, r.cost, r.costSet, want)
		}
		if math.Abs(r.chatCost-want) > want/100 {
			t.Errorf("run %d: the chat spans' costs add up to %v, Claude Code says %v", run, r.chatCost, want)
		}
		t.Logf("%s run %d: %d/%d tokens (API %d/%d), cost %.6f, chat spans %.6f (Claude Code %.6f, %+.2f%%)", name,
			run, r.in, r.out, in, out, r.cost, r.chatCost, want, 100*(r.cost-want)/math.Max(want, 1e-12))
	}
}

// claudeCost is Claude Code's figure for api.json's run: the run's last
// cost-state less the one before (its totals carry over a resume and a
// fork); a /clear's new session counts from zero.
func claudeCost(t *testing.T, name string, run int) float64 {
	switch {
	case name == "fork" && run == 2:
		cs := costStates(t, name, "transcript-run2.jsonl")
		return cs[len(cs)-1]
	case name == "resume" || name == "compact-manual":
		cs := append([]float64{0}, costStates(t, name, "transcript.jsonl")...)
		return cs[run] - cs[run-1]
	case name == "tui":
		a, b := costStates(t, name, "transcript.jsonl"), costStates(t, name, "transcript-clear1.jsonl")
		return a[len(a)-1] + b[len(b)-1]
	}
	cs := costStates(t, name, "transcript.jsonl")
	return cs[len(cs)-1]
}

func strAttrOf(s *tracing.Span, k string) string {
	a, _ := s.Attr(k)
	return a.Str
}

// checkChats: one chat span per API response, under a turn or a
// subagent, with its declared tokens, its model and a cost; one per
// compaction, under its compact span.
func checkChats(t *testing.T, name string, spans []*tracing.Span, byID map[tracing.SpanID]*tracing.Span) chatSet {
	set := chatSet{responses: map[string]*tracing.Span{}}
	for _, s := range spans {
		if strAttrOf(s, semconv.GenAIOperationName) != semconv.OperationChat {
			continue
		}
		p := byID[s.ParentSpanID]
		if p == nil {
			t.Errorf("chat span %s: parent %s not exported", s.Name, s.ParentSpanID)
			continue
		}
		if s.Kind != tracing.KindClient || s.End.Before(s.Start) {
			t.Errorf("chat span %s: kind %d, %s..%s", s.Name, s.Kind, s.Start, s.End)
		}
		if strAttrOf(s, semconv.GenAIRequestModel) == "" || s.Name == semconv.SpanChat {
			t.Errorf("chat span %q without its model", s.Name)
		}
		switch id := strAttrOf(s, semconv.GenAIResponseID); {
		case s.StatusCode == tracing.StatusError:
			set.failed = append(set.failed, s)
		case strAttrOf(s, semconv.CompactTrigger) != "":
			set.compacts = append(set.compacts, s)
			if p.Name != semconv.SpanCompact {
				t.Errorf("compaction's chat span under %q, want its compact span", p.Name)
			}
		default:
			if set.responses[id] != nil && name != "fork" {
				t.Errorf("two chat spans for %s", id)
			}
			set.responses[id] = s
		}
		// A fork's transcript starts with a copy of the parent's lines
		// (Claude Code counts them in the fork's cost too): their
		// api-request lines are not copied, so their time is estimated.
		if a, _ := s.Attr(semconv.Timing); a.Str == semconv.TimingEstimated && !(name == "fork" && s.TraceID != spans[0].TraceID) {
			t.Errorf("chat span %s: estimated timing, though 2.1.328 writes api-request lines", s.Name)
		}
	}
	return set
}

// ccRates are the rates Claude Code 2.1.328 charges (USD per million input,
// output, cache read, cache write tokens; the recorded requests stay under
// the long-prompt threshold), solved from the recorded cost-state lines.
var ccRates = map[string][4]float64{
	"claude-opus-5-5":  {4, 20, 0.2, 5},
	"claude-haiku-5-5": {0.1, 0.5, 0.01, 0.125},
}

// checkChatCost: a response's chat span has the table's cost (source
// price_table), which is Claude Code's rates times its declared tokens; a
// compaction's call has Claude Code's figure, which is the same.
func checkChatCost(t *testing.T, c *tracing.Span, kind, model string, in, out, cr, cw int64) {
	t.Helper()
	usd, ok := attrFloat(c, semconv.UsageCostUSD)
	src := strAttrOf(c, semconv.CostSource)
	rate, known := ccRates[model]
	want := (float64(in)*rate[0] + float64(out)*rate[1] + float64(cr)*rate[2] + float64(cw)*rate[3]) / 1e6
	if kind == "compact" {
		// What the run's cost-state leaves beyond the priced responses:
		// the call's tokens at Claude Code's rates.
		if !known || !ok || src != semconv.CostSourceClaudeCode || math.Abs(usd-want) > want/200 {
			t.Errorf("compaction's chat span: cost %v (source %q), its tokens at %s's rates %v", usd, src, model, want)
		}
		return
	}
	if !known || !ok || src != semconv.CostSourcePriceTable || math.Abs(usd-want) > 1e-12 {
		t.Errorf("chat span %s: cost %v (source %q), the table says %v of %s's tokens", strAttrOf(c, semconv.GenAIResponseID), usd, src, want, model)
	}
}

// checkAttempts: each API attempt of api.json is a chat span: a response
// with its tokens, model, finish reason and its table cost; a compaction's
// call with its declared tokens; a failed attempt as an error span with
// its HTTP status, in order.
func checkAttempts(t *testing.T, st *staged, set chatSet, byID map[tracing.SpanID]*tracing.Span) {
	var failed []int64
	compacts := 0
	for _, r := range st.api.Requests {
		var c *tracing.Span
		switch {
		case r.Status != 200:
			failed = append(failed, r.Status)
			continue
		case r.Kind == "compact":
			if compacts >= len(set.compacts) {
				t.Errorf("no chat span for the compaction %s", r.MessageID)
				continue
			}
			c = set.compacts[compacts]
			compacts++
		default:
			c = set.responses[r.MessageID]
		}
		if c == nil {
			t.Errorf("no chat span for %s (%s, run %d)", r.MessageID, r.Kind, r.Run)
			continue
		}
		p := byID[c.ParentSpanID]
		if r.Kind == "main" && p.Name != semconv.SpanTurn || r.Kind == "subagent" && (p.Name == semconv.SpanTurn || !strings.HasPrefix(p.Name, semconv.OperationInvokeAgent)) {
			t.Errorf("chat span %s (%s): parent %q", r.MessageID, r.Kind, p.Name)
		}
		if got := attrInt(c, semconv.GenAIUsageInputTokens); got != r.Usage.In+r.Usage.CR+r.Usage.CW || attrInt(c, semconv.GenAIUsageOutputTokens) != r.Usage.Out {
			t.Errorf("chat span %s: %d/%d tokens, the API declared %+v", r.MessageID, got, attrInt(c, semconv.GenAIUsageOutputTokens), r.Usage)
		}
		if a, _ := c.Attr(semconv.GenAIRequestModel); a.Str != r.Model {
			t.Errorf("chat span %s: model %q, want %q", r.MessageID, a.Str, r.Model)
		}
		if a, _ := c.Attr(semconv.GenAIResponseFinishReasons); r.Kind != "compact" && (len(a.Strings) != 1 || a.Strings[0] != r.Stop) {
			t.Errorf("chat span %s: finish reasons %v, want %s", r.MessageID, a.Strings, r.Stop)
		}
		checkChatCost(t, c, r.Kind, r.Model, r.Usage.In, r.Usage.Out, r.Usage.CR, r.Usage.CW)
	}
	if compacts != len(set.compacts) {
		t.Errorf("%d compaction chat spans, the API saw %d compactions", len(set.compacts), compacts)
	}
	slices.SortFunc(set.failed, func(a, b *tracing.Span) int { return a.Start.Compare(b.Start) })
	var got []int64
	for _, c := range set.failed {
		got = append(got, attrInt(c, semconv.HTTPResponseStatusCode))
	}
	if !slices.Equal(got, failed) {
		t.Errorf("failed attempts' statuses %v, the API answered %v", got, failed)
	}
}

// checkChatSums: a turn's or subagent's tokens are its chat spans' (and
// its compactions' calls').
func checkChatSums(t *testing.T, spans []*tracing.Span, byID map[tracing.SpanID]*tracing.Span) {
	sums := map[tracing.SpanID][2]int64{}
	for _, s := range spans {
		if strAttrOf(s, semconv.GenAIOperationName) != semconv.OperationChat {
			continue
		}
		p := byID[s.ParentSpanID]
		if p == nil {
			continue
		}
		if p.Name == semconv.SpanCompact {
			if p = byID[p.ParentSpanID]; p == nil || p.Name == semconv.SpanRoot {
				continue // a compaction between turns: the run's
			}
		}
		v := sums[p.SpanID]
		v[0] += attrInt(s, semconv.GenAIUsageInputTokens)
		v[1] += attrInt(s, semconv.GenAIUsageOutputTokens)
		sums[p.SpanID] = v
	}
	for id, v := range sums {
		p := byID[id]
		if p.Name == semconv.SpanRoot {
			continue
		}
		if attrInt(p, semconv.GenAIUsageInputTokens) != v[0] || attrInt(p, semconv.GenAIUsageOutputTokens) != v[1] {
			t.Errorf("%s %s: %d/%d tokens, its chat spans sum to %d/%d", p.Name, id, attrInt(p, semconv.GenAIUsageInputTokens),
				attrInt(p, semconv.GenAIUsageOutputTokens), v[0], v[1])
		}
	}
}

// spansOf plays a scenario live and returns its spans by name.
func spansOf(t *testing.T, name string) map[string][]*tracing.Span {
	st := stage(t, name)
	out := map[string][]*tracing.Span{}
	for _, s := range st.play(t, true) {
		out[s.Name] = append(out[s.Name], s)
	}
	return out
}

// A 529 and a 500 that Claude Code retried: each failed attempt is an
// error chat span with its status, type, request id, place in the chain
// and the back-off after it; the wait counts as model time.
func TestClaudeRetries(t *testing.T) {
	spans := spansOf(t, "api-retry")
	chats := spans["chat claude-opus-5-5"]
	if len(chats) != 3 {
		t.Fatalf("%d chat spans", len(chats))
	}
	want := []struct {
		status, resend, backoff int64
		kind, reqID             string
	}{{529, 0, 575, "overloaded_error", "req_claudetest0001"}, {500, 1, 1182, "api_error", "req_claudetest0002"}, {0, 2, 0, "", "req_claudetest0003"}}
	for i, w := range want {
		c := chats[i]
		if got := attrInt(c, semconv.HTTPResponseStatusCode); got != w.status || attrInt(c, semconv.HTTPRequestResendCount) != w.resend ||
			attrInt(c, semconv.RequestRetryInMs) != w.backoff || strAttrOf(c, semconv.ErrorType) != w.kind || strAttrOf(c, semconv.ChatRequestID) != w.reqID {
			t.Errorf("attempt %d: status %d, resend %d, back-off %d, error.type %q, request %q; want %+v", i+1, got, attrInt(c, semconv.HTTPRequestResendCount),
				attrInt(c, semconv.RequestRetryInMs), strAttrOf(c, semconv.ErrorType), strAttrOf(c, semconv.ChatRequestID), w)
		}
		if (c.StatusCode == tracing.StatusError) != (w.status != 0) {
			t.Errorf("attempt %d: status code %v", i+1, c.StatusCode)
		}
	}
	turn := spans[semconv.SpanTurn][0]
	// From the first attempt (46.014) to the answer (48.089): 2 075 ms,
	// of which the attempts and back-offs cover 1 843.
	if m := attrInt(turn, semconv.TurnModelMs); m < 1800 || m > 2100 {
		t.Errorf("model time %d ms, want the attempts and their back-off (~1843)", m)
	}
}

// A request that failed for good (400, retried at once with fewer beta
// headers, no api_error lines): six error chat spans with the model and
// the final error's status.
func TestClaudeFinalFailure(t *testing.T) {
	chats := spansOf(t, "api-fail")["chat claude-opus-5-5"]
	if len(chats) != 6 {
		t.Fatalf("%d chat spans of the model, want 6", len(chats))
	}
	for i, c := range chats {
		if c.StatusCode != tracing.StatusError || attrInt(c, semconv.HTTPResponseStatusCode) != 400 || strAttrOf(c, semconv.ErrorType) != "invalid_request_error" ||
			attrInt(c, semconv.HTTPRequestResendCount) != int64(i) {
			t.Errorf("attempt %d: %v %d %q resend %d", i+1, c.StatusCode, attrInt(c, semconv.HTTPResponseStatusCode), strAttrOf(c, semconv.ErrorType), attrInt(c, semconv.HTTPRequestResendCount))
		}
	}
}

// Reactive auto-compaction: the refused request (400 "prompt is too
// long") is an error span, the compaction's call a chat span under the
// compact span with compactMetadata and the cost-state's numbers, and
// the turn counts it.
func TestClaudeAutoCompaction(t *testing.T) {
	spans := spansOf(t, "compact-auto")
	compact := spans[semconv.SpanCompact][0]
	turn := spans[semconv.SpanTurn][0]
	var call, refused *tracing.Span
	for _, c := range spans["chat claude-opus-5-5"] {
		switch {
		case c.ParentSpanID == compact.SpanID:
			call = c
		case c.StatusCode == tracing.StatusError:
			refused = c
		}
	}
	if call == nil || refused == nil {
		t.Fatalf("compaction call %v, refused request %v", call, refused)
	}
	if attrInt(call, semconv.GenAIUsageInputTokens) != 180000 || attrInt(call, semconv.GenAIUsageOutputTokens) != 700 ||
		strAttrOf(call, semconv.CompactTrigger) != "auto" || attrInt(call, semconv.CompactPreTokens) != 181348 ||
		attrInt(call, semconv.CompactPostTokens) != 2632 || call.End.Sub(call.Start).Milliseconds() != 210 {
		t.Errorf("compaction call: %v", call.Attrs)
	}
	if c, _ := attrFloat(call, semconv.UsageCostUSD); c < 0.6 || strAttrOf(call, semconv.CostSource) != semconv.CostSourceClaudeCode {
		t.Errorf("compaction call cost %v (%s)", c, strAttrOf(call, semconv.CostSource))
	}
	if attrInt(refused, semconv.HTTPResponseStatusCode) != 400 || strAttrOf(refused, semconv.ErrorType) != "prompt_too_long" || refused.ParentSpanID != turn.SpanID {
		t.Errorf("refused request: %v", refused.Attrs)
	}
	if attrInt(turn, semconv.GenAIUsageInputTokens) != 367450 || attrInt(turn, semconv.UsageAPIRequests) != 4 {
		t.Errorf("turn: %d input tokens over %d requests, want 367450 over 4 (the compaction's included)",
			attrInt(turn, semconv.GenAIUsageInputTokens), attrInt(turn, semconv.UsageAPIRequests))
	}
	if c, _ := attrFloat(turn, semconv.UsageCostUSD); math.Abs(c-0.79067) > 1e-6 {
		t.Errorf("turn cost %v, Claude Code says 0.79067", c)
	}
}
