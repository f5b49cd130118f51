package hook

import (
	"fmt"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/state"
)

func TestSweep(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	s.at(10, ev("UserPromptSubmit", "prompt_id", "p"))
	s.at(20, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "b"))
	if spans, err := sweep(&s.st, ms(20).Add(23*time.Hour), Options{}); err != nil || len(spans) != 0 || OpenSpans(&s.st, "s1") != 3 {
		t.Fatalf("swept a fresh session: %v %v", names(spans), err)
	}
	spans, err := sweep(&s.st, ms(20).Add(25*time.Hour), Options{})
	if err != nil || len(spans) != 3 {
		t.Fatalf("sweep: spans=%v %v", names(spans), err)
	}
	for _, sp := range spans {
		checkSpan(t, &sp, nil, int(sp.Start.Sub(t0)/time.Millisecond), 20, semconv.Incomplete, true, semconv.IncompleteReason, "idle_timeout")
	}
	if s.st.Records() != 0 {
		t.Errorf("%d span records left after the sweep", s.st.Records())
	}
	if st, _ := decodeSession(&s.st, "s1"); st == nil || !st.tombstone() {
		t.Fatalf("no tombstone left: %+v", st)
	}
	sweep(&s.st, ms(20).Add(29*24*time.Hour), Options{})
	if s.st.Session("s1") == nil {
		t.Error("tombstone deleted early")
	}
	sweep(&s.st, ms(20).Add(31*24*time.Hour), Options{})
	if s.st.Session("s1") != nil {
		t.Error("old tombstone kept")
	}
	s.st.PutSession("junk", []byte("junk"))
	s.st.PutSpan("junk", [8]byte{1}, []byte("{}"))
	// An idle head whose span index is unreadable.
	noindex, _ := (&session{ID: "noindex", Last: ms(10)}).encode()
	s.st.PutSession("noindex", noindex)
	s.st.PutSpan("noindex", indexKey, []byte("junk"))
	if _, err := sweep(&s.st, ms(20).Add(25*time.Hour), Options{}); err != nil {
		t.Fatal(err)
	}
	if s.st.Session("junk") != nil || s.st.Session("noindex") != nil || s.st.Records() != 0 {
		t.Error("junk kept")
	}
}

// BenchmarkRecord is the hook's transaction on a real store: Open, one
// Record (a PreToolUse then its PostToolUse, so the number of open spans
// stays put), Close, in a session with 0 or 500 other tool calls open.
func BenchmarkRecord(b *testing.B) {
	for _, open := range []int{0, 200, 500} {
		b.Run(fmt.Sprintf("open=%d", open), func(b *testing.B) {
			opts := state.Options{Dir: b.TempDir()}
			record := func(payload string) {
				e, err := DecodeBytes([]byte(payload))
				if err != nil {
					b.Fatal(err)
				}
				st, err := state.Open(opts)
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				if err := st.Update(func(tx *state.Tx) error {
					_, err := Record(tx, e, t0, Options{})
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
			record(ev("SessionStart", "source", "startup"))
			record(ev("UserPromptSubmit", "prompt_id", "p"))
			for i := range open {
				record(ev("PreToolUse", "tool_name", "Bash", "tool_use_id", fmt.Sprint("open", i), "tool_input", map[string]any{"command": "make"}))
			}
			i := 0
			for b.Loop() {
				id := fmt.Sprint("t", i)
				record(ev("PreToolUse", "tool_name", "Bash", "tool_use_id", id, "tool_input", map[string]any{"command": "make"}))
				record(ev("PostToolUse", "tool_name", "Bash", "tool_use_id", id, "duration_ms", 1))
				i++
			}
		})
	}
}
