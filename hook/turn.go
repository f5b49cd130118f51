package hook

import (
	"strconv"
	"strings"
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
		m.interruptTurn(turn)
	}
	notice := strings.HasPrefix(ev.Prompt, taskNotification)
	turn := m.startTurn(false, notice)
	if notice {
		m.linkNotice(turn)
	}
	turn.Span.SetAttr(tracing.Int(semconv.PromptLength, int64(utf8.RuneCountInString(ev.Prompt))))
	if m.opts.content() && ev.Prompt != "" {
		turn.Span.SetAttr(tracing.String(semconv.PromptText, m.opts.clean(ev.Prompt)))
	}
	turn.Offset = ev.transcriptSize
}

// startTurn opens a turn; notice says it is a task notification (not a
// prompt the person typed, so not counted in the run's turns).
func (m *machine) startTurn(missed, notice bool) *openSpan {
	s, ev := m.s, m.ev
	s.TurnSeq++
	origin := semconv.TurnOriginPrompt
	if notice {
		s.Totals.Notices++
		origin = semconv.TurnOriginTaskNotification
	} else {
		s.Totals.Turns++
	}
	key := ev.PromptID
	id := turnSpanID(s.ID, key)
	if key == "" || s.closedRecently(id) || m.findByID(id) != nil {
		key = ev.PromptID + "#" + strconv.Itoa(s.TurnSeq) + "@" + strconv.Itoa(s.Run)
		id = turnSpanID(s.ID, key)
	}
	turn := &openSpan{Kind: kindTurn, Key: ev.PromptID, Offset: -1, spanBody: &spanBody{Span: tracing.Span{
		SpanID: id,
		Name:   semconv.SpanTurn,
	}}}
	turn.Span.Attrs = append(turn.Span.Attrs, tracing.Int(semconv.TurnIndex, int64(s.TurnSeq)),
		tracing.String(semconv.TurnOrigin, origin))
	if s.Model != "" {
		turn.Span.Attrs = append(turn.Span.Attrs, tracing.String(semconv.GenAIRequestModel, s.Model))
	}
	if ev.PromptID != "" {
		turn.Span.Attrs = append(turn.Span.Attrs, tracing.String(semconv.PromptID, ev.PromptID))
	}
	if missed {
		turn.Span.Attrs = append(turn.Span.Attrs, tracing.Bool(semconv.TurnStartMissed, true))
	}
	top := m.top()
	m.start(turn, top)
	if m.opts.TraceSplit == TraceSplitTurn {
		// A trace of its own: a root linked to the session's top span,
		// which still owns it (its end ends the turn).
		turn.Span.TraceID = turnTraceID(s.ID, s.Run, key)
		turn.Span.ParentSpanID = tracing.SpanID{}
		turn.Owner = top.Span.SpanID
		turn.Span.Links = append(turn.Span.Links, tracing.Link{TraceID: top.Span.TraceID, SpanID: top.Span.SpanID})
	}
	return turn
}

// taskNotification starts the prompt Claude Code submits when a
// background task (a subagent) ended.
const taskNotification = "<task-notification>"

// linkNotice links a task-notification turn to the subagent it reports,
// named by <task-id> in the prompt.
func (m *machine) linkNotice(turn *openSpan) {
	s := m.s
	id := between(m.ev.Prompt, "<task-id>", "</task-id>")
	if id == "" {
		return
	}
	turn.Span.SetAttr(tracing.String(semconv.EventTaskID, capIdent(id)))
	link := tracing.Link{TraceID: s.Trace, SpanID: agentSpanID(s.ID, id)}
	for i, b := range s.Background {
		if b.Key == id {
			link = tracing.Link{TraceID: b.Trace, SpanID: b.Span}
			s.Background = append(s.Background[:i], s.Background[i+1:]...)
			break
		}
	}
	if a := m.find(kindAgent, id); a != nil {
		// Still running (a notification of an earlier stop).
		link = tracing.Link{TraceID: a.Span.TraceID, SpanID: a.Span.SpanID}
	}
	turn.Span.Links = append(turn.Span.Links, link)
}

// between returns the text of s between the first open and the next
// close ("" when either is missing).
func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	v, _, ok := strings.Cut(rest, close)
	if !ok {
		return ""
	}
	return strings.TrimSpace(v)
}

// ensureTurn opens a turn for an event that carries a prompt_id when no
// turn is open (its UserPromptSubmit was missed), unless that prompt's
// turn already ended.
func (m *machine) ensureTurn() {
	ev := m.ev
	if ev.PromptID == "" || ev.PromptID == m.s.LastPrompt || m.openTurn() != nil {
		return
	}
	m.startTurn(true, false)
}

func (m *machine) stop() {
	ev := m.ev
	m.ensureTurn()
	turn := m.openTurn()
	if turn == nil {
		m.addEvent(m.top(), ev.Name, m.eventAttrs())
		return
	}
	if ev.Name == StopFailure {
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

// interruptTurn ends a turn that got no Stop: the person interrupted it
// (Escape fires no Stop, and during a tool no Post event either) and then
// typed a prompt or left, or the process was stopped (SIGINT). Its tool
// calls still open were interrupted: the model got an error result for
// each. The turn ends at the last event of its own, not at the event that
// ended it; the finisher moves that end (and the calls') to the
// transcript's evidence, at most to now (Ref.Until).
func (m *machine) interruptTurn(turn *openSpan) {
	// endOrder: the spans the turn owns, directly or not, each once (one
	// pass over the open spans, whatever the nesting).
	for _, e := range m.endOrder(turn, turn.Last) {
		if e.o.Kind == kindTool {
			m.toolError(m.load(e.o), semconv.ErrorInterrupted, "")
		}
	}
	turn.Span.SetAttr(tracing.Bool(semconv.TurnInterrupted, true))
	m.end(turn, turn.Last, semconv.IncompleteInterrupted, semconv.IncompleteInterrupted)
}

// turnOf is the open turn o runs under (nil: none).
func (m *machine) turnOf(o *openSpan) *openSpan {
	for n := 0; o != nil && n < len(m.s.Spans); n++ {
		if o.Kind == kindTurn {
			return o
		}
		o = m.findByID(o.owner())
	}
	return nil
}
