package settings

import (
	"encoding/json"
	"os"
	"runtime"

	"github.com/ccotel/ccotel/internal/regfile"
)

// Claude Code's managed settings file: the policy file an admin deploys
// for every user of a machine. Claude Code reads it from a fixed path per
// OS (2.1.328 has no way to point it elsewhere), with the highest
// precedence; its hooks run for every user, and its env block reaches
// every session and hook.

// ManagedMode is the managed settings file's mode: root writes it, every
// user's Claude Code must read it.
const ManagedMode = 0o644

// ManagedPath is the managed settings file of this OS, or
// $CCOTEL_MANAGED_SETTINGS when set (tests; Claude Code itself does not
// read that variable).
func ManagedPath() string {
	if p := os.Getenv("CCOTEL_MANAGED_SETTINGS"); p != "" {
		return p
	}
	return managedPathFor(runtime.GOOS)
}

func managedPathFor(goos string) string {
	switch goos {
	case "darwin":
		return "/Library/Application Support/ClaudeCode/managed-settings.json"
	case "windows":
		return `C:\Program Files\ClaudeCode\managed-settings.json`
	}
	return "/etc/claude-code/managed-settings.json"
}

// EnvBlock returns the string values of a settings file's env block: what
// Claude Code puts in the environment of every session and hook.
func EnvBlock(src []byte) (map[string]string, error) {
	var s struct {
		Env map[string]any `json:"env"`
	}
	if err := json.Unmarshal(src, &s); err != nil {
		return nil, err
	}
	env := map[string]string{}
	for k, v := range s.Env {
		if str, ok := v.(string); ok {
			env[k] = str
		}
	}
	return env, nil
}

// MaxFileSize bounds a settings (or config) file read to be judged or
// edited: a few KB in practice.
const MaxFileSize = 4 << 20

// ReadFile reads a settings file to judge it: a regular file only (one in
// a cloned project's .claude/ may be a FIFO), at most MaxFileSize bytes.
// A missing file satisfies errors.Is(err, os.ErrNotExist).
func ReadFile(path string) ([]byte, error) {
	b, _, err := regfile.ReadAll(path, MaxFileSize)
	return b, err
}
