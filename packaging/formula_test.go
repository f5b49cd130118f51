package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestHomebrewFormula runs packaging/homebrew/check_formula.rb: the
// formula's metadata, its install method (a real go build) and its test
// block (a real event stream through `ccotel replay --stdout`), against a
// stand-in for Homebrew's DSL. Needs ruby; skipped without it.
func TestHomebrewFormula(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ccotel")
	}
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		t.Skip("no ruby")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no Go toolchain")
	}
	root, _ := filepath.Abs("..")
	if out, err := exec.Command(ruby, "-c", filepath.Join("homebrew", "ccotel.rb")).CombinedOutput(); err != nil {
		t.Fatalf("ruby -c ccotel.rb: %v\n%s", err, out)
	}
	cmd := exec.Command(ruby, filepath.Join("homebrew", "check_formula.rb"), root)
	cmd.Env = append(os.Environ(), goEnv(t)...)
	cmd.Env = append(cmd.Env, "CHECK_FORMULA_NO_TRIMPATH=1", "TMPDIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("check_formula.rb: %v\n%s", err, out)
	}
}
