package semconv

// Names of the model-request spans, cost and time-breakdown attributes the
// flusher adds from transcripts (package usage). See docs/TOKENS.md.
const (
	// OperationChat is gen_ai.operation.name of a model request's span,
	// named SpanChat + " " + the model.
	OperationChat = "chat"
	SpanChat      = OperationChat

	GenAIResponseID            = "gen_ai.response.id"             // message.id
	GenAIResponseFinishReasons = "gen_ai.response.finish_reasons" // [stop_reason]

	// ChatRequestID is the API's request id (the transcript's requestId).
	ChatRequestID = "claude_code.request.id"
	// Timing is TimingEstimated when a span's start was not written by
	// Claude Code (no api-request line): it is the line that triggered
	// the request.
	Timing          = "claude_code.timing"
	TimingEstimated = "estimated"
	// TimingTranscript marks every span of a session imported from its
	// transcript (ccotel import): its times are the transcript's lines,
	// not hook events (a tool starts at its tool_use line, not at
	// PreToolUse; a permission wait is inside the call).
	TimingTranscript = "transcript"

	// CostSource says where claude_code.cost.usd comes from: CostSourceClaudeCode
	// (the transcript's cost-state lines, Claude Code's own accounting) or
	// CostSourcePriceTable (ccotel's price table).
	CostSource           = "claude_code.cost.source"
	CostSourceClaudeCode = "claude_code"
	CostSourcePriceTable = "price_table"
	// CostUnpricedModels lists the span's models the price table lacks:
	// where it is set, per-request and per-turn costs are left out.
	CostUnpricedModels = "claude_code.cost.unpriced_models"

	// A failed API attempt's chat span: the HTTP status, the attempts
	// before it in its retry chain (OpenTelemetry HTTP conventions) and
	// the wait Claude Code let pass before the next (api_error's
	// retryInMs).
	HTTPResponseStatusCode = "http.response.status_code"
	HTTPRequestResendCount = "http.request.resend_count"
	RequestRetryInMs       = "claude_code.request.retry_in_ms"

	// A compaction's model call (its chat span, under the compact span):
	// the context's size before and after, and how long it took
	// (compact_boundary's compactMetadata).
	CompactPreTokens  = "claude_code.compact.pre_tokens"
	CompactPostTokens = "claude_code.compact.post_tokens"
	CompactDurationMs = "claude_code.compact.duration_ms"

	// The time breakdown of a turn, subagent or session span, in ms:
	// model time (union of its chat spans), tool time (union of its tool
	// calls from tool_use to tool_result, permission prompts included) and
	// the rest of the span's duration.
	TurnModelMs = "claude_code.turn.model_ms"
	TurnToolMs  = "claude_code.turn.tool_ms"
	TurnOtherMs = "claude_code.turn.other_ms"
)
