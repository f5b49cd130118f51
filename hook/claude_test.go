package hook

import (
	"bufio"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// groundTruth plays the hook payloads the real Claude Code 2.1.328 sent in
// a recorded scenario (testdata/claude/<name>/events.jsonl), one event per
// 10 ms, and returns every span that ended, by session.
func groundTruth(t *testing.T, name string, opts Options) map[string][]tracing.Span {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "claude", name, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st Memory
	out := map[string][]tracing.Span{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for i := 0; sc.Scan(); i++ {
		e, err := DecodeBytes(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		res, err := Apply(&st, e, t0.Add(time.Duration(i)*10*time.Millisecond), opts)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		out[e.SessionID] = append(out[e.SessionID], res.Spans...)
	}
	return out
}

func only(t *testing.T, m map[string][]tracing.Span) []tracing.Span {
	t.Helper()
	if len(m) != 1 {
		t.Fatalf("%d sessions, want 1", len(m))
	}
	for _, v := range m {
		return v
	}
	return nil
}

func named(spans []tracing.Span, name string) []*tracing.Span {
	var out []*tracing.Span
	for i := range spans {
		if spans[i].Name == name {
			out = append(out, &spans[i])
		}
	}
	return out
}

func intAttr(s *tracing.Span, k string) int64 {
	a, _ := s.Attr(k)
	return a.Int
}

func strAttr(s *tracing.Span, k string) string {
	a, _ := s.Attr(k)
	return a.Str
}

// The real tool-errors round: a failing Bash and a missing file (Pre and
// PostToolUseFailure), a Read rejected at input validation and a Glob the
// session does not have (only PostToolBatch names them).
func TestClaudeToolErrors(t *testing.T) {
	spans := only(t, groundTruth(t, "tool-errors", Options{Capture: CaptureDetails, Redactor: capRedactor{}}))
	ids := map[string]*tracing.Span{}
	for i := range spans {
		if id := strAttr(&spans[i], semconv.GenAIToolCallID); id != "" {
			ids[id] = &spans[i]
		}
	}
	want := map[string]string{"toolu_C1": "tool_error", "toolu_C2": "tool_error", "toolu_C3": "rejected", "toolu_C4": "rejected"}
	turn := named(spans, "turn")[0]
	for id, typ := range want {
		s := ids[id]
		if s == nil {
			t.Errorf("%s: no span", id)
			continue
		}
		if s.StatusCode != tracing.StatusError || strAttr(s, semconv.ErrorType) != typ || s.ParentSpanID != turn.SpanID {
			t.Errorf("%s: status %v, error.type %q, parent %s", id, s.StatusCode, strAttr(s, semconv.ErrorType), s.ParentSpanID)
		}
	}
	if m := ids["toolu_C3"].StatusMessage; m != "[clean]InputValidationError: Read failed due to the following issue:" {
		t.Errorf("rejected call's message %q", m)
	}
	root := named(spans, semconv.SpanRoot)[0]
	if n := intAttr(root, semconv.SessionToolErrors); n != 4 {
		t.Errorf("tool errors %d, want 4", n)
	}
	if n := intAttr(root, semconv.SessionToolCalls); n != 4 {
		t.Errorf("tool calls %d, want 4", n)
	}
}

// A background subagent: launched, the turn's Stop while it runs, its
// SubagentStop, then the task notification as a new prompt.
func TestClaudeBackgroundSubagent(t *testing.T) {
	spans := only(t, groundTruth(t, "subagent-background", Options{}))
	agents := named(spans, "invoke_agent general-purpose")
	turns := named(spans, "turn")
	if len(agents) != 1 || len(turns) != 2 {
		t.Fatalf("%d agents, %d turns: %v", len(agents), len(turns), names(spans))
	}
	agent := agents[0]
	if _, inc := agent.Attr(semconv.Incomplete); inc {
		t.Errorf("subagent ended incomplete")
	}
	launch := named(spans, "execute_tool Agent")[0]
	if agent.ParentSpanID != launch.SpanID || !agent.End.After(turns[0].End) {
		t.Errorf("subagent parent %s (Agent call %s), ends %v, first turn ends %v", agent.ParentSpanID, launch.SpanID, agent.End, turns[0].End)
	}
	notice := turns[1]
	if strAttr(notice, semconv.TurnOrigin) != semconv.TurnOriginTaskNotification || strAttr(turns[0], semconv.TurnOrigin) != semconv.TurnOriginPrompt {
		t.Errorf("origins %q, %q", strAttr(turns[0], semconv.TurnOrigin), strAttr(notice, semconv.TurnOrigin))
	}
	if len(notice.Links) != 1 || notice.Links[0].SpanID != agent.SpanID || notice.Links[0].TraceID != agent.TraceID {
		t.Errorf("notification links %v, want the subagent %s", notice.Links, agent.SpanID)
	}
	root := named(spans, semconv.SpanRoot)[0]
	if intAttr(root, semconv.SessionTurns) != 1 || intAttr(root, semconv.SessionTaskNotifications) != 1 {
		t.Errorf("turns %d, notifications %d", intAttr(root, semconv.SessionTurns), intAttr(root, semconv.SessionTaskNotifications))
	}
	for i := range spans {
		if strAttr(&spans[i], semconv.GenAIConversationID) != "c1a0de00-0006-4000-8000-000000000006" {
			t.Errorf("%s: no gen_ai.conversation.id", spans[i].Name)
		}
	}
}

func TestClaudeModelSwitch(t *testing.T) {
	spans := only(t, groundTruth(t, "model-switch", Options{}))
	turns := named(spans, "turn")
	if len(turns) != 3 {
		t.Fatalf("%d turns", len(turns))
	}
	if m := strAttr(turns[1], semconv.GenAIRequestModel); m != "claude-haiku-5-5" {
		t.Errorf("turn 2 model %q", m)
	}
	if m := strAttr(turns[2], semconv.GenAIRequestModel); m != "claude-opus-5-5" {
		t.Errorf("turn 3 model %q", m)
	}
	root := named(spans, semconv.SpanRoot)[0]
	var post int
	for _, e := range root.Events {
		if e.Name == "PostModelSwitch" {
			post++
		}
	}
	if post != 2 {
		t.Errorf("%d PostModelSwitch events on the root: %v", post, root.Events)
	}
}

func TestClaudeResumeAndFork(t *testing.T) {
	runs := named(only(t, groundTruth(t, "resume", Options{})), semconv.SpanRoot)
	if len(runs) != 2 || intAttr(runs[1], semconv.SecondsSinceLastResponse) != 10 || intAttr(runs[1], semconv.ContextTokens) != 1018 {
		t.Fatalf("runs %v", runs)
	}
	if a, _ := runs[1].Attr(semconv.EstimatedCacheWriteUSD); a.Float != 0.0051 {
		t.Errorf("estimated cache write %v", a)
	}
	forked := groundTruth(t, "fork", Options{})["eb8c884e-9098-4114-b313-faea0ae7c28f"]
	root := named(forked, semconv.SpanRoot)
	if len(root) != 1 || strAttr(root[0], semconv.SessionSource) != "fork" || intAttr(root[0], semconv.ContextTokens) != 4303 {
		t.Fatalf("forked session %v", root)
	}
}

func TestClaudeTraceSplit(t *testing.T) {
	spans := only(t, groundTruth(t, "subagent-foreground", Options{TraceSplit: TraceSplitTurn}))
	root := named(spans, semconv.SpanRoot)[0]
	turn := named(spans, "turn")[0]
	if turn.TraceID == root.TraceID || turn.ParentSpanID.IsValid() || len(turn.Links) != 1 || turn.Links[0].SpanID != root.SpanID {
		t.Fatalf("turn trace %s parent %s links %v; root trace %s", turn.TraceID, turn.ParentSpanID, turn.Links, root.TraceID)
	}
	for i := range spans {
		s := &spans[i]
		if s != root && s != turn && s.TraceID != turn.TraceID {
			t.Errorf("%s: trace %s, want the turn's %s", s.Name, s.TraceID, turn.TraceID)
		}
	}
}

// duration_ms = 9223372036854 (seen from the real client) is no duration:
// a call whose Pre was missed starts at its Post, not in 1970.
func TestAbsurdDuration(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(50, ev("PostToolUse", "tool_name", "Bash", "tool_use_id", "x", "duration_ms", int64(9223372036854)))
	s.at(60, ev("Stop"))
	tool := s.span("execute_tool Bash")
	if !tool.Start.Equal(ms(50)) {
		t.Errorf("start %v, want the event's time", tool.Start)
	}
}

// Two Agent calls of one type: the meta file, not the order, says which
// one launched the subagent.
func TestSubagentBoundByMetaFile(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "s1.jsonl")
	if err := os.MkdirAll(filepath.Join(dir, "s1", "subagents"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s1", "subagents", "agent-ag1.meta.json"), []byte(`{"agentType":"general-purpose","toolUseId":"second"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _ := DecodeBytes([]byte(`{"session_id":"s1","hook_event_name":"SubagentStart","agent_id":"ag1","transcript_path":"` + tr + `"}`))
	if got := launchToolUseID(e); got != "second" {
		t.Fatalf("launchToolUseID = %q", got)
	}
	// A meta file that is a FIFO is not read (it would block the hook).
	fifo := filepath.Join(dir, "s1", "subagents", "agent-ag2.meta.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	e2, _ := DecodeBytes([]byte(`{"session_id":"s1","hook_event_name":"SubagentStart","agent_id":"ag2","transcript_path":"` + tr + `"}`))
	if got := launchToolUseID(e2); got != "" {
		t.Fatalf("FIFO meta file: launchToolUseID = %q", got)
	}
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "first", "tool_input", map[string]any{"subagent_type": "general-purpose"}))
	s.at(11, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "second", "tool_input", map[string]any{"subagent_type": "general-purpose"}))
	start, _ := DecodeBytes([]byte(ev("SubagentStart", "agent_id", "ag1", "agent_type", "general-purpose")))
	start.launchToolUseID = "second"
	if _, err := Apply(&s.st, start, ms(20), s.opts); err != nil {
		t.Fatal(err)
	}
	s.at(30, ev("SubagentStop", "agent_id", "ag1", "agent_type", "general-purpose"))
	s.at(40, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "second"))
	s.at(41, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "first"))
	agent := s.span("invoke_agent general-purpose")
	for _, sp := range s.spans {
		if strAttr(&sp, semconv.GenAIToolCallID) == "second" && agent.ParentSpanID != sp.SpanID {
			t.Errorf("subagent under %s, want the call the meta file names", agent.ParentSpanID)
		}
	}
}

// BenchmarkLaunchToolUseID is the I/O SubagentStart adds to the hook.
func BenchmarkLaunchToolUseID(b *testing.B) {
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "s1", "subagents"), 0o755)
	os.WriteFile(filepath.Join(dir, "s1", "subagents", "agent-ag1.meta.json"), []byte(`{"agentType":"general-purpose","isBuiltIn":true,"description":"Print a word","toolUseId":"toolu_E1","spawnDepth":1,"requestShape":"foreground","requestNonInteractive":true,"model":"claude-opus-5-5","pickedEffortModel":"claude-opus-5-5","finished":true}`), 0o644)
	e := &Event{AgentID: "ag1", TranscriptPath: filepath.Join(dir, "s1.jsonl")}
	for i := 0; i < b.N; i++ {
		if launchToolUseID(e) != "toolu_E1" {
			b.Fatal("not read")
		}
	}
}

// The hooks of one round run concurrently: seen from the real client, a
// background subagent's SubagentStart can come after its Agent call's
// async_launched PostToolUse. It is still that call's child, and lives
// until its own SubagentStop.
func TestSubagentStartAfterAsyncLaunch(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1", "prompt", "go"))
	s.at(10, ev("PreToolUse", "prompt_id", "p1", "tool_name", "Agent", "tool_use_id", "F1", "tool_input", map[string]any{"subagent_type": "general-purpose"}))
	s.at(20, ev("PostToolUse", "prompt_id", "p1", "tool_name", "Agent", "tool_use_id", "F1", "tool_response", map[string]any{"status": "async_launched", "agentId": "ag1"}))
	s.at(21, ev("SubagentStart", "prompt_id", "p1", "agent_id", "ag1", "agent_type", "general-purpose"))
	s.at(30, ev("PreToolUse", "prompt_id", "p1", "agent_id", "ag1", "tool_name", "Bash", "tool_use_id", "S1"))
	s.at(40, ev("Stop", "prompt_id", "p1"))
	s.at(50, ev("PostToolUse", "prompt_id", "p1", "agent_id", "ag1", "tool_name", "Bash", "tool_use_id", "S1"))
	s.at(60, ev("SubagentStop", "prompt_id", "p1", "agent_id", "ag1", "agent_type", "general-purpose"))
	s.at(70, ev("UserPromptSubmit", "prompt_id", "p2", "prompt", "<task-notification>\n<task-id>ag1</task-id>\n</task-notification>"))
	s.at(80, ev("Stop", "prompt_id", "p2"))
	agent := s.span("invoke_agent general-purpose")
	call := s.span("execute_tool Agent")
	bash := s.span("execute_tool Bash")
	if agent.ParentSpanID != call.SpanID || bash.ParentSpanID != agent.SpanID {
		t.Errorf("subagent under %s (Agent call %s), Bash under %s (subagent %s)", agent.ParentSpanID, call.SpanID, bash.ParentSpanID, agent.SpanID)
	}
	if _, inc := agent.Attr(semconv.Incomplete); inc || !agent.End.Equal(ms(60)) {
		t.Errorf("subagent ends %v incomplete=%v, want its SubagentStop", agent.End.Sub(t0), inc)
	}
	var notice *tracing.Span
	for i := range s.spans {
		if strAttr(&s.spans[i], semconv.TurnOrigin) == semconv.TurnOriginTaskNotification {
			notice = &s.spans[i]
		}
	}
	if notice == nil || len(notice.Links) != 1 || notice.Links[0].SpanID != agent.SpanID {
		t.Errorf("notification turn %v", notice)
	}
}
