package claudetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Usage is what the scripted API declares for one response, in the Messages
// API's own field names.
type Usage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
}

// Block is one content block of a scripted response: text, or a tool_use
// when Tool is set.
type Block struct {
	Text  string          `json:"text,omitempty"`
	Tool  string          `json:"tool,omitempty"`  // tool_use name
	ID    string          `json:"id,omitempty"`    // tool_use id (toolu_…)
	Input json.RawMessage `json:"input,omitempty"` // tool_use input, any JSON object (also invalid ones for the tool)
	// PauseMS is a pause before each of the block's deltas (40 bytes each),
	// on top of the server's Pace: a block that streams slowly, so that a
	// test can interrupt the client while the model "writes".
	PauseMS int `json:"pause_ms,omitempty"`
}

// Text is a text block.
func Text(s string) Block { return Block{Text: s} }

// ToolUse is a tool_use block; input is marshalled to JSON (a string is taken
// as JSON text as it is).
func ToolUse(id, name string, input any) Block {
	var raw []byte
	switch v := input.(type) {
	case string:
		raw = []byte(v)
	case json.RawMessage:
		raw = v
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			panic(fmt.Sprintf("claudetest: tool input of %s: %v", id, err))
		}
	}
	return Block{Tool: name, ID: id, Input: raw}
}

// Response is one scripted answer of the Messages API.
type Response struct {
	// Model is the model the response declares; "" echoes the request's model.
	Model  string  `json:"model,omitempty"`
	Blocks []Block `json:"blocks"`
	Usage  Usage   `json:"usage"`
	// StopReason defaults to "tool_use" when a block is a tool_use, else "end_turn".
	StopReason string `json:"stop_reason,omitempty"`
	// Error, if set, makes this attempt fail with an HTTP error in the real
	// API's shape instead of a message (Blocks and Usage are then unused).
	Error *APIError `json:"error,omitempty"`
}

func (r Response) stopReason() string {
	if r.StopReason != "" {
		return r.StopReason
	}
	for _, b := range r.Blocks {
		if b.Tool != "" {
			return "tool_use"
		}
	}
	return "end_turn"
}

// Script is what the API answers, in order: Main for the main agent's
// requests, Subagent for requests made by subagents, Compact for the
// requests that summarise the conversation for /compact or automatic
// compaction (see [Kind]). Each attempt takes the next response, so a
// retried request takes one per attempt.
type Script struct {
	Main     []Response `json:"main"`
	Subagent []Response `json:"subagent,omitempty"`
	Compact  []Response `json:"compact,omitempty"`
}

func (s Script) queue(k Kind) []Response {
	switch k {
	case KindSubagent:
		return s.Subagent
	case KindCompact:
		return s.Compact
	}
	return s.Main
}

// Kind tells which agent made a Messages request.
type Kind string

const (
	KindMain     Kind = "main"
	KindSubagent Kind = "subagent"
	KindCompact  Kind = "compact"
)

// subagentMarker is what Claude Code 2.1.328 puts in the first system block
// (its "x-anthropic-billing-header: cc_version=…; cc_entrypoint=sdk-cli;"
// line) of every request a subagent makes, and never in the main agent's.
const subagentMarker = "cc_is_subagent=true"

// classify tells a subagent's request from the main agent's. Seen on
// 2.1.328: the tools list does not tell them apart (a general-purpose
// subagent has Agent too), nor does metadata.user_id (the same device and
// session id) or any header; the system prompt does. Its first block is the
// billing line, which for a subagent ends in "cc_is_subagent=true;", and its
// third block is the agent's own prompt ("You are an agent for Claude Code,
// …" for general-purpose) instead of the main agent's.
func classify(body []byte) Kind {
	var req struct {
		System json.RawMessage `json:"system"` // a string or an array of blocks
	}
	if isCompaction(body) {
		return KindCompact
	}
	if json.Unmarshal(body, &req) == nil && bytes.Contains(req.System, []byte(subagentMarker)) {
		return KindSubagent
	}
	return KindMain
}

// Request is one HTTP request the server received, with the answer it gave.
type Request struct {
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	Query    string      `json:"query,omitempty"`
	Header   http.Header `json:"-"`
	Body     []byte      `json:"-"`
	Kind     Kind        `json:"kind,omitempty"`
	Model    string      `json:"model,omitempty"` // the model the request asked for
	Stream   bool        `json:"stream,omitempty"`
	Status   int         `json:"status"`
	Error    string      `json:"error,omitempty"`    // why the server did not answer from the script
	Index    int         `json:"index"`              // position in its script (Main or Subagent), -1 if none
	Response *Response   `json:"response,omitempty"` // the scripted answer, with Model filled in
	MsgID    string      `json:"message_id,omitempty"`
	ReqID    string      `json:"request_id,omitempty"`
	// Aborted: the client went away before the answer was complete (an
	// interrupt while the model streamed).
	Aborted  bool      `json:"aborted,omitempty"`
	Received time.Time `json:"-"` // when the handler started
	// ContentDone is when the last content_block_stop was about to be
	// written: the client cannot know the content was complete before it.
	ContentDone time.Time `json:"-"`
	Finished    time.Time `json:"-"` // when the last byte of the answer was flushed
}

// Server is a scripted Messages API on 127.0.0.1. Its zero value is not
// usable; call [NewServer].
type Server struct {
	// Pace is the pause between two SSE events of a response, so that a
	// request's duration is measurable (default 15ms). Set before requests come.
	Pace time.Duration
	// Expand, if set, rewrites each tool_use input (JSON text) before it is
	// sent, e.g. to put the sandbox's directory into a file_path.
	Expand func(string) string

	srv *httptest.Server

	mu       sync.Mutex
	script   Script
	next     map[Kind]int
	requests []*Request
	seq      int
}

// NewServer starts a scripted Messages API; Close it when done.
func NewServer(script Script) *Server {
	s := &Server{Pace: 15 * time.Millisecond, script: script, next: map[Kind]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL for ANTHROPIC_BASE_URL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetScript replaces the script and restarts both queues, for the next run of
// a resumed session.
func (s *Server) SetScript(script Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = script
	s.next = map[Kind]int{}
}

// Requests returns a copy of every request received so far, in arrival
// order. A request still being answered has a zero Finished.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
	}
	return out
}

// Unanswered returns the scripted responses no request consumed, per kind.
func (s *Server) Unanswered() map[Kind]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[Kind]int{}
	for _, k := range []Kind{KindMain, KindSubagent, KindCompact} {
		q := s.script.queue(k)
		if n := len(q) - s.next[k]; n > 0 && !(n == 1 && q[len(q)-1].Error != nil && q[len(q)-1].Error.Sticky) {
			m[k] = n
		}
	}
	return m
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Received: time.Now(), Index: -1}
	rec.Body, _ = io.ReadAll(r.Body)
	// The handler fills its own copy; the shared one is replaced, under the
	// lock, once the answer is complete (Requests sees a zero Finished until then).
	s.mu.Lock()
	slot := len(s.requests)
	s.requests = append(s.requests, &Request{Method: rec.Method, Path: rec.Path, Query: rec.Query, Received: rec.Received, Index: -1})
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	defer func() {
		rec.Finished = time.Now()
		s.mu.Lock()
		*s.requests[slot] = rec
		s.mu.Unlock()
	}()

	if r.URL.Path != "/v1/messages" {
		rec.Status = http.StatusNotFound
		rec.Error = "not part of the scripted API"
		apiError(w, rec.Status, "not_found_error", "claudetest: no such endpoint "+r.Method+" "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		rec.Status = http.StatusMethodNotAllowed
		rec.Error = "method"
		apiError(w, rec.Status, "invalid_request_error", "claudetest: "+r.Method+" /v1/messages")
		return
	}
	var req struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	if err := json.Unmarshal(rec.Body, &req); err != nil {
		rec.Status = http.StatusBadRequest
		rec.Error = "body is not JSON: " + err.Error()
		apiError(w, rec.Status, "invalid_request_error", "claudetest: "+rec.Error)
		return
	}
	rec.Model, rec.Stream = req.Model, req.Stream
	rec.Kind = classify(rec.Body)

	s.mu.Lock()
	queue := s.script.queue(rec.Kind)
	i := s.next[rec.Kind]
	var resp Response
	ok := i < len(queue)
	if ok {
		resp = queue[i]
		if resp.Error == nil || !resp.Error.Sticky {
			s.next[rec.Kind] = i + 1
		}
		rec.Index = i
	}
	s.mu.Unlock()
	if !ok {
		// 400 rather than 5xx: Claude Code retries 5xx and 429, and a test
		// that ran out of script must fail fast, not wait out the retries.
		rec.Status = http.StatusBadRequest
		rec.Error = fmt.Sprintf("script exhausted: %s request %d, only %d scripted", rec.Kind, i+1, len(queue))
		apiError(w, rec.Status, "invalid_request_error", "claudetest: "+rec.Error)
		return
	}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	if s.Expand != nil {
		blocks := make([]Block, len(resp.Blocks))
		for i, b := range resp.Blocks {
			if b.Tool != "" {
				b.Input = json.RawMessage(s.Expand(string(b.Input)))
			}
			blocks[i] = b
		}
		resp.Blocks = blocks
	}
	rec.Response = &resp
	rec.ReqID = fmt.Sprintf("req_claudetest%04d", seq)
	w.Header().Set("request-id", rec.ReqID)
	w.Header().Set("anthropic-organization-id", "00000000-0000-0000-0000-000000000000")
	if resp.Error != nil {
		rec.Status = resp.Error.Status
		resp.Error.write(w, rec.ReqID)
		return
	}
	rec.MsgID = fmt.Sprintf("msg_claudetest%04d", seq)
	rec.Status = http.StatusOK
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(message(rec.MsgID, resp, true))
		return
	}
	rec.ContentDone = s.stream(r.Context(), w, rec.MsgID, resp)
	rec.Aborted = r.Context().Err() != nil
}

// apiError answers in the Messages API's error shape.
func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":  "error",
		"error": map[string]string{"type": typ, "message": msg},
	})
}

// message is the Message object: complete (non-streaming answers), or as
// message_start carries it (no content, output_tokens 1 as the real API
// sends before any token is generated).
func message(id string, r Response, complete bool) map[string]any {
	usage := map[string]any{
		"input_tokens":                r.Usage.InputTokens,
		"cache_creation_input_tokens": r.Usage.CacheCreationInputTokens,
		"cache_read_input_tokens":     r.Usage.CacheReadInputTokens,
		"output_tokens":               1,
		"service_tier":                "standard",
	}
	content := []any{}
	var stop any
	if complete {
		usage["output_tokens"] = r.Usage.OutputTokens
		for _, b := range r.Blocks {
			content = append(content, blockStart(b, true))
		}
		stop = r.stopReason()
	}
	return map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": r.Model,
		"content": content, "stop_reason": stop, "stop_sequence": nil, "usage": usage,
	}
}

// blockStart is a content block as content_block_start carries it (empty),
// or complete.
func blockStart(b Block, complete bool) map[string]any {
	if b.Tool == "" {
		text := ""
		if complete {
			text = b.Text
		}
		return map[string]any{"type": "text", "text": text}
	}
	input := any(map[string]any{})
	if complete {
		input = b.Input
	}
	return map[string]any{"type": "tool_use", "id": b.ID, "name": b.Tool, "input": input}
}

// chunks cuts s into pieces of at most n bytes, at least one piece.
func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// sleep waits d, or less if ctx ends: a client that went away is not
// written to for the rest of a slow script.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// stream writes the response as the Messages API's SSE stream and returns
// when the last content block was complete.
func (s *Server) stream(ctx context.Context, w http.ResponseWriter, id string, r Response) (contentDone time.Time) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	first := true
	// event writes one event and returns when it started writing it; once
	// the client went away it writes nothing and returns the zero time.
	event := func(typ string, data map[string]any) time.Time {
		if !first && s.Pace > 0 {
			sleep(ctx, s.Pace)
		}
		if ctx.Err() != nil {
			return time.Time{}
		}
		first = false
		at := time.Now()
		data["type"] = typ
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
		if fl != nil {
			fl.Flush()
		}
		return at
	}
	event("message_start", map[string]any{"message": message(id, r, false)})
	event("ping", map[string]any{})
	for i, b := range r.Blocks {
		event("content_block_start", map[string]any{"index": i, "content_block": blockStart(b, false)})
		pause := time.Duration(b.PauseMS) * time.Millisecond
		if b.Tool == "" {
			for _, c := range chunks(b.Text, 40) {
				sleep(ctx, pause)
				event("content_block_delta", map[string]any{"index": i, "delta": map[string]any{"type": "text_delta", "text": c}})
			}
		} else {
			in := strings.TrimSpace(string(b.Input))
			if in == "" {
				in = "{}"
			}
			for _, c := range chunks(in, 40) {
				sleep(ctx, pause)
				event("content_block_delta", map[string]any{"index": i, "delta": map[string]any{"type": "input_json_delta", "partial_json": c}})
			}
		}
		contentDone = event("content_block_stop", map[string]any{"index": i})
	}
	// message_delta carries the final usage, cumulative, as the API does today.
	event("message_delta", map[string]any{
		"delta": map[string]any{"stop_reason": r.stopReason(), "stop_sequence": nil},
		"usage": map[string]any{
			"input_tokens":                r.Usage.InputTokens,
			"cache_creation_input_tokens": r.Usage.CacheCreationInputTokens,
			"cache_read_input_tokens":     r.Usage.CacheReadInputTokens,
			"output_tokens":               r.Usage.OutputTokens,
		},
	})
	event("message_stop", map[string]any{})
	return contentDone
}
