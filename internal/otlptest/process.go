package otlptest

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// StartLogged starts cmd with its output in the file logPath and stops it
// when the test ends (SIGTERM, then SIGKILL after 20 s), printing the log
// if the test failed. The returned channel yields cmd's exit once; a
// caller that reads it before the cleanup must send the value back.
func StartLogged(t testing.TB, cmd *exec.Cmd, logPath, name string) chan error {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log (%s):\n%s", name, logPath, b)
		}
	})
	return done
}
