package hook

import (
	"strconv"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/internal/utf8cut"
	"github.com/ccotel/ccotel/tracing"
)

// agentKey is the key of a subagent: its agent_id, or without one a
// per-session sequence number.
func (m *machine) agentKey() string {
	if m.ev.AgentID != "" {
		return m.ev.AgentID
	}
	m.s.Seq++
	return "#" + strconv.Itoa(m.s.Seq)
}

func (m *machine) subagentStart() {
	s, ev := m.s, m.ev
	if ev.AgentID != "" {
		if m.find(kindAgent, ev.AgentID) != nil || s.closedRecently(agentSpanID(s.ID, ev.AgentID)) {
			m.late()
			return
		}
	}
	m.ensureTurn()
	m.startAgent(false)
}

func (m *machine) startAgent(missed bool) *openSpan {
	s, ev := m.s, m.ev
	s.Totals.Subagents++
	key := m.agentKey()
	typ := ev.AgentType
	if typ == "" {
		typ = semconv.Unknown
	}
	agent := &openSpan{Kind: kindAgent, Key: key, Tool: ev.AgentType, spanBody: &spanBody{Span: tracing.Span{
		SpanID: agentSpanID(s.ID, key),
		Name:   agentSpanName(ev.AgentType),
	}}}
	agent.Span.Attrs = append(agent.Span.Attrs,
		tracing.String(semconv.GenAIOperationName, semconv.OperationInvokeAgent),
		tracing.String(semconv.GenAIAgentName, typ),
	)
	if ev.AgentID != "" {
		agent.Span.Attrs = append(agent.Span.Attrs, tracing.String(semconv.GenAIAgentID, ev.AgentID))
	}
	if missed {
		agent.Span.Attrs = append(agent.Span.Attrs, tracing.Bool(semconv.SubagentStartMissed, true))
	}
	parent := m.launchedBy()
	if parent == nil {
		if call, ok := m.takeLaunched(); ok {
			// The Agent call returned (async_launched) before this start:
			// its span is exported; the subagent is still its child, owned
			// by the run like every background subagent.
			owner := m.openTurn()
			if owner == nil {
				owner = m.top()
			}
			m.start(agent, owner)
			agent.Span.ParentSpanID = call.Span
			agent.Owner = m.top().Span.SpanID
			return agent
		}
	}
	if parent != nil {
		parent.Bound = key
		if parent.Desc != "" {
			agent.Span.Attrs = append(agent.Span.Attrs, tracing.String(semconv.GenAIAgentDescription, parent.Desc))
		}
		if missed {
			agent.Span.Start = parent.Span.Start
		}
	} else if turn := m.openTurn(); turn != nil {
		parent = turn
	} else {
		parent = m.top()
	}
	m.start(agent, parent)
	return agent
}

// launchedBy is the open Agent/Task call that launched the subagent:
// the one its meta file names (toolUseId) when Record could read it, else
// the launcher guess.
func (m *machine) launchedBy() *openSpan {
	if id := m.ev.launchToolUseID; id != "" {
		if o := m.find(kindTool, id); o != nil && o.Bound == "" {
			return o
		}
	}
	return m.launcher()
}

// takeLaunched finds and removes the ended Agent call that launched this
// subagent: the one whose response named its agent_id, or the one its
// meta file names.
func (m *machine) takeLaunched() (launched, bool) {
	s, ev := m.s, m.ev
	for i, l := range s.Launched {
		if (ev.AgentID != "" && l.Agent == ev.AgentID) || (ev.launchToolUseID != "" && l.Call == ev.launchToolUseID) {
			s.Launched = append(s.Launched[:i], s.Launched[i+1:]...)
			return l, true
		}
	}
	return launched{}, false
}

// launcher is the oldest open Agent/Task tool call not yet bound to a
// subagent, preferring one whose subagent_type is the subagent's type:
// parallel Agent calls' SubagentStarts need not come in the order of
// their PreToolUses, and a subagent bound to the wrong call would be
// ended (incomplete) by that call's PostToolUse.
func (m *machine) launcher() *openSpan {
	var first *openSpan
	for _, o := range m.s.Spans {
		if o.Kind != kindTool || (o.Tool != "Agent" && o.Tool != "Task") || o.Bound != "" {
			continue
		}
		m.load(o)
		if m.ev.AgentType == "" {
			return o
		}
		if a, ok := o.Span.Attr(semconv.ToolSubagentType); ok && a.Str == utf8cut.Prefix(m.ev.AgentType, 128) {
			return o
		}
		if first == nil {
			first = o
		}
	}
	return first
}

func (m *machine) subagentStop() {
	s, ev := m.s, m.ev
	var agent *openSpan
	if ev.AgentID != "" {
		agent = m.find(kindAgent, ev.AgentID)
		if agent == nil && s.closedRecently(agentSpanID(s.ID, ev.AgentID)) {
			m.late()
			return
		}
	}
	if agent == nil && m.compactionFork() {
		return
	}
	if agent == nil {
		m.ensureTurn()
		agent = m.startAgent(true)
	}
	if ev.AgentType != "" && agent.Tool == "" {
		agent.Tool = ev.AgentType
		agent.Span.Name = agentSpanName(ev.AgentType)
		agent.Span.SetAttr(tracing.String(semconv.GenAIAgentName, ev.AgentType))
	}
	path := ev.AgentTranscriptPath
	if path == "" && s.Transcript != "" && ev.AgentID != "" {
		path = subagentTranscript(s.Transcript, ev.AgentID)
	}
	if path != "" {
		agent.Span.Pending = pending(usage.Ref{Scope: "agent", Path: path, AgentID: ev.AgentID})
	}
	if agent.Owner.IsValid() && agent.Owner != agent.Span.ParentSpanID {
		// A background subagent: its task notification comes as a new
		// prompt, whose turn links to this span.
		if len(s.Background) >= maxBackground {
			s.Background = s.Background[1:]
		}
		s.Background = append(s.Background, bgAgent{Key: agent.Key, Trace: agent.Span.TraceID, Span: agent.Span.SpanID})
	}
	m.end(agent, m.t, "", semconv.IncompleteParentEnded)
}
