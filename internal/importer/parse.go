package importer

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/internal/utf8cut"
)

// Stats count what reading transcripts met.
type Stats struct {
	Bytes   int64 // bytes read
	Lines   int64 // lines read
	Damaged int64 // complete lines that are not a transcript line we understand
	TooLong int64 // lines longer than usage.MaxLine, skipped unread
}

func (s *Stats) add(o Stats) {
	s.Bytes += o.Bytes
	s.Lines += o.Lines
	s.Damaged += o.Damaged
	s.TooLong += o.TooLong
}

// parser turns one transcript's lines, in order, into the hook events
// they imply. The main transcript and each subagent's are parsed apart
// (agentID set for a subagent) and their events merged by time.
type parser struct {
	session, path       string // the session and its main transcript
	agentID, agentType  string // a subagent's transcript
	agentPath           string
	events              []event
	stats               Stats
	first, last         time.Time // first timestamped line; latest event
	pending             time.Time // first time seen since the last run ended
	runOpen             bool
	runs                int
	runOffset           int64 // where the next run's lines start
	forked              bool  // history copied from another session precedes
	cwd, mode, promptID string
	turn                *turn
	calls               map[string]*call
	rounds              map[string]*round
	// agentTypes: agent id → subagent type, from the Agent calls' results
	// (for subagents without a meta file: Claude Code before 2.1.328).
	agentTypes map[string]string
}

type turn struct {
	promptID    string
	last        time.Time
	interrupted bool
	failed      string // the error of an API error line, when the turn's last response is one
}

// call is a tool_use waiting for its result.
type call struct {
	name  string
	input json.RawMessage
	pre   int // index of its PreToolUse in events
	round *round
}

// round is one response's tool calls; PostToolBatch follows the last result.
type round struct {
	calls []batchCall
	open  int
}

// read parses the file at path with p. Damaged and over-long lines are
// counted and skipped; a partial last line (being written) is ignored.
func (p *parser) read(path string) error {
	f, _, err := usage.OpenTranscript(path)
	if err != nil {
		return err
	}
	defer f.Close()
	lr := usage.NewLineReader(f)
	for {
		start := lr.Consumed()
		line, tooLong, err := lr.Next()
		p.stats.Bytes = lr.Consumed()
		if errors.Is(err, io.EOF) || errors.Is(err, usage.ErrPartialLine) {
			break
		}
		if err != nil {
			return err
		}
		p.stats.Lines++
		if tooLong {
			p.stats.TooLong++
			continue
		}
		p.line(line, start, lr.Consumed())
	}
	p.finish()
	p.events = withRequests(p.events)
	return nil
}

// line handles one complete line that starts at off and ends before end.
func (p *parser) line(raw []byte, off, end int64) {
	if !hasMarker(raw) {
		p.seen(quickTime(raw))
		return
	}
	var l tline
	if err := json.Unmarshal(raw, &l); err != nil {
		p.stats.Damaged++
		return
	}
	t := parseTime(l.Timestamp)
	if l.Type == "cost-state" {
		if p.agentID == "" {
			p.endRun(end)
		}
		return
	}
	if (l.IsSidechain && p.agentID == "") || p.copied(t) {
		return
	}
	p.seen(t)
	if l.Cwd != "" {
		p.cwd = l.Cwd
	}
	if l.PermissionMode != "" {
		p.mode = l.PermissionMode
	}
	switch l.Type {
	case "user":
		p.user(&l, t, off)
	case "assistant":
		p.assistant(&l, t)
	case "system":
		p.system(&l, t)
	}
}

// copied reports a line of history a fork copied from its parent: it was
// written before the file's first line.
func (p *parser) copied(t time.Time) bool {
	if p.agentID != "" || p.runs > 0 || p.first.IsZero() || t.IsZero() || !t.Before(p.first) {
		return false
	}
	p.forked = true
	return true
}

func (p *parser) seen(t time.Time) {
	if t.IsZero() {
		return
	}
	if p.first.IsZero() {
		p.first = t
	}
	if !p.runOpen && p.pending.IsZero() {
		p.pending = t
	}
}

// emit appends an event at t, with the fields every event of this
// transcript carries.
func (p *parser) emit(t time.Time, pl payload) int {
	pl.SessionID, pl.TranscriptPath, pl.Cwd = p.session, p.path, p.cwd
	if pl.PermissionMode == "" && pl.Name != hook.SessionEnd {
		pl.PermissionMode = p.mode
	}
	if p.agentID != "" {
		pl.AgentID, pl.AgentType = p.agentID, p.agentType
		if pl.PromptID == "" {
			pl.PromptID = p.promptID
		}
	} else if pl.PromptID == "" && p.turn != nil {
		pl.PromptID = p.turn.promptID
	}
	if t.IsZero() {
		t = p.last
	}
	if t.After(p.last) {
		p.last = t
	}
	p.events = append(p.events, event{t: t, p: pl})
	return len(p.events) - 1
}

// ensureRun starts the session's run (or the subagent) at the first line
// seen since the last run ended.
func (p *parser) ensureRun(t time.Time) {
	if p.runOpen {
		return
	}
	p.runOpen = true
	at := p.pending
	if at.IsZero() || at.After(t) {
		at = t
	}
	if p.agentID != "" {
		p.emit(at, payload{Name: hook.SubagentStart})
		return
	}
	source := "startup"
	switch {
	case p.runs > 0:
		source = "resume"
	case p.forked:
		source = "fork"
	}
	i := p.emit(at, payload{Name: hook.SessionStart, Source: source})
	p.events[i].offset = p.runOffset
}

func (p *parser) user(l *tline, t time.Time, off int64) {
	if l.IsMeta || l.IsCompactSummary || l.Message == nil {
		return // reminders, and the summary a compaction leaves: not prompts
	}
	if l.PromptID != "" {
		p.promptID = l.PromptID
	}
	text, blocks, ok := content(l.Message.Content)
	if !ok {
		p.stats.Damaged++
		return
	}
	results := 0
	for i := range blocks {
		if blocks[i].Type == "tool_result" {
			results++
		}
	}
	if results > 0 {
		var resp json.RawMessage
		denial := ""
		if results == 1 {
			resp, denial = l.ToolUseResult, l.denial()
		}
		for i := range blocks {
			if blocks[i].Type == "tool_result" {
				p.result(&blocks[i], resp, denial, t)
			}
		}
		return
	}
	if strings.HasPrefix(text, "[Request interrupted by user") {
		if p.turn != nil {
			p.turn.interrupted = true
		}
		return
	}
	if p.agentID == "" && (l.PromptSource != "" || !strings.HasPrefix(text, "<") && text != "") {
		p.prompt(l, text, t, off)
	}
}

func (p *parser) prompt(l *tline, text string, t time.Time, off int64) {
	p.ensureRun(t)
	p.stop()
	p.turn = &turn{promptID: l.PromptID, last: t}
	i := p.emit(t, payload{Name: hook.UserPromptSubmit, Prompt: text, PromptID: l.PromptID})
	p.events[i].offset = off
}

// stop ends the open turn with a Stop at its last line (StopFailure when
// its last response is an API error), unless the user interrupted it
// (Claude Code sends no Stop then).
func (p *parser) stop() {
	switch {
	case p.turn == nil || p.turn.interrupted:
	case p.turn.failed != "":
		p.emit(p.turn.last, payload{Name: hook.StopFailure, Error: p.turn.failed})
	default:
		p.emit(p.turn.last, payload{Name: hook.Stop})
	}
	p.turn = nil
}

func (p *parser) touch(t time.Time) {
	if p.turn != nil && t.After(p.turn.last) {
		p.turn.last = t
	}
}

func (p *parser) assistant(l *tline, t time.Time) {
	if l.Message == nil {
		return
	}
	_, blocks, ok := content(l.Message.Content)
	if !ok {
		p.stats.Damaged++
		return
	}
	p.ensureRun(t)
	p.touch(t)
	if p.turn != nil {
		p.turn.failed = ""
		if l.IsAPIError {
			p.turn.failed = errorKind(l.Error)
		}
	}
	for i := range blocks {
		b := &blocks[i]
		if b.Type != "tool_use" || b.ID == "" || p.calls[b.ID] != nil {
			continue
		}
		if p.calls == nil {
			p.calls, p.rounds = map[string]*call{}, map[string]*round{}
		}
		r := p.rounds[l.Message.ID]
		if r == nil {
			r = &round{}
			p.rounds[l.Message.ID] = r
		}
		r.calls = append(r.calls, batchCall{ToolName: b.Name, ToolUseID: b.ID})
		r.open++
		c := &call{name: b.Name, input: small(b.Input), round: r}
		c.pre = p.emit(t, payload{Name: hook.PreToolUse, ToolName: b.Name, ToolUseID: b.ID, ToolInput: c.input})
		p.calls[b.ID] = c
	}
}

// maxError bounds the error text kept of a failed call.
const maxError = 4 << 10

// result ends a call: PostToolUse, PostToolUseFailure, or for a call
// Claude Code rejected before running it, no event of its own (its
// PreToolUse is withdrawn) and a mention in the round's PostToolBatch.
// A denied call (denial, see tline.denial) ends as Claude Code ends it:
// PermissionDenied, or PermissionRequest and no Post event, its denial
// text in the round's PostToolBatch.
func (p *parser) result(b *block, resp json.RawMessage, denial string, t time.Time) {
	c := p.calls[b.ToolUseID]
	if c == nil {
		return
	}
	delete(p.calls, b.ToolUseID)
	p.touch(t)
	var text string
	if b.IsError { // a result's text is read only for its error
		text = resultText(b.Content)
	}
	pl := payload{ToolName: c.name, ToolUseID: b.ToolUseID, ToolInput: c.input}
	switch {
	case b.IsError && strings.HasPrefix(text, "<tool_use_error>"):
		p.events[c.pre].drop = true
		c.round.respond(b.ToolUseID, text)
	case b.IsError && denial == "classifier":
		pl.Name, pl.Reason = hook.PermissionDenied, utf8cut.Prefix(text, maxError)
		p.emit(t, pl)
	case b.IsError && denial != "":
		p.events[c.pre].ask = true // see withRequests
		c.round.respond(b.ToolUseID, text)
	case b.IsError:
		pl.Name, pl.Error = hook.PostToolUseFailure, utf8cut.Prefix(text, maxError)
		pl.IsInterrupt = strings.Contains(text, "[Request interrupted by user") || strings.Contains(text, "doesn't want to proceed")
		p.emit(t, pl)
	default:
		pl.Name, pl.ToolResponse = hook.PostToolUse, small(resp)
		p.emit(t, pl)
		p.launched(c, pl.ToolResponse)
	}
	if c.round.open--; c.round.open == 0 {
		p.emit(t, payload{Name: hook.PostToolBatch, ToolCalls: c.round.calls})
	}
}

// respond gives call id of the round its response in PostToolBatch.
func (r *round) respond(id, text string) {
	for i := range r.calls {
		if r.calls[i].ToolUseID == id {
			r.calls[i].ToolResponse = jsonString(utf8cut.Prefix(text, 600))
		}
	}
}

func (p *parser) system(l *tline, t time.Time) {
	switch l.Subtype {
	case "compact_boundary":
		p.ensureRun(t)
		trigger, pre := "", t
		if m := l.CompactMetadata; m != nil {
			trigger = m.Trigger
			if trigger == "manual" {
				p.stop() // /compact is typed between turns
			}
			if d := time.Duration(m.DurationMs) * time.Millisecond; d > 0 && t.Add(-d).After(p.last) {
				pre = t.Add(-d)
			}
		}
		p.emit(pre, payload{Name: hook.PreCompact, Trigger: trigger})
		p.emit(t, payload{Name: hook.SessionStart, Source: "compact"})
		p.emit(t, payload{Name: hook.PostCompact, Trigger: trigger})
	case "stop_hook_summary", "turn_duration", "api_error":
		p.touch(t)
	}
}

// endRun ends the run at a cost-state line (Claude Code writes one as a
// session's process exits): the open turn's Stop, then SessionEnd. A
// turn with a call still open was interrupted (SIGINT during a tool:
// Claude Code sends only SessionEnd); the results written after the
// cost-state line for its calls imply no event.
func (p *parser) endRun(end int64) {
	if p.runOpen {
		if p.turn != nil && len(p.calls) > 0 {
			p.turn.interrupted = true
		}
		clear(p.calls)
		p.stop()
		p.emit(p.last, payload{Name: hook.SessionEnd, Reason: "other"})
		p.runs++
	}
	p.runOpen, p.pending, p.runOffset = false, time.Time{}, end
}

// finish ends what the file left open: a subagent with its SubagentStop,
// a run with Stop and SessionEnd.
func (p *parser) finish() {
	if !p.runOpen {
		return
	}
	if p.agentID != "" {
		p.runOpen = false
		p.emit(p.last, payload{Name: hook.SubagentStop, AgentTranscriptPath: p.agentPath})
		return
	}
	p.endRun(p.stats.Bytes)
}

// launched notes the subagent an Agent (or Task) call's result names:
// its agentId, and its type (the result's agentType, else the call's
// subagent_type).
func (p *parser) launched(c *call, resp json.RawMessage) {
	if (c.name != "Agent" && c.name != "Task") || len(resp) == 0 {
		return
	}
	var r struct {
		AgentID   string `json:"agentId"`
		AgentType string `json:"agentType"`
	}
	var in struct {
		SubagentType string `json:"subagent_type"`
	}
	if json.Unmarshal(resp, &r) != nil || r.AgentID == "" {
		return
	}
	if r.AgentType == "" && json.Unmarshal(c.input, &in) == nil {
		r.AgentType = in.SubagentType
	}
	if p.agentTypes == nil {
		p.agentTypes = map[string]string{}
	}
	p.agentTypes[r.AgentID] = r.AgentType
}
