// Package packaging holds the tests of install.sh and the release script;
// the files they test live at the repository root and in this folder.
package packaging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccotel/ccotel/internal/settings"
)

// shells are the POSIX shells install.sh is run with: dash (Debian's sh,
// close to macOS's /bin/sh in what it accepts) when present, and bash.
func shells(t *testing.T) []string {
	var out []string
	for _, sh := range []string{"dash", "bash"} {
		if p, err := exec.LookPath(sh); err == nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = []string{"sh"}
	}
	return out
}

type script struct {
	t    *testing.T
	path string   // install.sh
	env  []string // the environment it runs in
}

func (s script) run(shell string, args ...string) (code int, stdout, stderr string) {
	s.t.Helper()
	cmd := exec.Command(shell, append([]string{s.path}, args...)...)
	cmd.Env = s.env
	cmd.Dir = s.t.TempDir()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return code, o.String(), e.String()
}

// goEnv returns the real toolchain's settings, so the script's build uses
// the same module and build caches as `go test` (a fresh HOME would
// otherwise mean a cold cache and a network fetch). It reads them as JSON:
// `go env A B C` prints one line per name, and an empty value (GOFLAGS on
// most laptops) is an empty line that trimming would lose.
func goEnv(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "-json", "GOCACHE", "GOMODCACHE", "GOFLAGS").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ GOCACHE, GOMODCACHE, GOFLAGS string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("go env -json: %v\n%s", err, out)
	}
	return []string{
		"GOCACHE=" + v.GOCACHE, "GOMODCACHE=" + v.GOMODCACHE, "GOFLAGS=" + v.GOFLAGS,
		"GOTOOLCHAIN=local", "GOPROXY=off",
		// -trimpath compiles every package anew (its cache keys differ
		// from go test's); release.sh builds with it.
		"GO_BUILD_FLAGS=-trimpath=false",
	}
}

// TestGoEnvPlain: goEnv in a new user's environment, where GOFLAGS is
// empty and no `go env -w` file sets it.
func TestGoEnvPlain(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no Go toolchain")
	}
	t.Setenv("GOENV", "off")
	t.Setenv("GOFLAGS", "")
	env := goEnv(t)
	if len(env) < 3 || !strings.HasPrefix(env[0], "GOCACHE=/") || !strings.HasPrefix(env[1], "GOMODCACHE=/") || env[2] != "GOFLAGS=" {
		t.Errorf("goEnv with GOFLAGS empty: %q", env)
	}
}

func hookCommands(t *testing.T, settingsPath string) map[string]string {
	t.Helper()
	var s struct {
		Hooks map[string][]struct {
			Hooks []struct {
				Command string   `json:"command"`
				Args    []string `json:"args"`
			} `json:"hooks"`
		} `json:"hooks"`
	}
	b, err := os.ReadFile(settingsPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", settingsPath, err)
	}
	out := map[string]string{}
	for ev, groups := range s.Hooks {
		for _, g := range groups {
			for _, h := range g.Hooks {
				if len(h.Args) > 0 && h.Args[0] == "hook" {
					out[ev] = h.Command
				}
			}
		}
	}
	return out
}

func TestInstallScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ccotel")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no Go toolchain")
	}
	tmp := t.TempDir()
	root := sourceCopy(t, filepath.Join(tmp, "src"))
	home, prefix := filepath.Join(tmp, "home"), filepath.Join(tmp, "prefix")
	os.MkdirAll(home, 0o755)
	s := script{t: t, path: filepath.Join(root, "install.sh"),
		env: append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + tmp}, goEnv(t)...)}
	sh := shells(t)
	bin := filepath.Join(prefix, "bin", "ccotel")
	settingsPath := filepath.Join(home, ".claude", "settings.json")

	// First install: build, copy, wire settings.json.
	code, out, errs := s.run(sh[0], "--prefix", prefix)
	if code != 0 {
		t.Fatalf("%s install.sh: exit %d\n%s\n%s", sh[0], code, out, errs)
	}
	for _, want := range []string{"building ccotel v9.8.7", "installed " + bin, fmt.Sprintf("added ccotel's hook to %d events", len(settings.Events)), "To undo: sh '" + s.path + "' --uninstall --prefix '" + prefix + "'"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "is not on your PATH") {
		t.Errorf("no PATH warning:\n%s", errs)
	}
	hooks := hookCommands(t, settingsPath)
	if len(hooks) != len(settings.Events) || hooks["PostToolUse"] != bin || hooks["SessionEnd"] != bin {
		t.Errorf("settings.json hooks: %v", hooks)
	}
	installed, _ := os.ReadFile(settingsPath)

	// The installed binary runs: version, and the hook on a real event.
	v, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(v), "ccotel v9.8.7 (commit ") || !strings.Contains(string(v), ", built 2026-01-02T03:04:05Z, go") {
		t.Errorf("%s version: %q %v", bin, v, err)
	}
	hook := exec.Command(bin, "hook")
	hook.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin"}
	hook.Stdin = strings.NewReader(`{"session_id":"7f0c2d6e-3b1a-4c8e-9d2f-1a2b3c4d5e6f","hook_event_name":"SessionStart","source":"startup","cwd":"/tmp"}`)
	if out, err := hook.CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("installed hook: %v, output %q", err, out)
	}

	// Again, with the other shell: nothing changes.
	code, out, errs = s.run(sh[len(sh)-1], "--prefix", prefix)
	if code != 0 || !strings.Contains(out, "already this build") || !strings.Contains(out, "already up to date") {
		t.Errorf("second run: exit %d\n%s\n%s", code, out, errs)
	}
	if now, _ := os.ReadFile(settingsPath); !bytes.Equal(now, installed) {
		t.Errorf("second run changed settings.json")
	}

	// A prebuilt binary, without touching settings.json.
	prefix2 := filepath.Join(tmp, "prefix2")
	code, out, errs = s.run(sh[0], "--binary", bin, "--no-hooks", "--prefix="+prefix2)
	if code != 0 || !strings.Contains(out, "installed "+filepath.Join(prefix2, "bin", "ccotel")) {
		t.Errorf("--binary: exit %d\n%s\n%s", code, out, errs)
	}
	if now, _ := os.ReadFile(settingsPath); !bytes.Equal(now, installed) {
		t.Errorf("--no-hooks changed settings.json")
	}

	// Uninstall: hooks out, binary gone; twice is fine.
	code, out, errs = s.run(sh[0], "--uninstall", "--prefix", prefix)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("removed ccotel's hooks from %d events", len(settings.Events))) || !strings.Contains(out, "removed "+bin) {
		t.Errorf("--uninstall: exit %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat(bin); err == nil {
		t.Errorf("%s still there", bin)
	}
	if now, _ := os.ReadFile(settingsPath); string(now) != "{}\n" {
		t.Errorf("settings.json after uninstall:\n%s", now)
	}
	code, out, _ = s.run(sh[0], "--uninstall", "--prefix", prefix)
	if code != 0 || !strings.Contains(out, "nothing to remove") {
		t.Errorf("second --uninstall: exit %d\n%s", code, out)
	}
}

// sourceCopy copies the source tree (no tests, test data, dot-folders or
// dist/) to dir and commits it, tagged v9.8.7 at a
// fixed time, in a git repository of its own: the build is then the same
// on every run, whatever happens in the real work tree meanwhile.
func sourceCopy(t *testing.T, dir string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		name := d.Name()
		if rel == "." {
			return nil
		}
		// Dot-files too: in a git worktree .git is a file naming the real
		// repository, and a copy of it would make the git commands below
		// commit and tag in the developer's own repository.
		if strings.HasPrefix(name, ".") || (d.IsDir() && (name == "testdata" || name == "dist")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		// In a git worktree .git is a file naming the real git directory:
		// copied, `git add -A` below would stage the copy into that
		// worktree's own index.
		if d.IsDir() || strings.HasSuffix(name, "_test.go") || name == ".git" || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	gitEnv := append(os.Environ(), "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
		"GIT_DIR="+filepath.Join(dir, ".git"), "GIT_WORK_TREE="+dir, "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "-A"},
		{"-c", "user.name=ccotel test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "release"},
		{"tag", "v9.8.7"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = gitEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func TestInstallScriptErrors(t *testing.T) {
	root, _ := filepath.Abs("..")
	src, err := os.ReadFile(filepath.Join(root, "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, _ := os.ReadFile(filepath.Join(root, "go.mod"))
	tmp := t.TempDir()
	// A copy of the source with no Go on PATH, and install.sh alone.
	withSource, alone := filepath.Join(tmp, "src"), filepath.Join(tmp, "alone")
	for _, d := range []string{withSource, alone} {
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "install.sh"), src, 0o755)
	}
	os.WriteFile(filepath.Join(withSource, "go.mod"), gomod, 0o644)
	env := []string{"HOME=" + tmp, "PATH=/usr/bin:/bin"}
	if p, err := exec.LookPath("/usr/bin/go"); err == nil {
		t.Skipf("%s is on the minimal PATH", p)
	}
	for _, sh := range shells(t) {
		for _, tc := range []struct {
			dir  string
			args []string
			want string
		}{
			{withSource, nil, "Go is not installed"},
			{withSource, nil, "or pass --binary PATH"},
			{alone, nil, "no ccotel binary next to install.sh"},
			{alone, []string{"--frobnicate"}, "unknown option --frobnicate"},
			{alone, []string{"--prefix"}, "--prefix needs a value"},
			{alone, []string{"--binary", filepath.Join(tmp, "nope")}, "no such file"},
			{alone, []string{"--uninstall", "--endpoint", "https://x"}, "do not go with --uninstall"},
		} {
			s := script{t: t, path: filepath.Join(tc.dir, "install.sh"), env: env}
			code, out, errs := s.run(sh, tc.args...)
			if code != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("%s %v in %s: exit %d, want 1 and %q\n%s%s", sh, tc.args, filepath.Base(tc.dir), code, tc.want, out, errs)
			}
		}
		s := script{t: t, path: filepath.Join(alone, "install.sh"), env: env}
		if code, out, _ := s.run(sh, "--help"); code != 0 || !strings.Contains(out, "Usage: sh install.sh") {
			t.Errorf("%s --help: %d %s", sh, code, out)
		}
	}
}
