package state

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// plantedDir is a state directory someone else prepared: mode 0777, with
// ccotel.lock, ccotel.log, lost-events and ccotel.db as symlinks to the
// victim's files.
func plantedDir(t *testing.T, mode os.FileMode) (dir string, victims []string) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	home := t.TempDir()
	dir = filepath.Join(t.TempDir(), "ccotel")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{lockName, logName, lostName, dbName} {
		v := filepath.Join(home, "victim-"+name)
		if err := os.WriteFile(v, []byte("precious\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(v, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		victims = append(victims, v)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir, victims
}

func checkVictims(t *testing.T, victims []string) {
	t.Helper()
	for _, v := range victims {
		if b, err := os.ReadFile(v); err != nil || string(b) != "precious\n" {
			t.Errorf("%s was touched: %q %v", v, b, err)
		}
	}
}

// TestUntrustedStateDirRefused: a world-writable state directory is
// refused by Open (read-write and read-only), and Logf/NoteLostEvent
// leave it alone; the loss is still counted (in the cache directory).
func TestUntrustedStateDirRefused(t *testing.T) {
	dir, victims := plantedDir(t, 0o777)
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrUntrusted) {
		t.Errorf("Open: %v, want ErrUntrusted", err)
	}
	if _, err := Open(Options{Dir: dir, ReadOnly: true}); !errors.Is(err, ErrUntrusted) {
		t.Errorf("Open read-only: %v, want ErrUntrusted", err)
	}
	Logf(dir, "hello")
	NoteLostEvent(dir)
	NoteLostEvent(dir)
	checkVictims(t, victims)
	if n := lostEvents(dir); n != 2 {
		t.Errorf("lost events %d, want 2 (counted in the cache directory)", n)
	}
	if b, err := os.ReadFile(FallbackLog(dir)); err != nil || len(b) == 0 {
		t.Errorf("no fallback log line saying why: %v", err)
	}
	if os.Geteuid() == 0 {
		// Owned by someone else, mode 0700.
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrUntrusted) {
			t.Errorf("Open of a directory owned by another user: %v", err)
		}
		os.Chown(dir, 0, 0)
	}
}

// TestStateFilesNotFollowed: even in a directory of ours, a symlink in
// place of a state file is never followed.
func TestStateFilesNotFollowed(t *testing.T) {
	dir, victims := plantedDir(t, 0o700)
	if st, err := Open(Options{Dir: dir}); err == nil {
		st.Update(func(tx *Tx) error { return tx.Enqueue([]byte("x")) })
		st.Close()
		t.Error("Open followed the symlinked lock or database")
	}
	Logf(dir, "hello")
	NoteLostEvent(dir)
	checkVictims(t, victims)
	if n := lostEvents(dir); n != 1 {
		t.Errorf("lost events %d, want 1", n)
	}
}
