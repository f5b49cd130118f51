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
	if spans, err := sweep(&s.st, ms(20).Add(23*time.Hour), Options{}); err != nil || len(spans) != 0 || OpenSpans(s.st.Session("s1")) != 3 {
		t.Fatalf("swept a fresh session: %v %v", names(spans), err)
	}
	spans, err := sweep(&s.st, ms(20).Add(25*time.Hour), Options{})
	if err != nil || len(spans) != 3 {
		t.Fatalf("sweep: spans=%v %v", names(spans), err)
	}
	for _, sp := range spans {
		checkSpan(t, &sp, nil, int(sp.Start.Sub(t0)/time.Millisecond), 20, semconv.Incomplete, true, semconv.IncompleteReason, "idle_timeout")
	}
	if s.st.Spans() != 0 {
		t.Errorf("%d span records left after the sweep", s.st.Spans())
	}
	if st, _ := decodeSession(s.st.Session("s1")); st == nil || !st.tombstone() {
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
	sweep(&s.st, t0, Options{})
	if s.st.Session("junk") != nil || s.st.Spans() != 0 {
		t.Error("junk kept")
	}
}
