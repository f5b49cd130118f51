package settings

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ccotel/ccotel/internal/regfile"
)

// Result is what EditFile did or, with dryRun, would do.
type Result struct {
	Path    string // the file edited, symlinks resolved
	Existed bool   // the file was there before
	Changed bool   // the content changed (and, unless dry-run, was written)
	Backup  string // the .bak copy of the previous content, "" if none was written
	Old     []byte // content before
	New     []byte // content after
}

// EditFile applies edit to the content of the file at path (empty when the
// file does not exist) and, unless dryRun, writes the result:
//
//   - nothing is written when the content does not change or edit fails;
//   - a symlink is followed, so the file it points to is edited and the link
//     stays (dotfile managers link ~/.claude/settings.json);
//   - a changed existing file is first copied to path.bak;
//   - the new content goes to a temporary file in the same directory that is
//     synced and renamed over the old one, with the old file's mode (0600 for
//     a new file, whose missing parent directories are created 0700).
func EditFile(path string, edit func([]byte) ([]byte, error), dryRun bool) (Result, error) {
	return EditFileMode(path, edit, dryRun, 0)
}

// EditFileMode is EditFile; a non-zero mode is forced on the file and its
// backup (internal/config writes its file 0600 whatever it was).
func EditFileMode(path string, edit func([]byte) ([]byte, error), dryRun bool, force fs.FileMode) (Result, error) {
	r := Result{Path: path}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		r.Path = real
	} else if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return r, fmt.Errorf("%s is a symlink to a missing file: %w", path, err)
	}
	mode := fs.FileMode(0o600)
	old, fi, err := regfile.ReadAll(r.Path, MaxFileSize) // never blocks on a FIFO
	switch {
	case err == nil:
		r.Existed = true
		mode = fi.Mode().Perm()
	case errors.Is(err, fs.ErrNotExist):
	default:
		return r, err
	}
	r.Old = old
	updated, err := edit(old)
	if err != nil {
		return r, err
	}
	r.New = updated
	if force != 0 {
		mode = force
	}
	r.Changed = !bytes.Equal(old, updated) || (!r.Existed && len(updated) > 0)
	if !r.Changed || dryRun {
		return r, nil
	}
	if r.Existed {
		r.Backup = r.Path + ".bak"
		if err := WriteFileAtomic(r.Backup, old, mode); err != nil {
			return r, fmt.Errorf("writing the backup copy: %w", err)
		}
	} else if err := os.MkdirAll(filepath.Dir(r.Path), 0o700); err != nil {
		return r, err
	}
	return r, WriteFileAtomic(r.Path, updated, mode)
}

// WriteFileAtomic replaces the file at path with data: a temporary file in
// the same directory, synced, given mode, then renamed over path, so a
// reader sees the old content or the new, never a part.
func WriteFileAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
