package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadAll(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello"), 0o600)
	if b, fi, err := ReadAll(small, 5); err != nil || string(b) != "hello" || fi.Size() != 5 {
		t.Fatalf("ReadAll(small, 5) = %q, %v", b, err)
	}
	if _, _, err := ReadAll(small, 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadAll(small, 4) = %v, want ErrTooLarge", err)
	}
	if _, _, err := ReadAll(filepath.Join(dir, "none"), 5); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v, want ErrNotExist", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/zero", dir} {
		if _, _, err := ReadAll(p, 5); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadAll(%s) = %v, want not a regular file", p, err)
		}
	}
}
