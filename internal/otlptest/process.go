package otlptest

import (
	"net"
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

// Unavailable ends a test that needs what this machine lacks (a tool, a
// build, root): a skip, but under CI=true, where .ci/run provides all of
// it, a failure, so that CI cannot pass without the real thing.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: %s", why)
	}
	t.Skip(why)
}

// FreeAddr is a loopback address (127.0.0.1:port) no one listens on yet,
// for a process a test starts (a collector, nginx, Prometheus).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
