package hook

import (
	"testing"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

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
	// The call was interrupted: the model got an error result for it.
	checkSpan(t, &out[0], &out[1], 20, 30, semconv.IncompleteReason, "interrupted", semconv.ErrorType, "interrupted")
	if out[0].StatusCode != tracing.StatusError {
		t.Errorf("interrupted call: status %v", out[0].StatusCode)
	}
	checkSpan(t, &out[1], nil, 10, 30, semconv.Incomplete, true, semconv.IncompleteReason, "interrupted", semconv.TurnIndex, 1,
		semconv.TurnInterrupted, true)
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
	if _, err := Apply(&s.st, e, ms(100), s.opts); err != nil {
		t.Fatal(err)
	}
	s.at(200, ev("Stop"))
	if turn := s.span("turn"); turn.Pending != nil {
		t.Errorf("turn without prompt id or offset has pending usage %s", turn.Pending)
	}

	// With a prompt id the turn's lines are found by it, offset or not.
	s2 := &sim{t: t}
	s2.at(0, ev("SessionStart", "source", "startup"))
	e, _ = DecodeBytes([]byte(ev("UserPromptSubmit", "prompt_id", "p1", "prompt", "hi")))
	if _, err := Apply(&s2.st, e, ms(100), s2.opts); err != nil {
		t.Fatal(err)
	}
	s2.at(200, ev("Stop", "prompt_id", "p1"))
	if turn := s2.span("turn"); turn.Pending == nil {
		t.Error("turn with a prompt id has no pending usage")
	}
}
