package claudetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The interactive TUI of Claude Code, driven in a detached tmux session as
// a person would drive it: typed prompts and slash commands, keys (Escape,
// C-c, Up/Down/Enter in a dialog), the screen read with capture-pane.

// RequireTmux returns the tmux binary, or skips the test (fails it under
// CI=true, where .ci/run installs tmux).
func RequireTmux(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("tmux")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: tmux not found: %v", err)
	}
	t.Skip("tmux not installed (apt-get install tmux)")
	return ""
}

// TUI is one interactive claude process in a tmux server of its own (its
// socket below the sandbox root), in a window of fixed size.
type TUI struct {
	sb       *Sandbox
	sock     string
	exitFile string
	Started  time.Time
}

// TUISize is the terminal the TUI runs in, columns × rows.
const TUIWidth, TUIHeight = 120, 40

// SeedClaudeJSON writes $HOME/.claude.json so that the TUI starts without
// its first-run dialogs: onboarding done (else it asks the network), the
// working directory trusted (the folder-trust dialog defaults to "No,
// exit") and the API key approved (the custom-key dialog defaults to "No").
func (sb *Sandbox) SeedClaudeJSON() error {
	b, err := json.MarshalIndent(map[string]any{
		"hasCompletedOnboarding":        true,
		"theme":                         "dark",
		"bypassPermissionsModeAccepted": true,
		"customApiKeyResponses":         map[string]any{"approved": []string{"test"}, "rejected": []string{}},
		"projects": map[string]any{sb.Cwd: map[string]any{
			"hasTrustDialogAccepted": true, "hasCompletedProjectOnboarding": true, "allowedTools": []string{},
		}},
	}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(sb.Home, ".claude.json"), append(b, '\n'), 0o600)
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// StartTUI starts `claude` without -p in a detached tmux session, in the
// sandbox's cwd with the sandbox's clean environment (Env plus o.Env, and
// TERM), and waits until its input box is shown. It uses o.CLI, BaseURL,
// SessionID, Resume, Model, Args, Env, DebugFile and PermissionMode ("" is
// "default": the TUI's own default in 2.1.328 is auto mode, which asks a
// classifier instead of the person). Close it when done.
func (sb *Sandbox) StartTUI(ctx context.Context, o RunOptions) (*TUI, error) {
	if o.CLI == "" || o.BaseURL == "" || o.SessionID == "" {
		return nil, errors.New("claudetest: StartTUI needs CLI, BaseURL and SessionID")
	}
	mode := o.PermissionMode
	if mode == "" {
		mode = "default"
	}
	args := append([]string{o.CLI, "--permission-mode", mode}, o.sessionArgs()...)
	env := append(append(sb.Env(o.BaseURL), o.Env...), "TERM=xterm-256color", "COLORTERM=truecolor")
	var script strings.Builder
	// The tmux server outlives the test process: should the test be killed
	// before Close, a watchdog in the pane's process group kills the group
	// (claude with it; the server exits with its last session).
	fmt.Fprintf(&script, "(while kill -0 %d 2>/dev/null; do sleep 1; done; kill -KILL 0) </dev/null >/dev/null 2>&1 &\n", os.Getpid())
	fmt.Fprintf(&script, "cd %s || exit 1\nenv -i", shellQuote(sb.Cwd))
	for _, kv := range env {
		script.WriteString(" " + shellQuote(kv))
	}
	for _, a := range args {
		script.WriteString(" " + shellQuote(a))
	}
	tui := &TUI{sb: sb, sock: filepath.Join(sb.Root, "tmux.sock"), exitFile: filepath.Join(sb.Root, "tui.exit")}
	_ = os.Remove(tui.exitFile)
	fmt.Fprintf(&script, " 2>%s\necho $? >%s\n", shellQuote(filepath.Join(sb.Root, "tui.stderr")), shellQuote(tui.exitFile))
	run := filepath.Join(sb.Root, "tui.sh")
	if err := os.WriteFile(run, []byte(script.String()), 0o700); err != nil {
		return nil, err
	}
	tui.Started = time.Now()
	if err := tui.tmux("new-session", "-d", "-s", "claude", "-x", strconv.Itoa(TUIWidth), "-y", strconv.Itoa(TUIHeight), "sh "+shellQuote(run)); err != nil {
		return nil, err
	}
	if err := tui.WaitFor(ctx, "❯", 30*time.Second); err != nil {
		tui.Close()
		return nil, fmt.Errorf("claudetest: the TUI did not show its input box: %w", err)
	}
	return tui, nil
}

func (tui *TUI) tmux(args ...string) error {
	out, err := exec.Command("tmux", append([]string{"-S", tui.sock}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Screen is the visible pane, as text.
func (tui *TUI) Screen() string {
	out, err := exec.Command("tmux", "-S", tui.sock, "capture-pane", "-p", "-t", "claude").Output()
	if err != nil {
		return fmt.Sprintf("(no screen: %v)", err)
	}
	return string(out)
}

// WaitFor polls the screen until it shows text, or fails after timeout
// with the last screen in the error.
func (tui *TUI) WaitFor(ctx context.Context, text string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s := tui.Screen()
		if strings.Contains(s, text) {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("no %q on the screen after %s:\n%s", text, timeout, s)
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// Type types text literally, then presses Enter.
func (tui *TUI) Type(text string) error {
	if err := tui.tmux("send-keys", "-t", "claude", "-l", text); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // let the input box take the text before Enter
	return tui.Keys("Enter")
}

// Keys presses keys by tmux name ("Escape", "C-c", "Up", "Enter").
func (tui *TUI) Keys(keys ...string) error {
	return tui.tmux(append([]string{"send-keys", "-t", "claude"}, keys...)...)
}

// Wait waits until claude exited and returns its exit code (-1 on timeout).
func (tui *TUI) Wait(ctx context.Context, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(tui.exitFile); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
			return strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return -1, fmt.Errorf("claude still running after %s:\n%s", timeout, tui.Screen())
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// Close kills the tmux server and claude's process group (the pane's
// shell, claude, the tools it started in that group), if still running.
func (tui *TUI) Close() { killTmux(tui.sock) }

// KillTUI does what Close does for the TUI of a sandbox below root (the
// directory given to NewSandbox or PlayScenario), for a test's t.Cleanup:
// nothing is left running even if the run was cut short.
func KillTUI(root string) {
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	if _, err := os.Stat(filepath.Join(root, "tmux.sock")); err == nil {
		killTmux(filepath.Join(root, "tmux.sock"))
	}
}

func killTmux(sock string) {
	out, _ := exec.Command("tmux", "-S", sock, "display-message", "-p", "-t", "claude", "#{pane_pid}").Output()
	_ = exec.Command("tmux", "-S", sock, "kill-server").Run()
	if pid, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && pid > 1 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
}
