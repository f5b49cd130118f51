package settings

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/diff"
)

func installEdit(src []byte) ([]byte, error) {
	out, _, err := Install(src, testCommand)
	return out, err
}

func uninstallEdit(src []byte) ([]byte, error) {
	out, _, err := Uninstall(src)
	return out, err
}

func TestEditFileCreates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "home", ".claude", "settings.json")
	r, err := EditFile(path, installEdit, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Existed || !r.Changed || r.Backup != "" {
		t.Errorf("result %+v", r)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file: %v %v", fi, err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("new directory mode %v", di.Mode())
	}
	got, _ := os.ReadFile(path)
	checkWiring(t, got, testCommand)
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestEditFileBackupModeAndNoop(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	orig, _ := os.ReadFile(filepath.Join("testdata", "settings", "user-hooks.json"))
	if err := os.WriteFile(path, orig, 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o640)

	r, err := EditFile(path, installEdit, false)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Changed || r.Backup != path+".bak" {
		t.Errorf("result %+v", r)
	}
	if bak, _ := os.ReadFile(path + ".bak"); !bytes.Equal(bak, orig) {
		t.Errorf("backup differs from the original")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", fi.Mode())
	}
	installed, _ := os.ReadFile(path)

	// A second run changes nothing and writes no backup over the first.
	os.Remove(path + ".bak")
	r, err = EditFile(path, installEdit, false)
	if err != nil || r.Changed || r.Backup != "" {
		t.Errorf("second run: %+v %v", r, err)
	}
	if _, err := os.Stat(path + ".bak"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("backup written by a no-op run")
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, installed) {
		t.Errorf("no-op run changed the file")
	}

	if _, err := EditFile(path, uninstallEdit, false); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
		t.Errorf("uninstall did not restore the original:\n%s", string(diff.Diff("orig", orig, "now", now)))
	}
	if bak, _ := os.ReadFile(path + ".bak"); !bytes.Equal(bak, installed) {
		t.Errorf("uninstall's backup is not the installed file")
	}
}

func TestEditFileDryRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	orig := []byte("{\n  \"model\": \"opus\"\n}\n")
	os.WriteFile(path, orig, 0o600)
	r, err := EditFile(path, installEdit, true)
	if err != nil || !r.Changed || r.Backup != "" {
		t.Fatalf("%+v %v", r, err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
		t.Errorf("dry run wrote the file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("dry run left files: %v", entries)
	}
	d := string(diff.Diff(path, r.Old, path, r.New))
	for _, want := range []string{"--- " + path, "+++ " + path, "@@ -1,3 +1,", `+  "model": "opus",`, `-  "model": "opus"`, " }", `+  "hooks": {`, "+          {"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}

	// Dry run of a missing file creates nothing, not even the directory.
	missing := filepath.Join(dir, "sub", "settings.json")
	if r, err := EditFile(missing, installEdit, true); err != nil || !r.Changed || r.Existed {
		t.Errorf("%+v %v", r, err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Errorf("dry run created the directory")
	}
}

func TestEditFileRefusesInvalid(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	orig := []byte("{\n  \"model\": \"opus\",\n}\n")
	os.WriteFile(path, orig, 0o600)
	_, err := EditFile(path, installEdit, false)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 3 || se.Column != 1 {
		t.Fatalf("err = %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
		t.Errorf("invalid file was changed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

func TestEditFileFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "claude-settings.json")
	os.MkdirAll(filepath.Dir(real), 0o755)
	os.WriteFile(real, []byte("{}\n"), 0o644)
	link := filepath.Join(dir, "settings.json")
	if err := os.Symlink(real, link); err != nil {
		t.Skip(err)
	}
	r, err := EditFile(link, installEdit, false)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced by a file")
	}
	if r.Backup != real+".bak" {
		t.Errorf("backup %q", r.Backup)
	}
	got, _ := os.ReadFile(real)
	checkWiring(t, got, testCommand)

	dangling := filepath.Join(dir, "dangling.json")
	os.Symlink(filepath.Join(dir, "nowhere.json"), dangling)
	if _, err := EditFile(dangling, installEdit, false); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("dangling symlink: %v", err)
	}
}

// A settings file in a cloned project may be a FIFO: install refuses it
// at once rather than blocking on the read (and leaves it alone).
func TestEditFileRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "settings.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := EditFile(fifo, installEdit, false)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("EditFile(FIFO) = %v, want not a regular file", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("EditFile blocked on a FIFO")
	}
}
