package hook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/tracing"
)

// byCallID indexes the tool spans of a replay by tool_use id.
func byCallID(spans []tracing.Span) map[string]*tracing.Span {
	ids := map[string]*tracing.Span{}
	for i := range spans {
		if id := strAttr(&spans[i], semconv.GenAIToolCallID); id != "" {
			ids[id] = &spans[i]
		}
	}
	return ids
}

// MCP calls of the real client: the server from PreToolUse's mcp_server
// (name and source), or from the mcp__<server>__<tool> name of a call only
// PostToolBatch reports.
func TestClaudeMCPServerName(t *testing.T) {
	ids := byCallID(only(t, groundTruth(t, "mcp", Options{})))
	for id, want := range map[string][2]string{
		"toolu_N1": {"claudetest", "dynamic"},
		"toolu_N2": {"claudetest", "dynamic"},
		"toolu_N3": {"claudetest", ""},
	} {
		s := ids[id]
		if s == nil {
			t.Fatalf("%s: no span", id)
		}
		if got := [2]string{strAttr(s, semconv.MCPServerName), strAttr(s, semconv.MCPServerSource)}; got != want {
			t.Errorf("%s: mcp_server %q, want %q", id, got, want)
		}
	}
	if s := ids["toolu_N2"]; s.StatusCode != tracing.StatusError || strAttr(s, semconv.ErrorType) != semconv.ErrorToolError {
		t.Errorf("failing MCP call: status %v, error.type %q", s.StatusCode, strAttr(s, semconv.ErrorType))
	}
}

func TestMCPServerFromName(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "prompt_id", "p1", "tool_name", "mcp__git_hub__create__issue", "tool_use_id", "m1"))
	s.at(20, ev("PostToolUse", "prompt_id", "p1", "tool_name", "mcp__git_hub__create__issue", "tool_use_id", "m1",
		"mcp_server", map[string]any{"name": "git_hub", "source": "user"}))
	s.at(30, ev("PreToolUse", "prompt_id", "p1", "tool_name", "Bash", "tool_use_id", "b1"))
	s.at(40, ev("PostToolUse", "prompt_id", "p1", "tool_name", "Bash", "tool_use_id", "b1"))
	s.at(50, ev("Stop", "prompt_id", "p1"))
	mcp := s.span("execute_tool mcp__git_hub__create__issue")
	if strAttr(mcp, semconv.MCPServerName) != "git_hub" || strAttr(mcp, semconv.MCPServerSource) != "user" {
		t.Errorf("mcp_server %q %q", strAttr(mcp, semconv.MCPServerName), strAttr(mcp, semconv.MCPServerSource))
	}
	if _, ok := s.span("execute_tool Bash").Attr(semconv.MCPServerName); ok {
		t.Errorf("Bash has an MCP server")
	}
}

// -p in the default mode: the call asks for approval (PermissionRequest),
// nobody can give it, and PostToolBatch carries the denial the model
// received as an error result; no Post event, no PermissionDenied.
func TestClaudePermissionDenied(t *testing.T) {
	spans := only(t, groundTruth(t, "permission-denied", Options{Capture: CaptureDetails, Redactor: capRedactor{}}))
	call := byCallID(spans)["toolu_P1"]
	if call == nil {
		t.Fatal("no span for the denied call")
	}
	if call.StatusCode != tracing.StatusError || strAttr(call, semconv.ErrorType) != semconv.ErrorPermissionDenied {
		t.Errorf("denied call: status %v, error.type %q", call.StatusCode, strAttr(call, semconv.ErrorType))
	}
	if m := call.StatusMessage; m != "[clean]touch in '$CWD/x' needs approval. The path is inside the working directories for this session ('$CWD'), and Claude Code asks before a shell command creates, changes or removes files there." {
		t.Errorf("status message %q", m)
	}
	root := named(spans, semconv.SpanRoot)[0]
	if n := intAttr(root, semconv.SessionToolErrors); n != 1 {
		t.Errorf("tool errors %d, want 1", n)
	}
}

// Auto mode's classifier denies: PermissionDenied ends the call as an
// error, counted once.
func TestPermissionDeniedEvent(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "prompt_id", "p1", "tool_name", "Bash", "tool_use_id", "d1"))
	s.at(20, ev("PermissionDenied", "prompt_id", "p1", "tool_name", "Bash", "tool_use_id", "d1", "reason", "Classifier unavailable"))
	s.at(30, ev("PostToolBatch", "prompt_id", "p1", "tool_calls", []any{map[string]any{"tool_use_id": "d1", "tool_name": "Bash", "tool_response": "Permission denied"}}))
	s.at(40, ev("Stop", "prompt_id", "p1"))
	s.at(50, ev("SessionEnd"))
	call := s.span("execute_tool Bash")
	if call.StatusCode != tracing.StatusError || strAttr(call, semconv.ErrorType) != semconv.ErrorPermissionDenied || !call.End.Equal(ms(20)) {
		t.Errorf("status %v, error.type %q, end %v", call.StatusCode, strAttr(call, semconv.ErrorType), call.End.Sub(t0))
	}
	if n := intAttr(s.span(semconv.SpanRoot), semconv.SessionToolErrors); n != 1 {
		t.Errorf("tool errors %d, want 1", n)
	}
}

// Escape during a tool (TUI, then /exit), SIGINT to -p during a tool,
// Escape while the model streams: no Post, no Stop. The open call was
// interrupted (an error result for the model), the turn is marked
// interrupted and ends at its own last event, not at the session's end;
// the transcript's evidence (the finisher) may move both ends up to the
// event that ended them.
func TestClaudeInterrupts(t *testing.T) {
	for _, c := range []struct {
		name, call string
		turnEvents int // events of the turn: its last one is its end
	}{
		{"interrupt-tool", "toolu_J1", 3},
		{"sigint-tool", "toolu_K1", 3},
		{"interrupt-stream", "", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			spans := only(t, groundTruth(t, c.name, Options{}))
			turn := named(spans, semconv.SpanTurn)[0]
			root := named(spans, semconv.SpanRoot)[0]
			if a, _ := turn.Attr(semconv.TurnInterrupted); !a.Bool || strAttr(turn, semconv.IncompleteReason) != semconv.IncompleteInterrupted {
				t.Errorf("turn not marked interrupted: %v", turn.Attrs)
			}
			lastOwn := t0.Add(time.Duration(c.turnEvents-1) * 10 * time.Millisecond)
			if !turn.End.Equal(lastOwn) || !turn.End.Before(root.End) {
				t.Errorf("turn ends %v, want its last event %v (session ends %v)", turn.End.Sub(t0), lastOwn.Sub(t0), root.End.Sub(t0))
			}
			var ref usage.Ref
			if err := json.Unmarshal(turn.Pending, &ref); err != nil || !ref.Until.Equal(root.End) {
				t.Errorf("turn's pending %s: Until should be the session's end", turn.Pending)
			}
			wantErrors := int64(0)
			if c.call != "" {
				wantErrors = 1
				call := byCallID(spans)[c.call]
				if call.StatusCode != tracing.StatusError || strAttr(call, semconv.ErrorType) != semconv.ErrorInterrupted {
					t.Errorf("interrupted call: status %v, error.type %q", call.StatusCode, strAttr(call, semconv.ErrorType))
				}
				if err := json.Unmarshal(call.Pending, &ref); err != nil || ref.Scope != "tool" || ref.ToolUseID != c.call ||
					ref.PromptID != strAttr(turn, semconv.PromptID) || !ref.Until.Equal(root.End) {
					t.Errorf("call's pending %s", call.Pending)
				}
			}
			if n := intAttr(root, semconv.SessionToolErrors); n != wantErrors {
				t.Errorf("tool errors %d, want %d", n, wantErrors)
			}
		})
	}
	// A turn that ended with its Stop is not interrupted.
	turn := named(only(t, groundTruth(t, "ctrl-c", Options{})), semconv.SpanTurn)[0]
	if _, ok := turn.Attr(semconv.TurnInterrupted); ok {
		t.Errorf("ctrl-c's turn (it had its Stop) marked interrupted")
	}
}

// /clear in the TUI: SessionEnd reason=clear, then SessionStart
// source=clear with a new session id. The new session's root links to
// the cleared session's root.
func TestClaudeClearLinks(t *testing.T) {
	sessions := groundTruth(t, "tui", Options{})
	if len(sessions) != 2 {
		t.Fatalf("%d sessions", len(sessions))
	}
	old := named(sessions["c1a0de00-000d-4000-8000-00000000000d"], semconv.SpanRoot)[0]
	root := named(sessions["1a49ec93-b35b-4642-8b8d-4cfef5f0532c"], semconv.SpanRoot)[0]
	if len(root.Links) != 1 || root.Links[0].TraceID != old.TraceID || root.Links[0].SpanID != old.SpanID {
		t.Errorf("new session's links %v, want the cleared root %s/%s", root.Links, old.TraceID, old.SpanID)
	}
	if id := strAttr(root, semconv.SessionClearedID); id != "c1a0de00-000d-4000-8000-00000000000d" {
		t.Errorf("cleared id %q", id)
	}
	if len(old.Links) != 0 || strAttr(old, semconv.SessionEndReason) != "clear" {
		t.Errorf("cleared root: links %v, end reason %q", old.Links, strAttr(old, semconv.SessionEndReason))
	}
}

// The handoff is by process when CLAUDE_PID is known: another Claude Code
// process's /clear in the same project is not the session cleared; a
// SessionStart that is not a /clear takes nothing.
func TestClearHandoffByProcess(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "_claude_pid", "100"))
	s.at(10, ev("SessionEnd", "reason", "clear", "_claude_pid", "100"))
	start := func(ms int, id, pid, source string) *tracing.Span {
		payload := ev("SessionStart", "session_id", id, "source", source, "_claude_pid", pid)
		s.at(ms, payload)
		s.at(ms+1, ev("SessionEnd", "session_id", id, "_claude_pid", pid))
		return &s.spans[len(s.spans)-1]
	}
	if r := start(20, "other", "200", "clear"); len(r.Links) != 0 {
		t.Errorf("another process's session linked: %v", r.Links)
	}
	if r := start(30, "startup", "100", "startup"); len(r.Links) != 0 {
		t.Errorf("a startup linked: %v", r.Links)
	}
	r := start(40, "s2", "100", "clear")
	if len(r.Links) != 1 || r.Links[0].SpanID != RootSpanID("s1") {
		t.Errorf("links %v, want s1's root", r.Links)
	}
	if r := start(50, "s3", "100", "clear"); len(r.Links) != 0 {
		t.Errorf("a handoff taken twice: %v", r.Links)
	}
}

// Auto mode with its classifier unavailable (the real client): PreToolUse,
// PermissionDenied with the call's id, no Post event. An error span,
// counted once though PostToolBatch names the call again.
func TestClaudePermissionAuto(t *testing.T) {
	spans := only(t, groundTruth(t, "permission-auto", Options{}))
	call := byCallID(spans)["toolu_R1"]
	if call == nil || call.StatusCode != tracing.StatusError || strAttr(call, semconv.ErrorType) != semconv.ErrorPermissionDenied {
		t.Fatalf("denied call %+v", call)
	}
	if n := intAttr(named(spans, semconv.SpanRoot)[0], semconv.SessionToolErrors); n != 1 {
		t.Errorf("tool errors %d, want 1", n)
	}
}

// A foreground subagent's call interrupted with its turn: an interrupted
// error, whose evidence is read from the subagent's own transcript.
func TestInterruptedSubagentCall(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "prompt_id", "p1", "tool_name", "Agent", "tool_use_id", "A1", "tool_input", map[string]any{"subagent_type": "general-purpose"}))
	s.at(20, ev("SubagentStart", "prompt_id", "p1", "agent_id", "ag1", "agent_type", "general-purpose"))
	s.at(30, ev("PreToolUse", "prompt_id", "p1", "agent_id", "ag1", "tool_name", "Bash", "tool_use_id", "B1"))
	s.at(90, ev("SessionEnd", "reason", "prompt_input_exit"))
	call := s.span("execute_tool Bash")
	if call.StatusCode != tracing.StatusError || strAttr(call, semconv.ErrorType) != semconv.ErrorInterrupted {
		t.Errorf("subagent's call: status %v, error.type %q", call.StatusCode, strAttr(call, semconv.ErrorType))
	}
	var ref usage.Ref
	if err := json.Unmarshal(call.Pending, &ref); err != nil || ref.Scope != "tool" || ref.ToolUseID != "B1" ||
		ref.Path != "/p/s1/subagents/agent-ag1.jsonl" || ref.PromptID != "" || !ref.Until.Equal(ms(90)) {
		t.Errorf("pending %s", call.Pending)
	}
	if n := intAttr(s.span(semconv.SpanRoot), semconv.SessionToolErrors); n != 2 {
		t.Errorf("tool errors %d, want 2 (the Agent call and its subagent's)", n)
	}
}
