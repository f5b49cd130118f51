package claudetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHookTimings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "debug.txt")
	log := `2026-12-02T03:34:43.362Z [DEBUG] Hooks: SessionStart:startup [/tmp/x/claudetest.test claudetest-hook] finished with status 0 (108ms)
2026-12-02T03:34:43.362Z [DEBUG] Hook output does not start with {, treating as plain text
2026-12-02T03:34:44.047Z [DEBUG] Hooks: PreToolUse:Bash [/tmp/x/claudetest.test claudetest-hook] finished with status 2 (27ms)
2026-12-02T03:34:45.155Z [DEBUG] SessionEnd:other [/tmp/x/claudetest.test claudetest-hook] completed with status 0
`
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := HookTimings(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 {
		t.Fatalf("%d hooks: %+v", len(h), h)
	}
	if h[0].Event != "SessionStart:startup" || h[0].Duration != 108*time.Millisecond || h[0].Command != "/tmp/x/claudetest.test claudetest-hook" || h[0].At.IsZero() {
		t.Errorf("first: %+v", h[0])
	}
	if h[1].Status != 2 || h[2].Event != "SessionEnd:other" || h[2].Duration != -1 {
		t.Errorf("others: %+v %+v", h[1], h[2])
	}
}

func TestFindCLI(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	t.Setenv(EnvCLI, "")
	if p, reason := FindCLI(); p != "" || reason == "" || !contains(reason, ".ci/install-claude.sh") {
		t.Errorf("empty cache: %q, %q", p, reason)
	}
	bin := filepath.Join(CacheDir(), "node_modules", "@anthropic-ai", "claude-code-"+platform(), "claude")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, reason := FindCLI(); p != bin {
		t.Errorf("cache: %q, %q", p, reason)
	}
	t.Setenv(EnvCLI, filepath.Join(dir, "nope"))
	if p, reason := FindCLI(); p != "" || !contains(reason, EnvCLI) {
		t.Errorf("bad %s: %q, %q", EnvCLI, p, reason)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
