package hook

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/tracing"
)

// toolSpanName and agentSpanName name the spans of a tool call and of a
// subagent ("unknown" for a missing tool name or agent type).
func toolSpanName(tool string) string {
	return semconv.OperationExecuteTool + " " + cmp.Or(tool, semconv.Unknown)
}

func agentSpanName(agentType string) string {
	return semconv.OperationInvokeAgent + " " + cmp.Or(agentType, semconv.Unknown)
}

// Lookups return spans with their bodies loaded, except findByID, which
// serves the walk up the owners (touch) and needs only heads.

// top is the top span of the current run: the root, or a resumed run.
func (m *machine) top() *openSpan { return m.load(m.s.Spans[0]) }

func (m *machine) find(kind, key string) *openSpan {
	for _, o := range m.s.Spans {
		if o.Kind == kind && o.Key == key {
			return m.load(o)
		}
	}
	return nil
}

// findByID returns the open span with this ID, body not loaded.
func (m *machine) findByID(id tracing.SpanID) *openSpan {
	for _, o := range m.s.Spans {
		if o.id() == id {
			return o
		}
	}
	return nil
}

func (m *machine) openTurn() *openSpan {
	for i := len(m.s.Spans) - 1; i >= 0; i-- {
		if m.s.Spans[i].Kind == kindTurn {
			return m.load(m.s.Spans[i])
		}
	}
	return nil
}

// innermost is the span an event without a span of its own belongs to:
// the tool call it names, else the subagent it ran in, else the open
// turn, else the top span.
func (m *machine) innermost() *openSpan {
	ev := m.ev
	if ev.ToolUseID != "" {
		if o := m.find(kindTool, ev.ToolUseID); o != nil {
			return o
		}
	}
	if ev.AgentID != "" {
		if o := m.find(kindAgent, ev.AgentID); o != nil {
			return o
		}
	}
	if turn := m.openTurn(); turn != nil {
		return turn
	}
	return m.top()
}

// start opens o under parent at the event's time.
func (m *machine) start(o *openSpan, parent *openSpan) {
	m.load(parent)
	o.Span.TraceID = parent.Span.TraceID
	o.Span.ParentSpanID = parent.Span.SpanID
	o.Span.Kind = tracing.KindInternal
	if o.Span.Start.IsZero() {
		o.Span.Start = m.t
	}
	o.Last = m.t
	m.s.Spans = append(m.s.Spans, o)
	m.touch(parent, m.t)
}

// touch moves the Last time of o and its ancestors forward to t. The
// walk takes at most one step per open span (owner cycles end it), and
// past a few steps looks the owners up in a map: linear in the depth.
func (m *machine) touch(o *openSpan, t time.Time) {
	var byID map[tracing.SpanID]*openSpan
	for n := 0; o != nil && n < len(m.s.Spans); n++ {
		if o.Last.Before(t) {
			o.Last = t
		}
		if o.Kind == kindRoot || o.Kind == kindRun {
			return
		}
		if n < 8 {
			o = m.findByID(o.owner())
			continue
		}
		if byID == nil {
			byID = make(map[tracing.SpanID]*openSpan, len(m.s.Spans))
			for _, c := range slices.Backward(m.s.Spans) {
				byID[c.id()] = c // the first of equal IDs wins, as in findByID
			}
		}
		o = byID[o.owner()]
	}
}

// end finishes o at t: first its open descendants (the spans it owns,
// and theirs: incomplete, childReason), then o itself, which is marked
// incomplete when reason is set. The walk visits each open span at most
// once and costs O(open spans), whatever the owner links say: a damaged
// index where spans own each other ends each of them once.
func (m *machine) end(o *openSpan, t time.Time, reason, childReason string) {
	order := m.endOrder(o, t)
	ended := make(map[*openSpan]bool, len(order))
	last := t
	for _, e := range order {
		ended[e.o] = true
		r := childReason
		if e.o == o {
			r = reason
		}
		m.endOne(e.o, e.t, r)
		last = e.t
	}
	m.s.Spans = slices.DeleteFunc(m.s.Spans, func(c *openSpan) bool { return ended[c] })
	if o.Kind != kindRoot && o.Kind != kindRun {
		if parent := m.findByID(o.owner()); parent != nil {
			m.touch(parent, last)
		}
	}
}

// ending is a span to end and when: at t, or at its start if later.
type ending struct {
	o    *openSpan
	t    time.Time
	next int // endOrder: the next of its owned spans to visit
}

// endOrder is o and the open spans it owns, directly or not, each once,
// owned spans before their owners (in the order they opened), o last.
// The walk is iterative, with a visited set: no owner cycle, however
// damaged the index, can loop it or overflow the stack; and it never
// ends a top span other than o.
func (m *machine) endOrder(o *openSpan, t time.Time) []ending {
	owned := make(map[tracing.SpanID][]*openSpan, len(m.s.Spans))
	for _, c := range m.s.Spans {
		// A top span (root or run) is owned by nothing: one that names
		// an owner (damage) ends only as itself.
		if c.Kind != kindRoot && c.Kind != kindRun {
			owned[c.owner()] = append(owned[c.owner()], c)
		}
	}
	seen := map[*openSpan]bool{o: true}
	stack := []ending{{o: o, t: m.endAt(o, t)}}
	var out []ending
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		kids := owned[top.o.id()]
		if top.next < len(kids) {
			c := kids[top.next]
			top.next++
			if !seen[c] {
				seen[c] = true
				stack = append(stack, ending{o: c, t: m.endAt(c, top.t)})
			}
			continue
		}
		out = append(out, *top)
		stack = stack[:len(stack)-1]
	}
	return out
}

// endAt loads o and returns t, or o's start when that is later.
func (m *machine) endAt(o *openSpan, t time.Time) time.Time {
	m.load(o)
	if t.Before(o.Span.Start) {
		return o.Span.Start
	}
	return t
}

// endOne ends o alone at t (its owned spans are ended already); the
// caller removes it from the open spans.
func (m *machine) endOne(o *openSpan, t time.Time, reason string) {
	sp := o.Span
	sp.End = t
	// Every span names its session, so a live session's spans can be
	// found by session id before its root is exported.
	sp.SetAttr(tracing.String(semconv.GenAIConversationID, m.s.ID))
	if len(o.Events) > 0 {
		_ = json.Unmarshal(o.Events, &sp.Events)
	}
	if reason != "" {
		sp.SetAttr(tracing.Bool(semconv.Incomplete, true))
		sp.SetAttr(tracing.String(semconv.IncompleteReason, reason))
	}
	m.finish(o, &sp)
	if o.stored {
		m.gone = append(m.gone, o.Span.SpanID)
	}
	if o.Kind != kindRoot && o.Kind != kindRun {
		m.s.rememberClosed(sp.SpanID)
	}
	m.out = append(m.out, sp)
}

// finish adds what is known only at the end: totals on the top span,
// the token-usage reference and when to read it.
func (m *machine) finish(o *openSpan, sp *tracing.Span) {
	s := m.s
	// A span ended without its end event settles from now, not from the
	// earlier end it was given (Ref.Until).
	settle := later(sp.End, m.t).Add(m.opts.settleDelay())
	switch o.Kind {
	case kindRoot, kindRun:
		t := s.Totals
		sp.SetAttr(tracing.Int(semconv.SessionTurns, int64(t.Turns)))
		sp.SetAttr(tracing.Int(semconv.SessionToolCalls, int64(t.ToolCalls)))
		sp.SetAttr(tracing.Int(semconv.SessionToolErrors, int64(t.ToolErrors)))
		sp.SetAttr(tracing.Int(semconv.SessionSubagents, int64(t.Subagents)))
		sp.SetAttr(tracing.Int(semconv.SessionCompactions, int64(t.Compactions)))
		if t.Notices > 0 {
			sp.SetAttr(tracing.Int(semconv.SessionTaskNotifications, int64(t.Notices)))
		}
		if t.Late > 0 {
			sp.SetAttr(tracing.Int(semconv.SessionLateEvents, int64(t.Late)))
		}
		// A resumed run counts from where the transcript stood when it
		// started; when that is unknown its usage is omitted rather than
		// taken from the whole file, which would count earlier runs too.
		if s.Transcript != "" && (o.Kind == kindRoot || o.Offset >= 0) {
			ref := usage.Ref{Scope: "session", Path: s.Transcript}
			ref.CompactBase = s.CompactSeq - t.Compactions // the compactions' spans are numbered per session
			if o.Kind == kindRun {
				ref.Offset = o.Offset
			} else {
				ref.SubagentDir = subagentDir(s.Transcript)
			}
			sp.Pending = pending(ref)
		}
	case kindTurn:
		s.LastPrompt = o.Key
		// Without a prompt id the turn's lines are found from its start
		// offset; with neither, counting from the top of the file would
		// give the turn every earlier turn's tokens: omit, never guess.
		if s.Transcript != "" && (o.Key != "" || o.Offset >= 0) {
			ref := usage.Ref{Scope: "turn", Path: s.Transcript, Offset: max(o.Offset, 0), PromptID: o.Key}
			if _, open := sp.Attr(semconv.Incomplete); open {
				ref.Until = m.t // no Stop: the transcript says when it ended
			}
			sp.Pending = pending(ref)
		}
	case kindTool:
		sp.Pending = m.toolEvidence(o, sp)
	}
	if sp.Pending != nil {
		sp.ReadyAt = settle
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func pending(ref usage.Ref) json.RawMessage {
	b, err := json.Marshal(ref)
	if err != nil {
		return nil
	}
	return b
}
