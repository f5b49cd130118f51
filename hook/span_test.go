package hook

import (
	"fmt"
	"testing"
	"time"
)

// Two open spans that own each other (a damaged index, or a head an
// earlier version wrote) end once each: the walk of the owners must not
// recurse for ever (Go's stack overflow is a fatal error, not a panic
// the hook could recover).
func TestOwnerCycleEndsOnce(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "source", "startup"))
	s.at(10, ev("UserPromptSubmit", "prompt_id", "p"))
	s.at(20, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "b"))
	idx, err := decodeIndex(s.st.Span("s1", indexKey))
	if err != nil || len(idx) != 3 {
		t.Fatalf("index: %v, %d spans", err, len(idx))
	}
	idx[1].Owner = idx[2].ID // the turn owned by its own tool
	idx[0].Owner = idx[0].ID // the top span owning itself
	s.st.PutSpan("s1", indexKey, encodeIndex(idx))
	out := s.at(30, ev("PostToolUse", "tool_name", "Bash", "tool_use_id", "b"))
	if len(out) != 2 {
		t.Fatalf("PostToolUse ended %v", names(out))
	}
	seen := map[string]bool{}
	for _, sp := range append(out, s.at(40, ev("SessionEnd"))...) {
		if seen[sp.SpanID.String()] {
			t.Errorf("span %s ended twice", sp.Name)
		}
		seen[sp.SpanID.String()] = true
	}
	if len(seen) != 3 {
		t.Errorf("%d spans ended, want 3", len(seen))
	}
}

// Subagents nested deep end in time linear in the depth: the ending
// event used to rescan the open spans for every child and walk the
// owners after each (cubic: 1 000 deep took 1.9 s).
func TestDeepNestingEndsFast(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "source", "startup"))
	s.at(1, ev("UserPromptSubmit", "prompt_id", "p"))
	const depth = 1000
	agent := ""
	for i := range depth {
		call := fmt.Sprintf("c%d", i)
		s.at(2, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", call, "agent_id", agent))
		agent = fmt.Sprintf("a%d", i)
		s.at(2, ev("SubagentStart", "agent_id", agent, "agent_type", "x"))
	}
	begin := time.Now()
	out := s.at(3, ev("SessionEnd"))
	d := time.Since(begin)
	t.Logf("SessionEnd with %d nested subagents took %v", depth, d)
	if d > 300*time.Millisecond {
		t.Errorf("SessionEnd with %d nested subagents took %v", depth, d)
	}
	if len(out) != 2*depth+2 {
		t.Errorf("%d spans ended, want %d", len(out), 2*depth+2)
	}
}
