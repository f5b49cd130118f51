package hook

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/tracing"
)

// ErrNoSession is returned for an event without a session_id: there is no
// trace to put it in.
var ErrNoSession = errors.New("hook: event has no session_id")

// Result is what one event did to a session.
type Result struct {
	// Session is the session's new state. It is never nil after Apply
	// (an ended session leaves a small tombstone).
	Session []byte
	// Spans are the spans that ended with this event, children before
	// parents, ready for the outbox.
	Spans []tracing.Span
	// Late is set when the event was recognised as late or repeated (its
	// span had already been exported) and dropped.
	Late bool
	// Reset is set when the previous state could not be decoded and the
	// session started over (the IDs are derived, so the trace stays whole).
	Reset error
}

// Apply is the state machine: given a session's stored state (nil for an
// unknown session), one event and the time it happened, it returns the
// session's new state and the spans that finished. It does no I/O.
func Apply(prev []byte, ev *Event, now time.Time, opts Options) (Result, error) {
	if ev == nil || ev.SessionID == "" {
		return Result{}, ErrNoSession
	}
	s, err := decodeSession(prev)
	m := &machine{s: s, ev: ev, t: now.UTC(), opts: &opts}
	m.res.Reset = err
	m.apply()
	b, err := m.s.encode()
	if err != nil {
		return Result{}, err
	}
	m.res.Session = b
	m.res.Spans = m.out
	return m.res, nil
}

type machine struct {
	s    *session
	ev   *Event
	t    time.Time
	opts *Options
	out  []tracing.Span
	res  Result
}

func (m *machine) apply() {
	ev := m.ev
	if m.s == nil {
		m.newSession()
	} else if m.s.tombstone() {
		if ev.Name == "SessionEnd" || m.lateForTombstone() {
			m.late()
			return
		}
		m.newRun()
	} else if ev.Name == "SessionStart" {
		// The root is still open (clear, compact, or a resume without a
		// SessionEnd): note it on the root instead of opening a second one.
		top := m.top()
		m.addEvent(top, "SessionStart", m.eventAttrs())
		if ev.Model != "" {
			top.Span.SetAttr(tracing.String(semconv.GenAIRequestModel, ev.Model))
		}
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

	switch ev.Name {
	case "SessionStart":
		// Handled above.
	case "SessionEnd":
		m.endSession()
	case "UserPromptSubmit":
		m.promptSubmit()
	case "Stop", "StopFailure":
		m.stop()
	case "PreToolUse":
		m.preTool()
	case "PostToolUse", "PostToolUseFailure", "PermissionDenied":
		m.postTool()
	case "PermissionRequest":
		m.permissionRequest()
	case "SubagentStart":
		m.subagentStart()
	case "SubagentStop":
		m.subagentStop()
	case "PreCompact":
		m.preCompact()
	case "PostCompact":
		m.postCompact()
	default:
		m.addEvent(m.innermost(), eventName(ev.Name), m.eventAttrs())
	}
}

func eventName(n string) string {
	if n == "" {
		return semconv.Unknown
	}
	return n
}

// --- session and runs ---

func (m *machine) newSession() {
	ev := m.ev
	s := &session{V: sessionVersion, ID: ev.SessionID, Trace: TraceID(ev.SessionID), Last: m.t}
	m.s = s
	root := &openSpan{Kind: kindRoot, Offset: -1, Span: tracing.Span{
		TraceID: s.Trace,
		SpanID:  RootSpanID(ev.SessionID),
		Name:    semconv.SpanRoot,
		Kind:    tracing.KindInternal,
		Start:   m.t,
	}}
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
}

// newRun starts the next run of a session whose root was exported.
func (m *machine) newRun() {
	s := m.s
	s.Run++
	s.Ended = time.Time{}
	s.Totals = totals{}
	s.LastPrompt = ""
	run := &openSpan{Kind: kindRun, Offset: -1, Span: tracing.Span{
		TraceID:      s.Trace,
		SpanID:       runSpanID(s.ID, s.Run),
		ParentSpanID: RootSpanID(s.ID),
		Name:         semconv.SpanRoot,
		Kind:         tracing.KindInternal,
		Start:        m.t,
	}}
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
	if ev.Name == "SessionStart" {
		if ev.Source != "" {
			top.Span.SetAttr(tracing.String(semconv.SessionSource, ev.Source))
		}
	} else {
		top.Span.SetAttr(tracing.Bool(semconv.SessionStartMissed, true))
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
// events that show the agent working again start one: SessionStart, a
// prompt, a tool call or subagent not seen before, a compaction.
func (m *machine) lateForTombstone() bool {
	ev := m.ev
	switch ev.Name {
	case "SessionStart", "UserPromptSubmit", "PreToolUse", "SubagentStart", "PreCompact":
		return false
	case "PostToolUse", "PostToolUseFailure", "PermissionDenied":
		return ev.ToolUseID != "" && m.s.closedRecently(toolSpanID(m.s.ID, ev.ToolUseID))
	case "SubagentStop":
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
	top := m.top()
	if m.ev.Reason != "" {
		top.Span.SetAttr(tracing.String(semconv.SessionEndReason, m.ev.Reason))
	}
	m.end(top, m.t, "", semconv.IncompleteParentEnded)
	m.toTombstone()
}

func (m *machine) toTombstone() {
	s := m.s
	s.Spans = nil
	s.Ended = m.t
	// The tombstone keeps the whole ring of closed IDs (4 KiB at most): a
	// resume can bring late events for any span of the earlier runs, and
	// each must still be recognised as already exported.
}

// --- turns ---

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

// --- tools ---

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
			return o
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
	s, ev := m.s, m.ev
	s.Totals.ToolCalls++
	key := m.toolKey()
	name := ev.ToolName
	if name == "" {
		name = semconv.Unknown
	}
	tool := &openSpan{Kind: kindTool, Key: key, Tool: ev.ToolName, Agent: ev.AgentID, Span: tracing.Span{
		SpanID: toolSpanID(s.ID, key),
		Name:   semconv.OperationExecuteTool + " " + name,
	}}
	tool.Span.Attrs = append(tool.Span.Attrs,
		tracing.String(semconv.GenAIOperationName, semconv.OperationExecuteTool),
		tracing.String(semconv.GenAIToolName, name),
	)
	if ev.ToolUseID != "" {
		tool.Span.Attrs = append(tool.Span.Attrs, tracing.String(semconv.GenAIToolCallID, ev.ToolUseID))
	}
	if missed {
		tool.Span.Attrs = append(tool.Span.Attrs, tracing.Bool(semconv.ToolPreMissed, true))
	}
	m.toolInputAttrs(tool)
	m.start(tool, m.toolParent())
	return tool
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
		tool.Span.SetAttr(tracing.String(semconv.ToolSubagentType, capPlain(t, 128)))
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
		if ev.HasDuration {
			tool.Span.Start = m.t.Add(-time.Duration(ev.DurationMs) * time.Millisecond)
		}
	}
	m.toolInputAttrs(tool)
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
	case "PostToolUseFailure":
		errType, msg = semconv.ErrorToolError, ev.Error
		if ev.IsInterrupt {
			errType = semconv.ErrorInterrupted
		}
	case "PermissionDenied":
		errType, msg = semconv.ErrorPermissionDenied, ev.Reason
	default:
		if (ev.ToolName == "Bash" || ev.ToolName == "PowerShell") && ev.ToolResponse != nil {
			if v, _ := rawBool(ev.responseFields["interrupted"]); v {
				errType = semconv.ErrorInterrupted
			}
		}
	}
	if errType != "" {
		s.Totals.ToolErrors++
		sp.SetAttr(tracing.String(semconv.ErrorType, errType))
		sp.StatusCode = tracing.StatusError
		if m.opts.details() && msg != "" {
			sp.StatusMessage = m.opts.clean(firstLine(msg))
		}
	}
	if v, _ := rawString(ev.responseFields["status"]); v == "async_launched" {
		// A background launch: the subagent runs on after this call
		// returns, until its SubagentStop, or at the latest the run's end.
		for _, c := range m.s.Spans {
			if c.Kind == kindAgent && c.Span.ParentSpanID == sp.SpanID {
				c.Owner = m.top().Span.SpanID
			}
		}
	}
	m.end(tool, m.t, "", semconv.IncompleteParentEnded)
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

// --- subagents ---

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
	agent := &openSpan{Kind: kindAgent, Key: key, Tool: ev.AgentType, Span: tracing.Span{
		SpanID: agentSpanID(s.ID, key),
		Name:   semconv.OperationInvokeAgent + " " + typ,
	}}
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
	parent := m.launcher()
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
		if m.ev.AgentType == "" {
			return o
		}
		if a, ok := o.Span.Attr(semconv.ToolSubagentType); ok && a.Str == capPlain(m.ev.AgentType, 128) {
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
	if agent == nil {
		m.ensureTurn()
		agent = m.startAgent(true)
	}
	if ev.AgentType != "" && agent.Tool == "" {
		agent.Tool = ev.AgentType
		agent.Span.Name = semconv.OperationInvokeAgent + " " + ev.AgentType
		agent.Span.SetAttr(tracing.String(semconv.GenAIAgentName, ev.AgentType))
	}
	path := ev.AgentTranscriptPath
	if path == "" && s.Transcript != "" && ev.AgentID != "" {
		path = filepath.Join(strings.TrimSuffix(s.Transcript, ".jsonl"), "subagents", "agent-"+ev.AgentID+".jsonl")
	}
	if path != "" {
		agent.Span.Pending = pending(usage.Ref{Scope: "agent", Path: path, AgentID: ev.AgentID})
	}
	m.end(agent, m.t, "", semconv.IncompleteParentEnded)
}

// --- compaction ---

func (m *machine) preCompact() {
	m.ensureTurn()
	m.startCompact(false)
}

func (m *machine) startCompact(missed bool) *openSpan {
	s := m.s
	s.CompactSeq++
	s.Totals.Compactions++
	c := &openSpan{Kind: kindCompact, Key: strconv.Itoa(s.CompactSeq), Span: tracing.Span{
		SpanID: compactSpanID(s.ID, s.CompactSeq),
		Name:   semconv.SpanCompact,
	}}
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
			c = m.s.Spans[i]
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

// --- span bookkeeping ---

func (m *machine) top() *openSpan { return m.s.Spans[0] }

func (m *machine) find(kind, key string) *openSpan {
	for _, o := range m.s.Spans {
		if o.Kind == kind && o.Key == key {
			return o
		}
	}
	return nil
}

func (m *machine) findByID(id tracing.SpanID) *openSpan {
	for _, o := range m.s.Spans {
		if o.Span.SpanID == id {
			return o
		}
	}
	return nil
}

func (m *machine) openTurn() *openSpan {
	for i := len(m.s.Spans) - 1; i >= 0; i-- {
		if m.s.Spans[i].Kind == kindTurn {
			return m.s.Spans[i]
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
	o.Span.TraceID = m.s.Trace
	o.Span.ParentSpanID = parent.Span.SpanID
	o.Span.Kind = tracing.KindInternal
	if o.Span.Start.IsZero() {
		o.Span.Start = m.t
	}
	o.Last = m.t
	m.s.Spans = append(m.s.Spans, o)
	m.touch(parent, m.t)
}

// touch moves the Last time of o and its ancestors forward to t.
func (m *machine) touch(o *openSpan, t time.Time) {
	for n := 0; o != nil && n < len(m.s.Spans); n++ {
		if o.Last.Before(t) {
			o.Last = t
		}
		if o.Kind == kindRoot || o.Kind == kindRun {
			return
		}
		o = m.findByID(o.owner())
	}
}

// end finishes o at t: first its open children (incomplete, childReason),
// then o itself, which is marked incomplete when reason is set.
func (m *machine) end(o *openSpan, t time.Time, reason, childReason string) {
	if t.Before(o.Span.Start) {
		t = o.Span.Start
	}
	for {
		var child *openSpan
		for _, c := range m.s.Spans {
			if c != o && c.owner() == o.Span.SpanID {
				child = c
				break
			}
		}
		if child == nil {
			break
		}
		m.end(child, t, childReason, childReason)
	}
	sp := o.Span
	sp.End = t
	if len(o.Events) > 0 {
		_ = json.Unmarshal(o.Events, &sp.Events)
	}
	if reason != "" {
		sp.SetAttr(tracing.Bool(semconv.Incomplete, true))
		sp.SetAttr(tracing.String(semconv.IncompleteReason, reason))
	}
	m.finish(o, &sp)
	for i, c := range m.s.Spans {
		if c == o {
			m.s.Spans = append(m.s.Spans[:i], m.s.Spans[i+1:]...)
			break
		}
	}
	if o.Kind != kindRoot && o.Kind != kindRun {
		m.s.rememberClosed(sp.SpanID)
		if parent := m.findByID(o.owner()); parent != nil {
			m.touch(parent, t)
		}
	}
	m.out = append(m.out, sp)
}

// finish adds what is known only at the end: totals on the top span,
// the token-usage reference and when to read it.
func (m *machine) finish(o *openSpan, sp *tracing.Span) {
	s := m.s
	settle := sp.End.Add(m.opts.settleDelay())
	switch o.Kind {
	case kindRoot, kindRun:
		t := s.Totals
		sp.SetAttr(tracing.Int(semconv.SessionTurns, int64(t.Turns)))
		sp.SetAttr(tracing.Int(semconv.SessionToolCalls, int64(t.ToolCalls)))
		sp.SetAttr(tracing.Int(semconv.SessionToolErrors, int64(t.ToolErrors)))
		sp.SetAttr(tracing.Int(semconv.SessionSubagents, int64(t.Subagents)))
		sp.SetAttr(tracing.Int(semconv.SessionCompactions, int64(t.Compactions)))
		if t.Late > 0 {
			sp.SetAttr(tracing.Int(semconv.SessionLateEvents, int64(t.Late)))
		}
		// A resumed run counts from where the transcript stood when it
		// started; when that is unknown its usage is omitted rather than
		// taken from the whole file, which would count earlier runs too.
		if s.Transcript != "" && (o.Kind == kindRoot || o.Offset >= 0) {
			ref := usage.Ref{Scope: "session", Path: s.Transcript}
			if o.Kind == kindRun {
				ref.Offset = o.Offset
			} else {
				ref.SubagentDir = filepath.Join(strings.TrimSuffix(s.Transcript, ".jsonl"), "subagents")
			}
			sp.Pending = pending(ref)
		}
	case kindTurn:
		s.LastPrompt = o.Key
		// Without a prompt id the turn's lines are found from its start
		// offset; with neither, counting from the top of the file would
		// give the turn every earlier turn's tokens: omit, never guess.
		if s.Transcript != "" && (o.Key != "" || o.Offset >= 0) {
			sp.Pending = pending(usage.Ref{Scope: "turn", Path: s.Transcript, Offset: max(o.Offset, 0), PromptID: o.Key})
		}
	}
	if sp.Pending != nil {
		sp.ReadyAt = settle
	}
}

func pending(ref usage.Ref) json.RawMessage {
	b, err := json.Marshal(ref)
	if err != nil {
		return nil
	}
	return b
}

// addEvent appends a span event to o, within MaxEventsPerSpan.
func (m *machine) addEvent(o *openSpan, name string, attrs []tracing.Attr) {
	m.touch(o, m.t)
	if o.NEvents >= MaxEventsPerSpan {
		o.Span.DroppedEvents++
		return
	}
	// Kept as JSON until the span ends: a session's state is decoded on
	// every event, its span events only once.
	b, err := json.Marshal(tracing.Event{Name: name, Time: m.t, Attrs: attrs})
	if err != nil {
		return
	}
	if len(o.Events) == 0 {
		o.Events = append(append(json.RawMessage{'['}, b...), ']')
	} else {
		o.Events = append(append(append(o.Events[:len(o.Events)-1:len(o.Events)-1], ','), b...), ']')
	}
	o.NEvents++
}

// eventAttrs are the attributes of a span event: low-risk enumerations
// always; names, paths and directories at details; free text at content.
func (m *machine) eventAttrs() []tracing.Attr {
	ev, o := m.ev, m.opts
	var a []tracing.Attr
	add := func(k, v string) {
		if v != "" {
			a = append(a, tracing.String(k, capPlain(v, 256)))
		}
	}
	add(semconv.GenAIToolName, ev.ToolName)
	add(semconv.EventSource, ev.Source)
	add(semconv.EventTrigger, ev.Trigger)
	add(semconv.EventNotificationType, ev.NotificationType)
	add(semconv.EventLoadReason, ev.LoadReason)
	add(semconv.EventMemoryType, ev.MemoryType)
	add(semconv.EventAction, ev.Action)
	add(semconv.EventMode, ev.Mode)
	add(semconv.EventTaskID, ev.TaskID)
	add(semconv.EventFileEvent, ev.FileEvent)
	add(semconv.EventExpansionType, ev.ExpansionType)
	add(semconv.EventCommandSource, ev.CommandSource)
	if ev.Name == "SessionStart" {
		add(semconv.GenAIRequestModel, ev.Model)
	}
	if ev.Name == "PostToolBatch" {
		a = append(a, tracing.Int(semconv.EventToolBatchSize, int64(ev.ToolBatchSize)))
	}
	if !o.details() {
		return a
	}
	addClean := func(k, v string) {
		if v != "" {
			a = append(a, tracing.String(k, o.clean(v)))
		}
	}
	addClean(semconv.EventFilePath, ev.FilePath)
	addClean(semconv.EventNewCwd, ev.NewCwd)
	addClean(semconv.EventDirectory, ev.Directory)
	addClean(semconv.EventWorktreeName, ev.WorktreeName)
	addClean(semconv.EventWorktreePath, ev.WorktreePath)
	addClean(semconv.EventMCPServerName, ev.MCPServerName)
	addClean(semconv.EventCommandName, ev.CommandName)
	addClean(semconv.EventTeammateName, ev.TeammateName)
	if ev.Name == "PermissionDenied" || ev.Name == "SessionEnd" {
		addClean(semconv.EventReason, ev.Reason)
	}
	if !o.content() {
		return a
	}
	addClean(semconv.EventMessage, ev.Message)
	addClean(semconv.EventTitle, ev.Title)
	addClean(semconv.EventTaskSubject, ev.TaskSubject)
	if ev.Name == "UserPromptExpansion" {
		addClean(semconv.PromptText, ev.Prompt)
	}
	return a
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// capPlain bounds an uncaptured, low-risk value (an enumeration or a
// type name) that Claude Code should keep short anyway.
func capPlain(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
