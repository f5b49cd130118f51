package hook

import (
	"testing"

	"github.com/ccotel/ccotel/internal/semconv"
)

func TestCompaction(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	s.at(10, ev("PreCompact", "trigger", "manual"))
	s.at(90, ev("PostCompact", "trigger", "manual"))
	s.at(100, ev("UserPromptSubmit", "prompt_id", "p"))
	s.at(110, ev("PostCompact", "trigger", "auto"))
	c := s.spans[0]
	checkSpan(t, &c, nil, 10, 90, semconv.CompactTrigger, "manual")
	c2 := s.spans[1]
	checkSpan(t, &c2, nil, 110, 110, semconv.CompactTrigger, "auto", semconv.CompactStartMissed, true)
	if c.SpanID == c2.SpanID || c2.ParentSpanID != turnSpanID("s1", "p") {
		t.Error("compaction ids/parent")
	}
}
