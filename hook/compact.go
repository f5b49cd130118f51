package hook

import (
	"strconv"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/tracing"
)

// preCompact opens a compact span under the open turn (the prompt's turn
// if its start was missed), else under the top span. A manual compaction
// is a slash command (/compact): its prompt_id is its own, no
// UserPromptSubmit fired for it, and it opens no turn; the span carries
// that prompt_id. Automatic compaction happens inside a turn.
func (m *machine) preCompact() {
	if m.ev.Trigger != compactManual {
		m.ensureTurn()
	}
	c := m.startCompact(false)
	if m.ev.Trigger == compactManual && m.ev.PromptID != "" {
		c.Span.SetAttr(tracing.String(semconv.PromptID, capIdent(m.ev.PromptID)))
	}
}

// compactManual is the trigger of /compact.
const compactManual = "manual"

// openCompact is the compaction in progress, or nil.
func (m *machine) openCompact() *openSpan {
	for i := len(m.s.Spans) - 1; i >= 0; i-- {
		if m.s.Spans[i].Kind == kindCompact {
			return m.load(m.s.Spans[i])
		}
	}
	return nil
}

// compactionFork reports whether a SubagentStop is the compaction's own
// model call: Claude Code runs it as a forked agent with agent_type ""
// that no SubagentStart announced (its transcript is never written).
// It is the compact span's work, not a subagent.
func (m *machine) compactionFork() bool {
	return m.ev.AgentType == "" && m.openCompact() != nil
}

func (m *machine) startCompact(missed bool) *openSpan {
	s := m.s
	s.CompactSeq++
	s.Totals.Compactions++
	c := &openSpan{Kind: kindCompact, Key: strconv.Itoa(s.CompactSeq), spanBody: &spanBody{Span: tracing.Span{
		SpanID: compactSpanID(s.ID, s.CompactSeq),
		Name:   semconv.SpanCompact,
	}}}
	if m.ev.Trigger != "" {
		c.Span.Attrs = append(c.Span.Attrs, tracing.String(semconv.CompactTrigger, m.ev.Trigger))
	}
	if missed {
		c.Span.Attrs = append(c.Span.Attrs, tracing.Bool(semconv.CompactStartMissed, true))
	}
	parent := m.openTurn()
	if parent == nil {
		parent = m.top()
	}
	m.start(c, parent)
	return c
}

func (m *machine) postCompact() {
	c := m.openCompact()
	if c == nil {
		c = m.startCompact(true)
	}
	if m.ev.Trigger != "" {
		c.Span.SetAttr(tracing.String(semconv.CompactTrigger, m.ev.Trigger))
	}
	if m.s.Transcript != "" {
		// The flusher adds the compact_boundary line's metadata.
		c.Span.Pending = pending(usage.Ref{Scope: "compact", Path: m.s.Transcript})
	}
	m.end(c, m.t, "", semconv.IncompleteParentEnded)
}
