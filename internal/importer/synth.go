package importer

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/ccotel/ccotel/hook"
)

// event is one hook event a transcript implies: the payload Claude Code
// would have sent, and when.
type event struct {
	t time.Time
	// offset is the transcript's size when the event happened as far as
	// the transcript tells (the start of the prompt's line, of the run's
	// first line): what the hook would have read at UserPromptSubmit and
	// SessionStart.
	offset int64
	p      payload
	drop   bool // a PreToolUse withdrawn: the call was rejected before it ran
	ask    bool // a PreToolUse whose call waited for an approval that never came
}

// withRequests puts a PermissionRequest right after each PreToolUse of a
// call that asked for approval (ask), as Claude Code sends it: the hook
// gives it to the latest open call of its tool, so it must come before
// the round's next call of that tool.
func withRequests(events []event) []event {
	var out []event
	for i, e := range events {
		if !e.ask {
			if out != nil {
				out = append(out, e)
			}
			continue
		}
		if out == nil {
			out = append(make([]event, 0, len(events)+1), events[:i]...)
		}
		req := e
		req.ask, req.offset = false, 0
		req.p.Name, req.p.ToolUseID = hook.PermissionRequest, "" // no tool_use_id, as Claude Code sends it
		out = append(out, e, req)
	}
	if out == nil {
		return events
	}
	return out
}

// payload is the hook payload, with the members ccotel reads.
type payload struct {
	SessionID           string          `json:"session_id"`
	TranscriptPath      string          `json:"transcript_path,omitempty"`
	Cwd                 string          `json:"cwd,omitempty"`
	PromptID            string          `json:"prompt_id,omitempty"`
	PermissionMode      string          `json:"permission_mode,omitempty"`
	AgentID             string          `json:"agent_id,omitempty"`
	AgentType           string          `json:"agent_type,omitempty"`
	Name                string          `json:"hook_event_name"`
	Source              string          `json:"source,omitempty"`
	Reason              string          `json:"reason,omitempty"`
	Prompt              string          `json:"prompt,omitempty"`
	Trigger             string          `json:"trigger,omitempty"`
	ToolName            string          `json:"tool_name,omitempty"`
	ToolUseID           string          `json:"tool_use_id,omitempty"`
	ToolInput           json.RawMessage `json:"tool_input,omitempty"`
	ToolResponse        json.RawMessage `json:"tool_response,omitempty"`
	ToolCalls           []batchCall     `json:"tool_calls,omitempty"`
	Error               string          `json:"error,omitempty"`
	IsInterrupt         bool            `json:"is_interrupt,omitempty"`
	AgentTranscriptPath string          `json:"agent_transcript_path,omitempty"`
}

// batchCall is an element of PostToolBatch's tool_calls.
type batchCall struct {
	ToolName     string          `json:"tool_name"`
	ToolUseID    string          `json:"tool_use_id"`
	ToolResponse json.RawMessage `json:"tool_response,omitempty"`
}

// maxRaw bounds a tool input or result kept for its event: a larger one
// keeps only its short top-level members (what the state machine reads:
// a Bash command, an Agent's subagent_type, a result's status and
// agentId), so that a session's events stay small however large its
// tool results are.
const (
	maxRaw    = 16 << 10
	maxMember = 1 << 10
)

// small returns raw, or when it is larger than maxRaw an object of its
// short top-level members (nil when it is not an object).
func small(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) <= maxRaw || string(raw) == "null" {
		if string(raw) == "null" {
			return nil
		}
		return bytes.Clone(raw)
	}
	var members map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &members) != nil {
		return nil
	}
	for k, v := range members {
		if len(v) > maxMember {
			delete(members, k)
		}
	}
	out, err := json.Marshal(members)
	if err != nil {
		return nil
	}
	return out
}

// jsonString is s as a JSON string.
func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
