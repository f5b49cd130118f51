package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// Aside is a damaged database that was moved aside (quarantine): what it
// held is lost to the outbox, so status and doctor name it.
type Aside struct {
	Path  string    `json:"path"`
	Size  int64     `json:"size"`
	Moved time.Time `json:"moved"` // the file's modification time: about when it broke
	// Queued is how many outbox entries a read of the moved file could
	// still count (-1: it could not be read).
	Queued int `json:"queued"`
}

// MovedAside lists the databases moved aside in dir (ccotel.db.corrupt-*),
// oldest first, each with what a careful read of it can still tell.
func MovedAside(dir string) []Aside {
	matches, _ := filepath.Glob(filepath.Join(dir, dbName+".corrupt-*"))
	var out []Aside
	for _, p := range matches {
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, Aside{Path: p, Size: fi.Size(), Moved: fi.ModTime(), Queued: countOutbox(p)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Moved.Before(out[j].Moved) })
	return out
}

// countOutbox counts the outbox entries of a damaged database file, read
// only; -1 when it cannot (bbolt panics or faults on most damage).
func countOutbox(path string) (n int) {
	db, file, err := openBolt(path, Options{LockTimeout: 100 * time.Millisecond}, true)
	if err != nil {
		return -1
	}
	defer func() {
		defer func() { recover() }()
		db.Close()
		file.Close()
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			n = -1
		}
	}()
	tx, err := db.Begin(false)
	if err != nil {
		return -1
	}
	defer tx.Rollback()
	if ob := tx.Bucket(bucketOutbox); ob != nil {
		n = ob.Stats().KeyN
	}
	return n
}

// CheckWritable reports why the hook could not record events in dir, if
// it could not: the directory is untrusted, cannot be created, or does
// not take a file (a read-only or full file system). It creates dir (0700)
// when missing, and writes and removes a probe file.
func CheckWritable(dir string) error {
	if err := CheckDir(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	probe := filepath.Join(dir, fmt.Sprintf(".probe-%d", os.Getpid()))
	fd, err := openRaw(probe, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL)
	if err != nil {
		return err
	}
	_, werr := unix.Write(fd, []byte{0})
	unix.Close(fd)
	os.Remove(probe)
	if werr != nil {
		return &os.PathError{Op: "write", Path: probe, Err: werr}
	}
	return nil
}

// fallbackDirs are where the log line and the lost-event count go when
// the state directory cannot take them, in order: the user's cache
// directory (fallbackDir), then, for a home directory that is read-only
// (the cache directory usually lives in it), a directory of this user's
// own under $XDG_RUNTIME_DIR or the system's temporary directory.
func fallbackDirs() []string {
	var dirs []string
	if d := fallbackDir(); d != "" {
		dirs = append(dirs, d)
	}
	if d := tempFallbackDir(); d != "" {
		dirs = append(dirs, d)
	}
	return dirs
}

// tempFallbackDir is $XDG_RUNTIME_DIR/ccotel, or <tmp>/ccotel-<uid>,
// created 0700; "" when it exists and is not a directory of this user's
// own that only they can write (in a shared /tmp, someone else may have
// made it first: a symlink is refused too).
func tempFallbackDir() string {
	d := tempFallbackPath()
	if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return ""
	}
	fi, err := os.Lstat(d)
	if err != nil || !fi.IsDir() || CheckDir(d) != nil {
		return ""
	}
	return d
}

// tempFallbackPath is tempFallbackDir's path, not created.
func tempFallbackPath() string {
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" && filepath.IsAbs(rt) {
		return filepath.Join(rt, "ccotel")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("ccotel-%d", os.Geteuid()))
}
