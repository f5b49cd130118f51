package hook

import (
	"strconv"
	"unicode/utf8"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// promptSubmit opens a turn, first ending the one still open (the user
// interrupted it).
func (m *machine) promptSubmit() {
	ev := m.ev
	if turn := m.openTurn(); turn != nil {
		// The user interrupted the previous turn (Esc fires no Stop).
		m.end(turn, turn.Last, semconv.IncompleteInterrupted, semconv.IncompleteParentEnded)
	}
	turn := m.startTurn(false)
	turn.Span.SetAttr(tracing.Int(semconv.PromptLength, int64(utf8.RuneCountInString(ev.Prompt))))
	if m.opts.content() && ev.Prompt != "" {
		turn.Span.SetAttr(tracing.String(semconv.PromptText, m.opts.clean(ev.Prompt)))
	}
	turn.Offset = ev.transcriptSize
}

func (m *machine) startTurn(missed bool) *openSpan {
	s, ev := m.s, m.ev
	s.TurnSeq++
	s.Totals.Turns++
	key := ev.PromptID
	id := turnSpanID(s.ID, key)
	if key == "" || s.closedRecently(id) || m.findByID(id) != nil {
		key = ev.PromptID + "#" + strconv.Itoa(s.TurnSeq) + "@" + strconv.Itoa(s.Run)
		id = turnSpanID(s.ID, key)
	}
	turn := &openSpan{Kind: kindTurn, Key: ev.PromptID, Offset: -1, Span: tracing.Span{
		SpanID: id,
		Name:   semconv.SpanTurn,
	}}
	turn.Span.Attrs = append(turn.Span.Attrs, tracing.Int(semconv.TurnIndex, int64(s.TurnSeq)))
	if ev.PromptID != "" {
		turn.Span.Attrs = append(turn.Span.Attrs, tracing.String(semconv.PromptID, ev.PromptID))
	}
	if missed {
		turn.Span.Attrs = append(turn.Span.Attrs, tracing.Bool(semconv.TurnStartMissed, true))
	}
	m.start(turn, m.top())
	return turn
}

// ensureTurn opens a turn for an event that carries a prompt_id when no
// turn is open (its UserPromptSubmit was missed), unless that prompt's
// turn already ended.
func (m *machine) ensureTurn() {
	ev := m.ev
	if ev.PromptID == "" || ev.PromptID == m.s.LastPrompt || m.openTurn() != nil {
		return
	}
	m.startTurn(true)
}

func (m *machine) stop() {
	ev := m.ev
	m.ensureTurn()
	turn := m.openTurn()
	if turn == nil {
		m.addEvent(m.top(), ev.Name, m.eventAttrs())
		return
	}
	if ev.Name == "StopFailure" {
		kind := ev.Error
		if kind == "" {
			kind = semconv.Unknown
		}
		turn.Span.SetAttr(tracing.String(semconv.ErrorType, kind))
		turn.Span.StatusCode = tracing.StatusError
		if m.opts.details() {
			msg := ev.ErrorDetails
			if msg == "" {
				msg = kind
			}
			turn.Span.StatusMessage = m.opts.clean(firstLine(msg))
		}
	}
	if ev.Effort != "" {
		turn.Span.SetAttr(tracing.String(semconv.TurnEffort, ev.Effort))
	}
	m.end(turn, m.t, "", semconv.IncompleteParentEnded)
}
