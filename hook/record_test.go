package hook

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

func TestSweep(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	s.at(10, ev("UserPromptSubmit", "prompt_id", "p"))
	s.at(20, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "b"))
	if spans, err := sweepAll(&s.st, ms(20).Add(23*time.Hour), Options{}); err != nil || len(spans) != 0 || OpenSpans(&s.st, "s1") != 3 {
		t.Fatalf("swept a fresh session: %v %v", names(spans), err)
	}
	spans, err := sweepAll(&s.st, ms(20).Add(25*time.Hour), Options{})
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
	sweepAll(&s.st, ms(20).Add(29*24*time.Hour), Options{})
	if s.st.Session("s1") == nil {
		t.Error("tombstone deleted early")
	}
	sweepAll(&s.st, ms(20).Add(31*24*time.Hour), Options{})
	if s.st.Session("s1") != nil {
		t.Error("old tombstone kept")
	}
	s.st.PutSession("junk", []byte("junk"))
	s.st.PutSpan("junk", [8]byte{1}, []byte("{}"))
	// An idle head whose span index is unreadable.
	noindex, _ := (&session{ID: "noindex", Last: ms(10)}).encode()
	s.st.PutSession("noindex", noindex)
	s.st.PutSpan("noindex", indexKey, []byte("junk"))
	if _, err := sweepAll(&s.st, ms(20).Add(25*time.Hour), Options{}); err != nil {
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

// sweepAll is sweep, collecting every span it ends.
func sweepAll(st sweepStore, now time.Time, opts Options) ([]tracing.Span, error) {
	var out []tracing.Span
	err := sweep(st, now, opts, func(spans []tracing.Span) error {
		out = append(out, spans...)
		return nil
	})
	return out, err
}

// One session that cannot be swept costs the others nothing: of three
// idle sessions, the second one's spans cannot be queued; the sweep
// still hands over the two healthy sessions' spans and tombstones them,
// deletes the bad session's state, and reports no error (it used to stop
// at the first failure, after tombstoning sessions whose spans it never
// queued).
func TestSweepContainsDamage(t *testing.T) {
	var st Memory
	for _, id := range []string{"ok-1", "bad", "ok-2"} {
		for i, name := range []string{"SessionStart", "UserPromptSubmit"} {
			e, _ := DecodeBytes([]byte(`{"session_id":"` + id + `","hook_event_name":"` + name + `","prompt_id":"p"}`))
			if _, err := Apply(&st, e, ms(i), Options{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	emitted := map[string]int{}
	var logs []string
	opts := Options{Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}
	err := sweep(&st, ms(0).Add(25*time.Hour), opts, func(spans []tracing.Span) error {
		id := attrStr(spans[0].Attrs, semconv.GenAIConversationID)
		if id == "bad" {
			return fmt.Errorf("cannot queue")
		}
		emitted[id] += len(spans)
		return nil
	})
	if err != nil || emitted["ok-1"] != 2 || emitted["ok-2"] != 2 {
		t.Fatalf("sweep: %v, emitted %v", err, emitted)
	}
	for _, id := range []string{"ok-1", "ok-2"} {
		if s, err := decodeSession(&st, id); err != nil || s == nil || !s.tombstone() {
			t.Errorf("session %s: %+v, %v: want a tombstone", id, s, err)
		}
	}
	if st.Session("bad") != nil || len(logs) != 1 || !strings.Contains(logs[0], "bad") {
		t.Errorf("bad session kept, or not logged: %q", logs)
	}
}

// A span that cannot be encoded is dropped and counted as damage; the
// other spans of the event are queued and the event recorded.
func TestEnqueueSkipsUnencodable(t *testing.T) {
	st, err := state.Open(state.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deep := &tracing.Span{Name: "deep"}
	for range 12 {
		deep = &tracing.Span{Name: "deep", Extra: []*tracing.Span{deep}}
	}
	spans := []tracing.Span{{Name: "a"}, *deep, {Name: "b"}}
	err = st.Update(func(tx *state.Tx) error {
		n, err := enqueue(tx, spans, &Options{})
		if n != 2 {
			t.Errorf("%d queued, want 2", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	st.View(func(tx *state.Tx) error {
		if c := tx.Counters(); c.Queued != 2 || c.Damaged != 1 {
			t.Errorf("%d queued, %d damaged; want 2, 1", c.Queued, c.Damaged)
		}
		return nil
	})
}

// Two 1 MB session ids with the same first 256 bytes used to merge into
// one session (both cut to 256 bytes): a session id that long is refused.
func TestLongSessionIDRefused(t *testing.T) {
	st, err := state.Open(state.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	prefix := strings.Repeat("s", 1<<20)
	for _, id := range []string{prefix + "A", prefix + "B"} {
		e, err := DecodeBytes([]byte(`{"session_id":"` + id + `","hook_event_name":"SessionStart"}`))
		if err != nil {
			t.Fatal(err)
		}
		err = st.Update(func(tx *state.Tx) error { _, err := Record(tx, e, ms(0), Options{}); return err })
		if !errors.Is(err, ErrLongSession) {
			t.Errorf("Record: %v, want ErrLongSession", err)
		}
	}
	st.View(func(tx *state.Tx) error {
		return tx.ForEachSession(func(id string, _ []byte) error {
			t.Errorf("session %.20q… recorded", id)
			return nil
		})
	})
}
