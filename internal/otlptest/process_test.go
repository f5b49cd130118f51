package otlptest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Unavailable skips, except under CI=true, where it fails: run in a child
// test process with and without CI=true.
func TestUnavailable(t *testing.T) {
	if os.Getenv("OTLPTEST_UNAVAILABLE_CHILD") == "1" {
		Unavailable(t, "frobnicator not installed")
		return
	}
	for _, ci := range []string{"true", ""} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailable$", "-test.v")
		cmd.Env = append(os.Environ(), "OTLPTEST_UNAVAILABLE_CHILD=1", "CI="+ci)
		out, err := cmd.CombinedOutput()
		switch {
		case ci == "true" && (err == nil || !strings.Contains(string(out), "--- FAIL") || !strings.Contains(string(out), "CI=true: frobnicator not installed")):
			t.Errorf("CI=true: want a failure naming what is missing, got %v\n%s", err, out)
		case ci == "" && (err != nil || !strings.Contains(string(out), "--- SKIP") || !strings.Contains(string(out), "frobnicator not installed")):
			t.Errorf("no CI: want a skip, got %v\n%s", err, out)
		}
	}
}
