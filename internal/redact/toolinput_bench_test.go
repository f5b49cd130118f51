package redact

import (
	"encoding/json"
	"strings"
	"testing"
)

// toolInputCapture is a realistic tool_input at content level: a Bash
// call and a Write call, JSON-encoded as the hook receives them, holding
// commands, code and a config file with a few key = value lines (no
// secret).
func toolInputCapture() string {
	bash, _ := json.Marshal(map[string]any{"tool_name": "Bash", "tool_input": map[string]string{
		"command":     "cd /home/dev/app && go test ./internal/... -run TestUpload -count=1 2>&1 | tail -40 && git status --short && kubectl get pods -n prod -o wide",
		"description": "Run the upload tests and check the cluster",
	}})
	file := strings.Repeat(`package config

// Settings of the upload client: keyboard shortcuts, cache keys, tokens per request.
type Settings struct {
	MaxTokens  int    `+"`toml:\"max_tokens\"`"+` // tokens: 1234 counts
	CacheKey   string `+"`toml:\"cache_key\"`"+`
	SortKey    string // sort_key: created_at
	Password   string // read from os.Getenv("DB_PASSWORD")
	PublicKey  string
}

func (s *Settings) Key(monkey int) string { return fmt.Sprintf("%s:%d", s.CacheKey, monkey) }
`, 8)
	write, _ := json.Marshal(map[string]any{"tool_name": "Write", "tool_input": map[string]string{
		"file_path": "/home/dev/app/internal/config/settings.go", "content": file,
	}})
	return string(bash) + "\n" + string(write)
}

// BenchmarkCleanToolInput is the redaction of a realistic tool_input at
// content level (see toolInputCapture), 4.1 KB.
func BenchmarkCleanToolInput(b *testing.B) {
	s := toolInputCapture()
	var r *Redactor
	r.Clean(s, 0)
	b.SetBytes(int64(len(s)))
	b.ResetTimer()
	for b.Loop() {
		r.Clean(s, 0)
	}
}
