package cli

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/settings"
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
	if err := os.WriteFile(huge, make([]byte, settings.MaxFileSize+1), 0o600); err != nil {
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

// doctor looks for ccotel's hooks in the files Claude Code reads, which
// are the files install writes: with CLAUDE_CONFIG_DIR set, the user's
// settings file is in that directory, not in ~/.claude.
func TestDoctorFindsHooksInClaudeConfigDir(t *testing.T) {
	home := cmdEnv(t)
	t.Chdir(t.TempDir())
	alt := filepath.Join(home, "alt")
	t.Setenv("CLAUDE_CONFIG_DIR", alt)
	if code, out, errs := runCmd(installCmd, "--command", "/opt/bin/ccotel"); code != 0 {
		t.Fatalf("install: %d\n%s\n%s", code, out, errs)
	}
	d := runDoctorJSON(t)
	if f := d.finding(filepath.Join(alt, "settings.json") + " runs ccotel on"); f == "" {
		t.Errorf("doctor does not see the hooks install wrote to %s: %+v", alt, d.Findings)
	}
	if f := d.finding("does not run ccotel"); f != "" {
		t.Errorf("doctor: %s", f)
	}
}
