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
func acquireLock(path string, exclusive bool, timeout time.Duration) (*os.File, error) {
	var f *os.File
	var err error
	how := unix.LOCK_EX
	if exclusive {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	} else {
		how = unix.LOCK_SH
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("state: open lock file: %w", err)
	}
	fd := int(f.Fd())

	err = flock(fd, how|unix.LOCK_NB)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, unix.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("state: lock %s: %w", path, err)
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
			f.Close()
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
			return nil, ErrLocked
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("state: lock %s: %w", path, err)
	}
	return f, nil
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

// releaseLock closes the lock file, which drops the flock.
func releaseLock(f *os.File) {
	if f != nil {
		f.Close()
	}
}
