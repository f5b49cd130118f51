package state

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// acquireLock opens path and takes an flock on it: exclusive (creating the
// file 0600) or shared (opening an existing file read-only; a missing file
// is returned as os.ErrNotExist).
//
// The lock is first tried without blocking, which costs no goroutine. When
// it is busy, a goroutine blocks in flock (so the waiter is woken the
// moment the holder closes, instead of polling) while the caller waits at
// most timeout. If the timeout wins, acquireLock returns ErrLocked and the
// goroutine, should it get the lock later, releases it and closes the file:
// a long-lived process never keeps a lock it gave up on.
//
// The lock is a plain file descriptor (close-on-exec), not an *os.File:
// os.OpenFile would spend five more system calls trying to register the
// file with the network poller.
func acquireLock(path string, exclusive bool, timeout time.Duration) (lockFD, error) {
	how, flags := unix.LOCK_EX, unix.O_RDWR|unix.O_CREAT
	if !exclusive {
		how, flags = unix.LOCK_SH, unix.O_RDONLY
	}
	fd, err := openRaw(path, flags)
	if err != nil {
		return noLock, fmt.Errorf("state: open lock file: %w", err)
	}
	f := lockFD(fd)

	err = flock(fd, how|unix.LOCK_NB)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, unix.EWOULDBLOCK) {
		f.release()
		return noLock, fmt.Errorf("state: lock %s: %w", path, err)
	}

	var (
		mu        sync.Mutex
		abandoned bool
		done      = make(chan error, 1)
	)
	go func() {
		err := flock(fd, how)
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			// Closing the file releases the lock, if we got it.
			f.release()
			return
		}
		done <- err
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		mu.Lock()
		select {
		case err = <-done: // got it just as the timer fired
		default:
			abandoned = true
		}
		mu.Unlock()
		if abandoned {
			return noLock, ErrLocked
		}
	}
	if err != nil {
		f.release()
		return noLock, fmt.Errorf("state: lock %s: %w", path, err)
	}
	return f, nil
}

// lockFD is an open lock file descriptor; noLock is none.
type lockFD int

const noLock lockFD = -1

// release closes the lock file, which drops the flock.
func (f lockFD) release() {
	if f >= 0 {
		unix.Close(int(f))
	}
}

// OpenFile opens a file of the state directory as openRaw does and wraps
// the descriptor with os.NewFile: os.OpenFile would first try to register
// it with the network poller (epoll, an eventfd), for nothing on a
// regular file, and follow a symlink.
func OpenFile(path string, flags int) (*os.File, error) {
	fd, err := openRaw(path, flags)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openRaw opens a file close-on-exec and without following a symlink
// (O_NOFOLLOW: every file of the state directory is opened this way),
// creating it 0600 with O_CREAT.
// Errors are *os.PathError, so errors.Is(err, os.ErrNotExist) works.
func openRaw(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// flock is unix.Flock retried on EINTR (the Go runtime's preemption
// signals interrupt a blocking flock).
func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}
