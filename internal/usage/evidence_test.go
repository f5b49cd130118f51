package usage_test

import (
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// at is a time of 2026-12-07 13:MM:SS.mmm, when the interrupt scenarios
// were recorded (the transcripts' timestamps).
func at(clock string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, "2026-12-07T13:"+clock+"Z")
	if err != nil {
		panic(err)
	}
	return t
}

// The interrupt scenarios of the real client played through the hook and
// the flusher with event times as they were (around the transcripts'
// timestamps): where no Post and no Stop came, the transcript's tool_result
// and interrupt line are the ends of the call and of the turn, not the
// session's end, and the call is an error as the model saw it.
func TestClaudeInterruptEvidence(t *testing.T) {
	for _, c := range []struct {
		name   string
		times  []string // one per event
		call   string
		callAt string // its tool_result
		turnAt string // the interrupt line
	}{
		// Escape during `echo waiting; sleep 30`, then /exit.
		{"interrupt-tool", []string{"31:07.900", "31:08.014", "31:08.670", "31:13.000"}, "toolu_J1", "31:10.394", "31:10.415"},
		// SIGINT to claude -p during the same command.
		// SessionEnd comes first; the result and the interrupt line are
		// written while Claude Code shuts down (untilGrace).
		{"sigint-tool", []string{"30:55.700", "30:55.793", "30:56.490", "30:57.300"}, "toolu_K1", "30:57.575", "30:57.578"},
		// Escape while the answer streams, then /exit.
		{"interrupt-stream", []string{"31:05.600", "31:05.671", "31:12.000"}, "", "", "31:08.570"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := stage(t, c.name)
			for _, s := range c.times {
				st.times = append(st.times, at(s))
			}
			spans := st.play(t, true)
			var turn, call, root *tracing.Span
			for _, s := range spans {
				switch {
				case s.Name == semconv.SpanTurn:
					turn = s
				case s.Name == semconv.SpanRoot:
					root = s
				case strAttrOf(s, semconv.GenAIToolCallID) == c.call && c.call != "":
					call = s
				}
			}
			if turn == nil || root == nil {
				t.Fatalf("spans: %d, no turn or root", len(spans))
			}
			if !turn.End.Equal(at(c.turnAt)) || strAttrOf(turn, semconv.TurnEndSource) != semconv.TurnEndSourceMarker {
				t.Errorf("turn ends %v (%q), want the interrupt line %v; session ends %v",
					turn.End, strAttrOf(turn, semconv.TurnEndSource), at(c.turnAt), root.End)
			}
			if a, _ := turn.Attr(semconv.TurnInterrupted); !a.Bool {
				t.Errorf("turn not marked interrupted")
			}
			if c.call == "" {
				return
			}
			if call == nil {
				t.Fatal("no span for the interrupted call")
			}
			if !call.End.Equal(at(c.callAt)) || strAttrOf(call, semconv.ToolEndSource) != semconv.ToolEndSourceResult {
				t.Errorf("call ends %v, want its tool_result %v", call.End, at(c.callAt))
			}
			if call.StatusCode != tracing.StatusError || strAttrOf(call, semconv.ErrorType) != semconv.ErrorInterrupted {
				t.Errorf("call: status %v, error.type %q", call.StatusCode, strAttrOf(call, semconv.ErrorType))
			}
			if len(call.Pending) != 0 || len(turn.Pending) != 0 {
				t.Errorf("pending left")
			}
		})
	}
}

// The call denied for lack of approval (-p, default mode) is a
// permission_denied error after the finisher too: its tool_result has
// permissionDecision reject.
func TestClaudeDeniedEvidence(t *testing.T) {
	spans := stage(t, "permission-denied").play(t, true)
	for _, s := range spans {
		if strAttrOf(s, semconv.GenAIToolCallID) != "toolu_P1" {
			continue
		}
		if s.StatusCode != tracing.StatusError || strAttrOf(s, semconv.ErrorType) != semconv.ErrorPermissionDenied || len(s.Pending) != 0 {
			t.Errorf("denied call: status %v, error.type %q, pending %s", s.StatusCode, strAttrOf(s, semconv.ErrorType), s.Pending)
		}
		return
	}
	t.Fatal("no span for the denied call")
}
