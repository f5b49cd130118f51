// Package importer turns past Claude Code sessions into traces, from the
// transcripts Claude Code keeps (~/.claude/projects/<project>/<session>.jsonl,
// its subagents' beside it): `ccotel import`.
//
// A transcript is read as the hook events it implies, and those events are
// applied by the hook's own state machine (hook.Apply), so an imported
// session is the same trace as a live one, with the same derived IDs:
//
//	SessionStart        the run's first line (source startup; resume after a
//	                    cost-state line, which Claude Code writes as a run
//	                    ends; fork when the file begins with history copied
//	                    from another session, stamped before its first line)
//	UserPromptSubmit    a user line with promptSource (typed, sdk, system
//	                    for a task notification), not isMeta
//	PreToolUse          a tool_use block, at its assistant line
//	PostToolUse(Failure) its tool_result (is_error); the tool_use's
//	                    toolUseResult is the tool_response. A result that
//	                    starts with <tool_use_error> was rejected before the
//	                    call ran: its PreToolUse is withdrawn and the round's
//	                    PostToolBatch names it, as Claude Code does
//	                    A denied call's result (permissionDecision reject)
//	                    ends it as Claude Code does: PermissionDenied when
//	                    auto mode's classifier denied it, else
//	                    PermissionRequest (right after its PreToolUse) and
//	                    no Post event, the denial text in PostToolBatch
//	PostToolBatch       once every call of a response has its result
//	SubagentStart/Stop  a subagent transcript's first and last lines
//	                    (agent_type from its meta.json, else from the Agent
//	                    call whose result names the agent)
//	PreCompact, SessionStart compact, PostCompact
//	                    a compact_boundary line (less its durationMs); a
//	                    manual one (/compact) ends the turn before it
//	Stop                the turn's last line (assistant, tool result,
//	                    stop-hook summary), unless the user interrupted it
//	                    (an interrupt line, or the run ended with a call
//	                    open: SIGINT);
//	                    StopFailure when its last response is an API error
//	                    line (isApiErrorMessage), with that error's kind
//	SessionEnd          the run's last event, at a cost-state line or the end
//
// The events of the main transcript and of each subagent are merged by
// time, each file's order kept. Every span that comes out carries
// claude_code.timing = transcript. Token usage is left to the flusher's
// usage finisher, as for live sessions: turns carry the offset of their
// prompt's line.
//
// Run applies each session on a hook.Memory (no lock held), then queues
// its spans and its final state (a tombstone, as a live SessionEnd
// leaves) in one short transaction per batch, unless the state knows the
// session: a session exported live, or imported before, is skipped.
//
// Files are read as the flusher reads them (usage.OpenTranscript,
// usage.LineReader): regular files only, without blocking, lines capped
// at usage.MaxLine; damaged and over-long lines are skipped and counted.
// A tool input or result larger than 16 KiB keeps only its short
// top-level members, so a session's events stay small.
package importer
