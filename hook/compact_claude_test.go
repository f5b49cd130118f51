package hook

import (
	"encoding/json"
	"testing"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/tracing"
)

// The real /compact (manual, between turns, as `claude -p "/compact …"`
// on a resumed run) and reactive auto-compaction (mid-turn): one compact
// span each; the compaction's forked agent (SubagentStop with agent_type
// "" and no SubagentStart) is no subagent, and the slash command (a
// prompt_id of its own, no UserPromptSubmit) is no turn.
func TestClaudeCompaction(t *testing.T) {
	for _, tc := range []struct {
		scenario, trigger string
		turns             int // typed prompts
		underTurn         bool
	}{
		{"compact-manual", "manual", 1, false},
		{"compact-auto", "auto", 1, true},
		{"tui", "manual", 1, false},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			spans := groundTruth(t, tc.scenario, Options{})["c1a0de00-00"+map[string]string{"compact-manual": "11-4000-8000-000000000011", "compact-auto": "12-4000-8000-000000000012", "tui": "0d-4000-8000-00000000000d"}[tc.scenario]]
			compacts := named(spans, semconv.SpanCompact)
			if len(compacts) != 1 {
				t.Fatalf("%d compact spans: %v", len(compacts), names(spans))
			}
			c := compacts[0]
			if strAttr(c, semconv.CompactTrigger) != tc.trigger {
				t.Errorf("trigger %q", strAttr(c, semconv.CompactTrigger))
			}
			var ref usage.Ref
			if json.Unmarshal(c.Pending, &ref) != nil || ref.Scope != "compact" || ref.Path == "" {
				t.Errorf("compact span's usage reference %s: the flusher adds compact_boundary's metadata", c.Pending)
			}
			if _, missed := c.Attr(semconv.CompactStartMissed); missed || c.End.Sub(c.Start) <= 0 {
				t.Errorf("compact span %v..%v, start missed %v", c.Start, c.End, missed)
			}
			var agents, turns int
			var tops []*tracing.Span
			for i := range spans {
				s := &spans[i]
				switch {
				case s.Name == semconv.SpanTurn:
					turns++
					if _, missed := s.Attr(semconv.TurnStartMissed); missed {
						t.Errorf("a turn with start_missed (prompt %s)", strAttr(s, semconv.PromptID))
					}
					if tc.underTurn && c.ParentSpanID != s.SpanID {
						t.Errorf("compact span under %s, want the turn %s", c.ParentSpanID, s.SpanID)
					}
				case s.Name == semconv.SpanRoot:
					tops = append(tops, s)
				case strAttr(s, semconv.GenAIOperationName) == semconv.OperationInvokeAgent:
					agents++
				}
			}
			if agents != 0 || turns != tc.turns {
				t.Errorf("%d subagent spans, %d turns; want 0, %d: %v", agents, turns, tc.turns, names(spans))
			}
			var subagents, counted, compactions int64
			for _, top := range tops {
				subagents += intAttr(top, semconv.SessionSubagents)
				counted += intAttr(top, semconv.SessionTurns)
				compactions += intAttr(top, semconv.SessionCompactions)
				if !tc.underTurn && top.SpanID == c.ParentSpanID && strAttr(c, semconv.PromptID) == "" {
					t.Errorf("the /compact's own prompt_id is not on its span")
				}
			}
			if subagents != 0 || counted != int64(tc.turns) || compactions != 1 {
				t.Errorf("top spans count %d subagents, %d turns, %d compactions", subagents, counted, compactions)
			}
		})
	}
}
