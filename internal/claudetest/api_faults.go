package claudetest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// APIError is a scripted failed attempt, answered as the Messages API
// answers errors: the HTTP status, a request-id header and the body
// {"type":"error","error":{"type":…,"message":…},"request_id":…}.
type APIError struct {
	Status  int    `json:"status"`
	Type    string `json:"type"`
	Message string `json:"message"`
	// Sticky: the error fails for good; every later attempt of the same
	// kind gets it too (the queue does not move on).
	Sticky bool `json:"sticky,omitempty"`
}

// Overloaded is the 529 the API answers when it is overloaded; Claude Code
// retries it.
func Overloaded() Response {
	return Response{Error: &APIError{Status: 529, Type: "overloaded_error", Message: "Overloaded"}}
}

// InternalError is a 500 api_error; Claude Code retries it.
func InternalError() Response {
	return Response{Error: &APIError{Status: http.StatusInternalServerError, Type: "api_error", Message: "Internal server error"}}
}

// PromptTooLong is the 400 the API answers when the request exceeds the
// model's context window; Claude Code 2.1.328 compacts the conversation and
// sends the request again (reactive automatic compaction).
func PromptTooLong() Response {
	return Response{Error: &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: "prompt is too long: 215000 tokens > 200000 maximum"}}
}

// BadRequest is a 400 invalid_request_error that fails for good: every
// later attempt gets it too.
func BadRequest(msg string) Response {
	return Response{Error: &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: msg, Sticky: true}}
}

func (e *APIError) write(w http.ResponseWriter, requestID string) {
	w.Header().Set("Content-Type", "application/json")
	if e.Status == 529 || e.Status >= 500 {
		w.Header().Set("x-should-retry", "true")
	}
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":       "error",
		"error":      map[string]string{"type": e.Type, "message": e.Message},
		"request_id": requestID,
	})
}

// compactionMarker is in the last user message of the request Claude Code
// 2.1.328 sends to summarise the conversation (/compact, or automatic
// compaction). Seen on the real CLI: nothing else tells it apart. Its
// system prompt, tools, model, metadata and headers are those of the main
// agent's requests (no cc_is_subagent, though the hooks report it as a
// forked agent); its messages are the conversation followed by a user
// message "CRITICAL: Respond with TEXT ONLY. Do NOT call any tools. …
// Your task is to create a detailed summary of the conversation so far, …"
// with the /compact instructions appended ("Additional Instructions: …").
const compactionMarker = "Your task is to create a detailed summary of the conversation so far"

// isCompaction tells whether a Messages request body is a compaction request.
func isCompaction(body []byte) bool {
	var req struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if json.Unmarshal(body, &req) != nil || len(req.Messages) == 0 {
		return false
	}
	last := req.Messages[len(req.Messages)-1]
	if last.Role != "user" {
		return false
	}
	var text string
	if json.Unmarshal(last.Content, &text) == nil {
		return strings.Contains(text, compactionMarker)
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(last.Content, &blocks) != nil {
		return false
	}
	for _, b := range blocks {
		if b.Type == "text" && strings.Contains(b.Text, compactionMarker) {
			return true
		}
	}
	return false
}
