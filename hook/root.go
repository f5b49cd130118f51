package hook

import (
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// newSession opens the root span of a session not seen before.
func (m *machine) newSession() {
	ev := m.ev
	s := &session{ID: ev.SessionID, Trace: TraceID(ev.SessionID), Last: m.t}
	m.s = s
	root := &openSpan{Kind: kindRoot, Offset: -1, spanBody: &spanBody{Span: tracing.Span{
		TraceID: s.Trace,
		SpanID:  RootSpanID(ev.SessionID),
		Name:    semconv.SpanRoot,
		Kind:    tracing.KindInternal,
		Start:   m.t,
	}}}
	if tid, sid, ok := parseTraceparent(m.opts.Traceparent); ok {
		if m.opts.ParentFromTraceparent {
			s.Trace = tid
			root.Span.TraceID = tid
			root.Span.ParentSpanID = sid
		} else {
			root.Span.Links = []tracing.Link{{TraceID: tid, SpanID: sid}}
		}
	}
	m.initTop(root)
	m.takeHandoff(root)
}

// newRun starts the next run of a session whose root was exported.
func (m *machine) newRun() {
	s := m.s
	s.Run++
	s.Ended = time.Time{}
	s.Totals = totals{}
	s.LastPrompt = ""
	run := &openSpan{Kind: kindRun, Offset: -1, spanBody: &spanBody{Span: tracing.Span{
		TraceID:      s.Trace,
		SpanID:       runSpanID(s.ID, s.Run),
		ParentSpanID: RootSpanID(s.ID),
		Name:         semconv.SpanRoot,
		Kind:         tracing.KindInternal,
		Start:        m.t,
	}}}
	if tid, sid, ok := parseTraceparent(m.opts.Traceparent); ok && !m.opts.ParentFromTraceparent {
		run.Span.Links = []tracing.Link{{TraceID: tid, SpanID: sid}}
	}
	run.Span.Attrs = append(run.Span.Attrs, tracing.Int(semconv.SessionRun, int64(s.Run)))
	m.initTop(run)
}

func (m *machine) initTop(top *openSpan) {
	ev := m.ev
	top.Last = m.t
	top.Span.Attrs = append(top.Span.Attrs,
		tracing.String(semconv.GenAIOperationName, semconv.OperationInvokeAgent),
		tracing.String(semconv.GenAIAgentName, semconv.RootAgentName),
		tracing.String(semconv.GenAIProviderName, semconv.ProviderAnthropic),
		tracing.String(semconv.GenAIConversationID, ev.SessionID),
	)
	if ev.Name == SessionStart {
		if ev.Source != "" {
			top.Span.SetAttr(tracing.String(semconv.SessionSource, ev.Source))
		}
	} else {
		top.Span.SetAttr(tracing.Bool(semconv.SessionStartMissed, true))
	}
	m.resumeAttrs(top)
	if m.opts.TraceSplit == TraceSplitTurn {
		top.Span.Attrs = append(top.Span.Attrs, tracing.String(semconv.SessionTraceSplit, TraceSplitTurn))
	}
	top.Offset = ev.transcriptSize // known on SessionStart and UserPromptSubmit
	if ev.Model != "" {
		top.Span.SetAttr(tracing.String(semconv.GenAIRequestModel, ev.Model))
	}
	m.s.Spans = []*openSpan{top}
}

// lateForTombstone reports whether an event for an ended session belongs
// to the run that ended (an end of a span already exported, or a late
// notification from an async hook) rather than starting a new run. Only
// events that show the agent working again start one (EventTable's
// Restart): SessionStart, a prompt, a tool call or subagent not seen
// before, a compaction.
func (m *machine) lateForTombstone() bool {
	ev := m.ev
	switch specOf(ev.Name).Restart {
	case RestartAlways:
		return false
	case RestartNewTool:
		return ev.ToolUseID != "" && m.s.closedRecently(toolSpanID(m.s.ID, ev.ToolUseID))
	case RestartNewSubagent:
		return ev.AgentID != "" && m.s.closedRecently(agentSpanID(m.s.ID, ev.AgentID))
	}
	return true
}

func (m *machine) late() {
	m.res.Late = true
	if !m.s.tombstone() {
		m.s.Totals.Late++
	}
}

func (m *machine) endSession() {
	if turn := m.openTurn(); turn != nil {
		// No Stop: Escape then /exit, or SIGINT during the turn.
		m.interruptTurn(turn)
	}
	top := m.top()
	if m.ev.Reason != "" {
		top.Span.SetAttr(tracing.String(semconv.SessionEndReason, m.ev.Reason))
	}
	m.leaveHandoff(top)
	m.end(top, m.t, "", semconv.IncompleteParentEnded)
	m.toTombstone()
}

func (m *machine) toTombstone() {
	s := m.s
	for _, o := range s.Spans { // none, unless the head was inconsistent
		if o.stored {
			m.gone = append(m.gone, o.id())
		}
	}
	s.Spans = nil
	s.Ended = m.t
	// The tombstone keeps the whole ring of closed IDs (4 KiB at most): a
	// resume can bring late events for any span of the earlier runs, and
	// each must still be recognised as already exported.
}

// resumeAttrs puts what a resumed or forked SessionStart says about the
// session it continues on the run's top span.
func (m *machine) resumeAttrs(top *openSpan) {
	ev := m.ev
	if ev.Name != SessionStart {
		return
	}
	if ev.HasContextTokens {
		top.Span.SetAttr(tracing.Int(semconv.ContextTokens, ev.ContextTokens))
	}
	if ev.HasSecondsSinceLastResponse {
		top.Span.SetAttr(tracing.Int(semconv.SecondsSinceLastResponse, ev.SecondsSinceLastResponse))
	}
	if ev.HasPromptCacheLikelyExpired {
		top.Span.SetAttr(tracing.Bool(semconv.PromptCacheLikelyExpired, ev.PromptCacheLikelyExpired))
	}
	if ev.HasEstimatedCacheWriteUSD {
		top.Span.SetAttr(tracing.Float(semconv.EstimatedCacheWriteUSD, ev.EstimatedCacheWriteUSD))
	}
}
