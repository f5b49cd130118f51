package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

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

// ErrUntrusted is wrapped by Load's error when the config file is not
// the user's own: another local user who can write it could point the
// hooks at their collector and set capture = "content".
var ErrUntrusted = errors.New("config file not trusted")

// readConfigFile reads the config file: a regular file only, opened
// without blocking (a FIFO or a device never holds the hook up), at most
// MaxConfigSize bytes, owned by this user (or root) and writable by no one
// else. Anything else is refused with an error that says what to run.
func readConfigFile(path string) ([]byte, error) {
	b, fi, err := regfile.ReadAll(path, MaxConfigSize)
	if err != nil {
		return nil, err
	}
	if err := checkTrust(path, fi); err != nil {
		return nil, err
	}
	return b, nil
}

// checkTrust refuses a file that someone other than this user (or root)
// owns, or that group or others may write. The error wraps ErrUntrusted
// and names the fix.
func checkTrust(path string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := uint32(os.Geteuid())
	switch {
	case st.Uid != uid && st.Uid != 0:
		return fmt.Errorf("%w: %s is owned by uid %d, not by this user (uid %d): it is not used and nothing is recorded; make it yours (chown %d %s, then chmod 600 %s) or remove it",
			ErrUntrusted, path, st.Uid, uid, uid, path, path)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%w: %s is writable by group or others (mode %04o): it is not used and nothing is recorded; run chmod 600 %s",
			ErrUntrusted, path, fi.Mode().Perm(), path)
	}
	return nil
}

// CertsDir resolves the directory of `ccotel certs`: dir with "~"
// expanded, or ~/.config/ccotel when dir is empty. Without $HOME it
// refuses a default or "~" directory rather than use a relative one
// (private keys would land in whatever directory the shell stands in);
// forConfig (certs init, which also writes the config file) refuses too
// when the config file's place is unknown.
func CertsDir(dir string, forConfig bool) (string, error) {
	home, _ := os.LookupEnv("HOME")
	if !filepath.IsAbs(home) {
		home = ""
	}
	if home == "" && (dir == "" || dir == "~" || strings.HasPrefix(dir, "~/")) {
		return "", errors.New("$HOME is not set (or not an absolute path), so there is no ~/.config/ccotel for the keys: set HOME, or pass --dir DIR")
	}
	if forConfig && ConfigFilePath(nil) == "" {
		return "", errors.New("cannot tell where the config file goes: set HOME or CCOTEL_CONFIG")
	}
	if dir == "" {
		return filepath.Join(home, ".config", "ccotel"), nil
	}
	return ExpandHome(dir, home), nil
}
