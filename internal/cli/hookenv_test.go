package cli

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A settings file is whatever a cloned project holds under .claude/: a
// FIFO there must not hang doctor or status, and a file too large to be
// a settings file is skipped, while a regular one's env block applies.
func TestHookLoadOptionsSkipsFIFOAndHugeSettings(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "settings.local.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.json")
	if err := os.WriteFile(huge, make([]byte, maxSettingsSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "settings.json")
	if err := os.WriteFile(good, []byte(`{"env": {"CCOTEL_ENDPOINT": "https://c.example:4318"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 1)
	go func() {
		o := hookLoadOptions(nil, []string{fifo, huge, good})
		v, _ := o.Getenv("CCOTEL_ENDPOINT")
		done <- v + " from " + o.EnvFrom["CCOTEL_ENDPOINT"]
	}()
	select {
	case got := <-done:
		if want := "https://c.example:4318 from " + good; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hookLoadOptions blocked on a FIFO settings file")
	}
}
