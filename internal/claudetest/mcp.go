package claudetest

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
)

// EnvMCP switches a process of a test binary that imports this package into
// a small MCP server on stdio (JSON-RPC 2.0, one message a line), for
// Claude Code's --mcp-config: see [Sandbox.WriteMCPConfig]. It has two
// tools: echo, which returns its text, and fail, which returns a result
// with isError.
const EnvMCP = "CCOTEL_CLAUDETEST_MCP"

// MCPServerName is the server's name in the MCP config: its tools reach the
// model as mcp__claudetest__echo and mcp__claudetest__fail.
const MCPServerName = "claudetest"

func init() {
	if os.Getenv(EnvMCP) == "" {
		return
	}
	serveMCP(os.Stdin, os.Stdout)
	os.Exit(0)
}

// WriteMCPConfig writes <root>/mcp.json, an --mcp-config file that runs the
// current test binary as the stdio MCP server [MCPServerName], and returns
// its path.
func (sb *Sandbox) WriteMCPConfig() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{
		MCPServerName: map[string]any{"type": "stdio", "command": exe, "args": []string{"claudetest-mcp"}, "env": map[string]string{EnvMCP: "1"}},
	}}, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(sb.Root, "mcp.json")
	return path, os.WriteFile(path, append(b, '\n'), 0o600)
}

type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

var mcpTools = []map[string]any{
	{"name": "echo", "description": "Returns its text.", "inputSchema": map[string]any{
		"type": "object", "properties": map[string]any{"text": map[string]any{"type": "string"}}, "required": []string{"text"}}},
	{"name": "fail", "description": "Always fails.", "inputSchema": map[string]any{"type": "object", "properties": map[string]any{}}},
}

// serveMCP answers JSON-RPC requests line by line until in ends;
// notifications get no answer.
func serveMCP(in io.Reader, out io.Writer) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	enc := json.NewEncoder(out)
	for sc.Scan() {
		var req rpcMessage
		if json.Unmarshal(sc.Bytes(), &req) != nil || len(req.ID) == 0 {
			continue
		}
		resp := rpcMessage{JSONRPC: "2.0", ID: req.ID}
		resp.Result, resp.Error = mcpAnswer(req)
		_ = enc.Encode(resp)
	}
}

func mcpAnswer(req rpcMessage) (any, *rpcError) {
	switch req.Method {
	case "initialize":
		var p struct {
			Version string `json:"protocolVersion"`
		}
		_ = json.Unmarshal(req.Params, &p)
		if p.Version == "" {
			p.Version = "2025-06-18"
		}
		return map[string]any{"protocolVersion": p.Version, "capabilities": map[string]any{"tools": map[string]any{}},
			"serverInfo": map[string]any{"name": MCPServerName, "version": "1.0.0"}}, nil
	case "ping":
		return map[string]any{}, nil
	case "tools/list":
		return map[string]any{"tools": mcpTools}, nil
	case "tools/call":
		var p struct {
			Name string `json:"name"`
			Args struct {
				Text string `json:"text"`
			} `json:"arguments"`
		}
		_ = json.Unmarshal(req.Params, &p)
		switch p.Name {
		case "echo":
			return map[string]any{"content": []any{map[string]any{"type": "text", "text": p.Args.Text}}}, nil
		case "fail":
			return map[string]any{"content": []any{map[string]any{"type": "text", "text": "failed on purpose"}}, "isError": true}, nil
		}
		return nil, &rpcError{Code: -32602, Message: "unknown tool: " + p.Name}
	}
	return nil, &rpcError{Code: -32601, Message: "method not found: " + req.Method}
}
