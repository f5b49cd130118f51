package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/settings"
	"github.com/rogpeppe/go-internal/diff"
)

const installUsage = `Usage: ccotel install [flags]

Adds ccotel's hook to Claude Code's settings.json for every event ccotel
traces, keeping everything else in the file (keys, their order, other
hooks, formatting). Running it again changes nothing; an older ccotel entry
is updated in place. The previous file is kept as settings.json.bak.

Flags:
  --scope user|project|local|managed
                  which settings.json: user = ~/.claude/settings.json
                  ($CLAUDE_CONFIG_DIR/settings.json if set), project =
                  ./.claude/settings.json, local = ./.claude/settings.local.json
                  (default user); managed = Claude Code's managed settings
                  file for every user of this machine (Linux
                  /etc/claude-code/managed-settings.json, macOS
                  /Library/Application Support/ClaudeCode/managed-settings.json;
                  mode 0644; run as root), with the collector settings in
                  the system-wide config file (/etc/ccotel/config.toml,
                  0644, no secrets: --client-cert and --client-key are each
                  user's paths, default ~/.config/ccotel/client.pem and
                  client-key.pem; --ca is copied to /etc/ccotel/ca.pem)
  --settings PATH edit this settings file instead
  --command PATH  the ccotel binary the hooks run (default: this binary, by
                  its path on $PATH when that is the same file)
  --dry-run       print the changes as a diff and write nothing

Collector settings, written to the config file ($CCOTEL_CONFIG, else
$XDG_CONFIG_HOME/ccotel/config.toml, else ~/.config/ccotel/config.toml;
mode 0600; other keys in it are kept):
  --endpoint URL      OTLP/HTTP base URL, e.g. https://collector.example.com:4318
  --client-cert PATH  client certificate (PEM) for mutual TLS
  --client-key PATH   its private key (PEM)
  --ca PATH           CA bundle (PEM) that signed the collector's certificate

Undo with: ccotel uninstall (same --scope/--settings).
`

const uninstallUsage = `Usage: ccotel uninstall [flags]

Removes ccotel's hooks from Claude Code's settings.json and nothing else;
matcher groups and events left empty by that go too. The previous file is
kept as settings.json.bak. The config file and the state directory stay.

Flags:
  --scope user|project|local   which settings.json (see ccotel install --help)
  --settings PATH              edit this settings file instead
  --dry-run                    print the changes as a diff and write nothing
`

// settingsFlags are the flags install and uninstall share.
type settingsFlags struct {
	scope, settings string
	dryRun          bool
}

func (s *settingsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.scope, "scope", "user", "")
	fs.StringVar(&s.settings, "settings", "", "")
	fs.BoolVar(&s.dryRun, "dry-run", false, "")
}

// path returns the settings file to edit.
func (s *settingsFlags) path(home string) (string, error) {
	if s.settings != "" {
		return filepath.Abs(config.ExpandHome(s.settings, home))
	}
	switch s.scope {
	case "user":
		if dir := os.Getenv("CLAUDE_CONFIG_DIR"); dir != "" {
			return filepath.Abs(filepath.Join(config.ExpandHome(dir, home), "settings.json"))
		}
		return filepath.Join(home, ".claude", "settings.json"), nil
	case "project", "local":
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		name := "settings.json"
		if s.scope == "local" {
			name = "settings.local.json"
		}
		return filepath.Join(wd, ".claude", name), nil
	case "managed":
		return settings.ManagedPath(), nil
	}
	return "", fmt.Errorf("--scope %q: want user, project, local or managed", s.scope)
}

func runInstall(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("install", flag.ContinueOnError)
	var sf settingsFlags
	sf.register(fs)
	command := fs.String("command", "", "")
	var col config.Collector
	fs.StringVar(&col.Endpoint, "endpoint", "", "")
	fs.StringVar(&col.ClientCert, "client-cert", "", "")
	fs.StringVar(&col.ClientKey, "client-key", "", "")
	fs.StringVar(&col.CA, "ca", "", "")
	if code, ok := parseFlags(fs, installUsage, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ccotel install: unexpected argument %q\nRun 'ccotel install --help' for usage.\n", fs.Arg(0))
		return exitUsage
	}
	home, err := os.UserHomeDir()
	if err != nil {
		fmt.Fprintf(stderr, "ccotel install: %v\n", err)
		return exitFailure
	}
	path, err := sf.path(home)
	if err != nil {
		fmt.Fprintf(stderr, "ccotel install: %v\n", err)
		return exitUsage
	}
	hookCmd, warnings, err := hookCommand(config.ExpandHome(*command, home))
	if err != nil {
		fmt.Fprintf(stderr, "ccotel install: %v\n", err)
		return exitFailure
	}
	// Check the collector flags before touching anything.
	colSettings, colWarnings, err := col.Settings(home)
	if sf.managed() {
		colSettings, colWarnings, err = managedCollector(col, home, sf.dryRun)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ccotel install: %v\nNothing was changed.\n", err)
		return exitFailure
	}
	if sf.scope == "project" && sf.settings == "" && *command == "" {
		warnings = append(warnings, fmt.Sprintf("./.claude/settings.json is usually shared with the team, and the hooks will run %s, a path on this machine; for a shared file consider --command ccotel (looked up on each person's PATH) or --scope local", hookCmd))
	}
	for _, w := range append(warnings, colWarnings...) {
		fmt.Fprintf(stderr, "ccotel install: warning: %s\n", w)
	}

	var rep settings.Report
	var res settings.Result
	mode, err := sf.settingsMode(path)
	if err == nil {
		res, err = settings.EditFileMode(path, func(src []byte) ([]byte, error) {
			out, r, err := settings.Install(src, hookCmd)
			rep = r
			return out, err
		}, sf.dryRun, mode)
	}
	if err != nil {
		reportEditError(stderr, "install", path, err)
		return exitFailure
	}
	if sf.dryRun {
		printDryRun(stdout, res)
	} else {
		printInstallResult(stdout, res, rep, hookCmd)
	}
	if hooksDisabled(res.New) {
		fmt.Fprintf(stderr, "ccotel install: warning: %s has \"disableAllHooks\": true, so Claude Code runs no hooks from it\n", res.Path)
	}

	cfgPath, writeConfig := sf.collectorFile()
	if len(colSettings) > 0 {
		if cfgPath == "" {
			fmt.Fprintln(stderr, "ccotel install: cannot tell where the config file goes: set HOME or CCOTEL_CONFIG")
			return exitFailure
		}
		cres, err := writeConfig(cfgPath, colSettings, sf.dryRun)
		if err != nil {
			fmt.Fprintf(stderr, "ccotel install: %s: %v\n", cfgPath, err)
			return exitFailure
		}
		switch {
		case sf.dryRun:
			printDryRun(stdout, cres)
		case !cres.Changed:
			fmt.Fprintf(stdout, "%s: already has these collector settings\n", cres.Path)
		default:
			keys := make([]string, len(colSettings))
			for i, s := range colSettings {
				keys[i] = s.Key
			}
			fmt.Fprintf(stdout, "%s: set %s%s\n", cres.Path, strings.Join(keys, ", "), backupNote(cres))
		}
	}
	if sf.dryRun {
		return exitOK
	}
	if cfg, err := config.Load(config.LoadOptions{}); err != nil {
		fmt.Fprintf(stderr, "ccotel install: warning: the configuration does not load: %v\n", err)
	} else if cfg.Endpoint == "" {
		fmt.Fprintf(stdout, "\nNo collector is configured yet, so the hook does nothing. Next:\n  ccotel install --endpoint https://collector.example.com:4318 --client-cert client.pem --client-key client-key.pem --ca ca.pem\n(or edit %s), then run: ccotel doctor\n", cfgPath)
	} else {
		fmt.Fprintf(stdout, "\nSpans go to %s. Check the whole chain with: ccotel doctor\n", cfg.DisplayEndpoint())
	}
	return exitOK
}

func runUninstall(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("uninstall", flag.ContinueOnError)
	var sf settingsFlags
	sf.register(fs)
	if code, ok := parseFlags(fs, uninstallUsage, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ccotel uninstall: unexpected argument %q\nRun 'ccotel uninstall --help' for usage.\n", fs.Arg(0))
		return exitUsage
	}
	home, err := os.UserHomeDir()
	if err != nil {
		fmt.Fprintf(stderr, "ccotel uninstall: %v\n", err)
		return exitFailure
	}
	path, err := sf.path(home)
	if err != nil {
		fmt.Fprintf(stderr, "ccotel uninstall: %v\n", err)
		return exitUsage
	}
	// Entries of this binary count as ccotel's even when it is not named
	// ccotel (a renamed or development build).
	self, _, _ := hookCommand("")
	var rep settings.Report
	res, err := settings.EditFile(path, func(src []byte) ([]byte, error) {
		out, r, err := settings.Uninstall(src, self)
		rep = r
		return out, err
	}, sf.dryRun)
	if err != nil {
		reportEditError(stderr, "uninstall", path, err)
		return exitFailure
	}
	switch {
	case sf.dryRun:
		printDryRun(stdout, res)
	case !res.Changed:
		fmt.Fprintf(stdout, "%s: no ccotel hooks, nothing to do\n", res.Path)
	default:
		fmt.Fprintf(stdout, "%s: removed ccotel's hooks from %d events%s\n", res.Path, len(rep.Removed), backupNote(res))
	}
	if !sf.dryRun {
		fmt.Fprintf(stdout, "The config file (%s) and the state directory were left as they are.\n", config.ConfigFilePath(nil))
	}
	return exitOK
}

// hookCommand returns the command settings.json should run: --command as
// given (made absolute if it is a path), else this binary. For this binary
// the path on $PATH is preferred when it is the same file, so that a
// Homebrew upgrade (a new Cellar directory behind the same
// /opt/homebrew/bin/ccotel link) does not break the hooks; else the
// resolved path of the running executable.
func hookCommand(flagValue string) (string, []string, error) {
	var warnings []string
	if flagValue != "" {
		if !strings.ContainsRune(flagValue, os.PathSeparator) {
			if _, err := exec.LookPath(flagValue); err != nil {
				warnings = append(warnings, fmt.Sprintf("--command %s is not on $PATH; Claude Code may not find it", flagValue))
			}
			return flagValue, warnings, nil
		}
		p, err := filepath.Abs(flagValue)
		if err != nil {
			return "", nil, err
		}
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			warnings = append(warnings, fmt.Sprintf("--command %s is not an executable file (yet?)", p))
		}
		return p, append(warnings, tempDirWarning(p)...), nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", nil, fmt.Errorf("cannot find this binary's path (%v); pass --command PATH", err)
	}
	real, err := filepath.EvalSymlinks(exe)
	if err != nil {
		real = exe
	}
	p := real
	if lp, err := exec.LookPath("ccotel"); err == nil {
		if abs, err := filepath.Abs(lp); err == nil {
			if r, err := filepath.EvalSymlinks(abs); err == nil && r == real {
				p = abs
			}
		}
	}
	return p, tempDirWarning(p), nil
}

// tempDirWarning warns when the hooks would run a binary that is about to
// disappear (`go run`, a test build, a download in /tmp).
func tempDirWarning(p string) []string {
	tmp := os.TempDir()
	if r, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = r
	}
	temporary := strings.Contains(p, string(os.PathSeparator)+"go-build")
	for _, dir := range []string{tmp, "/tmp", "/private/tmp", "/var/folders", "/private/var/folders"} {
		temporary = temporary || strings.HasPrefix(p, dir+string(os.PathSeparator))
	}
	if !temporary {
		return nil
	}
	return []string{fmt.Sprintf("the hooks will run %s, which is in a temporary directory: they stop working when it is removed. Install ccotel first (install.sh, Homebrew or go install) or pass --command PATH", p)}
}

func reportEditError(stderr io.Writer, cmd, path string, err error) {
	var se *settings.SyntaxError
	if errors.As(err, &se) {
		fmt.Fprintf(stderr, "ccotel %s: %s is not valid JSON: %v\nThe file was not changed. Fix it (or move it away) and run ccotel %s again.\n", cmd, path, se, cmd)
		return
	}
	fmt.Fprintf(stderr, "ccotel %s: %s: %v\nThe file was not changed.\n", cmd, path, err)
	if errors.Is(err, fs.ErrPermission) && path == settings.ManagedPath() {
		fmt.Fprintf(stderr, "The managed settings file and %s belong to root: run it with sudo.\n", config.DefaultSystemDir)
	}
}

func printDryRun(stdout io.Writer, res settings.Result) {
	if !res.Changed {
		fmt.Fprintf(stdout, "%s: no change (dry run)\n", res.Path)
		return
	}
	old := res.Path
	if !res.Existed {
		old = "/dev/null"
	}
	stdout.Write(diff.Diff(old, res.Old, res.Path, res.New))
	fmt.Fprintf(stdout, "(dry run: %s was not written)\n", res.Path)
}

func printInstallResult(stdout io.Writer, res settings.Result, rep settings.Report, hookCmd string) {
	if !res.Changed {
		fmt.Fprintf(stdout, "%s: already up to date (%d events run %s hook)\n", res.Path, len(settings.Events), hookCmd)
		return
	}
	var parts []string
	if n := len(rep.Added); n > 0 {
		parts = append(parts, fmt.Sprintf("added ccotel's hook to %d events", n))
	}
	if n := len(rep.Updated); n > 0 {
		parts = append(parts, fmt.Sprintf("updated it on %d (%s)", n, strings.Join(rep.Updated, ", ")))
	}
	if n := len(rep.Removed); n > 0 {
		parts = append(parts, fmt.Sprintf("removed duplicate or unused ccotel entries from %s", strings.Join(rep.Removed, ", ")))
	}
	created := ""
	if !res.Existed {
		created = " (new file)"
	}
	fmt.Fprintf(stdout, "%s%s: %s%s\n", res.Path, created, strings.Join(parts, "; "), backupNote(res))
	fmt.Fprintf(stdout, "Each hook runs: %s hook\n", hookCmd)
}

func backupNote(res settings.Result) string {
	if res.Backup == "" {
		return ""
	}
	return " (previous version: " + res.Backup + ")"
}

// hooksDisabled reports whether a settings file turns all its hooks off.
func hooksDisabled(settings []byte) bool {
	var s struct {
		DisableAllHooks bool `json:"disableAllHooks"`
	}
	return json.Unmarshal(settings, &s) == nil && s.DisableAllHooks
}
