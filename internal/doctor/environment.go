package doctor

import (
	"fmt"
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
	return out
}
