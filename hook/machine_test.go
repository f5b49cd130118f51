package hook

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/tracing"
)

var t0 = time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)

// sim feeds events to Apply the way Record does, keeping the blob.
type sim struct {
	t     *testing.T
	opts  Options
	blob  []byte
	spans []tracing.Span
	late  int
}

// ev builds a payload for session "s1"; kv are key, value pairs.
func ev(name string, kv ...any) string {
	m := map[string]any{"session_id": "s1", "hook_event_name": name, "transcript_path": "/p/s1.jsonl"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// at applies payload at t0+ms milliseconds.
func (s *sim) at(ms int, payload string) []tracing.Span {
	s.t.Helper()
	e, err := DecodeBytes([]byte(payload))
	if err != nil {
		s.t.Fatalf("decode %s: %v", payload, err)
	}
	if e.Name == "UserPromptSubmit" || e.Name == "SessionStart" {
		e.transcriptSize = int64(100 * ms)
	}
	res, err := Apply(s.blob, e, t0.Add(time.Duration(ms)*time.Millisecond), s.opts)
	if err != nil {
		s.t.Fatalf("apply %s: %v", payload, err)
	}
	if res.Reset != nil {
		s.t.Fatalf("state reset: %v", res.Reset)
	}
	if res.Late {
		s.late++
	}
	s.blob = res.Session
	s.spans = append(s.spans, res.Spans...)
	return res.Spans
}

func (s *sim) span(name string) *tracing.Span {
	s.t.Helper()
	var found *tracing.Span
	for i := range s.spans {
		if s.spans[i].Name == name {
			if found != nil {
				s.t.Fatalf("two spans named %q", name)
			}
			found = &s.spans[i]
		}
	}
	if found == nil {
		s.t.Fatalf("no span %q among %v", name, names(s.spans))
	}
	return found
}

func names(spans []tracing.Span) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name)
	}
	return n
}

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

func attr(t *testing.T, s *tracing.Span, k string) any {
	t.Helper()
	a, ok := s.Attr(k)
	if !ok {
		return nil
	}
	switch a.Type {
	case "string":
		return a.Str
	case "int":
		return a.Int
	case "bool":
		return a.Bool
	}
	return a
}

func checkSpan(t *testing.T, s *tracing.Span, parent *tracing.Span, start, end int, kv ...any) {
	t.Helper()
	if parent != nil && s.ParentSpanID != parent.SpanID {
		t.Errorf("%s: parent %s, want %s (%s)", s.Name, s.ParentSpanID, parent.SpanID, parent.Name)
	}
	if !s.Start.Equal(ms(start)) || !s.End.Equal(ms(end)) {
		t.Errorf("%s: %v..%v, want +%dms..+%dms", s.Name, s.Start.Sub(t0), s.End.Sub(t0), start, end)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if got := attr(t, s, k); fmt.Sprint(got) != fmt.Sprint(kv[i+1]) {
			t.Errorf("%s: %s = %v, want %v", s.Name, k, got, kv[i+1])
		}
	}
}

func TestPlainSession(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "source", "startup", "model", "claude-sonnet-4-5", "cwd", "/home/dev/app"))
	s.at(100, ev("UserPromptSubmit", "prompt_id", "p1", "prompt", "héllo", "permission_mode", "default"))
	s.at(200, ev("PreToolUse", "prompt_id", "p1", "tool_name", "Read", "tool_use_id", "t1", "tool_input", map[string]any{"file_path": "/etc/secret"}))
	s.at(300, ev("PostToolUse", "prompt_id", "p1", "tool_name", "Read", "tool_use_id", "t1", "tool_input", map[string]any{"file_path": "/etc/secret"}, "tool_response", map[string]any{"type": "text"}, "duration_ms", 40))
	s.at(400, ev("Notification", "notification_type", "idle_prompt", "message", "Claude is waiting"))
	s.at(500, ev("Stop", "prompt_id", "p1"))
	if len(s.spans) != 2 {
		t.Fatalf("spans before SessionEnd: %v", names(s.spans))
	}
	s.at(600, ev("SessionEnd", "reason", "prompt_input_exit"))

	root, turn, tool := s.span("invoke_agent claude-code"), s.span("turn"), s.span("execute_tool Read")
	if root.TraceID != TraceID("s1") || root.SpanID != RootSpanID("s1") || root.ParentSpanID.IsValid() {
		t.Errorf("root ids %s %s %s", root.TraceID, root.SpanID, root.ParentSpanID)
	}
	checkSpan(t, root, nil, 0, 600,
		semconv.GenAIOperationName, "invoke_agent", semconv.GenAIAgentName, "claude-code", semconv.GenAIProviderName, "anthropic",
		semconv.GenAIConversationID, "s1", semconv.GenAIRequestModel, "claude-sonnet-4-5", semconv.SessionSource, "startup",
		semconv.SessionEndReason, "prompt_input_exit", semconv.SessionPermissionMode, "default",
		semconv.SessionTurns, 1, semconv.SessionToolCalls, 1, semconv.SessionToolErrors, 0, semconv.SessionCwd, nil, semconv.SessionStartMissed, nil)
	checkSpan(t, turn, root, 100, 500, semconv.PromptID, "p1", semconv.TurnIndex, 1, semconv.PromptLength, 5, semconv.PromptText, nil)
	checkSpan(t, tool, turn, 200, 300, semconv.GenAIOperationName, "execute_tool", semconv.GenAIToolName, "Read",
		semconv.GenAIToolCallID, "t1", semconv.ToolDurationMs, 40, semconv.ToolInputSize, len(`{"file_path":"/etc/secret"}`),
		semconv.ToolOutputSize, len(`{"type":"text"}`), semconv.ToolFilePath, nil, semconv.ToolPermissionWaitMs, nil)
	if tool.StatusCode != tracing.StatusUnset || turn.StatusCode != tracing.StatusUnset {
		t.Errorf("status %v %v", tool.StatusCode, turn.StatusCode)
	}
	if len(turn.Events) != 1 || turn.Events[0].Name != "Notification" || !turn.Events[0].Time.Equal(ms(400)) {
		t.Fatalf("turn events %+v", turn.Events)
	}
	for _, a := range turn.Events[0].Attrs {
		if strings.Contains(a.Str, "waiting") {
			t.Errorf("notification text captured at metadata: %+v", a)
		}
	}
	if tool.TraceID != root.TraceID || turn.TraceID != root.TraceID {
		t.Error("trace ids differ")
	}
	// Token references for the flusher.
	var ref usage.Ref
	if err := json.Unmarshal(turn.Pending, &ref); err != nil {
		t.Fatal(err)
	}
	if ref != (usage.Ref{Scope: "turn", Path: "/p/s1.jsonl", Offset: 100 * 100, PromptID: "p1"}) || !turn.ReadyAt.Equal(ms(500+3000)) {
		t.Errorf("turn ref %+v ready %v", ref, turn.ReadyAt)
	}
	ref = usage.Ref{}
	json.Unmarshal(root.Pending, &ref)
	if ref != (usage.Ref{Scope: "session", Path: "/p/s1.jsonl", SubagentDir: "/p/s1/subagents"}) {
		t.Errorf("root ref %+v", ref)
	}
	if tool.Pending != nil {
		t.Errorf("tool pending %s", tool.Pending)
	}
	// Only a tombstone is left.
	st, err := decodeSession(s.blob)
	if err != nil || !st.tombstone() || len(st.Spans) != 0 {
		t.Errorf("state after end: %+v %v", st, err)
	}
}

func TestParallelToolsOutOfOrder(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "source", "startup"))
	s.at(10, ev("UserPromptSubmit", "prompt_id", "p1", "prompt", "x"))
	for i, id := range []string{"a", "b", "c"} {
		s.at(20+i, ev("PreToolUse", "tool_name", "Grep", "tool_use_id", id))
	}
	s.at(50, ev("PostToolUse", "tool_name", "Grep", "tool_use_id", "c", "duration_ms", 20))
	s.at(60, ev("PostToolUse", "tool_name", "Grep", "tool_use_id", "a", "duration_ms", 30))
	s.at(70, ev("PostToolUseFailure", "tool_name", "Grep", "tool_use_id", "b", "error", "boom\n/secret/path"))
	s.at(80, ev("Stop"))
	turn := s.span("turn")
	byID := map[string]*tracing.Span{}
	for i := range s.spans {
		if id, ok := s.spans[i].Attr(semconv.GenAIToolCallID); ok {
			byID[id.Str] = &s.spans[i]
		}
	}
	checkSpan(t, byID["a"], turn, 20, 60)
	checkSpan(t, byID["b"], turn, 21, 70, semconv.ErrorType, "tool_error")
	checkSpan(t, byID["c"], turn, 22, 50)
	if byID["b"].StatusCode != tracing.StatusError || byID["b"].StatusMessage != "" {
		t.Errorf("b status %v %q (no message at metadata)", byID["b"].StatusCode, byID["b"].StatusMessage)
	}
	seen := map[tracing.SpanID]bool{}
	for _, sp := range s.spans {
		if seen[sp.SpanID] {
			t.Errorf("duplicate span id %s", sp.SpanID)
		}
		seen[sp.SpanID] = true
	}
}

func TestSubagent(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "source", "startup"))
	s.at(10, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(20, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "ag", "tool_input", map[string]any{"subagent_type": "Explore", "description": "find call sites", "prompt": "secret plan"}))
	s.at(30, ev("SubagentStart", "agent_id", "a1", "agent_type", "Explore"))
	s.at(40, ev("PreToolUse", "tool_name", "Grep", "tool_use_id", "g1", "agent_id", "a1", "agent_type", "Explore"))
	s.at(50, ev("PostToolUse", "tool_name", "Grep", "tool_use_id", "g1", "agent_id", "a1", "agent_type", "Explore"))
	s.at(60, ev("SubagentStop", "agent_id", "a1", "agent_type", "Explore"))
	s.at(70, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "ag"))
	s.at(80, ev("Stop"))
	turn := s.span("turn")
	agentTool := s.span("execute_tool Agent")
	agent := s.span("invoke_agent Explore")
	grep := s.span("execute_tool Grep")
	checkSpan(t, agentTool, turn, 20, 70, semconv.ToolSubagentType, "Explore")
	checkSpan(t, agent, agentTool, 30, 60, semconv.GenAIAgentID, "a1", semconv.GenAIAgentName, "Explore", semconv.GenAIOperationName, "invoke_agent", semconv.GenAIAgentDescription, nil)
	checkSpan(t, grep, agent, 40, 50)
	var ref usage.Ref
	json.Unmarshal(agent.Pending, &ref)
	if ref != (usage.Ref{Scope: "agent", Path: "/p/s1/subagents/agent-a1.jsonl", AgentID: "a1"}) {
		t.Errorf("agent ref %+v", ref)
	}
	if agent.SpanID != agentSpanID("s1", "a1") || grep.SpanID != toolSpanID("s1", "g1") {
		t.Error("derived ids")
	}
}

// The Agent tool's post arrives while its subagent is open: the subagent
// (and its open tool) end first, marked incomplete.
func TestAgentToolEndsOpenSubagent(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Task", "tool_use_id", "ag"))
	s.at(20, ev("SubagentStart", "agent_id", "a1", "agent_type", ""))
	s.at(30, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "b1", "agent_id", "a1"))
	out := s.at(40, ev("PostToolUse", "tool_name", "Task", "tool_use_id", "ag"))
	if got := names(out); strings.Join(got, ",") != "execute_tool Bash,invoke_agent unknown,execute_tool Task" {
		t.Fatalf("order %v", got)
	}
	checkSpan(t, &out[0], &out[1], 30, 40, semconv.Incomplete, true, semconv.IncompleteReason, "parent_ended")
	checkSpan(t, &out[1], &out[2], 20, 40, semconv.Incomplete, true, semconv.IncompleteReason, "parent_ended", semconv.GenAIAgentName, "unknown")
	checkSpan(t, &out[2], nil, 10, 40, semconv.Incomplete, nil)
	// The subagent's stop comes late: dropped, counted.
	if out := s.at(50, ev("SubagentStop", "agent_id", "a1")); len(out) != 0 || s.late != 1 {
		t.Fatalf("late stop: %v, late=%d", names(out), s.late)
	}
	s.at(60, ev("SessionEnd"))
	root := s.span("invoke_agent claude-code")
	checkSpan(t, root, nil, 0, 60, semconv.SessionLateEvents, 1, semconv.SessionStartMissed, true, semconv.SessionSubagents, 1)
}

func TestOrphanSubagentStop(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "ag"))
	s.at(50, ev("SubagentStop", "agent_id", "a9", "agent_type", "Plan", "agent_transcript_path", "/x/agent-a9.jsonl"))
	s.at(60, ev("SubagentStop", "agent_id", "a8", "agent_type", ""))
	agent := s.span("invoke_agent Plan")
	checkSpan(t, agent, nil, 10, 50, semconv.SubagentStartMissed, true)
	if agent.ParentSpanID != toolSpanID("s1", "ag") {
		t.Error("orphan stop not under the Agent tool")
	}
	fork := s.span("invoke_agent unknown")
	checkSpan(t, fork, nil, 60, 60, semconv.SubagentStartMissed, true)
}

func TestFailuresInterruptsDenials(t *testing.T) {
	s := &sim{t: t, opts: Options{Capture: CaptureDetails, Redactor: capRedactor{}}}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "f", "tool_input", map[string]any{"command": "npm test"}))
	s.at(20, ev("PostToolUseFailure", "tool_name", "Bash", "tool_use_id", "f", "error", "Exit code 1\nError: x", "duration_ms", 5))
	s.at(30, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "i"))
	s.at(40, ev("PostToolUseFailure", "tool_name", "Bash", "tool_use_id", "i", "error", "Interrupted", "is_interrupt", true))
	s.at(50, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "bi"))
	s.at(60, ev("PostToolUse", "tool_name", "Bash", "tool_use_id", "bi", "tool_response", map[string]any{"stdout": "", "interrupted": true}))
	s.at(70, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "d"))
	s.at(80, ev("PermissionDenied", "tool_name", "Bash", "tool_use_id", "d", "reason", "Blocked by classifier"))
	s.at(90, ev("PermissionDenied", "tool_name", "WebFetch", "tool_use_id", "d2"))
	s.at(100, ev("StopFailure", "error", "rate_limit", "error_details", "429 Too Many Requests"))
	want := map[string]struct{ typ, msg string }{
		"f": {"tool_error", "[clean]Exit code 1"}, "i": {"interrupted", "[clean]Interrupted"}, "bi": {"interrupted", ""},
		"d": {"permission_denied", "[clean]Blocked by classifier"}, "d2": {"permission_denied", ""},
	}
	for _, sp := range s.spans {
		id, ok := sp.Attr(semconv.GenAIToolCallID)
		if !ok {
			continue
		}
		w := want[id.Str]
		if got := attr(t, &sp, semconv.ErrorType); got != w.typ || sp.StatusCode != tracing.StatusError || sp.StatusMessage != w.msg {
			t.Errorf("%s: error.type %v status %v %q, want %+v", id.Str, got, sp.StatusCode, sp.StatusMessage, w)
		}
		delete(want, id.Str)
	}
	if len(want) != 0 {
		t.Errorf("missing tools %v", want)
	}
	checkSpan(t, s.span("turn"), nil, 0, 100, semconv.ErrorType, "rate_limit")
	if turn := s.span("turn"); turn.StatusCode != tracing.StatusError || turn.StatusMessage != "[clean]429 Too Many Requests" {
		t.Errorf("turn status %v %q", turn.StatusCode, turn.StatusMessage)
	}
	d2 := s.spans[len(s.spans)-2]
	checkSpan(t, &d2, nil, 90, 90, semconv.ToolPreMissed, true)
	// Details capture: the command, through the redactor.
	for _, sp := range s.spans {
		if id, _ := sp.Attr(semconv.GenAIToolCallID); id.Str == "f" {
			if got := attr(t, &sp, semconv.ToolCommand); got != "[clean]npm test" {
				t.Errorf("command %v", got)
			}
		}
	}
}

// capRedactor stands in for redact.Redactor: it marks what it cleaned and
// caps the length.
type capRedactor struct{}

func (capRedactor) Clean(s string, max int) string {
	s = "[clean]" + s
	if len(s) > max {
		s = s[:max]
	}
	return s
}

func TestPostWithoutPre(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	s.at(5000, ev("PostToolUse", "tool_name", "Edit", "tool_use_id", "e", "duration_ms", 1500))
	tool := s.span("execute_tool Edit")
	checkSpan(t, tool, nil, 3500, 5000, semconv.ToolPreMissed, true, semconv.ToolDurationMs, 1500)
}

func TestPermissionWait(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p"))
	s.at(100, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "x"))
	s.at(200, ev("PermissionRequest", "tool_name", "Bash"))
	s.at(5100, ev("PostToolUse", "tool_name", "Bash", "tool_use_id", "x", "duration_ms", 1000))
	tool := s.span("execute_tool Bash")
	checkSpan(t, tool, nil, 100, 5100, semconv.ToolPermissionWaitMs, 4000, semconv.ToolDurationMs, 1000)
	if len(tool.Events) != 1 || tool.Events[0].Name != "PermissionRequest" {
		t.Errorf("events %+v", tool.Events)
	}
}

func TestInterruptedTurn(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	s.at(10, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(20, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "long"))
	s.at(30, ev("Notification", "notification_type", "permission_prompt"))
	out := s.at(90, ev("UserPromptSubmit", "prompt_id", "p2"))
	if len(out) != 2 {
		t.Fatalf("ended %v", names(out))
	}
	checkSpan(t, &out[0], &out[1], 20, 30, semconv.IncompleteReason, "parent_ended")
	checkSpan(t, &out[1], nil, 10, 30, semconv.Incomplete, true, semconv.IncompleteReason, "interrupted", semconv.TurnIndex, 1)
	s.at(100, ev("Stop", "prompt_id", "p2"))
	last := s.spans[len(s.spans)-1]
	checkSpan(t, &last, nil, 90, 100, semconv.TurnIndex, 2, semconv.PromptID, "p2", semconv.Incomplete, nil)
	// A late post for the force-closed tool is dropped.
	if out := s.at(110, ev("PostToolUse", "tool_name", "Bash", "tool_use_id", "long")); len(out) != 0 || s.late != 1 {
		t.Errorf("late post produced %v", names(out))
	}
}

func TestMidwayStartAndImplicitTurn(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("PreToolUse", "prompt_id", "p7", "tool_name", "Read", "tool_use_id", "r"))
	s.at(10, ev("PostToolUse", "prompt_id", "p7", "tool_name", "Read", "tool_use_id", "r"))
	s.at(20, ev("Stop", "prompt_id", "p7"))
	// A late event of the same prompt does not reopen its turn.
	s.at(25, ev("PostToolUse", "prompt_id", "p7", "tool_name", "Read", "tool_use_id", "r2", "duration_ms", 1))
	s.at(30, ev("SessionEnd", "reason", "other"))
	root := s.span("invoke_agent claude-code")
	turn := s.span("turn")
	checkSpan(t, root, nil, 0, 30, semconv.SessionStartMissed, true, semconv.SessionSource, nil, semconv.SessionTurns, 1, semconv.SessionToolCalls, 2)
	checkSpan(t, turn, root, 0, 20, semconv.TurnStartMissed, true, semconv.PromptID, "p7")
	for _, sp := range s.spans {
		if id, _ := sp.Attr(semconv.GenAIToolCallID); id.Str == "r2" && sp.ParentSpanID != root.SpanID {
			t.Error("late tool of an ended turn not under the root")
		}
	}
}

func TestResume(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "source", "startup"))
	s.at(10, ev("SessionEnd", "reason", "prompt_input_exit"))
	n := len(s.spans)
	s.at(1000, ev("SessionStart", "source", "resume"))
	s.at(1010, ev("UserPromptSubmit", "prompt_id", "p2"))
	s.at(1020, ev("Stop", "prompt_id", "p2"))
	s.at(1030, ev("SessionEnd", "reason", "other"))
	s.at(2000, ev("SessionStart", "source", "resume"))
	s.at(2010, ev("SessionEnd"))
	runs := s.spans[n:]
	if got := strings.Join(names(runs), ","); got != "turn,invoke_agent claude-code,invoke_agent claude-code" {
		t.Fatalf("after resume: %s", got)
	}
	root := s.spans[n-1]
	checkSpan(t, &runs[1], &root, 1000, 1030, semconv.SessionRun, 1, semconv.SessionSource, "resume", semconv.SessionTurns, 1)
	checkSpan(t, &runs[0], &runs[1], 1010, 1020)
	checkSpan(t, &runs[2], &root, 2000, 2010, semconv.SessionRun, 2)
	if runs[1].SpanID == root.SpanID || runs[2].SpanID == runs[1].SpanID || runs[1].TraceID != root.TraceID {
		t.Error("run ids")
	}
	var ref usage.Ref
	json.Unmarshal(runs[1].Pending, &ref)
	if ref.Scope != "session" || ref.Offset != 100*1000 || ref.SubagentDir != "" {
		t.Errorf("run ref %+v", ref)
	}
	// SessionEnd of an ended session is late.
	if out := s.at(3000, ev("SessionEnd")); len(out) != 0 {
		t.Error("second SessionEnd exported something")
	}
}

func TestSessionStartOnOpenRoot(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "source", "startup"))
	s.at(10, ev("SessionStart", "source", "compact", "model", "claude-opus-4-1"))
	s.at(20, ev("SessionEnd"))
	if len(s.spans) != 1 {
		t.Fatalf("spans %v", names(s.spans))
	}
	root := &s.spans[0]
	checkSpan(t, root, nil, 0, 20, semconv.SessionSource, "startup", semconv.GenAIRequestModel, "claude-opus-4-1")
	if len(root.Events) != 1 || root.Events[0].Name != "SessionStart" || attrStr(root.Events[0].Attrs, semconv.EventSource) != "compact" {
		t.Errorf("events %+v", root.Events)
	}
}

func attrStr(as []tracing.Attr, k string) string {
	for _, a := range as {
		if a.Key == k {
			return a.Str
		}
	}
	return ""
}

func TestCompaction(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	s.at(10, ev("PreCompact", "trigger", "manual"))
	s.at(90, ev("PostCompact", "trigger", "manual"))
	s.at(100, ev("UserPromptSubmit", "prompt_id", "p"))
	s.at(110, ev("PostCompact", "trigger", "auto"))
	c := s.spans[0]
	checkSpan(t, &c, nil, 10, 90, semconv.CompactTrigger, "manual")
	c2 := s.spans[1]
	checkSpan(t, &c2, nil, 110, 110, semconv.CompactTrigger, "auto", semconv.CompactStartMissed, true)
	if c.SpanID == c2.SpanID || c2.ParentSpanID != turnSpanID("s1", "p") {
		t.Error("compaction ids/parent")
	}
}

func TestTraceparent(t *testing.T) {
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	s := &sim{t: t, opts: Options{Traceparent: tp}}
	s.at(0, ev("SessionStart"))
	s.at(1, ev("SessionEnd"))
	root := s.spans[0]
	if len(root.Links) != 1 || root.Links[0].TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		root.Links[0].SpanID.String() != "00f067aa0ba902b7" || root.TraceID != TraceID("s1") || root.ParentSpanID.IsValid() {
		t.Errorf("link %+v trace %s", root.Links, root.TraceID)
	}
	s = &sim{t: t, opts: Options{Traceparent: tp, ParentFromTraceparent: true}}
	s.at(0, ev("SessionStart"))
	s.at(1, ev("UserPromptSubmit"))
	s.at(2, ev("SessionEnd"))
	root = s.spans[1]
	if root.TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || root.ParentSpanID.String() != "00f067aa0ba902b7" || len(root.Links) != 0 {
		t.Errorf("parent from traceparent: %s %s", root.TraceID, root.ParentSpanID)
	}
	if s.spans[0].TraceID != root.TraceID {
		t.Error("turn not in the traceparent's trace")
	}
	for _, bad := range []string{"", "garbage", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"} {
		if _, _, ok := parseTraceparent(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, _, ok := parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"); !ok {
		t.Error("future version rejected")
	}
}

func TestEventCap(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	for i := 0; i < MaxEventsPerSpan+10; i++ {
		s.at(i+1, ev("FutureEvent", "whatever", i))
	}
	s.at(1000, ev("SessionEnd"))
	root := s.spans[0]
	if len(root.Events) != MaxEventsPerSpan || root.DroppedEvents != 10 || root.Events[0].Name != "FutureEvent" {
		t.Errorf("%d events, %d dropped", len(root.Events), root.DroppedEvents)
	}
}

func TestCaptureLevels(t *testing.T) {
	payloads := []string{
		ev("SessionStart", "cwd", "/home/dev/app"),
		ev("UserPromptSubmit", "prompt_id", "p", "prompt", "fix the upload"),
		ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "b", "tool_input", map[string]any{"command": "npm test"}),
		ev("PostToolUse", "tool_name", "Bash", "tool_use_id", "b", "tool_response", map[string]any{"stdout": "ok"}),
		ev("CwdChanged", "new_cwd", "/home/dev/app/pkg", "old_cwd", "/home/dev/app"),
		ev("Notification", "message", "Claude needs you", "notification_type", "permission_prompt"),
		ev("Stop"),
		ev("SessionEnd"),
	}
	for _, c := range []struct {
		level    string
		redactor Redactor
		want     []string
		absent   []string
	}{
		{CaptureMetadata, capRedactor{}, nil, []string{"/home/dev", "fix the", "npm test", "stdout", "needs you"}},
		{CaptureContent, nil, nil, []string{"/home/dev", "fix the", "npm test", "stdout", "needs you"}},
		{CaptureDetails, capRedactor{}, []string{"[clean]/home/dev/app", "[clean]npm test", "[clean]/home/dev/app/pkg"}, []string{"fix the", "stdout", "needs you"}},
		{CaptureContent, capRedactor{}, []string{"[clean]fix the upload", `[clean]{\"command\":\"npm test\"}`, `[clean]{\"stdout\":\"ok\"}`, "[clean]Claude needs you"}, nil},
	} {
		s := &sim{t: t, opts: Options{Capture: c.level, Redactor: c.redactor}}
		for i, p := range payloads {
			s.at(i*10, p)
		}
		b, _ := json.Marshal(s.spans)
		out := string(b)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: missing %q", c.level, w)
			}
		}
		for _, a := range c.absent {
			if strings.Contains(out, a) {
				t.Errorf("%s (redactor %v): %q exported", c.level, c.redactor != nil, a)
			}
		}
	}
}

func TestSweep(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	s.at(10, ev("UserPromptSubmit", "prompt_id", "p"))
	s.at(20, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "b"))
	if _, _, del, ok := sweepOne(s.blob, ms(20).Add(23*time.Hour), Options{}); del || ok {
		t.Fatal("swept a fresh session")
	}
	blob, spans, del, ok := sweepOne(s.blob, ms(20).Add(25*time.Hour), Options{})
	if del || !ok || len(spans) != 3 {
		t.Fatalf("sweep: del=%v ok=%v spans=%v", del, ok, names(spans))
	}
	for _, sp := range spans {
		checkSpan(t, &sp, nil, int(sp.Start.Sub(t0)/time.Millisecond), 20, semconv.Incomplete, true, semconv.IncompleteReason, "idle_timeout")
	}
	if _, _, del, _ := sweepOne(blob, ms(20).Add(29*24*time.Hour), Options{}); del {
		t.Error("tombstone deleted early")
	}
	if _, _, del, _ := sweepOne(blob, ms(20).Add(31*24*time.Hour), Options{}); !del {
		t.Error("old tombstone kept")
	}
	if _, _, del, _ := sweepOne([]byte("junk"), t0, Options{}); !del {
		t.Error("junk kept")
	}
}

func TestToolWithoutID(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("PreToolUse", "tool_name", "Read"))
	s.at(1, ev("PreToolUse", "tool_name", "Read"))
	s.at(5, ev("PostToolUse", "tool_name", "Read"))
	s.at(9, ev("PostToolUse", "tool_name", "Read"))
	if len(s.spans) != 2 {
		t.Fatalf("%v", names(s.spans))
	}
	checkSpan(t, &s.spans[0], nil, 0, 5)
	checkSpan(t, &s.spans[1], nil, 1, 9)
	if s.spans[0].SpanID == s.spans[1].SpanID {
		t.Error("same id")
	}
}

func TestCorruptStateStartsOver(t *testing.T) {
	e, _ := DecodeBytes([]byte(ev("Stop")))
	res, err := Apply([]byte(`{"v":1,"spans":[null]}`), e, t0, Options{})
	if err != nil || res.Reset == nil || res.Session == nil {
		t.Fatalf("%v %v", res.Reset, err)
	}
	if _, err := Apply(nil, &Event{Name: "Stop"}, t0, Options{}); err != ErrNoSession {
		t.Errorf("no session id: %v", err)
	}
}

// BenchmarkApply measures one PostToolUse on a long session's state: a
// full ring of closed span IDs and a root with the maximum of events.
func BenchmarkApply(b *testing.B) {
	s := &sim{t: &testing.T{}}
	s.at(0, ev("SessionStart", "source", "startup"))
	for i := 0; i < MaxEventsPerSpan; i++ {
		s.at(1, ev("InstructionsLoaded", "load_reason", "nested_traversal", "memory_type", "Project"))
	}
	s.at(2, ev("UserPromptSubmit", "prompt_id", "p"))
	for i := 0; i < closedRingLen+10; i++ {
		s.at(3, ev("PostToolUse", "tool_name", "Read", "tool_use_id", fmt.Sprint("t", i), "duration_ms", 1))
	}
	s.at(4, ev("PreToolUse", "tool_name", "Read", "tool_use_id", "x"))
	e, _ := DecodeBytes([]byte(ev("PostToolUse", "tool_name", "Read", "tool_use_id", "x", "tool_response", map[string]any{"type": "text"}, "duration_ms", 3)))
	b.ReportMetric(float64(len(s.blob)), "state-bytes")
	for b.Loop() {
		if _, err := Apply(s.blob, e, ms(5), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// After SessionEnd, a late notification (an async hook) is dropped; a new
// prompt starts a new run.
func TestEventsAfterEnd(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	s.at(10, ev("SessionEnd"))
	for _, name := range []string{"Notification", "Stop", "PostCompact", "InstructionsLoaded", "SessionEnd", "FutureEvent"} {
		if out := s.at(20, ev(name)); len(out) != 0 || OpenSpans(s.blob) != 0 {
			t.Errorf("%s after SessionEnd: spans %v, %d open", name, names(out), OpenSpans(s.blob))
		}
	}
	if s.late != 6 {
		t.Errorf("%d late events, want 6", s.late)
	}
	s.at(30, ev("UserPromptSubmit", "prompt_id", "p"))
	if OpenSpans(s.blob) != 2 {
		t.Fatalf("%d open spans after a new prompt", OpenSpans(s.blob))
	}
	s.at(40, ev("SessionEnd"))
	run := s.spans[len(s.spans)-1]
	checkSpan(t, &run, &s.spans[0], 30, 40, semconv.SessionRun, 1, semconv.SessionStartMissed, true)
	var ref usage.Ref
	json.Unmarshal(run.Pending, &ref)
	if ref.Offset != 100*30 {
		t.Errorf("run offset %d, want the transcript size at the prompt", ref.Offset)
	}
}

// A turn whose start offset in the transcript is unknown (stat failed)
// and that has no prompt id cannot be told apart from earlier turns in the
// file: its usage is omitted, not counted from the top of the file.
func TestTurnUsageNeedsPromptIDOrOffset(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "source", "startup"))
	e, err := DecodeBytes([]byte(ev("UserPromptSubmit", "prompt", "hi")))
	if err != nil {
		t.Fatal(err)
	}
	// transcriptSize stays -1: as when the transcript could not be stat'ed.
	res, err := Apply(s.blob, e, ms(100), s.opts)
	if err != nil {
		t.Fatal(err)
	}
	s.blob = res.Session
	s.at(200, ev("Stop"))
	if turn := s.span("turn"); turn.Pending != nil {
		t.Errorf("turn without prompt id or offset has pending usage %s", turn.Pending)
	}

	// With a prompt id the turn's lines are found by it, offset or not.
	s2 := &sim{t: t}
	s2.at(0, ev("SessionStart", "source", "startup"))
	e, _ = DecodeBytes([]byte(ev("UserPromptSubmit", "prompt_id", "p1", "prompt", "hi")))
	res, err = Apply(s2.blob, e, ms(100), s2.opts)
	if err != nil {
		t.Fatal(err)
	}
	s2.blob = res.Session
	s2.at(200, ev("Stop", "prompt_id", "p1"))
	if turn := s2.span("turn"); turn.Pending == nil {
		t.Error("turn with a prompt id has no pending usage")
	}
}

// A background Agent launch (run_in_background) returns at once with
// status "async_launched": its PostToolUse must not end the subagent,
// which keeps running (its tools under it) until its own SubagentStop;
// it stays a child of the Agent call that launched it.
func TestBackgroundSubagentOutlivesLaunch(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "ag", "tool_input", map[string]any{"subagent_type": "Explore", "run_in_background": true}))
	s.at(20, ev("SubagentStart", "agent_id", "a1", "agent_type", "Explore"))
	out := s.at(30, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "ag", "tool_response", map[string]any{"status": "async_launched", "agentId": "a1"}))
	if got := strings.Join(names(out), ","); got != "execute_tool Agent" {
		t.Fatalf("launch ended %s", got)
	}
	s.at(40, ev("PreToolUse", "tool_name", "Read", "tool_use_id", "r1", "agent_id", "a1", "agent_type", "Explore"))
	s.at(50, ev("PostToolUse", "tool_name", "Read", "tool_use_id", "r1", "agent_id", "a1", "agent_type", "Explore"))
	s.at(60, ev("Stop", "prompt_id", "p1"))
	s.at(90, ev("SubagentStop", "agent_id", "a1", "agent_type", "Explore"))
	s.at(100, ev("SessionEnd"))
	agentTool := s.span("execute_tool Agent")
	agent := s.span("invoke_agent Explore")
	checkSpan(t, agentTool, nil, 10, 30, semconv.Incomplete, nil)
	checkSpan(t, agent, agentTool, 20, 90, semconv.Incomplete, nil)
	checkSpan(t, s.span("execute_tool Read"), agent, 40, 50)
	if s.late != 0 {
		t.Errorf("late = %d, want 0", s.late)
	}
}

// A background subagent whose stop never comes still ends, with the
// session, marked incomplete.
func TestBackgroundSubagentEndsWithSession(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "ag"))
	s.at(20, ev("SubagentStart", "agent_id", "a1", "agent_type", "Explore"))
	s.at(30, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "ag", "tool_response", map[string]any{"status": "async_launched"}))
	s.at(40, ev("Stop", "prompt_id", "p1"))
	s.at(70, ev("SessionEnd"))
	checkSpan(t, s.span("invoke_agent Explore"), s.span("execute_tool Agent"), 20, 70,
		semconv.Incomplete, true, semconv.IncompleteReason, "parent_ended")
	if OpenSpans(s.blob) != 0 {
		t.Errorf("%d spans left open", OpenSpans(s.blob))
	}
}

// Two Agent calls in parallel whose SubagentStarts come in the other
// order: each subagent goes under the call of its own type.
func TestParallelAgentsBindByType(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "t1", "tool_input", map[string]any{"subagent_type": "Explore"}))
	s.at(11, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "t2", "tool_input", map[string]any{"subagent_type": "Plan"}))
	s.at(12, ev("SubagentStart", "agent_id", "a2", "agent_type", "Plan"))
	s.at(13, ev("SubagentStart", "agent_id", "a1", "agent_type", "Explore"))
	s.at(50, ev("SubagentStop", "agent_id", "a1", "agent_type", "Explore"))
	s.at(55, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "t1"))
	s.at(60, ev("SubagentStop", "agent_id", "a2", "agent_type", "Plan"))
	s.at(65, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "t2"))
	var t1, t2 *tracing.Span
	for i := range s.spans {
		switch attr(t, &s.spans[i], semconv.GenAIToolCallID) {
		case "t1":
			t1 = &s.spans[i]
		case "t2":
			t2 = &s.spans[i]
		}
	}
	if t1 == nil || t2 == nil {
		t.Fatalf("agent calls missing: %v", names(s.spans))
	}
	checkSpan(t, s.span("invoke_agent Explore"), t1, 13, 50, semconv.Incomplete, nil)
	checkSpan(t, s.span("invoke_agent Plan"), t2, 12, 60, semconv.Incomplete, nil)
	if s.late != 0 {
		t.Errorf("late = %d, want 0", s.late)
	}
}
