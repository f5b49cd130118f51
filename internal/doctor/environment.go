package doctor

import (
	"fmt"
	"os"
	"strings"

	"github.com/ccotel/ccotel/internal/config"
)

// environment warns about values that will not reach a hook.
func environment(cfg *config.Config) []Finding {
	var out []Finding
	var fromOTEL []string
	for _, k := range config.ConfigKeys {
		if src := cfg.Sources[k]; strings.Contains(src, "env OTEL_") {
			fromOTEL = append(fromOTEL, k)
		}
	}
	if len(fromOTEL) > 0 {
		out = append(out, Finding{Section: "Configuration", Severity: Warn,
			Message: fmt.Sprintf("%s come(s) from OTEL_* variables, which Claude Code (2.1.128 and later) removes from hooks' environment", strings.Join(fromOTEL, ", ")),
			Fix:     "put them in the config file (" + config.ConfigFilePath(nil) + ") so the hook sees them too"})
	}
	return append(out, systemFileMode(cfg)...)
}

// systemFileMode: the system-wide config file is for every user; one they
// cannot read leaves them without the admin's settings.
func systemFileMode(cfg *config.Config) []Finding {
	if cfg.SystemConfigFile == "" {
		return nil
	}
	fi, err := os.Stat(cfg.SystemConfigFile)
	if err != nil || fi.Mode().Perm()&0o004 != 0 {
		return nil
	}
	return []Finding{{Section: "Configuration", Severity: Warn,
		Message: fmt.Sprintf("the system config file %s is mode %04o: other users cannot read it, so the admin's settings do not apply to them", cfg.SystemConfigFile, fi.Mode().Perm()),
		Fix:     "sudo chmod 644 " + cfg.SystemConfigFile + " (it must hold no secrets)"}}
}
