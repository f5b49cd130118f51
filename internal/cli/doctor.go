package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/doctor"
)

func runDoctor(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	offline := fs.Bool("offline", false, "check files and settings only: no handshake, no test span")
	settingsPath := fs.String("settings", "", "Claude Code settings.json to check, after the managed one (default: ./.claude/settings*.json and the user's, in $CLAUDE_CONFIG_DIR or ~/.claude)")
	flags := configFlags(fs)
	if code, ok := parseFlags(fs, `Usage: ccotel doctor [--offline] [--json] [config flags]

Explains the resolved configuration and where each value came from, checks
the client certificate, key and CA, does a real TLS handshake with the
collector and sends one test span (named "ccotel doctor", in its own
trace), checks that Claude Code's settings.json runs ccotel, and looks at
the outbox. Exits 0 only when nothing failed (warnings do not fail).

Flags:
`, args, stdout, stderr); !ok {
		return code
	}

	files := claudeSettingsFiles(*settingsPath)
	cfg, err := config.Load(hookLoadOptions(flags(), files))
	if err != nil {
		fix := "fix it; nothing is recorded until it loads"
		if errors.Is(err, config.ErrUntrusted) {
			fix = "another local user could have written it (their endpoint, capture = \"content\"): check what it says, make it yours as above, then run `ccotel doctor` again"
		}
		fmt.Fprintf(stdout, "✗ the configuration does not load: %v\n    → %s\n", err, fix)
		return exitFailure
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout+10*time.Second)
	defer cancel()
	_, findings := doctor.Check(ctx, cfg, doctor.Options{Offline: *offline, Settings: *settingsPath, SettingsFiles: files})
	failed := doctor.Failures(findings)
	if *asJSON {
		type jf struct {
			Section, Severity, Message, Fix string
		}
		out := struct {
			Config   map[string]string `json:"config"`
			Sources  map[string]string `json:"sources"`
			Findings []jf              `json:"findings"`
			OK       bool              `json:"ok"`
		}{Config: cfg.Values(), Sources: cfg.Sources, OK: failed == 0}
		for _, f := range findings {
			out.Findings = append(out.Findings, jf{f.Section, severityWord(f.Severity), f.Message, f.Fix})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	} else {
		printConfig(stdout, cfg)
		printFindings(stdout, findings)
		fmt.Fprintln(stdout)
		switch {
		case failed == 0:
			fmt.Fprintln(stdout, "All good: Claude Code sessions will be traced to "+cfg.DisplayEndpoint())
		case failed == 1:
			fmt.Fprintln(stdout, "1 problem (✗ above) stops traces from arriving.")
		default:
			fmt.Fprintf(stdout, "%d problems (✗ above) stop traces from arriving.\n", failed)
		}
	}
	if failed > 0 {
		return exitFailure
	}
	return exitOK
}

func severityWord(s doctor.Severity) string {
	return [...]string{"ok", "info", "warning", "failure"}[s]
}

func printConfig(w io.Writer, cfg *config.Config) {
	fmt.Fprintln(w, "Configuration (flags > CCOTEL_* (Claude Code's env blocks first) > OTEL_* > seed variables > config file > system config file > defaults)")
	fmt.Fprintf(w, "  %-24s %s\n", "read from", configFiles(cfg))
	vals := cfg.Values()
	for _, k := range config.ConfigKeys {
		fmt.Fprintf(w, "  %-24s %-40s %s\n", k, vals[k], cfg.Sources[k])
	}
}

func printFindings(w io.Writer, findings []doctor.Finding) {
	section := ""
	for _, f := range findings {
		if f.Section != section {
			section = f.Section
			fmt.Fprintf(w, "\n%s\n", section)
		}
		mark := [...]string{"✓", "·", "!", "✗"}[f.Severity]
		fmt.Fprintf(w, "  %s %s\n", mark, f.Message)
		if f.Fix != "" && f.Severity >= doctor.Warn {
			fmt.Fprintf(w, "      → %s\n", f.Fix)
		}
	}
}
