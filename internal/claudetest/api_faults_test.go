package claudetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// compactBody is a request as Claude Code 2.1.328 sends it for /compact:
// the main agent's system prompt, the conversation, then the summary
// instruction as the last user message (here as a text block).
const compactBody = `{"model":"claude-opus-5-5","stream":true,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.328.0; cc_entrypoint=sdk-cli;"}],` +
	`"messages":[{"role":"user","content":"Hello."},{"role":"assistant","content":[{"type":"text","text":"Hi."}]},` +
	`{"role":"user","content":[{"type":"text","text":"CRITICAL: Respond with TEXT ONLY. Do NOT call any tools.\n\nYour task is to create a detailed summary of the conversation so far, paying close attention to …"}]}]}`

func TestClassifyCompaction(t *testing.T) {
	for _, c := range []struct {
		body string
		want Kind
	}{
		{compactBody, KindCompact},
		{compactStringBody(), KindCompact},
		{mainBody, KindMain},
		{subagentBody, KindSubagent},
		// The marker in an earlier message (a person quoting it) is not a compaction.
		{`{"messages":[{"role":"user","content":"` + compactionMarker + `"},{"role":"assistant","content":"ok"},{"role":"user","content":"go on"}]}`, KindMain},
	} {
		if got := classify([]byte(c.body)); got != c.want {
			t.Errorf("classify(%.80s…) = %s, want %s", c.body, got, c.want)
		}
	}
}

func compactStringBody() string {
	return `{"messages":[{"role":"user","content":"Hello."},{"role":"user","content":"CRITICAL: … ` + compactionMarker + `, … Additional Instructions:\nfocus on X"}]}`
}

func TestServerCompactScript(t *testing.T) {
	srv := NewServer(Script{
		Main:    []Response{text("main", Usage{InputTokens: 1})},
		Compact: []Response{text("<summary>S</summary>", Usage{InputTokens: 7000, OutputTokens: 500})},
	})
	defer srv.Close()
	srv.Pace = 0
	_, _ = io.Copy(io.Discard, post(t, srv.URL(), compactBody).Body)
	_, _ = io.Copy(io.Discard, post(t, srv.URL(), mainBody).Body)
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Kind != KindCompact || reqs[0].Index != 0 || reqs[0].Response.Usage.InputTokens != 7000 ||
		reqs[1].Kind != KindMain || reqs[1].Index != 0 {
		t.Fatalf("requests %+v", reqs)
	}
	if u := srv.Unanswered(); len(u) != 0 {
		t.Errorf("unanswered %v", u)
	}
}

// TestServerErrors: each attempt takes the next scripted response; a failed
// one is answered with its status, a request-id header and the API's error
// body; a sticky error answers every later attempt.
func TestServerErrors(t *testing.T) {
	srv := NewServer(Script{Main: []Response{Overloaded(), InternalError(), PromptTooLong(), text("ok", Usage{OutputTokens: 1}), BadRequest("nope")}})
	defer srv.Close()
	srv.Pace = 0
	want := []struct {
		status int
		typ    string
	}{{529, "overloaded_error"}, {500, "api_error"}, {400, "invalid_request_error"}, {200, ""}, {400, "invalid_request_error"}, {400, "invalid_request_error"}}
	for i, w := range want {
		resp := post(t, srv.URL(), mainBody)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != w.status || resp.Header.Get("request-id") == "" {
			t.Fatalf("attempt %d: status %d request-id %q, want %d", i+1, resp.StatusCode, resp.Header.Get("request-id"), w.status)
		}
		if w.status == 200 {
			continue
		}
		var e struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Type != "error" || e.Error.Type != w.typ || e.Error.Message == "" || e.RequestID != resp.Header.Get("request-id") {
			t.Errorf("attempt %d: body %s", i+1, body)
		}
		if i == 2 && !strings.HasPrefix(e.Error.Message, "prompt is too long") {
			t.Errorf("prompt too long message %q", e.Error.Message)
		}
	}
	reqs := srv.Requests()
	if reqs[5].Index != 4 || reqs[5].Status != 400 || reqs[5].Response.Error == nil {
		t.Errorf("sticky attempt: %+v", reqs[5])
	}
	if u := srv.Unanswered(); len(u) != 0 {
		t.Errorf("a sticky error left as unanswered: %v", u)
	}
}

// TestServerSlowBlockAndAbort: a block's PauseMS slows its deltas; a client
// that goes away mid-stream is recorded as Aborted, and the server stops
// writing (ContentDone stays zero).
func TestServerSlowBlockAndAbort(t *testing.T) {
	slow := Text(strings.Repeat("x", 400)) // 10 deltas
	slow.PauseMS = 100
	srv := NewServer(Script{Main: []Response{{Blocks: []Block{slow}}}})
	defer srv.Close()
	srv.Pace = 0
	resp, err := http.Post(srv.URL()+"/v1/messages?beta=true", "application/json", strings.NewReader(mainBody))
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	start := time.Now()
	var deltas int
	for deltas < 3 {
		line, err := br.ReadBytes('\n')
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(line, []byte("event: content_block_delta")) {
			deltas++
		}
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("3 deltas of a block with PauseMS 100 came in %s", d)
	}
	resp.Body.Close() // the person pressed Escape
	deadline := time.Now().Add(5 * time.Second)
	for srv.Requests()[0].Finished.IsZero() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	q := srv.Requests()[0]
	if !q.Aborted || !q.ContentDone.IsZero() || q.Finished.Sub(q.Received) > 700*time.Millisecond {
		t.Errorf("aborted %v, content done %v, answered in %s", q.Aborted, q.ContentDone, q.Finished.Sub(q.Received))
	}
}
