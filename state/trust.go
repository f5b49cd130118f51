package state

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrUntrusted is returned by Open (and makes Logf, NoteLostEvent and the
// flusher's lock refuse the directory) when the state directory is not
// owned by this user or is writable by group or others: whoever else can
// write there could plant symlinks (flusher.lock → ~/.bashrc) or a
// database of their own.
var ErrUntrusted = errors.New("state: state directory not trusted")

// CheckDir reports whether dir may be used as a state directory: it is a
// directory (after symlinks: a symlinked state directory is the user's
// choice), owned by the effective user, not writable by group or others.
// A missing directory is fine (it is created 0700). The error wraps
// ErrUntrusted and says why.
func CheckDir(dir string) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		if err == unix.ENOENT || err == unix.ENOTDIR {
			return nil // missing (a path through a file too): created 0700, or found unwritable
		}
		return &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	uid := uint32(os.Geteuid())
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%w: %s is not a directory", ErrUntrusted, dir)
	case st.Uid != uid:
		return fmt.Errorf("%w: %s is owned by uid %d, not by this user (uid %d); remove it or set state_dir elsewhere", ErrUntrusted, dir, st.Uid, uid)
	case st.Mode&0o022 != 0:
		return fmt.Errorf("%w: %s is writable by group or others (mode %04o); chmod 700 it", ErrUntrusted, dir, st.Mode&0o7777)
	}
	return nil
}

// fallbackDir is where the log line and the lost-event count go when the
// state directory cannot take them (untrusted, read-only, full): the
// user's cache directory ($XDG_CACHE_HOME/ccotel or ~/.cache/ccotel),
// itself checked like a state directory. "" when there is none.
func fallbackDir() string {
	base, err := os.UserCacheDir()
	if err != nil || base == "" {
		return ""
	}
	d := filepath.Join(base, "ccotel")
	if CheckDir(d) != nil {
		return ""
	}
	return d
}

// fallbackName is the per-state-directory file name in fallbackDir: one
// state directory's losses are not another's.
func fallbackName(prefix, stateDir string) string {
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		abs = stateDir
	}
	h := fnv.New64a()
	h.Write([]byte(abs))
	return prefix + "-" + strconv.FormatUint(h.Sum64(), 16)
}

// appendFile appends b to dir/name with O_APPEND|O_NOFOLLOW, creating it
// 0600 (and dir 0700 when create is set).
func appendFile(dir, name string, b []byte, mkdir bool) error {
	path := filepath.Join(dir, name)
	fd, err := openRaw(path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT)
	if errors.Is(err, os.ErrNotExist) && mkdir {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		fd, err = openRaw(path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT)
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "write", Path: path, Err: err}
		}
		b = b[n:]
	}
	return nil
}

// fileSize is the size of dir/name without following a symlink, 0 if
// none.
func fileSize(path string) int64 {
	var st unix.Stat_t
	if unix.Lstat(path, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0
	}
	return st.Size
}
