package claudetest

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestMCPServer(t *testing.T) {
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ping"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"fail","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":"five","method":"tools/call","params":{"name":"missing"}}`,
		`{"jsonrpc":"2.0","id":6,"method":"resources/list"}`,
	}, "\n") + "\n"
	var out bytes.Buffer
	serveMCP(strings.NewReader(in), &out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d answers, want 6 (no answer to a notification):\n%s", len(lines), out.String())
	}
	want := []string{
		`{"jsonrpc":"2.0","id":1,"result":{"capabilities":{"tools":{}},"protocolVersion":"2025-06-18","serverInfo":{"name":"claudetest","version":"1.0.0"}}}`,
		"", // tools/list, checked below
		`{"jsonrpc":"2.0","id":3,"result":{"content":[{"text":"ping","type":"text"}]}}`,
		`{"jsonrpc":"2.0","id":4,"result":{"content":[{"text":"failed on purpose","type":"text"}],"isError":true}}`,
		`{"jsonrpc":"2.0","id":"five","error":{"code":-32602,"message":"unknown tool: missing"}}`,
		`{"jsonrpc":"2.0","id":6,"error":{"code":-32601,"message":"method not found: resources/list"}}`,
	}
	for i, w := range want {
		if w != "" && lines[i] != w {
			t.Errorf("answer %d:\n got %s\nwant %s", i+1, lines[i], w)
		}
	}
	var list struct {
		Result struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &list); err != nil || len(list.Result.Tools) != 2 || list.Result.Tools[0].Name != "echo" || list.Result.Tools[1].Name != "fail" {
		t.Errorf("tools/list: %s", lines[1])
	}
}

func TestWriteMCPConfig(t *testing.T) {
	sb, err := NewSandbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path, err := sb.WriteMCPConfig()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var cfg struct {
		Servers map[string]struct {
			Type    string            `json:"type"`
			Command string            `json:"command"`
			Env     map[string]string `json:"env"`
		} `json:"mcpServers"`
	}
	exe, _ := os.Executable()
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.Servers[MCPServerName].Command != exe || cfg.Servers[MCPServerName].Env[EnvMCP] == "" || cfg.Servers[MCPServerName].Type != "stdio" {
		t.Errorf("mcp.json: %s", b)
	}
}
