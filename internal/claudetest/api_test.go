package claudetest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// sse reads an SSE stream into (event name, data) pairs.
func sse(t *testing.T, r io.Reader) (names []string, data []map[string]any) {
	t.Helper()
	sc := bufio.NewScanner(r)
	var name string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			var m map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &m); err != nil {
				t.Fatalf("data of %s: %v", name, err)
			}
			if m["type"] != name {
				t.Errorf("event %s carries type %v", name, m["type"])
			}
			names = append(names, name)
			data = append(data, m)
		case line == "":
		default:
			t.Errorf("stray SSE line %q", line)
		}
	}
	return names, data
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url+"/v1/messages?beta=true", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const (
	mainBody     = `{"model":"claude-opus-5-5","stream":true,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.328.0; cc_entrypoint=sdk-cli;"}],"messages":[]}`
	subagentBody = `{"model":"claude-opus-5-5","stream":true,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.328.0; cc_entrypoint=sdk-cli; cc_is_subagent=true;"}],"messages":[]}`
)

func TestServerStreamsScript(t *testing.T) {
	long := strings.Repeat("word ", 30) // several text_delta events
	srv := NewServer(Script{
		Main: []Response{{
			Model:  "claude-haiku-5-5",
			Blocks: []Block{Text(long), ToolUse("toolu_X1", "Read", map[string]any{"file_path": "$CWD/a-rather-long-file-name.txt", "limit": 10})},
			Usage:  Usage{InputTokens: 11, OutputTokens: 22, CacheReadInputTokens: 33, CacheCreationInputTokens: 44},
		}},
		Subagent: []Response{text("sub", Usage{InputTokens: 1, OutputTokens: 2})},
	})
	defer srv.Close()
	srv.Pace = 0
	srv.Expand = func(s string) string { return strings.ReplaceAll(s, "$CWD", "/w") }

	resp := post(t, srv.URL(), mainBody)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" || resp.Header.Get("request-id") == "" {
		t.Fatalf("status %d, Content-Type %q, request-id %q", resp.StatusCode, ct, resp.Header.Get("request-id"))
	}
	names, data := sse(t, resp.Body)
	// message_start, ping, text block (start, deltas, stop), tool block, message_delta, message_stop
	if names[0] != "message_start" || names[1] != "ping" || names[len(names)-2] != "message_delta" || names[len(names)-1] != "message_stop" {
		t.Fatalf("events %v", names)
	}
	start := data[0]["message"].(map[string]any)
	if start["model"] != "claude-haiku-5-5" || start["usage"].(map[string]any)["output_tokens"] != 1.0 ||
		start["usage"].(map[string]any)["cache_read_input_tokens"] != 33.0 {
		t.Errorf("message_start %v", start)
	}
	var text, input strings.Builder
	var blocks []string
	for i, n := range names {
		switch n {
		case "content_block_start":
			cb := data[i]["content_block"].(map[string]any)
			blocks = append(blocks, cb["type"].(string))
			if cb["type"] == "tool_use" && (cb["id"] != "toolu_X1" || cb["name"] != "Read") {
				t.Errorf("tool_use start %v", cb)
			}
		case "content_block_delta":
			d := data[i]["delta"].(map[string]any)
			switch d["type"] {
			case "text_delta":
				text.WriteString(d["text"].(string))
			case "input_json_delta":
				input.WriteString(d["partial_json"].(string))
			}
		}
	}
	if strings.Count(strings.Join(names, " "), "content_block_delta") < 3 {
		t.Errorf("want several content_block_delta events: %v", names)
	}
	if text.String() != long || input.String() != `{"file_path":"/w/a-rather-long-file-name.txt","limit":10}` {
		t.Errorf("text %q, input %q", text.String(), input.String())
	}
	if strings.Join(blocks, ",") != "text,tool_use" {
		t.Errorf("blocks %v", blocks)
	}
	md := data[len(data)-2]
	if md["delta"].(map[string]any)["stop_reason"] != "tool_use" {
		t.Errorf("message_delta %v", md)
	}
	u := md["usage"].(map[string]any)
	if u["input_tokens"] != 11.0 || u["output_tokens"] != 22.0 || u["cache_read_input_tokens"] != 33.0 || u["cache_creation_input_tokens"] != 44.0 {
		t.Errorf("message_delta usage %v", u)
	}

	// A subagent's request is answered from the subagent script.
	_, data = sse(t, post(t, srv.URL(), subagentBody).Body)
	if md := data[len(data)-2]; md["delta"].(map[string]any)["stop_reason"] != "end_turn" || md["usage"].(map[string]any)["output_tokens"] != 2.0 {
		t.Errorf("subagent answer %v", md)
	}

	// Out of script: 400, not 5xx (which Claude Code would retry).
	if resp := post(t, srv.URL(), mainBody); resp.StatusCode != 400 {
		t.Errorf("exhausted script: status %d", resp.StatusCode)
	}
	// Anything else: 404.
	r, err := http.Get(srv.URL() + "/api/hello")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 404 {
		t.Errorf("GET /api/hello: %d", r.StatusCode)
	}

	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	kinds := []Kind{reqs[0].Kind, reqs[1].Kind, reqs[2].Kind}
	if kinds[0] != KindMain || kinds[1] != KindSubagent || kinds[2] != KindMain {
		t.Errorf("kinds %v", kinds)
	}
	if reqs[2].Error == "" || reqs[3].Status != 404 || reqs[0].Index != 0 || reqs[2].Index != -1 {
		t.Errorf("requests %+v", reqs)
	}
	q := reqs[0]
	if q.Received.IsZero() || q.ContentDone.Before(q.Received) || q.Finished.Before(q.ContentDone) || q.Model != "claude-opus-5-5" || !q.Stream {
		t.Errorf("request 0 times or fields: %+v", q)
	}
	if len(srv.Unanswered()) != 0 {
		t.Errorf("unanswered %v", srv.Unanswered())
	}
}

func TestServerNonStreaming(t *testing.T) {
	srv := NewServer(Script{Main: []Response{{Blocks: []Block{Text("hi"), ToolUse("toolu_1", "Bash", `{"command":"ls"}`)}, Usage: Usage{InputTokens: 5, OutputTokens: 6}}}})
	defer srv.Close()
	resp := post(t, srv.URL(), `{"model":"m","stream":false}`)
	var m struct {
		Model      string `json:"model"`
		StopReason string `json:"stop_reason"`
		Content    []struct {
			Type  string          `json:"type"`
			Text  string          `json:"text"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		Usage Usage `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m.Model != "m" || m.StopReason != "tool_use" || len(m.Content) != 2 || m.Content[0].Text != "hi" ||
		string(m.Content[1].Input) != `{"command":"ls"}` || m.Usage.OutputTokens != 6 {
		t.Errorf("message %+v", m)
	}
	if srv.Unanswered()[KindMain] != 0 {
		t.Error("the answer did not consume the script")
	}
}
