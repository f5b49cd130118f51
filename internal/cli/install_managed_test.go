package cli

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modeOf is a file's permission bits (0 if it does not exist).
func modeOf(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return 0
	}
	return fi.Mode().Perm()
}

type doctorJSON struct {
	Config   map[string]string `json:"config"`
	Sources  map[string]string `json:"sources"`
	Findings []struct{ Section, Severity, Message, Fix string }
}

func runDoctorJSON(t *testing.T, args ...string) doctorJSON {
	t.Helper()
	_, out, errs := runCmd(func(a []string, o, e *bytes.Buffer) int { return runDoctor(a, nil, o, e) }, append([]string{"--offline", "--json"}, args...)...)
	var d doctorJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("doctor --json: %v\n%s\n%s", err, out, errs)
	}
	return d
}

func (d doctorJSON) finding(substr string) string {
	for _, f := range d.Findings {
		if strings.Contains(f.Message, substr) {
			return f.Severity + ": " + f.Message
		}
	}
	return ""
}

// install --scope managed writes Claude Code's managed settings file and
// the system-wide config file, both 0644 in 0755 directories, with no
// secret: each user's certificate paths are "~/…", resolved per user, and
// the server CA is copied beside the config. doctor, run by another user,
// finds the hooks and the collector and names the files they came from.
func TestInstallManaged(t *testing.T) {
	admin := cmdEnv(t)
	sys, managed := os.Getenv("CCOTEL_SYSTEM_DIR"), os.Getenv("CCOTEL_MANAGED_SETTINGS")
	ca := filepath.Join(admin, "server-ca.pem")
	os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o600)

	code, out, errs := runCmd(installCmd, "--scope", "managed", "--command", "/usr/local/bin/ccotel", "--endpoint", "https://otel.example.com", "--ca", ca)
	if code != 0 || !strings.Contains(out, managed+" (new file): added ccotel's hook to 24 events") || !strings.Contains(out, filepath.Join(sys, "config.toml")+": set endpoint, client_cert, client_key, ca") {
		t.Fatalf("install --scope managed: %d\n%s\n%s", code, out, errs)
	}
	for p, want := range map[string]fs.FileMode{
		managed: 0o644, filepath.Dir(managed): 0o755,
		filepath.Join(sys, "config.toml"): 0o644, sys: 0o755, filepath.Join(sys, "ca.pem"): 0o644,
	} {
		if got := modeOf(t, p); got != want {
			t.Errorf("%s: mode %04o, want %04o", p, got, want)
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(sys, "config.toml"))
	for _, want := range []string{`endpoint = "https://otel.example.com"`, `client_cert = "~/.config/ccotel/client.pem"`,
		`client_key = "~/.config/ccotel/client-key.pem"`, `ca = "` + filepath.Join(sys, "ca.pem") + `"`} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("system config lacks %s:\n%s", want, cfg)
		}
	}

	// A developer on the same machine: nothing of their own configured.
	dev := t.TempDir()
	t.Setenv("HOME", dev)
	d := runDoctorJSON(t)
	sysSrc := "file " + filepath.Join(sys, "config.toml")
	if d.Sources["endpoint"] != sysSrc || d.Config["client_cert"] != filepath.Join(dev, ".config/ccotel/client.pem") || d.Sources["client_cert"] != sysSrc {
		t.Errorf("doctor as a developer: config %v sources %v", d.Config, d.Sources)
	}
	if f := d.finding(managed + " runs ccotel on 24 events"); !strings.HasPrefix(f, "ok") {
		t.Errorf("doctor does not see the managed hooks (%q): %+v", f, d.Findings)
	}
	if f := d.finding("does not run ccotel"); f != "" {
		t.Errorf("doctor: %s", f)
	}
	if f := d.finding("no collector endpoint"); f != "" {
		t.Errorf("doctor: %s", f)
	}
}

// The fleet of issue 19: hooks in the managed file and CCOTEL_* in its env
// block, nothing else. doctor and status see the endpoint, and say it came
// from that env block; a managed file other users cannot read is a failure.
func TestManagedEnvBlock(t *testing.T) {
	home := cmdEnv(t)
	managed := os.Getenv("CCOTEL_MANAGED_SETTINGS")
	os.MkdirAll(filepath.Dir(managed), 0o755)
	code, out, errs := runCmd(installCmd, "--scope", "managed", "--command", "/usr/local/bin/ccotel")
	if code != 0 {
		t.Fatalf("install: %s %s", out, errs)
	}
	src, _ := os.ReadFile(managed)
	src = []byte(strings.Replace(string(src), "{", `{"env": {"CCOTEL_ENDPOINT": "https://fleet.example.com", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://stripped.example.com"},`, 1))
	os.WriteFile(managed, src, 0o644)

	d := runDoctorJSON(t)
	want := "env CCOTEL_ENDPOINT (from " + managed + ")"
	if d.Config["endpoint"] != "https://fleet.example.com/v1/traces" || d.Sources["endpoint"] != want {
		t.Errorf("doctor: endpoint %q from %q, want from %q", d.Config["endpoint"], d.Sources["endpoint"], want)
	}
	t.Setenv("CCOTEL_STATE_DIR", filepath.Join(home, "state"))
	_, out, errs = runCmd(func(a []string, o, e *bytes.Buffer) int { return runStatus(a, nil, o, e) })
	if !strings.Contains(out, "https://fleet.example.com/v1/traces ("+want+")") || !strings.Contains(out, "env block of "+managed) {
		t.Errorf("status:\n%s%s", out, errs)
	}

	os.Chmod(managed, 0o600)
	if f := runDoctorJSON(t).finding("mode 0600"); !strings.HasPrefix(f, "failure") {
		t.Errorf("a managed file only its owner reads: %q", f)
	}
}

// Per-user paths only: a relative certificate path would be taken from
// wherever Claude Code runs.
func TestInstallManagedRefusesRelativePaths(t *testing.T) {
	cmdEnv(t)
	code, _, errs := runCmd(installCmd, "--scope", "managed", "--command", "/usr/local/bin/ccotel", "--endpoint", "https://otel.example.com", "--client-cert", "client.pem")
	if code == 0 || !strings.Contains(errs, "~/") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(os.Getenv("CCOTEL_MANAGED_SETTINGS")); err == nil {
		t.Error("the managed file was written anyway")
	}
}

// A managed file with allowManagedHooksOnly makes Claude Code ignore the
// user's own hooks: ccotel wired only there is a failure.
func TestManagedHooksOnlyIgnoresUserHooks(t *testing.T) {
	cmdEnv(t)
	managed := os.Getenv("CCOTEL_MANAGED_SETTINGS")
	if code, out, errs := runCmd(installCmd, "--command", "/usr/local/bin/ccotel"); code != 0 {
		t.Fatal(out, errs)
	}
	os.MkdirAll(filepath.Dir(managed), 0o755)
	os.WriteFile(managed, []byte(`{"allowManagedHooksOnly": true}`), 0o644)
	d := runDoctorJSON(t)
	if f := d.finding("allowManagedHooksOnly"); !strings.HasPrefix(f, "failure") {
		t.Errorf("doctor: %q", f)
	}
	if f := d.finding("does not run ccotel"); !strings.HasPrefix(f, "failure") {
		t.Errorf("doctor: %q", f)
	}
}
