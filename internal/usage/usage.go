// Package usage reads token usage and models from Claude Code transcripts
// (JSON Lines) and estimates cost. It runs in the flusher, off the hook's
// critical path, as a tracing.Finisher.
package usage

import "time"

// Ref is what package hook stores in tracing.Span.Pending: where the token
// usage of a span is to be read from. The flusher's Finisher (this
// package) reads it, sets the gen_ai.usage.* / gen_ai.*.model /
// claude_code.cost.usd attributes on the span and clears Pending.
type Ref struct {
	Scope    string `json:"scope"`               // "turn", "agent", "session" or "compact" (compact.go)
	Path     string `json:"path"`                // transcript_path, or agent_transcript_path for "agent"
	Offset   int64  `json:"offset,omitempty"`    // byte offset where the turn's lines start (file size at UserPromptSubmit)
	PromptID string `json:"prompt_id,omitempty"` // the turn's prompt_id, when Claude Code sent one
	AgentID  string `json:"agent_id,omitempty"`  // for "agent"
	// SubagentDir is <session>/subagents next to the main transcript, for
	// "session" totals that include subagents.
	SubagentDir string `json:"subagent_dir,omitempty"`
	// ToolUseID is the call of a "tool" Ref: a tool span that ended
	// without its Post event, whose end and outcome the transcript's
	// tool_result tells (read as the turn of PromptID from Offset).
	ToolUseID string `json:"tool_use_id,omitempty"`
	// Until, when set, says the span ended without its end event (a turn
	// without Stop, a call without Post) and the hook ended it at the
	// last it knew of it; Until is when the hook learnt it was over (the
	// next prompt, the session's end). The transcript's evidence may move
	// the span's end anywhere between its start and Until.
	Until time.Time `json:"until,omitzero"`
	// CompactBase is, for "session", the number of the session's
	// compactions before this run: the run's i-th compaction (from 1) is
	// the session's (CompactBase+i)-th, whose span the hook derived.
	CompactBase int `json:"compact_base,omitempty"`
}
