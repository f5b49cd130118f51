// Package hook turns Claude Code hook events into spans: it decodes a
// payload (Decode), and runs the per-session state machine (Apply) that
// keeps the open spans of a session in a Store between hook processes and
// emits each span when it ends. Record and Sweep are the glue to the
// state store: one event (or one sweep) is one transaction that updates
// the session and appends the finished spans to the outbox. The package does no network
// I/O and knows nothing of OTLP; its output is []tracing.Span.
//
// # The trace
//
// One trace per session_id. IDs are derived, never random
// (docs/ARCHITECTURE.md, "Identity"), so any process, with or without
// state, computes the same ones. Span names and attribute keys are those
// of package internal/semconv.
//
//	invoke_agent claude-code   SessionStart → SessionEnd (the root)
//	├─ turn                    UserPromptSubmit → Stop / StopFailure
//	│  ├─ execute_tool {name}  PreToolUse → PostToolUse / PostToolUseFailure / PermissionDenied
//	│  │  └─ invoke_agent {type}   SubagentStart → SubagentStop (under the Agent/Task call)
//	│  │     └─ execute_tool …     the subagent's own calls (agent_id)
//	│  └─ compact              PreCompact → PostCompact
//	└─ invoke_agent claude-code  a resumed run (claude_code.session.run = n)
//
// What the machine decides where the events leave it open:
//
//   - Missing starts. The first event of an unknown session opens the root
//     at its time (claude_code.session.start_missed). An event with a
//     prompt_id and no open turn opens that prompt's turn
//     (claude_code.turn.start_missed), unless that prompt's turn already
//     ended. A PostToolUse without PreToolUse starts at end − duration_ms
//     (claude_code.tool.pre_missed). A SubagentStop without start starts at
//     the launching Agent call's start, else at its own time
//     (claude_code.subagent.start_missed). A PostCompact without PreCompact
//     is a zero-length compact span.
//   - Missing ends. A span whose end never comes ends when its parent does
//     (claude_code.incomplete=true, reason "parent_ended"); a turn left open
//     by a new UserPromptSubmit (the user pressed Esc: no Stop) ends at its
//     last event, reason "interrupted"; Sweep ends a session idle past
//     Options.IdleTimeout at its last event, reason "idle_timeout".
//   - Exactly once. A session keeps the IDs of its last 512 closed spans
//     (a tombstone keeps them too); an end event for one of them, or a
//     repeated start, is late: dropped and counted (claude_code.late_events
//     on the run's top span).
//   - Resume. SessionEnd leaves a tombstone; the next sign of work in that
//     session (SessionStart source=resume, a prompt, a tool call or
//     subagent not seen before, a compaction) opens run n+1, a new
//     invoke_agent claude-code span under the exported root; anything else
//     (a late notification from an async hook) is late.
//     Tombstones live 30 days (Sweep), as long as Claude Code keeps the
//     transcript that a resume needs. A SessionStart while the root is
//     still open (clear, compact, resume without SessionEnd) is a span
//     event "SessionStart" on it.
//   - Span events are named after the hook event (hook_event_name, or
//     "unknown"), on the innermost open span: the tool call named by
//     tool_use_id, else the subagent of agent_id, else the turn, else the
//     top span; at most MaxEventsPerSpan per span (the rest counted in
//     DroppedEvents). A PermissionRequest (which has no tool_use_id) goes
//     to the latest open call of that tool in that agent.
//   - claude_code.tool.permission_wait_ms is set only when a
//     PermissionRequest was seen for the call: the call's wall time minus
//     duration_ms (the execution time Claude Code reports), never negative.
//   - Errors: a tool's error.type is "tool_error", "interrupted"
//     (is_interrupt, or a Bash/PowerShell response with interrupted=true)
//     or "permission_denied"; a turn's is StopFailure's error kind. The
//     status message (first line of the error text) is exported only at the
//     details level and above, redacted.
//   - Totals on the top span (root or run), per run:
//     claude_code.session.turns, .tool_calls, .tool_errors (failures,
//     interrupts and denials), .subagents, .compactions.
//   - TRACEPARENT (Options.Traceparent): a link on the root and on runs;
//     with ParentFromTraceparent the root takes it as parent and its trace
//     ID becomes the session's (stored with the session, so later events
//     follow it; the trace ID is then not derived from session_id).
//   - Tokens are not read here: turn, subagent and top spans carry a
//     usage.Ref in Span.Pending (turn: transcript size at UserPromptSubmit
//     and the prompt id; subagent: agent_transcript_path, or
//     <transcript without .jsonl>/subagents/agent-<id>.jsonl; root: the
//     transcript and its subagents directory; run: the transcript from its
//     size when the run started) and ReadyAt = end + SettleDelay.
//
// # Events
//
// EventTable (events.go) is every hook event ccotel knows, one row each:
// the machine's handler (Apply dispatches on it; an event not in the
// table is a span event), whether the event restarts a session that has
// ended, the file I/O Prepare does for it before the database lock, and
// the settings.json entry install writes (matcher, timeout) or why it
// writes none. The table below is generated from it (go test ./hook -run
// TestEventTable -update); README.md lists the wired events, checked by
// the same test.
//
//	event                handler                           restarts an ended session          pre-lock I/O        install
//	SessionStart         sessionStart                      yes                                transcript size     5 s
//	Setup                span event on the innermost span  no                                 -                   no
//	InstructionsLoaded   span event on the innermost span  no                                 -                   5 s
//	UserPromptSubmit     promptSubmit                      yes                                transcript size     5 s
//	UserPromptExpansion  span event on the innermost span  no                                 -                   no
//	MessageDisplay       span event on the innermost span  no                                 -                   no
//	PreToolUse           preTool                           yes                                -                   "*", 5 s
//	PermissionRequest    permissionRequest                 no                                 -                   "*", 5 s
//	PermissionDenied     postTool                          unless its tool call was exported  -                   "*", 5 s
//	PostToolUse          postTool                          unless its tool call was exported  -                   "*", 5 s
//	PostToolUseFailure   postTool                          unless its tool call was exported  -                   "*", 5 s
//	PostToolBatch        postToolBatch                     no                                 -                   5 s
//	SubagentStart        subagentStart                     yes                                subagent meta file  5 s
//	SubagentStop         subagentStop                      unless its subagent was exported   -                   5 s
//	TaskCreated          span event on the innermost span  no                                 -                   5 s
//	TaskCompleted        span event on the innermost span  no                                 -                   5 s
//	TeammateIdle         span event on the innermost span  no                                 -                   no
//	Notification         span event on the innermost span  no                                 -                   5 s
//	Elicitation          span event on the innermost span  no                                 -                   no
//	ElicitationResult    span event on the innermost span  no                                 -                   no
//	PreCompact           preCompact                        yes                                -                   5 s
//	PostCompact          postCompact                       no                                 -                   5 s
//	CwdChanged           span event on the innermost span  no                                 -                   5 s
//	ConfigChange         span event on the innermost span  no                                 -                   5 s
//	DirectoryAdded       span event on the innermost span  no                                 -                   5 s
//	FileChanged          span event on the innermost span  no                                 -                   no
//	WorktreeCreate       span event on the innermost span  no                                 -                   no
//	WorktreeRemove       span event on the innermost span  no                                 -                   no
//	PreModelSwitch       modelSwitch                       no                                 -                   5 s
//	PostModelSwitch      modelSwitch                       no                                 -                   5 s
//	Stop                 stop                              no                                 -                   5 s
//	StopFailure          stop                              no                                 -                   5 s
//	SessionEnd           endSession                        no                                 -                   10 s
//
// Not wired (handled all the same when wired by hand):
//
//   - Setup: fires only under --init-only, -p --init or -p --maintenance, outside a session's work.
//   - UserPromptExpansion: no span needs it; one more hook process per slash command.
//   - MessageDisplay: every batch of assistant text would wait for it.
//   - TeammateIdle: agent teams only; no span needs it.
//   - Elicitation: no span needs it; a hook on it sits in the MCP server's dialog.
//   - ElicitationResult: no span needs it; a hook on it sits in the MCP server's dialog.
//   - FileChanged: its matcher is the literal names of the files to watch; ccotel watches none.
//   - WorktreeCreate: Claude Code reads its hook's output as the worktree path.
//   - WorktreeRemove: WorktreeCreate, its pair, cannot be wired.
//
// (Generated from EventTable.)
//
// # Capture
//
// At the default level (metadata) no text of the session is exported:
// only names, ids, enumerations (source, trigger, notification_type,
// load_reason, memory_type, action, mode, task_id, expansion_type,
// command_source, file event), sizes, counts and times. "details" adds
// the session's cwd, tool commands, file paths, URLs and patterns, the
// subagent description, span-event paths and names, and error first lines;
// "content" adds the prompt, tool arguments and results, notification and
// elicitation messages. Every captured string passes Options.Redactor
// (secrets redacted, length capped); without a Redactor nothing beyond
// metadata is captured.
//
// # Decoding
//
// Decode reads the payload through a 64 KiB window and keeps, of each
// value, at most RawCap bytes plus its size, and of tool_input and
// tool_response their top-level scalars and strings up to 16 KiB. A 5 MB
// payload costs about as much as reading it. Fields of the wrong JSON type
// read as absent; unknown fields and events are fine; a payload that is
// not one JSON object is an error (logged by the hook, which still exits
// 0).
//
// # Files
//
// Decoding: event.go (Event, Decode), stream.go (the windowed scanner)
// and scan.go (its JSON helpers). The state machine: events.go (EventTable, the
// hook events), machine.go (Apply and its dispatch), then one file per span kind: root.go
// (the session's root and its resumed runs, tombstones), turn.go,
// tool.go, subagent.go, compact.go; span.go opens, ends and finishes
// spans of any kind, spanevent.go records span events. session.go is the
// stored session state (a head, and a record per open span: store.go is
// the Store it lives in, index.go the open spans' heads), ids.go the
// derived IDs, options.go the Options and capture levels, record.go the
// transactions (Record, Sweep).
package hook
