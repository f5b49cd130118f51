package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cmdEnv gives a command a fresh HOME and no outside configuration.
func cmdEnv(t *testing.T) (home string) {
	home = t.TempDir()
	t.Setenv("HOME", home)
	for _, k := range []string{"XDG_CONFIG_HOME", "CCOTEL_CONFIG", "CLAUDE_CONFIG_DIR", "CCOTEL_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	// The machine's own /etc stays out of it.
	t.Setenv("CCOTEL_SYSTEM_DIR", filepath.Join(home, "etc", "ccotel"))
	t.Setenv("CCOTEL_MANAGED_SETTINGS", filepath.Join(home, "etc", "claude-code", "managed-settings.json"))
	return home
}

func runCmd(run func([]string, *bytes.Buffer, *bytes.Buffer) int, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func installCmd(args []string, out, errb *bytes.Buffer) int {
	return runInstall(args, nil, out, errb)
}

func uninstallCmd(args []string, out, errb *bytes.Buffer) int {
	return runUninstall(args, nil, out, errb)
}

func TestInstallCommandRoundTrip(t *testing.T) {
	home := cmdEnv(t)
	settings := filepath.Join(home, ".claude", "settings.json")
	os.MkdirAll(filepath.Dir(settings), 0o700)
	orig := []byte("{\n  \"model\": \"opus\",\n  \"permissions\": {\"allow\": [\"Bash(ls:*)\"]}\n}\n")
	os.WriteFile(settings, orig, 0o644)

	code, out, errs := runCmd(installCmd, "--command", "/opt/bin/ccotel", "--dry-run")
	if code != 0 || !strings.Contains(out, "+++ "+settings) || !strings.Contains(out, `+            "command": "/opt/bin/ccotel",`) || !strings.Contains(out, "was not written") {
		t.Fatalf("dry run: %d\n%s\n%s", code, out, errs)
	}
	if now, _ := os.ReadFile(settings); !bytes.Equal(now, orig) {
		t.Fatal("dry run wrote the file")
	}

	code, out, errs = runCmd(installCmd, "--command", "/opt/bin/ccotel")
	if code != 0 || !strings.Contains(out, "added ccotel's hook to 24 events") || !strings.Contains(out, settings+".bak") || !strings.Contains(out, "No collector is configured") {
		t.Fatalf("install: %d\n%s\n%s", code, out, errs)
	}
	var s struct {
		Model string
		Hooks map[string][]struct {
			Hooks []struct {
				Command string
				Args    []string
			}
		}
	}
	installed, _ := os.ReadFile(settings)
	if err := json.Unmarshal(installed, &s); err != nil || s.Model != "opus" || len(s.Hooks) != 24 || s.Hooks["Stop"][0].Hooks[0].Command != "/opt/bin/ccotel" {
		t.Fatalf("settings after install (%v):\n%s", err, installed)
	}

	code, out, _ = runCmd(installCmd, "--command", "/opt/bin/ccotel")
	if code != 0 || !strings.Contains(out, "already up to date") {
		t.Errorf("second install: %d %s", code, out)
	}
	if now, _ := os.ReadFile(settings); !bytes.Equal(now, installed) {
		t.Errorf("second install changed the file")
	}

	code, out, _ = runCmd(uninstallCmd)
	if code != 0 || !strings.Contains(out, "removed ccotel's hooks from 24 events") {
		t.Errorf("uninstall: %d %s", code, out)
	}
	if now, _ := os.ReadFile(settings); !bytes.Equal(now, orig) {
		t.Errorf("uninstall did not restore the file:\n%s", now)
	}
	if fi, _ := os.Stat(settings); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode changed to %v", fi.Mode())
	}
	code, out, _ = runCmd(uninstallCmd)
	if code != 0 || !strings.Contains(out, "no ccotel hooks") {
		t.Errorf("second uninstall: %d %s", code, out)
	}
}

func TestInstallCommandScopesAndErrors(t *testing.T) {
	home := cmdEnv(t)
	project := t.TempDir()
	wd, _ := os.Getwd()
	os.Chdir(project)
	defer os.Chdir(wd)

	if code, _, errs := runCmd(installCmd, "--command", "/opt/bin/ccotel", "--scope", "local"); code != 0 {
		t.Fatalf("local scope: %s", errs)
	}
	if _, err := os.Stat(filepath.Join(project, ".claude", "settings.local.json")); err != nil {
		t.Errorf("local scope: %v", err)
	}
	if code, _, _ := runCmd(uninstallCmd, "--scope", "project"); code != 0 {
		t.Errorf("uninstall of a missing project file failed")
	}
	if _, err := os.Stat(filepath.Join(project, ".claude", "settings.json")); err == nil {
		t.Errorf("uninstall created the project settings file")
	}
	t.Setenv("CLAUDE_CONFIG_DIR", filepath.Join(home, "alt"))
	if code, out, _ := runCmd(installCmd, "--command", "/opt/bin/ccotel"); code != 0 || !strings.Contains(out, filepath.Join(home, "alt", "settings.json")) {
		t.Errorf("CLAUDE_CONFIG_DIR not used: %s", out)
	}

	bad := filepath.Join(home, "bad.json")
	orig := []byte("{\n  \"model\": \"opus\",\n}\n")
	os.WriteFile(bad, orig, 0o600)
	code, _, errs := runCmd(installCmd, "--settings", bad, "--command", "/opt/bin/ccotel")
	if code != 1 || !strings.Contains(errs, "is not valid JSON: line 3, column 1") || !strings.Contains(errs, "not changed") {
		t.Errorf("invalid JSON: %d %s", code, errs)
	}
	if now, _ := os.ReadFile(bad); !bytes.Equal(now, orig) {
		t.Errorf("invalid file changed")
	}
	if _, err := os.Stat(bad + ".bak"); err == nil {
		t.Errorf("backup written for a refused file")
	}

	for _, args := range [][]string{{"--scope", "global"}, {"--nope"}, {"extra"}} {
		if code, _, errs := runCmd(installCmd, args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
	if code, out, _ := runCmd(installCmd, "--help"); code != 0 || !strings.Contains(out, "Usage: ccotel install") {
		t.Errorf("--help: %d %s", code, out)
	}
	if code, out, _ := runCmd(uninstallCmd, "-h"); code != 0 || !strings.Contains(out, "Usage: ccotel uninstall") {
		t.Errorf("-h: %d %s", code, out)
	}
}

func TestInstallCommandConfig(t *testing.T) {
	home := cmdEnv(t)
	cert, key, ca := filepath.Join(home, "c.pem"), filepath.Join(home, "k.pem"), filepath.Join(home, "ca.pem")
	for _, p := range []string{cert, key, ca} {
		os.WriteFile(p, []byte("pem"), 0o600)
	}
	settings := filepath.Join(home, ".claude", "settings.json")

	// A missing file stops everything before anything is written.
	code, _, errs := runCmd(installCmd, "--command", "/opt/bin/ccotel", "--endpoint", "https://c.example:4318", "--ca", filepath.Join(home, "missing.pem"))
	if code != 1 || !strings.Contains(errs, "missing.pem") {
		t.Errorf("missing CA: %d %s", code, errs)
	}
	if _, err := os.Stat(settings); err == nil {
		t.Errorf("settings written despite a bad flag")
	}

	cfg := filepath.Join(home, ".config", "ccotel", "config.toml")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte("capture = \"details\"\n\n[resource]\nteam = \"infra\"\n"), 0o600)
	code, out, errs := runCmd(installCmd, "--command", "/opt/bin/ccotel", "--endpoint", "https://c.example:4318", "--client-cert", cert, "--client-key", "~/k.pem", "--ca", ca)
	if code != 0 || !strings.Contains(out, "set endpoint, client_cert, client_key, ca") || !strings.Contains(out, "Spans go to https://c.example:4318/v1/traces") {
		t.Fatalf("config: %d\n%s\n%s", code, out, errs)
	}
	got, _ := os.ReadFile(cfg)
	want := "capture = \"details\"\nendpoint = \"https://c.example:4318\"\nclient_cert = \"" + cert + "\"\nclient_key = \"" + key + "\"\nca = \"" + ca + "\"\n\n[resource]\nteam = \"infra\"\n"
	if string(got) != want {
		t.Errorf("config file:\n%s\nwant:\n%s", got, want)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v", fi.Mode())
	}
}

func TestVersionCommand(t *testing.T) {
	code, out, _ := runCmd(func(a []string, o, e *bytes.Buffer) int { return runVersion(a, nil, o, e) })
	if code != 0 || !regexp.MustCompile(`^ccotel \S+ \(commit \S+, built \S+, go\S+ \w+/\w+\)\n$`).MatchString(out) {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, _ := runCmd(func(a []string, o, e *bytes.Buffer) int { return runVersion(a, nil, o, e) }, "x"); code != 2 {
		t.Errorf("extra argument: exit %d", code)
	}
}
