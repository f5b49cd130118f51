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

// sim feeds events to Apply the way Record does, keeping the state in
// memory.
type sim struct {
	t     *testing.T
	opts  Options
	st    Memory
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
	res, err := Apply(&s.st, e, t0.Add(time.Duration(ms)*time.Millisecond), s.opts)
	if err != nil {
		s.t.Fatalf("apply %s: %v", payload, err)
	}
	if res.Reset != nil {
		s.t.Fatalf("state reset: %v", res.Reset)
	}
	if res.Late {
		s.late++
	}
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
	st, err := decodeSession(&s.st, "s1")
	if err != nil || !st.tombstone() || len(st.Spans) != 0 || s.st.Records() != 0 {
		t.Errorf("state after end: %+v %v", st, err)
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

func attrStr(as []tracing.Attr, k string) string {
	for _, a := range as {
		if a.Key == k {
			return a.Str
		}
	}
	return ""
}

func TestCorruptStateStartsOver(t *testing.T) {
	e, _ := DecodeBytes([]byte(ev("Stop")))
	var st Memory
	st.PutSession("s1", []byte(`{"v":2,"spans":[null]}`))
	st.PutSpan("s1", [8]byte{1}, []byte(`{}`))
	res, err := Apply(&st, e, t0, Options{})
	if err != nil || res.Reset == nil || st.Session("s1") == nil {
		t.Fatalf("%v %v", res.Reset, err)
	}
	if st.Records() != 2 || OpenSpans(&st, "s1") != 1 {
		t.Errorf("after the reset: %d records, %d open spans (want the new root's and the index)", st.Records(), OpenSpans(&st, "s1"))
	}
	// A head naming another session is not followed to that session's
	// records.
	var other Memory
	s2, _ := (&session{ID: "s2", Last: t0}).encode()
	other.PutSession("s1", s2)
	other.PutSpan("s2", indexKey, encodeIndex([]*openSpan{{Kind: kindRoot, ID: RootSpanID("s2")}}))
	if res, err := Apply(&other, e, t0, Options{}); err != nil || res.Reset == nil || other.Span("s2", indexKey) == nil {
		t.Errorf("head of s2 under s1: reset %v, err %v, s2's index kept: %v", res.Reset, err, other.Span("s2", indexKey) != nil)
	}
	if _, err := Apply(&st, &Event{Name: "Stop"}, t0, Options{}); err != ErrNoSession {
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
	b.ReportMetric(float64(len(s.st.Session("s1"))), "head-bytes")
	for b.Loop() {
		if _, err := Apply(&s.st, e, ms(5), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
