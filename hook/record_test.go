package hook

import (
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
)

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
