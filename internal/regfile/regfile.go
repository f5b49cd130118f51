// Package regfile opens files whose path someone else may have chosen (a
// hook payload's transcript_path, a config file named by a variable):
// regular files only, never blocking on a FIFO or a device, and read
// within a bound.
package regfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrTooLarge is returned by ReadAll for a file larger than its bound.
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading if it is a regular file, without blocking
// on a FIFO or a device (O_NONBLOCK), and checks the opened file again:
// the path may have been replaced between the two looks. A missing file
// is an error that satisfies errors.Is(err, os.ErrNotExist).
func Open(path string) (*os.File, os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, notRegular(path, fi)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err = f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = notRegular(path, fi)
		}
		return nil, nil, err
	}
	return f, fi, nil
}

func notRegular(path string, fi os.FileInfo) error {
	return fmt.Errorf("%s: not a regular file (%s)", path, fi.Mode().Type())
}

// ReadAll reads the regular file at path (see Open), failing with
// ErrTooLarge when it holds more than max bytes: never more than max+1
// bytes are read, whatever the file grows to meanwhile. fi is the opened
// file's information (owner and mode for a trust check).
func ReadAll(path string, max int64) ([]byte, os.FileInfo, error) {
	f, fi, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if fi.Size() > max {
		return nil, fi, fmt.Errorf("%s: %w (%d bytes, at most %d)", path, ErrTooLarge, fi.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fi, err
	}
	if int64(len(b)) > max {
		return nil, fi, fmt.Errorf("%s: %w (more than %d bytes)", path, ErrTooLarge, max)
	}
	return b, fi, nil
}
