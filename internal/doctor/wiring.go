package doctor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ccotel/ccotel/internal/settings"
)

// wiring checks that Claude Code runs ccotel as a hook, from one of
// paths (the managed settings file first: its hooks run for every user).
// explicit, the file the user named, must be readable.
func wiring(paths []string, explicit string) []Finding {
	const sec = "Claude Code"
	if len(paths) == 0 {
		return nil
	}
	self, _ := os.Executable()
	if p, err := filepath.EvalSymlinks(self); err == nil {
		self = p
	}
	var out []Finding
	wired := false
	for _, p := range paths {
		if p == paths[0] {
			out = append(out, managedMode(p)...)
		}
		src, err := settings.ReadFile(p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) || p == explicit {
				out = append(out, Finding{Section: sec, Severity: Warn, Message: fmt.Sprintf("cannot read %s: %v", p, err)})
			}
			continue
		}
		wiring, err := settings.Inspect(src, self)
		if err != nil {
			out = append(out, Finding{Section: sec, Severity: Fail, Message: fmt.Sprintf("%s is not valid JSON: %v", p, err),
				Fix: "fix the file: Claude Code cannot read it either"})
			continue
		}
		if len(wiring.Commands) == 0 {
			continue
		}
		if p != paths[0] && managedHooksOnly(paths[0]) {
			out = append(out, Finding{Section: sec, Severity: Fail,
				Message: fmt.Sprintf("%s runs ccotel, but %s sets allowManagedHooksOnly: Claude Code runs only the managed file's hooks", p, paths[0]),
				Fix:     "sudo ccotel install --scope managed"})
			continue
		}
		wired = true
		commands := map[string]bool{}
		for _, c := range wiring.Commands {
			commands[c] = true
		}
		msg := fmt.Sprintf("%s runs ccotel on %d events", p, len(wiring.Commands))
		sev, fix := OK, ""
		if len(wiring.Missing) > 0 {
			msg += fmt.Sprintf("; not on %s", strings.Join(wiring.Missing, ", "))
			sev, fix = Warn, "run `ccotel install` to add the missing events"
		}
		out = append(out, Finding{Section: sec, Severity: sev, Message: msg, Fix: fix})
		for c := range commands {
			bin := strings.Fields(c)
			if len(bin) == 0 || !filepath.IsAbs(bin[0]) {
				continue
			}
			if _, err := os.Stat(bin[0]); err != nil {
				out = append(out, Finding{Section: sec, Severity: Fail,
					Message: fmt.Sprintf("%s runs %s, which does not exist", p, bin[0]), Fix: "run `ccotel install` to point it at this binary (" + self + ")"})
			}
		}
	}
	if !wired {
		out = append(out, Finding{Section: sec, Severity: Fail,
			Message: fmt.Sprintf("Claude Code does not run ccotel: no ccotel hook in %s", strings.Join(paths, ", ")),
			Fix:     "run `ccotel install` (it adds ccotel's hooks to ~/.claude/settings.json, keeping everything else), or, for every user of this machine, `sudo ccotel install --scope managed`"})
	}
	return out
}

// managedMode checks that every user's Claude Code can read the managed
// settings file (and the directory it is in): a file only root can read
// runs no hook for anyone else.
func managedMode(p string) []Finding {
	var out []Finding
	for _, f := range []string{filepath.Dir(p), p} {
		fi, err := os.Stat(f)
		if err != nil {
			return out
		}
		want := fs.FileMode(0o004)
		if fi.IsDir() {
			want = 0o005
		}
		if fi.Mode().Perm()&want != want {
			out = append(out, Finding{Section: "Claude Code", Severity: Fail,
				Message: fmt.Sprintf("%s is mode %04o: the Claude Code of users other than its owner cannot read it, so its hooks and env block do not apply to them", f, fi.Mode().Perm()),
				Fix:     fmt.Sprintf("sudo chmod %s %s (or run `sudo ccotel install --scope managed` again)", map[bool]string{true: "755", false: "644"}[fi.IsDir()], f)})
		}
	}
	return out
}

// managedHooksOnly reports whether the managed settings file restricts
// Claude Code to its own hooks.
func managedHooksOnly(p string) bool {
	src, err := settings.ReadFile(p)
	if err != nil {
		return false
	}
	var m struct {
		AllowManagedHooksOnly bool `json:"allowManagedHooksOnly"`
	}
	return json.Unmarshal(src, &m) == nil && m.AllowManagedHooksOnly
}
