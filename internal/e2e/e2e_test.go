// Package e2e holds the end-to-end tests: the real ccotel binary, run as
// Claude Code runs it, against real peers (nginx verifying client
// certificates as ingress-nginx does, the test collector, and the tools
// CI installs). Each test that needs a peer which is not installed is
// skipped with a one-line reason, except in CI (CI=true), where that is a
// failure.
package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// root is the repository's top directory, relative to this package.
const root = "../.."

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// ccotelBinary builds the ccotel binary once per test process (static,
// as released) and returns its path.
func ccotelBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ccotel-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ccotel")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/ccotel/ccotel")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// need looks a peer program up on PATH (and in extra places). Missing, it
// skips the test with the reason, or fails it under CI=true.
func need(t testing.TB, name, install string, extra ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range extra {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed; CI must install it (%s)", name, install)
	}
	t.Skipf("%s not installed (%s)", name, install)
	return ""
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
