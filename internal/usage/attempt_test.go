package usage

import (
	"testing"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// An attempt an interrupt cut short is no failed attempt, in a turn's read
// and in a session's (which decodes few user lines): the next prompt's
// request is no retry of it.
func TestInterruptedAttemptIsNoFailure(t *testing.T) {
	dir := t.TempDir()
	p := writeLines(t, dir, "s.jsonl",
		`{"type":"user","promptId":"p1","timestamp":"2026-12-07T10:00:00Z","message":{"content":"one"}}`,
		`{"type":"api-request","id":"A","timestamp":"2026-12-07T10:00:01Z","params":{"model":"claude-opus-5-5"}}`,
		`{"type":"user","promptId":"p1","timestamp":"2026-12-07T10:00:02Z","message":{"content":[{"type":"text","text":"[Request interrupted by user]"}]}}`,
		`{"type":"user","promptId":"p2","timestamp":"2026-12-07T10:01:00Z","message":{"content":"two"}}`,
		`{"type":"api-request","id":"B","timestamp":"2026-12-07T10:01:01Z","params":{"model":"claude-opus-5-5"}}`,
		`{"type":"assistant","requestRef":"B","requestId":"r2","timestamp":"2026-12-07T10:01:02Z","message":{"id":"m2","model":"claude-opus-5-5","stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}}`)
	top := &tracing.Span{Name: semconv.SpanRoot}
	finish(t, top, Ref{Scope: "session", Path: p})
	if m := attrInt(top, semconv.TurnModelMs); m != 1000 {
		t.Errorf("session: model time %d ms, want the answered request's 1000", m)
	}
	for _, prompt := range []string{"p1", "p2"} {
		turn := &tracing.Span{Name: semconv.SpanTurn}
		finish(t, turn, Ref{Scope: "turn", Path: p, PromptID: prompt})
		for _, c := range turn.Extra {
			if c.StatusCode == tracing.StatusError {
				t.Errorf("turn %s: a failed attempt %v", prompt, c.Attrs)
			}
		}
	}
}
