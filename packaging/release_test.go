package packaging

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestRelease runs release.sh into a temporary directory with a made-up
// version, for this machine's platform and one of the other OS, and checks
// what it wrote: every archive holds ccotel-VERSION-OS-ARCH/{ccotel,
// install.sh,LICENSE}, SHA256SUMS verifies, this platform's binary runs and
// reports the version, the formula names every archive by URL with its
// sha256; then check_formula.rb installs and tests the formula as Homebrew
// would. .ci/run builds all four targets with the same script.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ccotel twice")
	}
	ruby, err := exec.LookPath("ruby")
	if err != nil && os.Getenv("CI") == "true" {
		t.Fatal("no ruby, and CI=true: .ci/run installs it")
	}
	root, _ := filepath.Abs("..")
	dist, version := t.TempDir(), "v9.8.7-test.1"
	other := "darwin/arm64"
	if runtime.GOOS == "darwin" {
		other = "linux/amd64"
	}
	cmd := exec.Command("sh", filepath.Join(root, "packaging", "release.sh"))
	cmd.Env = append(os.Environ(), "DIST="+dist, "VERSION="+version, "BASE_URL=file://"+dist,
		"TARGETS="+runtime.GOOS+"/"+runtime.GOARCH+" "+other)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("release.sh: %v\n%s", err, out)
	}
	t.Logf("release.sh:\n%s", out)

	sums := checkSums(t, dist)
	if len(sums) != 2 {
		t.Fatalf("SHA256SUMS lists %d archives, want 2: %v", len(sums), sums)
	}
	for name := range sums {
		checkArchive(t, dist, name)
	}
	host := "ccotel-" + version + "-" + runtime.GOOS + "-" + runtime.GOARCH
	bin := filepath.Join(t.TempDir(), "unpacked")
	unpack(t, filepath.Join(dist, host+".tar.gz"), bin)
	v, err := exec.Command(filepath.Join(bin, host, "ccotel"), "version").Output()
	if err != nil || !strings.HasPrefix(string(v), "ccotel "+version+" (commit ") {
		t.Errorf("the unpacked %s binary: version %q, %v", host, v, err)
	}
	checkFormula(t, dist, version, sums)
	if ruby == "" {
		t.Skip("no ruby: the formula's install and test block were not run")
	}
	check := exec.Command(ruby, filepath.Join(root, "packaging", "homebrew", "check_formula.rb"), filepath.Join(dist, "ccotel.rb"))
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("check_formula.rb: %v\n%s", err, out)
	} else {
		t.Logf("check_formula.rb:\n%s", out)
	}
}

// checkSums verifies SHA256SUMS against the files and returns it.
func checkSums(t *testing.T, dist string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		b, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 %x, SHA256SUMS says %s", name, got, sum)
		}
		sums[name] = sum
	}
	return sums
}

// checkArchive: one top-level directory named as the archive, holding the
// binary (executable), install.sh and LICENSE.
func checkArchive(t *testing.T, dist, name string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dist, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	top := strings.TrimSuffix(name, ".tar.gz")
	files := map[string]int64{}
	for tr := tar.NewReader(zr); ; {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		files[h.Name] = h.Mode
	}
	for _, want := range []string{"ccotel", "install.sh", "LICENSE"} {
		if _, ok := files[top+"/"+want]; !ok {
			t.Errorf("%s lacks %s/%s: %v", name, top, want, files)
		}
	}
	if files[top+"/ccotel"]&0o111 == 0 {
		t.Errorf("%s: ccotel is not executable (mode %o)", name, files[top+"/ccotel"])
	}
}

func unpack(t *testing.T, archive, dir string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	if out, err := exec.Command("tar", "-xzf", archive, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("tar -xzf %s: %v\n%s", archive, err, out)
	}
}

// checkFormula: the formula's version, and one url + sha256 per archive,
// the url ending in the archive's name and the sha256 its checksum.
func checkFormula(t *testing.T, dist, version string, sums map[string]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dist, "ccotel.rb"))
	if err != nil {
		t.Fatal(err)
	}
	rb := string(b)
	if !strings.Contains(rb, `version "`+strings.TrimPrefix(version, "v")+`"`) || regexp.MustCompile(`@[A-Z_]+@`).MatchString(rb) {
		t.Errorf("ccotel.rb: version or a placeholder left:\n%s", rb)
	}
	pairs := regexp.MustCompile(`url "([^"]+)"\s+sha256 "([0-9a-f]{64})"`).FindAllStringSubmatch(rb, -1)
	if len(pairs) != len(sums) {
		t.Fatalf("ccotel.rb has %d url/sha256 pairs, want %d:\n%s", len(pairs), len(sums), rb)
	}
	for _, p := range pairs {
		name := filepath.Base(p[1])
		if p[1] != "file://"+dist+"/"+name || sums[name] != p[2] {
			t.Errorf("ccotel.rb: url %s sha256 %s; SHA256SUMS: %s %s", p[1], p[2], name, sums[name])
		}
	}
}
