package usage

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// Evidence ends a span between its start and the hook's Until, plus the
// grace for what Claude Code writes as it shuts down; never before the
// start, never long after.
func TestWithin(t *testing.T) {
	from := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	until := from.Add(time.Second)
	for _, c := range []struct {
		at   time.Duration
		want bool
	}{
		{-time.Millisecond, false},
		{0, true},
		{500 * time.Millisecond, true},
		{time.Second + untilGrace, true},
		{time.Second + untilGrace + time.Millisecond, false},
	} {
		if got := within(from.Add(c.at), from, until); got != c.want {
			t.Errorf("within(start%+v) = %v", c.at, got)
		}
	}
	if !within(from.Add(time.Hour), from, time.Time{}) {
		t.Errorf("no Until: any time after the start")
	}
}

// A turn the person interrupted during a tool and then followed with a
// new prompt: the hook ended it (and the call) at the call's PreToolUse,
// its last event; the transcript moves the call's end to its tool_result
// and the turn's to the interrupt line, before the next prompt (Until).
// A result that is not an error undoes the hook's error; a turn whose
// answer ended normally (its Stop was lost) is not interrupted.
func TestEvidenceEnds(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	ts := func(ms int) string { return t0.Add(time.Duration(ms) * time.Millisecond).Format(time.RFC3339Nano) }
	lines := []string{
		`{"type":"user","promptId":"p1","timestamp":"` + ts(0) + `","message":{"role":"user","content":"Wait."}}`,
		`{"type":"assistant","timestamp":"` + ts(500) + `","requestId":"r1","message":{"id":"m1","model":"claude-opus-5-5","stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"tool_use","id":"t1","name":"Bash","input":{}},{"type":"tool_use","id":"t2","name":"Read","input":{}}]}}`,
		`{"type":"user","promptId":"p1","timestamp":"` + ts(900) + `","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t2","content":"ok"}]}}`,
		`{"type":"user","promptId":"p1","timestamp":"` + ts(2000) + `","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":"The user doesn't want to proceed with this tool use."}]}}`,
		`{"type":"user","promptId":"p1","timestamp":"` + ts(2010) + `","message":{"role":"user","content":[{"type":"text","text":"[Request interrupted by user for tool use]"}]}}`,
		`{"type":"user","promptId":"p2","timestamp":"` + ts(5000) + `","message":{"role":"user","content":"Go on."}}`,
		`{"type":"assistant","timestamp":"` + ts(5500) + `","requestId":"r2","message":{"id":"m2","model":"claude-opus-5-5","stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"text","text":"Done."}]}}`,
	}
	path := filepath.Join(t.TempDir(), "s.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pend := func(r Ref) json.RawMessage { b, _ := json.Marshal(r); return b }
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	f := New(Options{NoWait: true})
	turn := &tracing.Span{Start: at(0), End: at(500), Pending: pend(Ref{Scope: "turn", Path: path, PromptID: "p1", Until: at(5000)})}
	turn.SetAttr(tracing.Bool(semconv.TurnInterrupted, true))
	call := &tracing.Span{Start: at(500), End: at(500), StatusCode: tracing.StatusError,
		Pending: pend(Ref{Scope: "tool", Path: path, PromptID: "p1", ToolUseID: "t1", Until: at(5000)})}
	call.SetAttr(tracing.String(semconv.ErrorType, semconv.ErrorInterrupted))
	ok := &tracing.Span{Start: at(500), End: at(500), StatusCode: tracing.StatusError,
		Pending: pend(Ref{Scope: "tool", Path: path, PromptID: "p1", ToolUseID: "t2", Until: at(5000)})}
	ok.SetAttr(tracing.String(semconv.ErrorType, semconv.ErrorInterrupted))
	next := &tracing.Span{Start: at(5000), End: at(5000), Pending: pend(Ref{Scope: "turn", Path: path, PromptID: "p2", Until: at(9000)})}
	next.SetAttr(tracing.Bool(semconv.TurnInterrupted, true))
	for _, s := range []*tracing.Span{turn, call, ok, next} {
		if done, _ := f(s, at(10000)); !done {
			t.Fatalf("not finished: %s", s.Pending)
		}
	}
	if !turn.End.Equal(at(2010)) {
		t.Errorf("turn ends %v, want the interrupt line", turn.End.Sub(t0))
	}
	if !call.End.Equal(at(2000)) || call.StatusCode != tracing.StatusError {
		t.Errorf("call ends %v, status %v", call.End.Sub(t0), call.StatusCode)
	}
	if a, _ := call.Attr(semconv.ErrorType); a.Str != semconv.ErrorInterrupted {
		t.Errorf("call error.type %q", a.Str)
	}
	if _, has := ok.Attr(semconv.ErrorType); has || ok.StatusCode != tracing.StatusUnset || !ok.End.Equal(at(900)) {
		t.Errorf("successful result: status %v, end %v", ok.StatusCode, ok.End.Sub(t0))
	}
	if a, _ := next.Attr(semconv.TurnInterrupted); a.Bool || !next.End.Equal(at(5500)) {
		t.Errorf("turn with a normal answer: interrupted %v, ends %v", a.Bool, next.End.Sub(t0))
	}
}

// A subagent's call: its result is in the subagent's transcript, read
// without a prompt id (the subagent's task is its one prompt).
func TestEvidenceSubagentCall(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ts := func(ms int) string { return at(ms).Format(time.RFC3339Nano) }
	lines := []string{
		`{"type":"user","isSidechain":true,"promptId":"p1","timestamp":"` + ts(0) + `","message":{"role":"user","content":"Look around."}}`,
		`{"type":"assistant","isSidechain":true,"timestamp":"` + ts(300) + `","requestId":"r1","message":{"id":"m1","model":"claude-opus-5-5","stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5},"content":[{"type":"tool_use","id":"B1","name":"Bash","input":{}}]}}`,
		`{"type":"user","isSidechain":true,"promptId":"p1","timestamp":"` + ts(1200) + `","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"B1","is_error":true,"content":"Interrupted by user"}]}}`,
	}
	path := filepath.Join(t.TempDir(), "agent-ag1.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(Ref{Scope: "tool", Path: path, ToolUseID: "B1", Until: at(2000)})
	call := &tracing.Span{Start: at(300), End: at(300), StatusCode: tracing.StatusError, Pending: b}
	call.SetAttr(tracing.String(semconv.ErrorType, semconv.ErrorInterrupted))
	if done, _ := New(Options{NoWait: true})(call, at(3000)); !done {
		t.Fatal("not finished")
	}
	if a, _ := call.Attr(semconv.ErrorType); !call.End.Equal(at(1200)) || call.StatusCode != tracing.StatusError || a.Str != semconv.ErrorInterrupted {
		t.Errorf("ends %v, status %v, error.type %q", call.End.Sub(t0), call.StatusCode, a.Str)
	}
}
