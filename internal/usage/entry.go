package usage

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// One transcript line as ccotel reads it: the entry, its fields, and what
// it says (a prompt, an API response, an error).

// entry is the part of a transcript line ccotel reads. Unknown fields and
// types are ignored; large fields (content, toolUseResult) are skipped by
// the decoder without being copied.
type entry struct {
	Type           string               `json:"type"`
	Subtype        string               `json:"subtype"`
	Timestamp      string               `json:"timestamp"`
	SessionID      string               `json:"sessionId"`
	ID             string               `json:"id"` // api-request
	RequestRef     string               `json:"requestRef"`
	IsAPIError     bool                 `json:"isApiErrorMessage"`
	Error          errorV               `json:"error"`
	TotalCostUSD   *float64             `json:"totalCostUSD"`
	HasUnknownCost bool                 `json:"hasUnknownModelCost"`
	ModelUsage     map[string]modelUseV `json:"modelUsage"`
	// A failed attempt (system api_error), a failed request's error line
	// (assistant, isApiErrorMessage), the model an api-request asked
	// for, a compaction (system compact_boundary).
	RetryAttempt   int64  `json:"retryAttempt"`
	RetryInMs      int64  `json:"retryInMs"`
	APIErrorStatus int64  `json:"apiErrorStatus"`
	APIErrorType   string `json:"apiErrorType"`
	RequestedModel string `json:"requestedModel"`
	Params         *struct {
		Model string `json:"model"`
	} `json:"params"`
	CompactMetadata  *compactV `json:"compactMetadata"`
	PromptID         string    `json:"promptId"`
	RequestID        string    `json:"requestId"`
	IsMeta           bool      `json:"isMeta"`
	IsCompactSummary bool      `json:"isCompactSummary"`
	ToolUseResult    present   `json:"toolUseResult"`
	// PermissionDecision is a tool result's permission outcome (2.1.328:
	// decision "reject" for a call denied for lack of approval).
	PermissionDecision *struct {
		Decision string `json:"decision"`
	} `json:"permissionDecision"`
	Message *struct {
		ID         string   `json:"id"`
		Model      string   `json:"model"`
		StopReason string   `json:"stop_reason"`
		Usage      *usageV  `json:"usage"`
		Content    contentV `json:"content"`
	} `json:"message"`
}

type usageV struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreation            *struct {
		Ephemeral5m int64 `json:"ephemeral_5m_input_tokens"`
		Ephemeral1h int64 `json:"ephemeral_1h_input_tokens"`
	} `json:"cache_creation"`
	ServerToolUse *struct {
		WebSearchRequests int64 `json:"web_search_requests"`
	} `json:"server_tool_use"`
	ServiceTier  string `json:"service_tier"`
	Speed        string `json:"speed"`
	InferenceGeo string `json:"inference_geo"`
}

// modelUseV is one model's totals in a cost-state line.
type modelUseV struct {
	CostUSD      float64 `json:"costUSD"`
	Input        int64   `json:"inputTokens"`
	Output       int64   `json:"outputTokens"`
	CacheRead    int64   `json:"cacheReadInputTokens"`
	CacheWrite   int64   `json:"cacheCreationInputTokens"`
	CacheWrite1h int64   `json:"cacheCreationEphemeral1hInputTokens"`
}

// compactV is a compact_boundary line's compactMetadata.
type compactV struct {
	Trigger    string `json:"trigger"`
	PreTokens  int64  `json:"preTokens"`
	PostTokens int64  `json:"postTokens"`
	DurationMs int64  `json:"durationMs"`
}

// errorV is an error line's error: a string (an error line's kind), or an
// object with a type (an API error body) or with the HTTP status and the
// request id (a failed attempt's api_error line; its message holds the
// API's error body after the status).
type errorV struct {
	kind      string
	status    int64
	requestID string
}

func (e *errorV) UnmarshalJSON(b []byte) error {
	var str string
	if json.Unmarshal(b, &str) == nil {
		e.kind = str
		return nil
	}
	var o struct {
		Type  string `json:"type"`
		Error *struct {
			Type string `json:"type"`
		} `json:"error"`
		Status    int64  `json:"status"`
		RequestID string `json:"requestId"`
		Message   string `json:"message"`
	}
	if json.Unmarshal(b, &o) != nil {
		return nil
	}
	e.status, e.requestID = o.Status, o.RequestID
	switch {
	case o.Error != nil && o.Error.Type != "":
		e.kind = o.Error.Type
	case o.Type != "":
		e.kind = o.Type
	case o.Message != "":
		// "529 {\"error\":{\"type\":\"overloaded_error\",…},…}"
		if i := strings.IndexByte(o.Message, '{'); i >= 0 {
			var body errorV
			if json.Unmarshal([]byte(o.Message[i:]), &body) == nil {
				e.kind = body.kind
			}
		}
	}
	return nil
}

func (e *entry) time() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.Timestamp)
	return t
}

// present records that a field exists (and is not null) without keeping it.
type present bool

func (p *present) UnmarshalJSON(b []byte) error {
	*p = present(string(b) != "null")
	return nil
}

// contentV keeps what turn detection needs from message.content: whether it
// is plain text or carries tool results, and the start of plain text.
type contentV struct {
	text       bool     // a string, or blocks with a text block
	toolResult bool     // blocks with a tool_result
	head       []byte   // first bytes of a string content (JSON-escaped)
	toolUses   []string // ids of tool_use blocks
	results    []string // tool_use_id of tool_result blocks
	failed     []string // of which those with is_error
	// interrupt: the text is Claude Code's "[Request interrupted by
	// user…]" marker (forTool: "… for tool use]").
	interrupt, forTool bool
}

func (c *contentV) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		c.text = true
		c.head = bytes.Clone(b[1:min(len(b), 64)])
		c.interrupt, c.forTool = interruptMarker(b)
	case len(b) > 0 && b[0] == '[':
		// Only the blocks' type and ids are kept; their content (a
		// large tool result, often) is skipped by the decoder.
		var blocks []struct {
			Type      string     `json:"type"`
			ID        string     `json:"id"`
			ToolUseID string     `json:"tool_use_id"`
			IsError   bool       `json:"is_error"`
			Text      markerText `json:"text"`
		}
		if err := json.Unmarshal(b, &blocks); err != nil {
			return err
		}
		for _, bl := range blocks {
			switch bl.Type {
			case "text":
				c.text = true
				if bl.Text.interrupt {
					c.interrupt, c.forTool = true, bl.Text.forTool
				}
			case "tool_result":
				c.toolResult = true
				c.results = append(c.results, bl.ToolUseID)
				if bl.IsError {
					c.failed = append(c.failed, bl.ToolUseID)
				}
			case "tool_use":
				c.toolUses = append(c.toolUses, bl.ID)
			}
		}
	}
	return nil
}

// isPrompt reports whether a user line is a prompt a person (or the SDK)
// submitted, as opposed to a tool result, a meta line, a compaction summary
// or a local command's echo. See claude-code-hooks.md section 4.
func (e *entry) isPrompt() bool {
	if e.Type != "user" || e.IsMeta || e.IsCompactSummary || bool(e.ToolUseResult) || e.Message == nil {
		return false
	}
	c := &e.Message.Content
	if c.toolResult || !c.text {
		return false
	}
	for _, p := range [][]byte{[]byte("<command-"), []byte("<local-command-"), []byte("<bash-stdout>"), []byte("<bash-stderr>")} {
		if bytes.HasPrefix(c.head, p) {
			return false
		}
	}
	return true
}

// toRequest turns an assistant line into a request, or nil for lines that
// are not API responses (no usage, a "<synthetic>" placeholder that is not
// an API error) or carry impossible numbers.
func (e *entry) toRequest(lineNo int) (*request, bool) {
	m := e.Message
	if m == nil {
		return nil, true
	}
	if e.IsAPIError {
		// A request that failed: Claude Code writes a synthetic
		// assistant line with the error instead of a response.
		r := &request{key: "#error" + strconv.Itoa(lineNo), failed: true, noUsage: true,
			errType: e.APIErrorType, status: e.APIErrorStatus, reqID: e.RequestID, stop: m.StopReason}
		if r.errType == "" {
			r.errType = e.Error.kind
		}
		if e.RequestRef != "" {
			r.key = "#ref" + e.RequestRef
		}
		if r.errType == "" {
			r.errType = "api_error"
		}
		return r, true
	}
	if m.Usage == nil || m.Model == "<synthetic>" {
		return nil, true
	}
	u := m.Usage
	if u.InputTokens < 0 || u.OutputTokens < 0 || u.CacheCreationInputTokens < 0 || u.CacheReadInputTokens < 0 {
		return nil, false
	}
	r := &request{
		key:        m.ID + "\x00" + e.RequestID,
		model:      m.Model,
		input:      u.InputTokens,
		output:     u.OutputTokens,
		cacheRead:  u.CacheReadInputTokens,
		cacheWrite: u.CacheCreationInputTokens,
		stop:       m.StopReason,
		msgID:      m.ID,
		reqID:      e.RequestID,
	}
	if m.ID == "" && e.RequestID == "" {
		// Nothing to group by: the line is its own response.
		r.key = "#line" + strconv.Itoa(lineNo)
	}
	if cc := u.CacheCreation; cc != nil && cc.Ephemeral1h > 0 {
		r.cache1h = min(cc.Ephemeral1h, r.cacheWrite)
	}
	if st := u.ServerToolUse; st != nil && st.WebSearchRequests > 0 {
		r.webSearch = st.WebSearchRequests
	}
	r.longCtx = longContext(r.model, r.input+r.cacheRead+r.cacheWrite)
	switch {
	case u.ServiceTier != "" && u.ServiceTier != "standard",
		u.Speed != "" && u.Speed != "standard",
		u.InferenceGeo != "" && u.InferenceGeo != "global" && u.InferenceGeo != "not_available":
		r.offStandard = true
	}
	return r, true
}
