// Package e2e holds the end-to-end tests: the real ccotel binary, run as
// Claude Code runs it, against real peers (nginx verifying client
// certificates as ingress-nginx does, a real OpenTelemetry Collector, the
// real Claude Code CLI). A test whose peer is not installed is skipped
// with a one-line reason (otlptest.NginxBinary, otlptest.CollectorBinary,
// claudetest.RequireCLI), except in CI (CI=true), where that is a failure.
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

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
