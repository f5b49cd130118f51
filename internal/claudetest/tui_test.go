package claudetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTUIDriver drives a stand-in for claude (a shell loop that shows a
// prompt and echoes what it reads) through StartTUI: typing, waiting for
// the screen, a dialog answered, /exit and the exit code, the environment,
// and Close killing what is left.
func TestTUIDriver(t *testing.T) {
	RequireTmux(t)
	sb, err := NewSandbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(sb.Root, "fake-claude")
	script := `#!/bin/sh
echo "args: $*"
echo "home: $HOME term: $TERM"
echo "Do you want to proceed?"
read answer
clear
echo "❯ ready"
while read line; do
  echo "got:$line"
  [ "$line" = "/exit" ] && exit 3
done
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sb.SeedClaudeJSON(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o := RunOptions{CLI: fake, BaseURL: "http://127.0.0.1:9", SessionID: "s-1"}
	// The stand-in shows its "❯" only after the dialog is answered, so
	// StartTUI cannot return first: answer it from the side.
	tui := &TUI{sb: sb, sock: filepath.Join(sb.Root, "tmux.sock")}
	go func() {
		if tui.WaitFor(ctx, "Do you want", 10*time.Second) == nil {
			_ = tui.do(ctx, Answered("Do you want", "Enter"), nil)
		}
	}()
	started, err := sb.StartTUI(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(started.Close)
	if err := started.Type("hello"); err != nil {
		t.Fatal(err)
	}
	if err := started.WaitFor(ctx, "got:hello", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := started.do(ctx, Exit(), nil); err != nil {
		t.Fatal(err)
	}
	code, err := started.Wait(ctx, 5*time.Second)
	if err != nil || code != 3 {
		t.Fatalf("exit %d, %v", code, err)
	}
	b, _ := os.ReadFile(filepath.Join(sb.Root, "tui.sh"))
	for _, want := range []string{"'HOME=" + sb.Home + "'", "'TERM=xterm-256color'", "'--permission-mode' 'default'", "'--session-id' 's-1'", "env -i"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("tui.sh lacks %s:\n%s", want, b)
		}
	}
	started.Close()
	if err := started.tmux("has-session", "-t", "claude"); err == nil {
		t.Error("the tmux session outlived Close")
	}
}

// TestTUIWatchdog: a TUI whose test process died is killed by the pane's
// watchdog, without Close. The "test process" here is a sleep.
func TestTUIWatchdog(t *testing.T) {
	RequireTmux(t)
	sb, err := NewSandbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(sb.Root, "fake-claude")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho '❯'\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tui, err := sb.StartTUI(context.Background(), RunOptions{CLI: fake, BaseURL: "http://127.0.0.1:9", SessionID: "s-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tui.Close)
	// Point the watchdog at a process that ends in a second.
	b, _ := os.ReadFile(filepath.Join(sb.Root, "tui.sh"))
	if !strings.Contains(string(b), fmt.Sprintf("kill -0 %d ", os.Getpid())) {
		t.Fatalf("no watchdog on the test process in tui.sh:\n%s", b)
	}
	tui.Close()
	short := exec.Command("sleep", "1")
	if err := short.Start(); err != nil {
		t.Fatal(err)
	}
	go short.Wait()
	script := strings.Replace(string(b), fmt.Sprintf("kill -0 %d ", os.Getpid()), fmt.Sprintf("kill -0 %d ", short.Process.Pid), 1)
	if err := os.WriteFile(filepath.Join(sb.Root, "tui.sh"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := tui.tmux("new-session", "-d", "-s", "claude", "sh "+shellQuote(filepath.Join(sb.Root, "tui.sh"))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for tui.tmux("has-session", "-t", "claude") == nil {
		if time.Now().After(deadline) {
			t.Fatal("the TUI outlived its test process by 9s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
