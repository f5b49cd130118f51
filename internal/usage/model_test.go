package usage

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// Claude Code does not wait for a PostModelSwitch hook: the next prompt's
// hook can run first, and the hook then names the turn after the model
// before the switch (seen in the real client's model-switch scenario).
// The turn's requests in the transcript say which model it asked for.
func TestTurnModelFromItsRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonl")
	lines := `{"type":"user","sessionId":"s","timestamp":"2026-07-29T08:20:01.000Z","message":{"role":"user","content":"Third."},"promptId":"p-3"}
{"type":"assistant","sessionId":"s","timestamp":"2026-07-29T08:20:02.000Z","requestId":"req_1","message":{"model":"claude-opus-5-5","id":"msg_1","stop_reason":"end_turn","usage":{"input_tokens":30,"output_tokens":5}}}
`
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	s := span(Ref{Scope: "turn", Path: path, PromptID: "p-3"}, time.Now())
	s.SetAttr(tracing.String(semconv.GenAIRequestModel, "claude-haiku-5-5")) // the hook's guess
	if done, _ := New(Options{NoWait: true})(s, s.ReadyAt); !done {
		t.Fatal("not done")
	}
	if a, _ := s.Attr(semconv.GenAIRequestModel); a.Str != "claude-opus-5-5" {
		t.Errorf("turn's gen_ai.request.model %q, its request asked for claude-opus-5-5", a.Str)
	}
}
