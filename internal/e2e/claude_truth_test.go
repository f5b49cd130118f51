package e2e

import (
	"fmt"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/claudetest"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// What the real client's transcripts say of each tool call and turn: the
// ground truth where no hook event tells (a call interrupted or denied
// for lack of approval fires no Post event; an interrupted turn no Stop).

// callTruth is a tool call's tool_result as the transcript has it.
type callTruth struct {
	at                           time.Time
	isError, denied, interrupted bool
}

type transcriptTruth struct {
	calls map[string]*callTruth
	// interruptAt: the time of the interrupt line of each turn (by
	// promptId) that has one.
	interruptAt map[string]time.Time
}

// sessions are the session ids of the play's hook events, in order.
func (c *claudeCheck) sessions() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range c.play.Events {
		if id := e.String("session_id"); id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// truth reads every transcript of the play (main and subagents).
func (c *claudeCheck) truth() *transcriptTruth {
	if c.tt != nil {
		return c.tt
	}
	c.tt = &transcriptTruth{calls: map[string]*callTruth{}, interruptAt: map[string]time.Time{}}
	for _, sid := range c.sessions() {
		main, subs := c.play.Sandbox.Transcripts(sid)
		for _, p := range append([]string{main}, subs...) {
			if p == "" {
				continue
			}
			lines, err := claudetest.ReadJSONL(p)
			if err != nil {
				c.t.Errorf("transcript %s: %v", p, err)
			}
			c.tt.read(lines)
		}
	}
	return c.tt
}

func (tt *transcriptTruth) read(lines []map[string]any) {
	var recent []string // results since the last assistant line
	for _, l := range lines {
		ts, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(l["timestamp"]))
		switch l["type"] {
		case "assistant":
			recent = recent[:0]
		case "user":
			msg, _ := l["message"].(map[string]any)
			blocks, _ := msg["content"].([]any)
			for _, b := range blocks {
				blk, _ := b.(map[string]any)
				switch blk["type"] {
				case "tool_result":
					id := fmt.Sprint(blk["tool_use_id"])
					isErr, _ := blk["is_error"].(bool)
					pd, _ := l["permissionDecision"].(map[string]any)
					tt.calls[id] = &callTruth{at: ts, isError: isErr, denied: isErr && pd["decision"] == "reject"}
					recent = append(recent, id)
				case "text":
					text := fmt.Sprint(blk["text"])
					if !strings.HasPrefix(text, "[Request interrupted by user") {
						continue
					}
					tt.interruptAt[fmt.Sprint(l["promptId"])] = ts
					if strings.HasPrefix(text, "[Request interrupted by user for tool use") {
						for _, id := range recent {
							if r := tt.calls[id]; r.isError && !r.denied {
								r.interrupted = true
							}
						}
					}
				}
			}
		}
	}
}

// hasEvent reports whether the play has a hook event name for tool_use id.
func (c *claudeCheck) hasEvent(name, id string) bool {
	for _, e := range c.events(name) {
		if e.String("tool_use_id") == id {
			return true
		}
	}
	return false
}

// errorTypes: every call the model got as an error is an ERROR span of
// the kind the client's records say: denied for lack of approval
// (permissionDecision reject) permission_denied, interrupted (an
// interrupt line after its result) interrupted, rejected before running
// (no PreToolUse) rejected, else tool_error.
func (c *claudeCheck) errorTypes() bool {
	ok := true
	for id, spans := range c.toolSpan() {
		r := c.truth().calls[id]
		if r == nil || !r.isError {
			continue
		}
		want := "tool_error"
		switch {
		case r.denied || c.hasEvent("PermissionDenied", id):
			want = "permission_denied"
		case r.interrupted:
			want = "interrupted"
		case !c.hasEvent("PreToolUse", id):
			want = "rejected"
		}
		for _, s := range spans {
			if got := attr(s, "error.type"); got != want || s.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
				ok = c.errorf("%s %s: status %v, error.type %q, the transcript says %q", s.GetName(), id, s.GetStatus().GetCode(), got, want)
			}
		}
		c.note("%s %s: %s, error.type %s", spans[0].GetName(), id, spans[0].GetStatus().GetCode(), attr(spans[0], "error.type"))
	}
	return ok
}

// postless are the calls with a PreToolUse and no Post event (nor
// PermissionDenied) in the main transcripts: interrupted or denied.
func (c *claudeCheck) postless() []string {
	var out []string
	for _, e := range c.events("PreToolUse") {
		id := e.String("tool_use_id")
		if e.String("agent_id") != "" || c.hasEvent("PostToolUse", id) || c.hasEvent("PostToolUseFailure", id) || c.hasEvent("PermissionDenied", id) {
			continue
		}
		out = append(out, id)
	}
	return out
}

// postlessEnds: a call that got no Post event ends when its tool_result
// was written, not at its start nor at the session's end.
func (c *claudeCheck) postlessEnds() bool {
	ok := true
	for _, id := range c.postless() {
		r := c.truth().calls[id]
		spans := c.toolSpan()[id]
		if r == nil || len(spans) != 1 {
			ok = c.errorf("call %s without Post: %d spans, transcript result %v", id, len(spans), r)
			continue
		}
		s := spans[0]
		end := time.Unix(0, int64(s.GetEndTimeUnixNano()))
		if !end.Equal(r.at) {
			ok = c.errorf("%s %s ends %s, its tool_result was written %s", s.GetName(), id, end.Format(time.StampMilli), r.at.Format(time.StampMilli))
		}
		c.note("%s %s: %v long, ends %s, its tool_result %s", s.GetName(), id, spanDur(s), end.Format("15:04:05.000"), r.at.Format("15:04:05.000"))
	}
	return ok
}

func spanDur(s *tracepb.Span) time.Duration {
	return time.Duration(s.GetEndTimeUnixNano() - s.GetStartTimeUnixNano()).Round(time.Millisecond)
}

// turnEnds: a turn with an interrupt line is marked interrupted and ends
// at that line; a turn that got its Stop is not marked.
func (c *claudeCheck) turnEnds() bool {
	ok := true
	stopped := map[string]bool{}
	for _, e := range c.events("Stop") {
		stopped[e.String("prompt_id")] = true
	}
	for _, s := range byName(c.spans, "turn") {
		pid := attr(s, "claude_code.prompt.id")
		end := time.Unix(0, int64(s.GetEndTimeUnixNano()))
		at, interrupted := c.truth().interruptAt[pid]
		switch {
		case interrupted:
			if attr(s, "claude_code.turn.interrupted") != "true" || !end.Equal(at) {
				ok = c.errorf("turn %s: interrupted=%q, ends %s; its interrupt line %s", pid, attr(s, "claude_code.turn.interrupted"),
					end.Format(time.StampMilli), at.Format(time.StampMilli))
			}
			c.note("turn %s: interrupted=%q, %v long, ends %s, its interrupt line %s", attr(s, "claude_code.turn.index"),
				attr(s, "claude_code.turn.interrupted"), spanDur(s), end.Format("15:04:05.000"), at.Format("15:04:05.000"))
		case stopped[pid]:
			if attr(s, "claude_code.turn.interrupted") == "true" {
				ok = c.errorf("turn %s had its Stop but is marked interrupted", pid)
			}
		}
	}
	return ok
}

// clearLinks: the session /clear started links to the session it cleared.
func (c *claudeCheck) clearLinks() bool {
	ok := true
	cleared := ""
	for _, e := range c.play.Events {
		switch {
		case e.Name() == "SessionEnd" && e.String("reason") == "clear":
			cleared = e.String("session_id")
		case e.Name() == "SessionStart" && e.String("source") == "clear":
			root, old := c.rootOf(e.String("session_id")), c.rootOf(cleared)
			if root == nil || old == nil {
				ok = c.errorf("/clear: root of %s %v, of the cleared %s %v", e.String("session_id"), root != nil, cleared, old != nil)
				continue
			}
			linked := false
			for _, l := range root.GetLinks() {
				linked = linked || (spanHex(l.GetSpanId()) == spanHex(old.GetSpanId()) && spanHex(l.GetTraceId()) == spanHex(old.GetTraceId()))
			}
			if !linked || attr(root, "claude_code.session.cleared_id") != cleared {
				ok = c.errorf("/clear: session %s links %v (cleared_id %q), want the root of %s", e.String("session_id"), root.GetLinks(), attr(root, "claude_code.session.cleared_id"), cleared)
			}
			c.note("/clear: the root of trace %x links to %v; the cleared session's root is %x/%x", root.GetTraceId(), linksOf(root), old.GetTraceId(), old.GetSpanId())
		}
	}
	return ok
}

func linksOf(s *tracepb.Span) []string {
	var out []string
	for _, l := range s.GetLinks() {
		out = append(out, spanHex(l.GetTraceId())+"/"+spanHex(l.GetSpanId()))
	}
	return out
}

// rootOf is the root span of session id (its first run).
func (c *claudeCheck) rootOf(id string) *tracepb.Span {
	for _, top := range c.tops() {
		if attr(top, "gen_ai.conversation.id") == id && !hasAttr(top, "claude_code.session.run") {
			return top
		}
	}
	return nil
}

// mcpServers: every MCP call names its server as PreToolUse's mcp_server
// did, or as its mcp__<server>__ name says for a call without one.
func (c *claudeCheck) mcpServers() bool {
	ok := true
	for id, spans := range c.toolSpan() {
		tool := attr(spans[0], "gen_ai.tool.name")
		rest, isMCP := strings.CutPrefix(tool, "mcp__")
		if !isMCP {
			continue
		}
		want := [2]string{strings.SplitN(rest, "__", 2)[0], ""}
		for _, e := range c.events("PreToolUse") {
			var srv struct{ Name, Source string }
			if e.String("tool_use_id") == id && e.Field("mcp_server", &srv) {
				want = [2]string{srv.Name, srv.Source}
			}
		}
		got := [2]string{attr(spans[0], "mcp_server.name"), attr(spans[0], "mcp_server.source")}
		if got != want {
			ok = c.errorf("%s %s: mcp_server %q, the client said %q", tool, id, got, want)
		}
		c.note("%s %s: mcp_server.name %q, source %q", tool, id, got[0], got[1])
	}
	return ok
}

// truthChecks are the checks of issue 17's interactive and fault
// scenarios; each runs where the play has what it checks.
func (c *claudeCheck) truthChecks() {
	c.hold("error.type as the transcript says", c.errorTypes)
	if len(c.postless()) > 0 {
		c.hold("calls without Post end at their tool_result", c.postlessEnds)
	}
	if len(c.truth().interruptAt) > 0 || len(c.events("Stop")) > 0 {
		c.hold("interrupted turns end at their interrupt line", c.turnEnds)
	}
	for _, e := range c.events("SessionStart") {
		if e.String("source") == "clear" {
			c.hold("/clear's session linked to the cleared one", c.clearLinks)
			break
		}
	}
	for _, e := range c.events("PreToolUse") {
		if strings.HasPrefix(e.String("tool_name"), "mcp__") {
			c.hold("MCP server names", c.mcpServers)
			break
		}
	}
}

// note keeps a figure for the scenario's log line.
func (c *claudeCheck) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}
