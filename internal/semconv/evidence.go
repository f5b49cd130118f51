package semconv

// Keys of what the trace says about MCP servers, interrupts, denials and
// /clear (issue 17): what ccotel learns from the payloads Claude Code
// 2.1.328 sends and from the transcript's evidence where no hook event
// comes.
const (
	// MCPServerName and MCPServerSource name the MCP server of an
	// mcp__<server>__<tool> call: PreToolUse's mcp_server {name, source},
	// else the server part of the tool's name (no source then). The
	// OpenTelemetry MCP conventions (mcp.method.name, mcp.session.id, …)
	// describe the protocol's messages and have no key for the server a
	// client calls; these keep Claude Code's own field names.
	MCPServerName   = "mcp_server.name"
	MCPServerSource = "mcp_server.source"

	// TurnInterrupted marks a turn that ended without a Stop: the person
	// interrupted it (Escape, then a new prompt or /exit) or the process
	// was stopped (SIGINT). Its end is the last evidence of it (the
	// transcript's interrupt line, else its last event or line), never the
	// next prompt or the session's end.
	TurnInterrupted = "claude_code.turn.interrupted"

	// ToolEndSource and TurnEndSource say where the end of a span that
	// got no end event came from, when the transcript gave it: a call's
	// tool_result (ToolEndSourceResult), a turn's interrupt line
	// (TurnEndSourceMarker) or its last line (TurnEndSourceLastLine).
	// Absent: the hook's own end (the span's last event).
	ToolEndSource         = "claude_code.tool.end_source"
	ToolEndSourceResult   = "transcript_tool_result"
	TurnEndSource         = "claude_code.turn.end_source"
	TurnEndSourceMarker   = "transcript_interrupt"
	TurnEndSourceLastLine = "transcript_last_line"

	// SessionClearedID is, on the root of a session that /clear started,
	// the id of the session it cleared; the root also has a span link to
	// that session's top span.
	SessionClearedID = "claude_code.session.cleared_id"
)
