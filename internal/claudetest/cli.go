package claudetest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/ccotel/ccotel/internal/otlptest"
)

// Version is the Claude Code release the scenarios and testdata/claude/ were
// recorded with; .ci/install-claude.sh installs it.
const Version = "2.1.328"

// EnvCLI names the variable that points at a claude binary, overriding the
// cache directory.
const EnvCLI = "CCOTEL_CLAUDE_BIN"

// CacheDir is where .ci/install-claude.sh installs Claude Code by default:
// ${XDG_CACHE_HOME:-$HOME/.cache}/ccotel/claude-code-<Version>.
func CacheDir() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "ccotel", "claude-code-"+Version)
}

// platform is the npm package suffix of this OS and CPU (claude-code-<os>-<arch>).
func platform() string {
	arch := runtime.GOARCH
	if arch == "amd64" {
		arch = "x64"
	}
	return runtime.GOOS + "-" + arch
}

// FindCLI returns the path of the claude binary: $CCOTEL_CLAUDE_BIN if set
// (it must then exist), else the platform binary under [CacheDir]. When there
// is none, it returns "" and a one-line reason saying what to run.
func FindCLI() (path, reason string) {
	if p := os.Getenv(EnvCLI); p != "" {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Sprintf("%s=%s is not an executable file", EnvCLI, p)
		}
		return p, ""
	}
	dir := CacheDir()
	for _, suffix := range []string{"", "-musl"} {
		p := filepath.Join(dir, "node_modules", "@anthropic-ai", "claude-code-"+platform()+suffix, "claude")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, ""
		}
	}
	return "", fmt.Sprintf("Claude Code %s not installed (no %s, nothing in %s): run .ci/install-claude.sh", Version, EnvCLI, dir)
}

// RequireCLI returns the claude binary, or skips the test with FindCLI's
// one-line reason; under CI=true a missing CLI fails the test instead, so
// that CI cannot pass without running the real client.
func RequireCLI(t testing.TB) string {
	t.Helper()
	p, reason := FindCLI()
	if p != "" {
		return p
	}
	otlptest.Unavailable(t, reason)
	return ""
}
