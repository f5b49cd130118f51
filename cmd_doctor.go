package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/settings"
	"github.com/ccotel/ccotel/tracing"
)

func runDoctor(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	offline := fs.Bool("offline", false, "check files and settings only: no handshake, no test span")
	settings := fs.String("settings", "", "Claude Code settings.json to check (default: ~/.claude/settings.json and ./.claude/settings*.json)")
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

	cfg, err := tracing.Load(tracing.LoadOptions{Flags: flags()})
	if err != nil {
		fmt.Fprintf(stdout, "✗ the configuration does not load: %v\n    → fix it; nothing is recorded until it loads\n", err)
		return exitFailure
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout+10*time.Second)
	defer cancel()
	d := tracing.Diagnose(ctx, cfg, tracing.DoctorOptions{Version: currentBuild().Version, Offline: *offline})
	findings := append(envFindings(cfg), d.Findings...)
	findings = append(findings, wiringFindings(*settings)...)
	findings = append(findings, outboxFindings(cfg)...)
	order := []string{"Configuration", "Certificates", "Connection", "Export", "Claude Code", "Outbox"}
	slices.SortStableFunc(findings, func(a, b tracing.Finding) int {
		return slices.Index(order, a.Section) - slices.Index(order, b.Section)
	})

	failed := 0
	for _, f := range findings {
		if f.Severity == tracing.Fail {
			failed++
		}
	}
	if *asJSON {
		type jf struct {
			Section, Severity, Message, Fix string
		}
		out := struct {
			Config   map[string]string `json:"config"`
			Sources  map[string]string `json:"sources"`
			Findings []jf              `json:"findings"`
			OK       bool              `json:"ok"`
		}{Config: configValues(cfg), Sources: cfg.Sources, OK: failed == 0}
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
			fmt.Fprintln(stdout, "All good: Claude Code sessions will be traced to "+cfg.Endpoint)
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

func severityWord(s tracing.Severity) string {
	return [...]string{"ok", "info", "warning", "failure"}[s]
}

// configValues renders every configuration key's value; header values are
// masked (they are secrets).
func configValues(cfg *tracing.Config) map[string]string {
	kv := func(m map[string]string, mask bool) string {
		var parts []string
		for _, k := range tracing.SortedKeys(m) {
			v := m[k]
			if mask {
				v = strings.Repeat("*", min(len(v), 8))
			}
			parts = append(parts, k+"="+v)
		}
		return strings.Join(parts, ", ")
	}
	or := func(s, alt string) string {
		if s == "" {
			return alt
		}
		return s
	}
	prices := make([]string, 0, len(cfg.Prices))
	for m := range cfg.Prices {
		prices = append(prices, m)
	}
	return map[string]string{
		"endpoint":                or(cfg.Endpoint, "(none)"),
		"protocol":                cfg.Protocol,
		"compression":             cfg.Compression,
		"headers":                 or(kv(cfg.Headers, true), "(none)"),
		"timeout":                 cfg.Timeout.String(),
		"client_cert":             or(cfg.ClientCert, "(none)"),
		"client_key":              or(cfg.ClientKey, "(none)"),
		"ca":                      or(cfg.CA, "(system roots only)"),
		"insecure_skip_verify":    fmt.Sprint(cfg.InsecureSkipVerify),
		"disabled":                fmt.Sprint(cfg.Disabled),
		"service_name":            cfg.ServiceName,
		"resource":                or(kv(cfg.ResourceAttrs, false), "(none)"),
		"state_dir":               cfg.StateDir,
		"sync":                    fmt.Sprint(cfg.Sync),
		"durability":              cfg.Durability,
		"lock_timeout":            cfg.LockTimeout.String(),
		"outbox_max_spans":        fmt.Sprint(cfg.OutboxMaxSpans),
		"outbox_max_bytes":        fmt.Sprint(cfg.OutboxMaxBytes),
		"idle_timeout":            cfg.IdleTimeout.String(),
		"capture":                 cfg.Capture,
		"max_attr_len":            fmt.Sprint(cfg.MaxAttrLen),
		"redact":                  or(fmt.Sprintf("%d pattern(s)", len(cfg.RedactPatterns)), ""),
		"parent_from_traceparent": fmt.Sprint(cfg.ParentFromTraceparent),
		"prices":                  or(strings.Join(prices, ", "), "(built-in table)"),
	}
}

func printConfig(w io.Writer, cfg *tracing.Config) {
	fmt.Fprintln(w, "Configuration (flags > CCOTEL_* > OTEL_* > seed variables > config file > defaults)")
	if cfg.ConfigFile != "" {
		fmt.Fprintf(w, "  %-24s %s\n", "config file", cfg.ConfigFile)
	} else {
		fmt.Fprintf(w, "  %-24s none (looked for %s)\n", "config file", tracing.ConfigFilePath(nil))
	}
	vals := configValues(cfg)
	for _, k := range tracing.ConfigKeys {
		fmt.Fprintf(w, "  %-24s %-40s %s\n", k, vals[k], cfg.Sources[k])
	}
}

func printFindings(w io.Writer, findings []tracing.Finding) {
	section := ""
	for _, f := range findings {
		if f.Section != section {
			section = f.Section
			fmt.Fprintf(w, "\n%s\n", section)
		}
		mark := [...]string{"✓", "·", "!", "✗"}[f.Severity]
		fmt.Fprintf(w, "  %s %s\n", mark, f.Message)
		if f.Fix != "" && f.Severity >= tracing.Warn {
			fmt.Fprintf(w, "      → %s\n", f.Fix)
		}
	}
}

// envFindings warns about values that will not reach a hook.
func envFindings(cfg *tracing.Config) []tracing.Finding {
	var out []tracing.Finding
	var fromOTEL []string
	for _, k := range tracing.ConfigKeys {
		if src := cfg.Sources[k]; strings.Contains(src, "env OTEL_") {
			fromOTEL = append(fromOTEL, k)
		}
	}
	if len(fromOTEL) > 0 {
		out = append(out, tracing.Finding{Section: "Configuration", Severity: tracing.Warn,
			Message: fmt.Sprintf("%s come(s) from OTEL_* variables, which Claude Code (2.1.128 and later) removes from hooks' environment", strings.Join(fromOTEL, ", ")),
			Fix:     "put them in the config file (" + tracing.ConfigFilePath(nil) + ") so the hook sees them too"})
	}
	return out
}

// wiringFindings checks that Claude Code runs ccotel as a hook.
func wiringFindings(settingsPath string) []tracing.Finding {
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
	var out []tracing.Finding
	wired := false
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) || p == settingsPath {
				out = append(out, tracing.Finding{Section: sec, Severity: tracing.Warn, Message: fmt.Sprintf("cannot read %s: %v", p, err)})
			}
			continue
		}
		wiring, err := settings.Inspect(src, self)
		if err != nil {
			out = append(out, tracing.Finding{Section: sec, Severity: tracing.Fail, Message: fmt.Sprintf("%s is not valid JSON: %v", p, err),
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
		sev, fix := tracing.OK, ""
		if len(wiring.Missing) > 0 {
			msg += fmt.Sprintf("; not on %s", strings.Join(wiring.Missing, ", "))
			sev, fix = tracing.Warn, "run `ccotel install` to add the missing events"
		}
		out = append(out, tracing.Finding{Section: sec, Severity: sev, Message: msg, Fix: fix})
		for c := range commands {
			bin := strings.Fields(c)
			if len(bin) == 0 || !filepath.IsAbs(bin[0]) {
				continue
			}
			if _, err := os.Stat(bin[0]); err != nil {
				out = append(out, tracing.Finding{Section: sec, Severity: tracing.Fail,
					Message: fmt.Sprintf("%s runs %s, which does not exist", p, bin[0]), Fix: "run `ccotel install` to point it at this binary (" + self + ")"})
			}
		}
	}
	if !wired {
		out = append(out, tracing.Finding{Section: sec, Severity: tracing.Fail,
			Message: fmt.Sprintf("Claude Code does not run ccotel: no ccotel hook in %s", strings.Join(paths, ", ")),
			Fix:     "run `ccotel install` (it adds ccotel's hooks to ~/.claude/settings.json, keeping everything else)"})
	}
	return out
}

// outboxFindings reports the backlog and what was lost.
func outboxFindings(cfg *tracing.Config) []tracing.Finding {
	const sec = "Outbox"
	r, err := readStatus(cfg)
	if err != nil {
		return []tracing.Finding{{Section: sec, Severity: tracing.Warn, Message: fmt.Sprintf("cannot read the state in %s: %v", cfg.StateDir, err)}}
	}
	var out []tracing.Finding
	if fi, err := os.Stat(cfg.StateDir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		out = append(out, tracing.Finding{Section: sec, Severity: tracing.Warn,
			Message: fmt.Sprintf("the state directory %s is readable by others (mode %04o)", cfg.StateDir, fi.Mode().Perm()), Fix: "chmod 700 " + cfg.StateDir})
	}
	now := time.Now()
	msg := fmt.Sprintf("%d spans queued", r.Queued)
	sev, fix := tracing.OK, ""
	if r.Queued > 0 {
		msg += fmt.Sprintf(" (%s), the oldest since %s", humanBytes(r.QueuedBytes), ago(now, r.OldestQueued))
		if now.Sub(r.OldestQueued) > 10*time.Minute && !r.LastExportOK {
			sev, fix = tracing.Warn, "they are sent once the problems above are fixed: `ccotel flush --wait` sends them now"
		}
	}
	switch {
	case r.LastExport.IsZero():
		msg += "; nothing exported yet"
	case r.LastExportOK:
		msg += fmt.Sprintf("; last export %s: ok", ago(now, r.LastExport))
	default:
		msg += fmt.Sprintf("; last export %s FAILED: %s", ago(now, r.LastExport), r.LastExportError)
	}
	if r.FlusherPID != 0 {
		msg += fmt.Sprintf("; flusher running (pid %d)", r.FlusherPID)
	}
	out = append(out, tracing.Finding{Section: sec, Severity: sev, Message: msg, Fix: fix})
	if r.Dropped > 0 {
		out = append(out, tracing.Finding{Section: sec, Severity: tracing.Warn,
			Message: fmt.Sprintf("%d spans were dropped because the outbox was full (%d spans / %s)", r.Dropped, cfg.OutboxMaxSpans, humanBytes(cfg.OutboxMaxBytes)),
			Fix:     "keep the collector reachable, or raise outbox_max_spans / outbox_max_bytes"})
	}
	if r.Rejected > 0 {
		out = append(out, tracing.Finding{Section: sec, Severity: tracing.Warn,
			Message: fmt.Sprintf("%d spans were refused by the collector for good and dropped", r.Rejected), Fix: "see " + filepath.Join(cfg.StateDir, "ccotel.log") + " for the collector's reasons"})
	}
	if r.LostEvents > 0 {
		out = append(out, tracing.Finding{Section: sec, Severity: tracing.Warn,
			Message: fmt.Sprintf("%d hook events could not be recorded (database busy or unwritable)", r.LostEvents), Fix: "see " + filepath.Join(cfg.StateDir, "ccotel.log")})
	}
	return out
}
