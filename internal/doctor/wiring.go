package doctor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ccotel/ccotel/internal/settings"
)

// wiring checks that Claude Code runs ccotel as a hook.
func wiring(settingsPath string) []Finding {
	const sec = "Claude Code"
	var paths []string
	if settingsPath != "" {
		paths = []string{settingsPath}
	} else {
		if home, err := os.UserHomeDir(); err == nil {
			paths = append(paths, filepath.Join(home, ".claude", "settings.json"))
		}
		paths = append(paths, filepath.Join(".claude", "settings.json"), filepath.Join(".claude", "settings.local.json"))
	}
	self, _ := os.Executable()
	if p, err := filepath.EvalSymlinks(self); err == nil {
		self = p
	}
	var out []Finding
	wired := false
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) || p == settingsPath {
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
			Fix:     "run `ccotel install` (it adds ccotel's hooks to ~/.claude/settings.json, keeping everything else)"})
	}
	return out
}
