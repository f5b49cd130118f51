package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// session is one synthetic Claude Code session whose hook payloads the
// benchmarks feed to `ccotel hook` (and to the peer), shaped like the
// examples in claude-code-hooks.md.
type session struct {
	ID         string
	Transcript string // an existing (empty) transcript file, as Claude Code would have
	Cwd        string
	promptID   string
}

func newSession(dir string) *session {
	s := &session{ID: uuid(), Cwd: "/home/dev/app", promptID: uuid()}
	s.Transcript = filepath.Join(dir, s.ID+".jsonl")
	os.WriteFile(s.Transcript, nil, 0o600)
	return s
}

func (s *session) common(event string) map[string]any {
	return map[string]any{
		"session_id":      s.ID,
		"transcript_path": s.Transcript,
		"cwd":             s.Cwd,
		"hook_event_name": event,
	}
}

func (s *session) SessionStart() []byte {
	m := s.common("SessionStart")
	m["source"] = "startup"
	m["model"] = "claude-sonnet-4-5-20250929"
	return mustJSON(m)
}

func (s *session) UserPromptSubmit() []byte {
	m := s.common("UserPromptSubmit")
	m["prompt_id"] = s.promptID
	m["permission_mode"] = "default"
	m["prompt"] = "add a retry to the upload client"
	return mustJSON(m)
}

func (s *session) toolEvent(event, toolUseID string) map[string]any {
	m := s.common(event)
	m["prompt_id"] = s.promptID
	m["permission_mode"] = "default"
	m["effort"] = map[string]any{"level": "high"}
	m["tool_name"] = "Bash"
	m["tool_input"] = map[string]any{"command": "npm test -- upload", "description": "Run upload tests", "timeout": 120000, "run_in_background": false}
	m["tool_use_id"] = toolUseID
	return m
}

func (s *session) PreToolUse(toolUseID string) []byte {
	return mustJSON(s.toolEvent("PreToolUse", toolUseID))
}

// PostToolUse is a Bash PostToolUse whose tool_response.stdout is stdout.
func (s *session) PostToolUse(toolUseID, stdout string) []byte {
	m := s.toolEvent("PostToolUse", toolUseID)
	m["tool_response"] = map[string]any{"stdout": stdout, "stderr": "", "interrupted": false, "isImage": false}
	m["duration_ms"] = 4187
	return mustJSON(m)
}

// smallStdout is the tool output of the ordinary PostToolUse event.
const smallStdout = "> upload@1.0.0 test\n> jest upload\n\nPASS src/upload.test.ts\n  upload client\n    ✓ retries on 503 (12 ms)\n    ✓ gives up after 3 attempts (4 ms)\n\nTests: 12 passed, 12 total\n"

// bigStdout is about n bytes of test-runner output, the shape of a large
// Bash or Read tool_response (text with quotes and escapes to decode).
func bigStdout(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "    ✓ case %06d: \"upload\" retries\tafter 503 (%d ms) \\ ok\n", i, i%97)
	}
	return b.String()[:n]
}

// toolSpanID is the span ID ccotel derives for a tool call
// (docs/ARCHITECTURE.md, "Identity"), so the benchmarks can check that
// exactly the expected spans reached the receiver.
func toolSpanID(sessionID, toolUseID string) string {
	h := sha256.Sum256([]byte("ccotel/tool/" + sessionID + "/" + toolUseID))
	id := h[:8]
	if string(id) == "\x00\x00\x00\x00\x00\x00\x00\x00" {
		id[7] = 1
	}
	return hex.EncodeToString(id)
}

func toolUseID(tag string, i int) string { return fmt.Sprintf("toolu_01bench%s%06d", tag, i) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func uuid() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
