package hook

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/internal/utf8cut"
	"github.com/ccotel/ccotel/tracing"
)

// toolKey is the key of a tool call: its tool_use_id, or for payloads
// without one (Claude Code before 2.0.43) a per-session sequence number.
func (m *machine) toolKey() string {
	if m.ev.ToolUseID != "" {
		return m.ev.ToolUseID
	}
	m.s.Seq++
	return "#" + strconv.Itoa(m.s.Seq)
}

func (m *machine) findTool() *openSpan {
	ev := m.ev
	if ev.ToolUseID != "" {
		return m.find(kindTool, ev.ToolUseID)
	}
	// No id: the oldest open call of this tool without an id.
	for _, o := range m.s.Spans {
		if o.Kind == kindTool && strings.HasPrefix(o.Key, "#") && o.Tool == ev.ToolName && o.Agent == ev.AgentID {
			return m.load(o)
		}
	}
	return nil
}

func (m *machine) preTool() {
	ev := m.ev
	if ev.ToolUseID != "" {
		if m.findTool() != nil || m.s.closedRecently(toolSpanID(m.s.ID, ev.ToolUseID)) {
			m.late()
			return
		}
	}
	m.ensureTurn()
	m.startTool(false)
}

func (m *machine) startTool(missed bool) *openSpan {
	ev := m.ev
	tool := m.newTool(m.toolKey(), ev.ToolUseID, ev.ToolName, missed)
	m.toolInputAttrs(tool)
	m.start(tool, m.toolParent())
	return tool
}

// newTool makes the span of a tool call (not yet started); id is the
// tool_use_id ("" unknown).
func (m *machine) newTool(key, id, toolName string, missed bool) *openSpan {
	s, ev := m.s, m.ev
	s.Totals.ToolCalls++
	name := toolName
	if name == "" {
		name = semconv.Unknown
	}
	tool := &openSpan{Kind: kindTool, Key: key, Tool: toolName, Agent: ev.AgentID, spanBody: &spanBody{Span: tracing.Span{
		SpanID: toolSpanID(s.ID, key),
		Name:   toolSpanName(toolName),
	}}}
	tool.Span.Attrs = append(tool.Span.Attrs,
		tracing.String(semconv.GenAIOperationName, semconv.OperationExecuteTool),
		tracing.String(semconv.GenAIToolName, name),
	)
	if id != "" {
		tool.Span.Attrs = append(tool.Span.Attrs, tracing.String(semconv.GenAIToolCallID, id))
	}
	if missed {
		tool.Span.Attrs = append(tool.Span.Attrs, tracing.Bool(semconv.ToolPreMissed, true))
	}
	m.mcpAttrs(tool)
	return tool
}

// mcpAttrs names the MCP server of an mcp__<server>__<tool> call, once:
// the event's mcp_server when it is about this call, else the server part
// of the tool's name (the first "__" after "mcp__" ends it; a batch-only
// call has no mcp_server).
func (m *machine) mcpAttrs(tool *openSpan) {
	rest, ok := strings.CutPrefix(tool.Tool, "mcp__")
	if !ok {
		return
	}
	if _, done := tool.Span.Attr(semconv.MCPServerSource); done {
		return
	}
	ev := m.ev
	if ev.MCPServer != "" && ev.ToolName == tool.Tool {
		tool.Span.SetAttr(tracing.String(semconv.MCPServerName, ev.MCPServer))
		if ev.MCPServerSource != "" {
			tool.Span.SetAttr(tracing.String(semconv.MCPServerSource, ev.MCPServerSource))
		}
		return
	}
	if _, done := tool.Span.Attr(semconv.MCPServerName); done {
		return
	}
	if server, _, ok := strings.Cut(rest, "__"); ok && server != "" {
		tool.Span.SetAttr(tracing.String(semconv.MCPServerName, server))
	}
}

func (m *machine) toolParent() *openSpan {
	if m.ev.AgentID != "" {
		if a := m.find(kindAgent, m.ev.AgentID); a != nil {
			return a
		}
	}
	if turn := m.openTurn(); turn != nil {
		return turn
	}
	return m.top()
}

// toolInputAttrs records what tool_input says, once: its size always, the
// subagent type of an Agent call, and at higher capture levels the
// command, path, URL or pattern, and the arguments themselves.
func (m *machine) toolInputAttrs(tool *openSpan) {
	ev := m.ev
	if ev.ToolInput == nil {
		return
	}
	if _, done := tool.Span.Attr(semconv.ToolInputSize); done {
		return
	}
	tool.Span.SetAttr(tracing.Int(semconv.ToolInputSize, ev.ToolInputSize))
	isAgent := ev.ToolName == "Agent" || ev.ToolName == "Task"
	if t := ev.InputField("subagent_type"); isAgent && t != "" {
		tool.Span.SetAttr(tracing.String(semconv.ToolSubagentType, utf8cut.Prefix(t, 128)))
	}
	o := m.opts
	if !o.details() {
		return
	}
	if c := ev.InputField("command"); c != "" {
		tool.Span.SetAttr(tracing.String(semconv.ToolCommand, o.clean(c)))
	}
	path := ev.InputField("file_path")
	if path == "" {
		path = ev.InputField("notebook_path")
	}
	if path == "" {
		path = ev.InputField("path")
	}
	if path != "" {
		tool.Span.SetAttr(tracing.String(semconv.ToolFilePath, o.clean(path)))
	}
	if u := ev.InputField("url"); u != "" {
		tool.Span.SetAttr(tracing.String(semconv.ToolURL, o.clean(u)))
	}
	if p := ev.InputField("pattern"); p != "" {
		tool.Span.SetAttr(tracing.String(semconv.ToolPattern, o.clean(p)))
	}
	if d := ev.InputField("description"); isAgent && d != "" {
		tool.Desc = o.clean(d)
	}
	if o.content() {
		tool.Span.SetAttr(tracing.String(semconv.GenAIToolCallArguments, o.clean(string(ev.ToolInput))))
	}
}

// postTool ends a tool call: PostToolUse, PostToolUseFailure, or
// PermissionDenied (after which no post event comes).
func (m *machine) postTool() {
	s, ev := m.s, m.ev
	tool := m.findTool()
	if tool == nil {
		if ev.ToolUseID != "" && s.closedRecently(toolSpanID(s.ID, ev.ToolUseID)) {
			m.late()
			return
		}
		m.ensureTurn()
		tool = m.startTool(true)
		// A duration beyond maxToolDuration is not one (Claude Code has
		// sent 9223372036854): the span starts at the event instead of
		// in 1970.
		if ev.HasDuration && ev.DurationMs <= maxToolDuration.Milliseconds() {
			tool.Span.Start = m.t.Add(-time.Duration(ev.DurationMs) * time.Millisecond)
		}
	}
	m.toolInputAttrs(tool)
	m.mcpAttrs(tool)
	sp := &tool.Span
	if ev.HasDuration {
		sp.SetAttr(tracing.Int(semconv.ToolDurationMs, ev.DurationMs))
		if tool.Perm {
			wait := m.t.Sub(sp.Start).Milliseconds() - ev.DurationMs
			sp.SetAttr(tracing.Int(semconv.ToolPermissionWaitMs, max(wait, 0)))
		}
	}
	if ev.ToolResponse != nil {
		sp.SetAttr(tracing.Int(semconv.ToolOutputSize, ev.ToolResponseSize))
		if m.opts.content() {
			sp.SetAttr(tracing.String(semconv.GenAIToolCallResult, m.opts.clean(string(ev.ToolResponse))))
		}
	}
	errType, msg := "", ""
	switch ev.Name {
	case PostToolUseFailure:
		errType, msg = semconv.ErrorToolError, ev.Error
		if ev.IsInterrupt {
			errType = semconv.ErrorInterrupted
		}
	case PermissionDenied:
		errType, msg = semconv.ErrorPermissionDenied, ev.Reason
	default:
		if (ev.ToolName == "Bash" || ev.ToolName == "PowerShell") && ev.ToolResponse != nil {
			if v, _ := rawBool(ev.responseFields["interrupted"]); v {
				errType = semconv.ErrorInterrupted
			}
		}
	}
	if errType != "" {
		m.toolError(tool, errType, msg)
	}
	if v, _ := rawString(ev.responseFields["status"]); v == "async_launched" {
		// A background launch: the subagent runs on after this call
		// returns, until its SubagentStop, or at the latest the run's end.
		bound := false
		for _, c := range m.s.Spans {
			if c.Kind == kindAgent && c.parent() == sp.SpanID {
				c.Owner = m.top().Span.SpanID
				bound = true
			}
		}
		if !bound {
			// Its SubagentStart has not come yet: remember the call, so
			// that the subagent is still bound to it.
			agent, _ := rawString(ev.responseFields["agentId"])
			if len(s.Launched) >= maxBackground {
				s.Launched = s.Launched[1:]
			}
			s.Launched = append(s.Launched, launched{Agent: capIdent(agent), Call: tool.Key, Span: sp.SpanID})
		}
	}
	m.end(tool, m.t, "", semconv.IncompleteParentEnded)
}

// toolError makes a tool call an error span of kind errType (an Error*
// value), counted in the run's tool errors once; msg is its status
// message at the details level.
func (m *machine) toolError(tool *openSpan, errType, msg string) {
	sp := &tool.Span
	if sp.StatusCode != tracing.StatusError {
		m.s.Totals.ToolErrors++
	}
	sp.SetAttr(tracing.String(semconv.ErrorType, errType))
	sp.StatusCode = tracing.StatusError
	if m.opts.details() && msg != "" {
		sp.StatusMessage = m.opts.clean(firstLine(msg))
	}
}

func (m *machine) permissionRequest() {
	ev := m.ev
	// No tool_use_id on PermissionRequest: the latest open call of that
	// tool, in that agent, not yet waiting for permission.
	for i := len(m.s.Spans) - 1; i >= 0; i-- {
		o := m.s.Spans[i]
		if o.Kind == kindTool && o.Tool == ev.ToolName && o.Agent == ev.AgentID && !o.Perm {
			o.Perm = true
			m.addEvent(o, ev.Name, m.eventAttrs())
			return
		}
	}
	m.addEvent(m.innermost(), ev.Name, m.eventAttrs())
}

// toolEvidence is the Pending of a tool call that ended without its Post
// event (by PostToolBatch, by its turn's interrupt, by the session's end):
// the finisher reads the call's tool_result in the transcript, its time
// (the span's end) and is_error (its status): the main transcript, read
// as the call's turn, or a subagent's call's own subagent transcript.
// nil for the others and for a call without a tool_use_id.
func (m *machine) toolEvidence(o *openSpan, sp *tracing.Span) json.RawMessage {
	_, open := sp.Attr(semconv.Incomplete)
	_, missed := sp.Attr(semconv.ToolPostMissed)
	if (!open && !missed) || strings.HasPrefix(o.Key, "#") || m.s.Transcript == "" {
		return nil
	}
	ref := usage.Ref{Scope: "tool", Path: m.s.Transcript, ToolUseID: o.Key, Until: m.t}
	if o.Agent != "" {
		ref.Path = subagentTranscript(m.s.Transcript, o.Agent)
	} else if turn := m.turnOf(o); turn != nil {
		ref.Offset, ref.PromptID = max(turn.Offset, 0), turn.Key
	}
	return pending(ref)
}

// subagentTranscript is where Claude Code writes subagent agentID's
// transcript: <session transcript without .jsonl>/subagents/agent-<id>.jsonl.
func subagentTranscript(session, agentID string) string {
	return filepath.Join(subagentDir(session), "agent-"+agentID+".jsonl")
}

// subagentDir is the directory of a session's subagent transcripts.
func subagentDir(session string) string {
	return filepath.Join(strings.TrimSuffix(session, ".jsonl"), "subagents")
}

// maxToolDuration bounds the duration_ms a start time is derived from.
const maxToolDuration = 7 * 24 * time.Hour

// postToolBatch ends a round of tool calls. Every tool_use id it reports
// gets its execute_tool span: a call still open (its Post never came)
// ends here, and a call never seen (Claude Code rejected it at input
// validation, or the tool does not exist: no Pre, no Post) becomes an
// error span of its own.
func (m *machine) postToolBatch() {
	s, ev := m.s, m.ev
	m.addEvent(m.innermost(), ev.Name, m.eventAttrs())
	for _, c := range ev.ToolCalls {
		if c.ToolUseID == "" {
			continue
		}
		tool := m.find(kindTool, c.ToolUseID)
		if tool == nil {
			if s.closedRecently(toolSpanID(s.ID, c.ToolUseID)) {
				continue // ended by its Post, as usual
			}
			m.ensureTurn()
			tool = m.newTool(c.ToolUseID, c.ToolUseID, c.ToolName, !c.Rejected)
			m.start(tool, m.toolParent())
		} else {
			tool.Span.SetAttr(tracing.Bool(semconv.ToolPostMissed, true))
		}
		switch {
		case c.Rejected:
			m.toolError(tool, semconv.ErrorRejected, c.Message)
		case tool.Perm:
			// Asked for approval, and neither ran (no Post) nor was
			// denied by a PermissionDenied: under -p in the default
			// mode nobody can approve, and the model gets the denial
			// ("… needs approval …") as an error result.
			m.toolError(tool, semconv.ErrorPermissionDenied, c.Message)
		}
		m.end(tool, m.t, "", semconv.IncompleteParentEnded)
	}
}
