package hook

// Attribute keys. The gen_ai.* keys are those of semconv v1.41.0 (a test
// checks them against go.opentelemetry.io/otel/semconv/v1.41.0; they are
// plain strings here so the hook does not link the semconv package).
const (
	keyOperationName      = "gen_ai.operation.name"
	keyProviderName       = "gen_ai.provider.name"
	keyAgentName          = "gen_ai.agent.name"
	keyAgentID            = "gen_ai.agent.id"
	keyAgentDescription   = "gen_ai.agent.description"
	keyConversationID     = "gen_ai.conversation.id"
	keyRequestModel       = "gen_ai.request.model"
	keyToolName           = "gen_ai.tool.name"
	keyToolCallID         = "gen_ai.tool.call.id"
	keyToolCallArguments  = "gen_ai.tool.call.arguments"
	keyToolCallResult     = "gen_ai.tool.call.result"
	keyErrorType          = "error.type"
	opInvokeAgent         = "invoke_agent"
	opExecuteTool         = "execute_tool"
	providerAnthropic     = "anthropic"
	rootAgentName         = "claude-code"
	rootSpanName          = "invoke_agent claude-code"
	keyIncomplete         = "claude_code.incomplete"
	keyIncompleteReason   = "claude_code.incomplete.reason"
	keySessionSource      = "claude_code.session.source"
	keySessionEndReason   = "claude_code.session.end_reason"
	keySessionStartMissed = "claude_code.session.start_missed"
	keySessionRun         = "claude_code.session.run"
	keySessionTurns       = "claude_code.session.turns"
	keySessionToolCalls   = "claude_code.session.tool_calls"
	keySessionToolErrors  = "claude_code.session.tool_errors"
	keySessionSubagents   = "claude_code.session.subagents"
	keySessionCompactions = "claude_code.session.compactions"
	keySessionTitle       = "claude_code.session.title"
	keyLateEvents         = "claude_code.late_events"
	keyCwd                = "claude_code.cwd"
	keyPermissionMode     = "claude_code.permission_mode"
	keyPromptID           = "claude_code.prompt.id"
	keyPromptLength       = "claude_code.prompt.length"
	keyPromptText         = "claude_code.prompt.text"
	keyTurnIndex          = "claude_code.turn.index"
	keyTurnStartMissed    = "claude_code.turn.start_missed"
	keyEffort             = "claude_code.effort"
	keyToolDurationMs     = "claude_code.tool.duration_ms"
	keyToolPermissionWait = "claude_code.tool.permission_wait_ms"
	keyToolInputSize      = "claude_code.tool.input_size"
	keyToolOutputSize     = "claude_code.tool.output_size"
	keyToolPreMissed      = "claude_code.tool.pre_missed"
	keyToolCommand        = "claude_code.tool.command"
	keyToolFilePath       = "claude_code.tool.file_path"
	keyToolURL            = "claude_code.tool.url"
	keyToolPattern        = "claude_code.tool.pattern"
	keyToolSubagentType   = "claude_code.tool.subagent_type"
	keySubagentStartMiss  = "claude_code.subagent.start_missed"
	keyCompactTrigger     = "claude_code.compact.trigger"
	keyCompactStartMissed = "claude_code.compact.start_missed"
)

// Error types.
const (
	errToolError        = "tool_error"
	errInterrupted      = "interrupted"
	errPermissionDenied = "permission_denied"
)

// Reasons for claude_code.incomplete.reason.
const (
	reasonParentEnded = "parent_ended"
	reasonInterrupted = "interrupted"
	reasonIdle        = "idle_timeout"
)
