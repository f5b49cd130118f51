package hook

import (
	"testing"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

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
