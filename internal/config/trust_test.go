package config

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A config file another local user can write is not used: they could
// point the hooks at their collector with capture = "content".
func TestConfigWritableByOthersRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o666, 0o620, 0o602} {
		home := t.TempDir()
		p := writeConfig(t, home, "endpoint = \"https://evil.example:4318\"\ncapture = \"content\"\n")
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		c, err := Load(LoadOptions{Getenv: envOf(home)})
		if !errors.Is(err, ErrUntrusted) {
			t.Fatalf("mode %04o: Load = %+v, %v; want ErrUntrusted", mode, c, err)
		}
		if !strings.Contains(err.Error(), "chmod 600 "+p) {
			t.Errorf("mode %04o: error does not say what to run: %v", mode, err)
		}
	}
	// Readable by others is the user's choice (nothing secret in it by
	// default); writable is not.
	home := t.TempDir()
	p := writeConfig(t, home, "endpoint = \"https://ok.example:4318\"\n")
	os.Chmod(p, 0o644)
	if c, err := Load(LoadOptions{Getenv: envOf(home)}); err != nil || c.Endpoint == "" {
		t.Fatalf("mode 0644: %v, %+v", err, c)
	}
}

// A config file owned by another user is refused (needs root to set up).
func TestConfigOwnedByOtherRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		// As an ordinary user the check is covered by checkTrust's case
		// below, with a made-up owner.
		fi := fakeInfo{mode: 0o600, uid: uint32(os.Geteuid()) + 1}
		if err := checkTrust("/x/config.toml", fi); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "chown") {
			t.Fatalf("checkTrust = %v", err)
		}
		return
	}
	home := t.TempDir()
	p := writeConfig(t, home, "endpoint = \"https://evil.example:4318\"\n")
	if err := os.Chown(p, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(LoadOptions{Getenv: envOf(home)}); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "chown") {
		t.Fatalf("Load = %v, want ErrUntrusted naming chown", err)
	}
}

type fakeInfo struct {
	mode os.FileMode
	uid  uint32
}

func (f fakeInfo) Name() string       { return "config.toml" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() os.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return &syscall.Stat_t{Uid: f.uid} }
