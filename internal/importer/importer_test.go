package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

const sid = "5e55101d-0000-4000-8000-000000000001"

var t0 = time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)

// tr builds transcript lines; at(s) is t0 plus s seconds.
type tr struct{ lines []string }

func at(s float64) string {
	return t0.Add(time.Duration(s * float64(time.Second))).Format(time.RFC3339Nano)
}

func (b *tr) add(format string, args ...any) *tr {
	b.lines = append(b.lines, fmt.Sprintf(format, args...))
	return b
}

func (b *tr) queue(s float64) *tr {
	return b.add(`{"type":"queue-operation","operation":"enqueue","timestamp":%q,"sessionId":%q}`, at(s), sid)
}

func (b *tr) prompt(s float64, id, text string) *tr {
	return b.add(`{"type":"user","promptId":%q,"promptSource":"typed","message":{"role":"user","content":%q},"timestamp":%q,"sessionId":%q}`, id, text, at(s), sid)
}

func (b *tr) toolUse(s float64, msg, id, name string) *tr {
	return b.add(`{"type":"assistant","message":{"id":%q,"model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":%q,"name":%q,"input":{"command":"x"}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}},"requestId":"req_%s","timestamp":%q,"sessionId":%q}`, msg, id, name, msg, at(s), sid)
}

func (b *tr) result(s float64, id string, isErr bool, text string) *tr {
	return b.add(`{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":%q,"is_error":%t,"content":%q}]},"toolUseResult":%q,"timestamp":%q,"sessionId":%q}`, id, isErr, text, text, at(s), sid)
}

func (b *tr) text(s float64, msg string) *tr {
	return b.add(`{"type":"assistant","message":{"id":%q,"model":"claude-sonnet-4-5","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}},"requestId":"req_%s","timestamp":%q,"sessionId":%q}`, msg, msg, at(s), sid)
}

func (b *tr) costState() *tr {
	return b.add(`{"type":"cost-state","totalCostUSD":0.5,"sessionId":%q}`, sid)
}

func (b *tr) write(t *testing.T, dir string) Session {
	t.Helper()
	path := filepath.Join(dir, sid+".jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(b.lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ss, err := Find([]string{path})
	if err != nil || len(ss) != 1 {
		t.Fatalf("Find: %v %v", ss, err)
	}
	return ss[0]
}

// names lists the events (dropped ones marked) as "Name" or "Name:detail".
func names(events []event) string {
	var out []string
	for _, e := range events {
		n := e.p.Name
		switch {
		case e.p.Source != "":
			n += ":" + e.p.Source
		case e.p.ToolUseID != "":
			n += ":" + e.p.ToolUseID
		}
		if e.drop {
			n = "(" + n + ")"
		}
		out = append(out, n)
	}
	return strings.Join(out, " ")
}

// The hook events a transcript implies: a turn with a failing call, a
// call rejected before it ran (no Pre, no Post: only PostToolBatch), an
// interrupted turn (no Stop), a compaction, a run's end at cost-state
// and a resumed run.
func TestEvents(t *testing.T) {
	b := (&tr{}).queue(0).prompt(0.1, "p1", "first").
		toolUse(1, "m1", "t1", "Bash").toolUse(1.1, "m1", "t2", "Read").
		result(2, "t1", true, "Exit code 1").result(2.1, "t2", true, "<tool_use_error>InputValidationError: bad").
		text(3, "m2").
		add(`{"type":"system","subtype":"stop_hook_summary","timestamp":%q,"sessionId":%q}`, at(3.5), sid).
		prompt(10, "p2", "second").toolUse(11, "m3", "t3", "Bash").
		result(12, "t3", true, "The user doesn't want to proceed with this tool use.").
		add(`{"type":"user","message":{"role":"user","content":[{"type":"text","text":"[Request interrupted by user for tool use]"}]},"timestamp":%q,"sessionId":%q}`, at(12.1), sid).
		prompt(20, "p3", "third").
		add(`{"type":"system","subtype":"compact_boundary","compactMetadata":{"trigger":"auto","durationMs":2000},"timestamp":%q,"sessionId":%q}`, at(25), sid).
		add(`{"type":"user","isCompactSummary":true,"message":{"role":"user","content":"This session is being continued from a previous conversation."},"timestamp":%q,"sessionId":%q}`, at(25.1), sid).
		text(26, "m4").costState().
		add(`{"type":"mode","mode":"normal","sessionId":%q}`, sid).
		queue(100).prompt(100.1, "p4", "again").text(101, "m5").costState()
	s := b.write(t, t.TempDir())
	events, stats, err := Events(s)
	if err != nil {
		t.Fatal(err)
	}
	want := "SessionStart:startup UserPromptSubmit PreToolUse:t1 (PreToolUse:t2) PostToolUseFailure:t1 PostToolBatch Stop " +
		"UserPromptSubmit PreToolUse:t3 PostToolUseFailure:t3 PostToolBatch " +
		"UserPromptSubmit PreCompact SessionStart:compact PostCompact Stop SessionEnd " +
		"SessionStart:resume UserPromptSubmit Stop SessionEnd"
	if got := names(events); got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	if stats.Lines != int64(len(b.lines)) || stats.Damaged != 0 {
		t.Errorf("stats %+v", stats)
	}
	for _, e := range events {
		switch {
		case e.p.Name == hook.Stop && e.p.PromptID == "p1" && !e.t.Equal(t0.Add(3500*time.Millisecond)):
			t.Errorf("first turn's Stop at %v, want its stop-hook summary", e.t)
		case e.p.Name == hook.PostToolUseFailure && e.p.ToolUseID == "t3" && !e.p.IsInterrupt:
			t.Errorf("a call the user rejected is not an interrupt")
		case e.p.Name == hook.PreCompact && !e.t.Equal(t0.Add(23*time.Second)):
			t.Errorf("PreCompact at %v, want the boundary less its duration", e.t)
		case e.p.Name == hook.SessionStart && e.p.Source == "resume" && e.offset == 0:
			t.Errorf("the resumed run starts at offset 0")
		}
		if e.p.Name == hook.PostToolBatch && len(e.p.ToolCalls) == 2 && e.p.ToolCalls[1].ToolUseID == "t2" && !strings.Contains(string(e.p.ToolCalls[1].ToolResponse), "InputValidationError") {
			t.Errorf("the rejected call's batch entry %s", e.p.ToolCalls[1].ToolResponse)
		}
	}
}

// A turn whose last response is an API error ends with StopFailure and
// the error's kind; one that recovered (a retry succeeded) with Stop.
func TestEventsAPIError(t *testing.T) {
	b := (&tr{}).queue(0).prompt(0.1, "p1", "x").
		add(`{"type":"assistant","isApiErrorMessage":true,"error":"rate_limit","message":{"id":"e1","model":"<synthetic>","content":[{"type":"text","text":"API Error"}]},"timestamp":%q,"sessionId":%q}`, at(1), sid).
		prompt(2, "p2", "y").
		add(`{"type":"assistant","isApiErrorMessage":true,"error":{"type":"overloaded_error"},"message":{"id":"e2","model":"<synthetic>","content":[]},"timestamp":%q,"sessionId":%q}`, at(3), sid).
		text(4, "m1")
	events, _, err := Events(b.write(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(events), "SessionStart:startup UserPromptSubmit StopFailure UserPromptSubmit Stop SessionEnd"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	if e := events[2]; e.p.Error != "rate_limit" {
		t.Errorf("StopFailure error %q", e.p.Error)
	}
}

// A fork's transcript begins with the parent's lines, stamped before the
// file's first line: they are history, not turns of the fork.
func TestEventsFork(t *testing.T) {
	b := (&tr{}).queue(50).prompt(1, "f1", "old").text(2, "m1").prompt(50.1, "f1", "new").text(51, "m2").costState()
	events, _, err := Events(b.write(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(events), "SessionStart:fork UserPromptSubmit Stop SessionEnd"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	if p := events[1]; p.p.Prompt != "new" || p.offset == 0 {
		t.Errorf("the fork's prompt %q at offset %d", p.p.Prompt, p.offset)
	}
}

// Hostile input is handled as the flusher handles it: damaged lines and
// lines over usage.MaxLine are skipped and counted, a partial last line
// is ignored, only regular files are read (a FIFO never blocks), and
// symbolic links are not followed.
func TestHostile(t *testing.T) {
	dir := t.TempDir()
	b := (&tr{}).queue(0).add(`{"type":"user", damaged`).prompt(0.1, "p1", "x").
		add(`{"type":"assistant","message":{"content":%s}}`, `{"not":"content"}`).
		add(`%s`, `{"type":"user","message":{"content":"`+strings.Repeat("a", usage.MaxLine+10)+`"}}`).
		text(1, "m1")
	s := b.write(t, dir)
	f, _ := os.OpenFile(s.Path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"type":"assistant","partial`)
	f.Close()
	events, stats, err := Events(s)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Damaged != 2 || stats.TooLong != 1 {
		t.Errorf("damaged %d, too long %d; want 2, 1", stats.Damaged, stats.TooLong)
	}
	if got, want := names(events), "SessionStart:startup UserPromptSubmit Stop SessionEnd"; got != want {
		t.Errorf("events %s, want %s", got, want)
	}

	fifo := filepath.Join(dir, "fifo.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Symlink(s.Path, filepath.Join(dir, "link.jsonl"))
	found, err := Find([]string{dir, fifo})
	if err != nil || len(found) != 1 || found[0].Path != s.Path {
		t.Errorf("Find: %v, %v; want only the regular transcript", found, err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := Events(Session{ID: "fifo", Path: fifo})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a FIFO was read as a transcript")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
}

func storeOptions(t *testing.T) state.Options {
	return state.Options{Dir: filepath.Join(t.TempDir(), "state"), LockTimeout: 5 * time.Second}
}

func queued(t *testing.T, o state.Options) []*tracing.Span {
	t.Helper()
	o.ReadOnly = true
	st, err := state.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var spans []*tracing.Span
	st.View(func(tx *state.Tx) error {
		entries, err := tx.Peek(tx.Counters().Queued)
		for _, e := range entries {
			s, err := tracing.UnmarshalSpan(e.Value)
			if err != nil {
				t.Fatal(err)
			}
			spans = append(spans, s)
		}
		return err
	})
	return spans
}

// Run queues each session once, with the session's tombstone: a second
// run finds it known and queues nothing. Every span says its timing came
// from the transcript; the IDs are the hook's.
func TestRunTwice(t *testing.T) {
	dir := t.TempDir()
	s := (&tr{}).queue(0).prompt(0.1, "p1", "x").toolUse(1, "m1", "t1", "Bash").result(2, "t1", false, "ok").text(3, "m2").costState().write(t, dir)
	o := Options{Store: storeOptions(t)}
	sum, err := Run([]Session{s}, o)
	if err != nil || sum.Imported != 1 || sum.Spans != 3 {
		t.Fatalf("first run: %+v, %v", sum, err)
	}
	spans := queued(t, o.Store)
	if len(spans) != 3 {
		t.Fatalf("%d spans queued", len(spans))
	}
	for _, s := range spans {
		if a, _ := s.Attr(semconv.Timing); a.Str != semconv.TimingTranscript {
			t.Errorf("%s: timing %q", s.Name, a.Str)
		}
		if s.Name == semconv.SpanRoot && s.SpanID != hook.RootSpanID(sid) {
			t.Errorf("root span %s, want the derived %s", s.SpanID, hook.RootSpanID(sid))
		}
		if s.TraceID != hook.TraceID(sid) {
			t.Errorf("%s: trace %s, want the derived %s", s.Name, s.TraceID, hook.TraceID(sid))
		}
	}
	sum, err = Run([]Session{s}, o)
	if err != nil || sum.Imported != 0 || sum.Seen != 1 || sum.Spans != 0 {
		t.Fatalf("second run: %+v, %v", sum, err)
	}
	if n := len(queued(t, o.Store)); n != 3 {
		t.Errorf("%d spans queued after the second run, want 3", n)
	}
}

// Since and Settled skip sessions by their last line and their file's
// modification time; a transcript without a prompt is not a session.
func TestRunSkips(t *testing.T) {
	dir := t.TempDir()
	s := (&tr{}).queue(0).prompt(0.1, "p1", "x").text(1, "m1").write(t, dir)
	now := func() time.Time { return t0.Add(time.Hour) }
	for _, c := range []struct {
		o    Options
		want func(Summary) bool
	}{
		{Options{Since: t0.Add(time.Minute)}, func(s Summary) bool { return s.Old == 1 }},
		{Options{Settled: 24 * 365 * time.Hour}, func(s Summary) bool { return s.Active == 1 }},
		{Options{Known: func(id string) bool { return id == sid }}, func(s Summary) bool { return s.Seen == 1 }},
	} {
		c.o.Store, c.o.Now = storeOptions(t), now
		if c.o.Settled > 0 {
			c.o.Now = time.Now
		}
		sum, err := Run([]Session{s}, c.o)
		if err != nil || sum.Imported != 0 || !c.want(sum) {
			t.Errorf("%+v: %+v, %v", c.o, sum, err)
		}
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o700)
	e := (&tr{}).add(`{"type":"summary","summary":"x"}`).write(t, empty)
	if sum, _ := Run([]Session{e}, Options{Store: storeOptions(t)}); sum.Empty != 1 {
		t.Errorf("a transcript without a prompt: %+v", sum)
	}
}

// A path that does not exist is an error, not an empty import.
func TestFindMissing(t *testing.T) {
	if _, err := Find([]string{filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing path is not an error")
	}
}

// An import fills at most half of the outbox: a session that does not
// fit waits for Wait (the flusher sending), and when Wait gives up it and
// the rest are deferred, unmarked, for a later import.
func TestRunOutboxFull(t *testing.T) {
	dir := t.TempDir()
	var sessions []Session
	for i := range 3 {
		d := filepath.Join(dir, fmt.Sprint(i))
		os.Mkdir(d, 0o700)
		s := (&tr{}).queue(0).prompt(0.1, "p1", "x").text(1, "m1").costState().write(t, d)
		s.ID = fmt.Sprintf("session-%d", i) // three sessions from one file
		sessions = append(sessions, s)
	}
	o := Options{Store: storeOptions(t)}
	o.Store.OutboxMaxSpans = 4 // an import may fill 2: one session of 2 spans
	sum, err := Run(sessions, o)
	if err != nil || sum.Imported != 1 || sum.Deferred != 2 || sum.Spans != 2 {
		t.Fatalf("without a flusher: %+v, %v", sum, err)
	}
	waits := 0
	o.Wait = func() bool { // the flusher sends everything queued
		waits++
		st, err := state.Open(o.Store)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		st.Update(func(tx *state.Tx) error {
			entries, _ := tx.Peek(100)
			var keys []uint64
			for _, e := range entries {
				keys = append(keys, e.Key)
			}
			return tx.Remove(keys)
		})
		return true
	}
	sum, err = Run(sessions, o)
	if err != nil || sum.Imported != 2 || sum.Seen != 1 || sum.Deferred != 0 || waits != 2 {
		t.Fatalf("with a flusher: %+v, %v, %d waits", sum, err, waits)
	}
}

// A subagent without a meta file (Claude Code before 2.1.328) takes its
// type from the Agent call whose result names it.
func TestEventsSubagentType(t *testing.T) {
	dir := t.TempDir()
	b := (&tr{}).queue(0).prompt(0.1, "p1", "x").
		add(`{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"ag","name":"Agent","input":{"subagent_type":"Explore","description":"look"}}]},"timestamp":%q,"sessionId":%q}`, at(1), sid).
		add(`{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"ag","content":"done"}]},"toolUseResult":{"status":"completed","agentId":"a1"},"timestamp":%q,"sessionId":%q}`, at(5), sid).
		text(6, "m2")
	s := b.write(t, dir)
	sub := filepath.Join(dir, sid, "subagents")
	os.MkdirAll(sub, 0o700)
	os.WriteFile(filepath.Join(sub, "agent-a1.jsonl"), []byte(fmt.Sprintf(
		`{"type":"user","isSidechain":true,"agentId":"a1","promptId":"p1","message":{"role":"user","content":"look"},"timestamp":%q,"sessionId":%q}`+"\n"+
			`{"type":"assistant","isSidechain":true,"agentId":"a1","message":{"id":"s1","content":[{"type":"text","text":"ok"}]},"timestamp":%q,"sessionId":%q}`+"\n",
		at(2), sid, at(4), sid)), 0o600)
	events, _, err := Events(s)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(events), "SessionStart:startup UserPromptSubmit PreToolUse:ag SubagentStart SubagentStop PostToolUse:ag PostToolBatch Stop SessionEnd"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	if e := events[3]; e.p.AgentType != "Explore" || e.p.AgentID != "a1" || e.p.PromptID != "p1" {
		t.Errorf("SubagentStart %+v", e.p)
	}
}

// The TUI writes a file-history-snapshot line before the prompt's line,
// its snapshot stamped after the prompt: it is no line of the session's
// own that the prompt would be fork history before.
func TestEventsTUISnapshot(t *testing.T) {
	b := (&tr{}).add(`{"type":"file-history-snapshot","messageId":"u1","snapshot":{"messageId":"u1","trackedFileBackups":{},"timestamp":%q},"isSnapshotUpdate":false}`, at(0.5)).
		prompt(0.1, "p1", "Say hi.").text(1, "m1")
	events, _, err := Events(b.write(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(events), "SessionStart:startup UserPromptSubmit Stop SessionEnd"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
}

// A denied call ends as Claude Code 2.1.328 ends it: unapproved (-p in
// the default mode), PermissionRequest and no Post event, the denial in
// PostToolBatch; denied by auto mode's classifier, PermissionDenied.
func denied(s float64, id, reasonType, text string) string {
	return fmt.Sprintf(`{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":%q,"is_error":true,"content":%q}]},"toolUseResult":%q,"permissionDecision":{"decision":"reject","source":"config","reasonType":%q},"timestamp":%q,"sessionId":%q}`, id, text, "Error: "+text, reasonType, at(s), sid)
}

func TestEventsDenied(t *testing.T) {
	b := (&tr{}).queue(0).prompt(0.1, "p1", "x").toolUse(1, "m1", "t1", "Bash")
	b.lines = append(b.lines, denied(2, "t1", "", "touch in 'x' needs approval."))
	b.toolUse(3, "m2", "t2", "Bash")
	b.lines = append(b.lines, denied(4, "t2", "classifier", "Auto mode is unavailable."))
	b.text(5, "m3")
	events, _, err := Events(b.write(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	want := "SessionStart:startup UserPromptSubmit PreToolUse:t1 PermissionRequest PostToolBatch PreToolUse:t2 PermissionDenied:t2 PostToolBatch Stop SessionEnd"
	if got := names(events); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	if c := events[4].p.ToolCalls; len(c) != 1 || !strings.Contains(string(c[0].ToolResponse), "needs approval") {
		t.Errorf("the unapproved call's batch entry %+v", c)
	}
	if r := events[6].p.Reason; !strings.Contains(r, "Auto mode") {
		t.Errorf("PermissionDenied reason %q", r)
	}
}

// SIGINT during a tool: the run ends (its cost-state line) with the call
// open, and its result and the interrupt are written after: the turn
// was interrupted (no Stop), and the late result implies no event.
func TestEventsSIGINT(t *testing.T) {
	b := (&tr{}).queue(0).prompt(0.1, "p1", "x").toolUse(1, "m1", "t1", "Bash").costState().
		result(2, "t1", true, "The user doesn't want to proceed with this tool use.").
		add(`{"type":"user","message":{"role":"user","content":[{"type":"text","text":"[Request interrupted by user for tool use]"}]},"timestamp":%q,"sessionId":%q}`, at(2.1), sid)
	events, _, err := Events(b.write(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(events), "SessionStart:startup UserPromptSubmit PreToolUse:t1 SessionEnd"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
}

// /compact is typed between turns: the turn before it ends first, and
// the compaction is the session's, not the turn's. An automatic one
// happens within its turn.
func TestEventsManualCompact(t *testing.T) {
	boundary := func(s float64, trigger string) string {
		return fmt.Sprintf(`{"type":"system","subtype":"compact_boundary","compactMetadata":{"trigger":%q},"timestamp":%q,"sessionId":%q}`, trigger, at(s), sid)
	}
	b := (&tr{}).queue(0).prompt(0.1, "p1", "x").text(1, "m1")
	b.lines = append(b.lines, boundary(5, "manual"))
	b.prompt(6, "p2", "y")
	b.lines = append(b.lines, boundary(7, "auto"))
	b.text(8, "m2")
	events, _, err := Events(b.write(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	want := "SessionStart:startup UserPromptSubmit Stop PreCompact SessionStart:compact PostCompact " +
		"UserPromptSubmit PreCompact SessionStart:compact PostCompact Stop SessionEnd"
	if got := names(events); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
}

// Two calls of one tool in a round, the first unapproved: its
// PermissionRequest (which names no call: the hook gives it to the
// latest open call of its tool) comes right after its own PreToolUse, so
// the first call is the denied one and the second ran.
func TestRunDeniedParallel(t *testing.T) {
	b := (&tr{}).queue(0).prompt(0.1, "p1", "x").toolUse(1, "m1", "t1", "Bash").toolUse(1.1, "m1", "t2", "Bash")
	b.lines = append(b.lines, denied(2, "t1", "", "touch in 'x' needs approval."))
	b.result(2.1, "t2", false, "ok").text(3, "m2").costState()
	s := b.write(t, t.TempDir())
	events, _, err := Events(s)
	if err != nil {
		t.Fatal(err)
	}
	want := "SessionStart:startup UserPromptSubmit PreToolUse:t1 PermissionRequest PreToolUse:t2 PostToolUse:t2 PostToolBatch Stop SessionEnd"
	if got := names(events); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	o := Options{Store: storeOptions(t)}
	if _, err := Run([]Session{s}, o); err != nil {
		t.Fatal(err)
	}
	errs := map[string]string{}
	for _, sp := range queued(t, o.Store) {
		if id, ok := sp.Attr(semconv.GenAIToolCallID); ok {
			e, _ := sp.Attr(semconv.ErrorType)
			errs[id.Str] = e.Str
		}
	}
	if errs["t1"] != semconv.ErrorPermissionDenied || errs["t2"] != "" {
		t.Errorf("error types %v, want t1 %s and t2 none", errs, semconv.ErrorPermissionDenied)
	}
}
