package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/claudetest"
	"github.com/ccotel/ccotel/internal/otlptest"
)

// A fleet rollout with the real Claude Code CLI: `ccotel install --scope
// managed` (as root) writes /etc/claude-code/managed-settings.json and
// /etc/ccotel/config.toml; a developer with nothing configured but their
// certificate in ~/.config/ccotel runs a session; its spans arrive and
// doctor, run as that developer, says all is well and where each value
// came from.
//
// Claude Code 2.1.328 reads managed settings from /etc/claude-code only
// (no variable moves it), so install, claude and doctor each run in a
// private mount namespace (unshare -m) whose /etc is an overlay of the
// real one: what they write lands in the test's directory, the machine's
// /etc is never touched, and other tests on the machine never see it. It
// needs root, unshare and overlayfs; without them it skips, and fails
// under CI=true.
func TestManagedRolloutWithClaude(t *testing.T) {
	cli := claudetest.RequireCLI(t)
	overlay := requireEtcOverlay(t)
	bin := ccotelBinary(t)
	pki := otlptest.MustPKI(t)
	rec := otlptest.MustStart(t, pki)
	sc, _ := claudetest.ScenarioByName("one-tool")

	ctx, cancel := context.WithTimeout(context.Background(), claudeRun)
	defer cancel()
	var home string
	play, err := claudetest.PlayScenario(ctx, overlay.wrap(cli), t.TempDir(), sc, claudetest.PlayOptions{
		Setup: func(sb *claudetest.Sandbox) error {
			home = sb.Home
			t.Cleanup(func() { stopFlusher(t, filepath.Join(home, ".local", "state", "ccotel")) })
			out, err := overlay.run(ctx, cleanEnv(t.TempDir()), bin, "install", "--scope", "managed", "--command", bin,
				"--endpoint", rec.URL, "--ca", pki.ServerCA.Path)
			if err != nil {
				return fmt.Errorf("sudo ccotel install --scope managed: %v\n%s", err, out)
			}
			t.Logf("ccotel install --scope managed:\n%s", out)
			return placeUserCert(sb.Home, pki)
		},
		Timeout: 2 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := play.Runs[0]; r.ExitCode != 0 {
		t.Fatalf("claude exited %d\n%s", r.ExitCode, r)
	}
	overlay.checkModes(t)

	stateDir := filepath.Join(home, ".local", "state", "ccotel")
	waitDelivered(t, ctx, stateDir, rec)
	var names []string
	for _, name := range mustReceived(rec) {
		names = append(names, name)
	}
	sort.Strings(names)
	t.Logf("spans received from the session run with hooks in the managed file only: %d (%s)", len(names), strings.Join(names, ", "))
	if !slices.Contains(names, "execute_tool Bash") || len(names) < 3 {
		t.Errorf("collector: %v, want the session's root, turn and Bash tool spans", names)
	}

	out, err := overlay.run(ctx, cleanEnv(home), bin, "doctor")
	t.Logf("ccotel doctor as the developer:\n%s", out)
	managed := "/etc/claude-code/managed-settings.json"
	for _, want := range []string{
		"All good", "✓ " + managed + " runs ccotel on",
		"endpoint", "file /etc/ccotel/config.toml", "system /etc/ccotel/config.toml",
		filepath.Join(home, ".config/ccotel/client.pem"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor's output lacks %q", want)
		}
	}
	if err != nil {
		t.Errorf("doctor: %v", err)
	}
}

// mustReceived is span ID → name of what rec received.
func mustReceived(rec *otlptest.Receiver) map[string]string {
	got, _ := rec.Received()
	names := map[string]string{}
	for id, copies := range got {
		names[id] = copies[0].GetName()
	}
	return names
}

// placeUserCert puts the developer's certificate and key where `ccotel
// certs install` would: ~/.config/ccotel/client.pem and client-key.pem.
func placeUserCert(home string, pki *otlptest.PKI) error {
	dir := filepath.Join(home, ".config", "ccotel")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for src, dst := range map[string]string{pki.ClientCert: "client.pem", pki.ClientKey: "client-key.pem"} {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// etcOverlay runs commands with /etc overlaid by upper (a private mount
// namespace each): what they write to /etc lands in upper.
type etcOverlay struct {
	dir, upper string
}

func requireEtcOverlay(t *testing.T) *etcOverlay {
	t.Helper()
	if os.Geteuid() != 0 {
		otlptest.Unavailable(t, "needs root: Claude Code reads managed settings from /etc/claude-code only")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		otlptest.Unavailable(t, "needs unshare (util-linux) for a private /etc")
	}
	o := &etcOverlay{dir: t.TempDir()}
	o.upper = filepath.Join(o.dir, "upper")
	for _, d := range []string{o.upper, filepath.Join(o.dir, "work")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := o.run(context.Background(), os.Environ(), "true"); err != nil {
		otlptest.Unavailable(t, fmt.Sprintf("cannot overlay /etc in a private mount namespace: %v %s", err, out))
	}
	return o
}

// script is the shell that mounts the overlay and runs "$@".
func (o *etcOverlay) script() string {
	return fmt.Sprintf(`mount -t overlay overlay -o lowerdir=/etc,upperdir=%s,workdir=%s /etc && exec "$@"`,
		o.upper, filepath.Join(o.dir, "work"))
}

func (o *etcOverlay) run(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "unshare", append([]string{"-m", "--propagation", "private", "sh", "-c", o.script(), "sh", name}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// wrap writes an executable that runs cli under the overlay, for
// claudetest (which runs its CLI by path).
func (o *etcOverlay) wrap(cli string) string {
	p := filepath.Join(o.dir, "claude")
	sh := fmt.Sprintf("#!/bin/sh\nexec unshare -m --propagation private sh -c '%s' sh %q \"$@\"\n", o.script(), cli)
	if err := os.WriteFile(p, []byte(sh), 0o755); err != nil {
		panic(err)
	}
	return p
}

// checkModes: what install wrote under /etc, every user can read.
func (o *etcOverlay) checkModes(t *testing.T) {
	t.Helper()
	for rel, want := range map[string]fs.FileMode{
		"claude-code/managed-settings.json": 0o644, "claude-code": 0o755,
		"ccotel/config.toml": 0o644, "ccotel/ca.pem": 0o644, "ccotel": 0o755,
	} {
		fi, err := os.Stat(filepath.Join(o.upper, rel))
		if err != nil {
			t.Errorf("/etc/%s: %v", rel, err)
			continue
		}
		t.Logf("/etc/%s: mode %04o", rel, fi.Mode().Perm())
		if fi.Mode().Perm() != want {
			t.Errorf("/etc/%s: mode %04o, want %04o", rel, fi.Mode().Perm(), want)
		}
	}
}
