package delivery

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ccotel/ccotel/state"
)

// FlusherLockName is the lock file, in the state directory, that the one
// running flusher holds (flock, exclusive). It also holds the flusher's
// pid, so status can tell whether one runs without touching the lock.
const FlusherLockName = "flusher.lock"

// FlusherLock is a held flusher.lock.
type FlusherLock struct {
	path string
	f    *os.File
}

// ErrFlusherBusy means another process holds flusher.lock.
var ErrFlusherBusy = errors.New("another ccotel flusher is running")

// AcquireFlusherLock takes flusher.lock without waiting, or returns
// ErrFlusherBusy. A state directory that state.CheckDir does not trust is
// refused, and the lock file is opened without following a symlink (it is
// truncated to write the pid: a planted flusher.lock → ~/.bashrc must not
// empty ~/.bashrc).
func AcquireFlusherLock(stateDir string) (*FlusherLock, error) {
	if err := state.CheckDir(stateDir); err != nil {
		return nil, err
	}
	path := filepath.Join(stateDir, FlusherLockName)
	f, err := state.OpenFile(path, os.O_RDWR|os.O_CREATE)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(stateDir, 0o700); err != nil {
			return nil, err
		}
		f, err = state.OpenFile(path, os.O_RDWR|os.O_CREATE)
	}
	if err != nil {
		return nil, err
	}
	if err := flockNB(f); err != nil {
		f.Close()
		return nil, err
	}
	l := &FlusherLock{path: path, f: f}
	l.writePID()
	return l, nil
}

// WaitFlusherLock takes flusher.lock, polling until deadline.
func WaitFlusherLock(stateDir string, deadline time.Time) (*FlusherLock, error) {
	for {
		l, err := AcquireFlusherLock(stateDir)
		if !errors.Is(err, ErrFlusherBusy) || time.Now().After(deadline) {
			return l, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// AdoptFlusherLock takes over the lock a hook passed to `ccotel flush
// --background` as descriptor fd. It checks that fd really is this state
// directory's flusher.lock (someone may have run the command by hand); if
// not, it tries to take the lock itself.
func AdoptFlusherLock(stateDir string, fd uintptr) (*FlusherLock, error) {
	path := filepath.Join(stateDir, FlusherLockName)
	var fst, pst syscall.Stat_t
	if syscall.Fstat(int(fd), &fst) == nil && syscall.Stat(path, &pst) == nil &&
		fst.Dev == pst.Dev && fst.Ino == pst.Ino {
		syscall.CloseOnExec(int(fd))
		f := os.NewFile(fd, path)
		// The hook holds nothing anymore; the lock is ours. Taking it
		// again on the same open file description is a no-op that
		// proves it.
		if err := flockNB(f); err == nil {
			l := &FlusherLock{path: path, f: f}
			l.writePID()
			return l, nil
		}
		f.Close()
	}
	return AcquireFlusherLock(stateDir)
}

func flockNB(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return ErrFlusherBusy
		default:
			return fmt.Errorf("flock %s: %w", f.Name(), err)
		}
	}
}

func (l *FlusherLock) writePID() {
	l.f.Truncate(0)
	l.f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
}

// Release clears the pid and releases the lock. It is safe to call twice.
func (l *FlusherLock) Release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Truncate(0)
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}

// Reacquire takes the lock again after Release, without waiting.
func (l *FlusherLock) Reacquire() bool {
	nl, err := AcquireFlusherLock(filepath.Dir(l.path))
	if err != nil {
		return false
	}
	l.f = nl.f
	return true
}

// FlusherPID returns the pid of the running flusher, or 0. It only reads
// flusher.lock and probes the pid: it never takes the lock (a hook that
// found the lock held by a status command would think a flusher runs).
func FlusherPID(stateDir string) int {
	f, err := os.OpenFile(filepath.Join(stateDir, FlusherLockName), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return 0
	}
	b, err := io.ReadAll(io.LimitReader(f, 32))
	f.Close()
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0
	}
	return pid
}
