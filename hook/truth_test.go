package hook

import (
	"testing"

	"github.com/ccotel/ccotel/internal/semconv"
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
