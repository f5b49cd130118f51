// Package semconv owns every name ccotel exports: the attribute keys of
// spans, span events and the resource, the pieces span names are made of,
// the GenAI operation names, and the enumerated values some attributes
// take. Nothing else in ccotel spells one of these strings; to add or
// rename an attribute, change it here and in the code that sets it.
//
// The gen_ai.*, error.* and resource keys are those of the OpenTelemetry
// semantic conventions v1.41.0 (SchemaURL); a test checks each against
// go.opentelemetry.io/otel/semconv/v1.41.0, the last Go package generated
// with the GenAI conventions before they moved to their own project
// (semantic-conventions-genai). They are plain strings so that the hook,
// which runs once per Claude Code event, does not link that package. The
// claude_code.* keys are ccotel's own; docs/ARCHITECTURE.md describes
// the trace they make up.
package semconv

// SchemaURL is the semantic-conventions schema of the resource and span
// attributes.
const SchemaURL = "https://opentelemetry.io/schemas/1.41.0"

// GenAI attribute keys (semantic conventions v1.41.0).
const (
	GenAIOperationName     = "gen_ai.operation.name" // OperationInvokeAgent or OperationExecuteTool
	GenAIProviderName      = "gen_ai.provider.name"  // ProviderAnthropic, on the top span
	GenAIConversationID    = "gen_ai.conversation.id"
	GenAIAgentName         = "gen_ai.agent.name" // RootAgentName, or the subagent's type
	GenAIAgentID           = "gen_ai.agent.id"
	GenAIAgentDescription  = "gen_ai.agent.description" // the launching Agent call's description
	GenAIRequestModel      = "gen_ai.request.model"
	GenAIResponseModel     = "gen_ai.response.model"
	GenAIToolName          = "gen_ai.tool.name"
	GenAIToolCallID        = "gen_ai.tool.call.id"
	GenAIToolCallArguments = "gen_ai.tool.call.arguments"
	GenAIToolCallResult    = "gen_ai.tool.call.result"

	// Token usage, set by the finisher from the transcript.
	GenAIUsageInputTokens              = "gen_ai.usage.input_tokens" // input + cache read + cache creation
	GenAIUsageOutputTokens             = "gen_ai.usage.output_tokens"
	GenAIUsageCacheReadInputTokens     = "gen_ai.usage.cache_read.input_tokens"
	GenAIUsageCacheCreationInputTokens = "gen_ai.usage.cache_creation.input_tokens"

	// ErrorType is the kind of failure of a span whose status is Error:
	// one of the Error* values for a tool call, StopFailure's error kind
	// for a turn.
	ErrorType = "error.type"
)

// Values of gen_ai.operation.name and gen_ai.provider.name.
const (
	OperationInvokeAgent = "invoke_agent"
	OperationExecuteTool = "execute_tool"
	ProviderAnthropic    = "anthropic"
)

// Span names. A tool call is named OperationExecuteTool + " " + the tool's
// name, a subagent OperationInvokeAgent + " " + its type; Unknown stands
// for a name Claude Code did not send.
const (
	RootAgentName = "claude-code"                              // gen_ai.agent.name of the root and its runs
	SpanRoot      = OperationInvokeAgent + " " + RootAgentName // the session's root span, and each resumed run
	SpanTurn      = "turn"
	SpanCompact   = "compact"
	Unknown       = "unknown" // a missing tool name, agent type, event name or error kind
)

// Span state: a span whose end event never came.
const (
	Incomplete       = "claude_code.incomplete"        // true
	IncompleteReason = "claude_code.incomplete.reason" // an Incomplete* value
)

// Values of claude_code.incomplete.reason.
const (
	IncompleteParentEnded = "parent_ended" // its parent ended first
	IncompleteInterrupted = "interrupted"  // a turn left open by the next prompt (Esc)
	IncompleteIdleTimeout = "idle_timeout" // the session went idle (Sweep)
)

// Values of error.type on a tool call.
const (
	ErrorToolError        = "tool_error"
	ErrorInterrupted      = "interrupted"
	ErrorPermissionDenied = "permission_denied"
)

// Attributes of the top span: the session's root, or a resumed run. The
// totals count that run only.
const (
	SessionSource         = "claude_code.session.source"
	SessionEndReason      = "claude_code.session.end_reason"
	SessionStartMissed    = "claude_code.session.start_missed"
	SessionRun            = "claude_code.session.run" // 1, 2, … on resumed runs
	SessionTurns          = "claude_code.session.turns"
	SessionToolCalls      = "claude_code.session.tool_calls"
	SessionToolErrors     = "claude_code.session.tool_errors"
	SessionSubagents      = "claude_code.session.subagents"
	SessionCompactions    = "claude_code.session.compactions"
	SessionLateEvents     = "claude_code.late_events" // events dropped as late or repeated
	SessionCwd            = "claude_code.cwd"
	SessionPermissionMode = "claude_code.permission_mode"
)

// Attributes of a turn span.
const (
	TurnIndex       = "claude_code.turn.index"
	TurnStartMissed = "claude_code.turn.start_missed"
	TurnEffort      = "claude_code.effort"
	PromptID        = "claude_code.prompt.id"
	PromptLength    = "claude_code.prompt.length" // in characters
	PromptText      = "claude_code.prompt.text"
)

// Attributes of a tool-call span.
const (
	ToolDurationMs       = "claude_code.tool.duration_ms"
	ToolPermissionWaitMs = "claude_code.tool.permission_wait_ms"
	ToolInputSize        = "claude_code.tool.input_size"  // bytes of tool_input
	ToolOutputSize       = "claude_code.tool.output_size" // bytes of tool_response
	ToolPreMissed        = "claude_code.tool.pre_missed"
	ToolCommand          = "claude_code.tool.command"
	ToolFilePath         = "claude_code.tool.file_path"
	ToolURL              = "claude_code.tool.url"
	ToolPattern          = "claude_code.tool.pattern"
	ToolSubagentType     = "claude_code.tool.subagent_type"
)

// Attributes of subagent and compaction spans.
const (
	SubagentStartMissed = "claude_code.subagent.start_missed"
	CompactTrigger      = "claude_code.compact.trigger"
	CompactStartMissed  = "claude_code.compact.start_missed"
)

// Usage attributes the finisher adds to turn, subagent and top spans,
// beside the GenAIUsage* keys.
const (
	UsageUncachedInputTokens        = "claude_code.usage.uncached_input_tokens" // input_tokens as the API reports it
	UsageCacheCreation1hInputTokens = "claude_code.usage.cache_creation_1h.input_tokens"
	UsageComplete                   = "claude_code.usage.complete" // false: numbers may be short
	UsageModels                     = "claude_code.models"         // every model, when more than one
	UsageAPIRequests                = "claude_code.api_requests"   // API responses counted
	// UsageChatSpansFolded: API responses counted on the span but given no
	// chat span of their own (past the cap of chat spans per span).
	UsageChatSpansFolded = "claude_code.chat_spans_folded"
	UsageCostUSD         = "claude_code.cost.usd"
)

// Attributes of span events (one per hook event without a span of its
// own). Enumerations at every capture level; names and paths from
// "details" on; free text at "content".
const (
	EventSource           = "claude_code.source"
	EventTrigger          = "claude_code.trigger"
	EventNotificationType = "claude_code.notification_type"
	EventLoadReason       = "claude_code.load_reason"
	EventMemoryType       = "claude_code.memory_type"
	EventAction           = "claude_code.action"
	EventMode             = "claude_code.mode"
	EventTaskID           = "claude_code.task_id"
	EventFileEvent        = "claude_code.file_event"
	EventExpansionType    = "claude_code.expansion_type"
	EventCommandSource    = "claude_code.command_source"
	EventToolBatchSize    = "claude_code.tool_batch.size"

	EventFilePath      = "claude_code.file_path"
	EventNewCwd        = "claude_code.new_cwd"
	EventDirectory     = "claude_code.directory"
	EventWorktreeName  = "claude_code.worktree.name"
	EventWorktreePath  = "claude_code.worktree.path"
	EventMCPServerName = "claude_code.mcp_server_name"
	EventCommandName   = "claude_code.command_name"
	EventTeammateName  = "claude_code.teammate_name"
	EventReason        = "claude_code.reason"

	EventMessage     = "claude_code.message"
	EventTitle       = "claude_code.title"
	EventTaskSubject = "claude_code.task_subject"
)

// Resource attribute keys: who sends the traces.
const (
	ServiceName          = "service.name"
	ServiceVersion       = "service.version"
	HostName             = "host.name"
	OSType               = "os.type"
	ProcessOwner         = "process.owner"
	UserName             = "user.name"
	TelemetrySDKName     = "telemetry.sdk.name"
	TelemetrySDKLanguage = "telemetry.sdk.language"
	TelemetrySDKVersion  = "telemetry.sdk.version"
	CcotelVersion        = "ccotel.version"
)

// What the real Claude Code 2.1.328 sends beyond the documented hooks
// (issue 10): batch-only tool calls, task notifications, model switches,
// resume fields, per-turn traces.
const (
	// ErrorRejected is error.type of a tool call Claude Code rejected
	// before running it (input validation, a tool the session does not
	// have): only PostToolBatch reports it.
	ErrorRejected = "rejected"
	// ToolPostMissed marks a call ended by PostToolBatch, its Post event
	// never having come.
	ToolPostMissed = "claude_code.tool.post_missed"

	// TurnOrigin says what opened a turn: TurnOriginPrompt (typed by the
	// person) or TurnOriginTaskNotification (Claude Code reporting a
	// background task's end as a new prompt).
	TurnOrigin                 = "claude_code.turn.origin"
	TurnOriginPrompt           = "prompt"
	TurnOriginTaskNotification = "task_notification"
	// SessionTaskNotifications counts the task-notification turns of a
	// run; SessionTurns counts typed prompts only.
	SessionTaskNotifications = "claude_code.session.task_notifications"

	// Model switches (PreModelSwitch / PostModelSwitch span events).
	ModelFrom      = "claude_code.model.from"
	ModelTo        = "claude_code.model.to"
	ModelRequested = "claude_code.model.requested"

	// Fields of a resumed or forked SessionStart, on the run's top span,
	// and of a model switch (span event).
	ContextTokens            = "claude_code.context_tokens"
	SecondsSinceLastResponse = "claude_code.seconds_since_last_response"
	PromptCacheLikelyExpired = "claude_code.prompt_cache_likely_expired"
	EstimatedCacheWriteUSD   = "claude_code.estimated_cache_write_usd"
	PromptCacheWarm          = "claude_code.prompt_cache_warm"

	// SessionTraceSplit is on the top span when trace_split = "turn":
	// each turn is a trace of its own, linked to the session's root.
	SessionTraceSplit = "claude_code.trace_split"
)
