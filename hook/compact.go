package hook

import (
	"strconv"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// preCompact opens a compact span under the open turn (the prompt's turn
// if its start was missed), else under the top span.
func (m *machine) preCompact() {
	m.ensureTurn()
	m.startCompact(false)
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
	var c *openSpan
	for i := len(m.s.Spans) - 1; i >= 0; i-- {
		if m.s.Spans[i].Kind == kindCompact {
			c = m.load(m.s.Spans[i])
			break
		}
	}
	if c == nil {
		c = m.startCompact(true)
	}
	if m.ev.Trigger != "" {
		c.Span.SetAttr(tracing.String(semconv.CompactTrigger, m.ev.Trigger))
	}
	m.end(c, m.t, "", semconv.IncompleteParentEnded)
}
