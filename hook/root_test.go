package hook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
)

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

// After SessionEnd, a late notification (an async hook) is dropped; a new
// prompt starts a new run.
func TestEventsAfterEnd(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	s.at(10, ev("SessionEnd"))
	for _, name := range []string{"Notification", "Stop", "PostCompact", "InstructionsLoaded", "SessionEnd", "FutureEvent"} {
		if out := s.at(20, ev(name)); len(out) != 0 || OpenSpans(&s.st, "s1") != 0 {
			t.Errorf("%s after SessionEnd: spans %v, %d open", name, names(out), OpenSpans(&s.st, "s1"))
		}
	}
	if s.late != 6 {
		t.Errorf("%d late events, want 6", s.late)
	}
	s.at(30, ev("UserPromptSubmit", "prompt_id", "p"))
	if OpenSpans(&s.st, "s1") != 2 {
		t.Fatalf("%d open spans after a new prompt", OpenSpans(&s.st, "s1"))
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
