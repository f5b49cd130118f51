package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A log line quoting a server's answer cannot drive the terminal of
// whoever reads the log: no escape sequence, no control or bidi
// character survives Logf.
func TestLogfCleansControlCharacters(t *testing.T) {
	dir := t.TempDir()
	Logf(dir, "flush: collector unavailable: %s", "\x1b[2J\x1b[32mall spans delivered\x1b[0m\r\u202edone\x07")
	b, err := os.ReadFile(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	line := string(b)
	if !strings.HasSuffix(line, "flush: collector unavailable: all spans delivereddone\n") {
		t.Errorf("log line %q", line)
	}
}
