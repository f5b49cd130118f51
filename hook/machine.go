package hook

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// ErrNoSession is returned for an event without a session_id: there is no
// trace to put it in.
var ErrNoSession = errors.New("hook: event has no session_id")

// ErrLongSession is returned for a session_id longer than 256 bytes
// (Claude Code's are UUIDs): cut, two such ids could name one session;
// the event is refused (counted as lost) instead.
var ErrLongSession = errors.New("hook: session_id longer than 256 bytes refused")

// Result is what one event did to a session.
type Result struct {
	// Spans are the spans that ended with this event, children before
	// parents, ready for the outbox.
	Spans []tracing.Span
	// Late is set when the event was recognised as late or repeated (its
	// span had already been exported) and dropped.
	Late bool
	// Reset is set when the previous state could not be decoded and the
	// session started over (the IDs are derived, so the trace stays whole),
	// or when an open span's record was missing or unreadable.
	Reset error
}

// Apply is the state machine: it reads the session of ev from st (none
// for an unknown session), applies the event at the time it happened,
// writes the session's new state back and returns the spans that
// finished. Besides st it does no I/O. It reads and writes the session's
// head and only the open spans the event touches.
func Apply(st Store, ev *Event, now time.Time, opts Options) (Result, error) {
	if ev == nil || ev.SessionID == "" {
		return Result{}, ErrNoSession
	}
	s, err := decodeSession(st, ev.SessionID)
	m := &machine{st: st, s: s, ev: ev, t: now.UTC(), opts: &opts, indexed: s != nil && len(s.Spans) > 0}
	if err != nil {
		m.res.Reset = err
		// Whatever the unreadable head left is garbage now.
		if err := st.DeleteSession(ev.SessionID); err != nil {
			return Result{}, err
		}
		m.s = nil
	}
	m.apply()
	if err := m.save(); err != nil {
		return Result{}, err
	}
	m.res.Spans = m.out
	return m.res, nil
}

type machine struct {
	st   Store
	s    *session
	ev   *Event
	t    time.Time
	opts *Options
	out  []tracing.Span
	res  Result
	gone []tracing.SpanID // spans ended whose records must go
	// indexed: the session had open spans, so an index record, when
	// the event began.
	indexed bool
}

// load makes o's body available: the record in the Store, decoded on
// first use. A record that is missing or does not decode (the database
// was damaged) is rebuilt from the head, so that the span still ends.
func (m *machine) load(o *openSpan) *openSpan {
	if o.spanBody != nil {
		return o
	}
	b := &spanBody{}
	raw := m.st.Span(m.s.ID, o.ID)
	if err := decodeBody(raw, b); err != nil { // nil raw too: no record
		m.res.Reset = fmt.Errorf("span %s (%s): record missing or unreadable", o.ID, o.Kind)
		// The start is unknown; the span's last event bounds it.
		b = &spanBody{Span: tracing.Span{TraceID: m.s.Trace, Name: lostName(o), Kind: tracing.KindInternal, Start: o.Last}}
	} else {
		o.raw = bytes.Clone(raw)
	}
	b.Span.SpanID, b.Span.ParentSpanID = o.ID, o.Parent
	o.spanBody = b
	return o
}

// lostName is the span name of an open span whose record was lost.
func lostName(o *openSpan) string {
	switch o.Kind {
	case kindTool:
		return toolSpanName(o.Tool)
	case kindAgent:
		return agentSpanName(o.Tool)
	case kindTurn:
		return semconv.SpanTurn
	case kindCompact:
		return semconv.SpanCompact
	}
	return semconv.SpanRoot
}

// save writes the session back: the record of every loaded span whose
// body changed, the deletion of the records of spans that ended, the
// index and the head.
func (m *machine) save() error {
	s, st := m.s, m.st
	for _, o := range s.Spans {
		if o.spanBody == nil {
			continue
		}
		o.ID, o.Parent = o.Span.SpanID, o.Span.ParentSpanID
		b := encodeBody(o.spanBody)
		if o.stored && bytes.Equal(b, o.raw) {
			continue
		}
		if err := st.PutSpan(s.ID, o.ID, b); err != nil {
			return err
		}
		o.stored, o.raw = true, b
	}
	for _, id := range m.gone {
		if err := st.DeleteSpan(s.ID, id); err != nil {
			return err
		}
	}
	m.gone = m.gone[:0]
	var err error
	if len(s.Spans) > 0 {
		err = st.PutSpan(s.ID, indexKey, encodeIndex(s.Spans))
	} else if m.indexed {
		err = st.DeleteSpan(s.ID, indexKey)
	}
	if err != nil {
		return err
	}
	head, err := s.encode()
	if err != nil {
		return err
	}
	return st.PutSession(s.ID, head)
}

func (m *machine) apply() {
	ev := m.ev
	if m.s == nil {
		m.newSession()
	} else if m.s.tombstone() {
		if m.lateForTombstone() {
			m.late()
			return
		}
		m.newRun()
	} else if ev.Name == SessionStart {
		// The root is still open (clear, compact, or a resume without a
		// SessionEnd): note it on the root instead of opening a second one.
		top := m.top()
		m.addEvent(top, SessionStart, m.eventAttrs())
		if ev.Model != "" {
			top.Span.SetAttr(tracing.String(semconv.GenAIRequestModel, ev.Model))
		}
		m.resumeAttrs(top)
	}
	if m.s.Last.Before(m.t) {
		m.s.Last = m.t
	}
	if ev.TranscriptPath != "" {
		m.s.Transcript = ev.TranscriptPath
	}
	if ev.PermissionMode != "" {
		m.top().Span.SetAttr(tracing.String(semconv.SessionPermissionMode, ev.PermissionMode))
	}
	if ev.Cwd != "" && m.opts.details() {
		// The session's working directory: where it started.
		if _, ok := m.top().Span.Attr(semconv.SessionCwd); !ok {
			m.top().Span.SetAttr(tracing.String(semconv.SessionCwd, m.opts.clean(ev.Cwd)))
		}
	}

	if h := specOf(ev.Name).handle; h != nil {
		h(m)
	} else {
		m.addEvent(m.innermost(), eventName(ev.Name), m.eventAttrs())
	}
}

func eventName(n string) string {
	if n == "" {
		return semconv.Unknown
	}
	return n
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// sessionStart: the root, the run or the span event on the open root
// that a SessionStart opens is made before the dispatch (apply); its
// model is the request model of the turns that follow.
func (m *machine) sessionStart() {
	if m.ev.Model != "" {
		m.s.Model = m.ev.Model
	}
}

// modelSwitch records PreModelSwitch / PostModelSwitch as a span event;
// after PostModelSwitch the new model is the request model of the turns
// that follow. (2.1.328 sends a PreModelSwitch per model it prices, the
// PostModelSwitch once, for the model it switched to.)
func (m *machine) modelSwitch() {
	ev := m.ev
	m.addEvent(m.innermost(), ev.Name, m.eventAttrs())
	if ev.Name == PostModelSwitch && ev.ToModel != "" {
		m.s.Model = ev.ToModel
	}
}
