package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/regfile"
)

// A config path naming a FIFO or a device never blocks Load (the hook
// runs it on every event) and never reads more than MaxConfigSize.
func TestConfigNotRegularOrHuge(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.toml")
	if err := os.WriteFile(huge, []byte("# "+strings.Repeat("x", MaxConfigSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/zero", huge} {
		done := make(chan error, 1)
		go func() {
			_, err := Load(LoadOptions{Getenv: envOf(dir, "CCOTEL_CONFIG", p)})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: Load succeeded, want an error", p)
			} else if p == huge && !errors.Is(err, regfile.ErrTooLarge) {
				t.Errorf("%s: %v, want ErrTooLarge", p, err)
			} else if p != huge && !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: %v, want \"not a regular file\"", p, err)
			}
		case <-time.After(3 * time.Second):
			if p == fifo {
				// Unblock the reader so the test process can end.
				if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
			}
			t.Fatalf("%s: Load still running after 3 s", p)
		}
	}
}
