package config

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/ccotel/ccotel/internal/regfile"
)

// ExpandHome expands a leading "~" or "~/" to home. It is the one "~"
// expander of ccotel: config values, flags and settings paths all go
// through it. An empty home leaves p as it is.
func ExpandHome(p, home string) string {
	if home == "" {
		return p
	}
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// DefaultStateDir is the state directory when none is configured:
// $XDG_STATE_HOME/ccotel when that is an absolute path, else
// ~/.local/state/ccotel, else (no home at all) ccotel under the system's
// temporary directory, never "" (the working directory). The second
// result says which rule applied, for Config.Sources.
func DefaultStateDir(getenv func(string) (string, bool)) (dir, source string) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	if x, _ := getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "ccotel"), "default ($XDG_STATE_HOME/ccotel)"
	}
	home, _ := getenv("HOME")
	if home == "" {
		return filepath.Join(os.TempDir(), "ccotel"), "default (no $HOME)"
	}
	return filepath.Join(home, ".local", "state", "ccotel"), "default"
}

// FallbackStateDir is where a command logs when the configuration could
// not be resolved at all: $CCOTEL_STATE_DIR if set, else DefaultStateDir.
func FallbackStateDir() string {
	if d := os.Getenv("CCOTEL_STATE_DIR"); d != "" {
		return d
	}
	d, _ := DefaultStateDir(nil)
	return d
}

// MaxConfigSize bounds the config file: a few KB in practice; a path that
// names something huge (or a device) must not make the hook read it all.
const MaxConfigSize = 1 << 20

// readConfigFile reads the config file: a regular file only, opened
// without blocking (a FIFO or a device never holds the hook up), at most
// MaxConfigSize bytes.
func readConfigFile(path string) ([]byte, error) {
	b, _, err := regfile.ReadAll(path, MaxConfigSize)
	return b, err
}
