package delivery

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// executable is the binary StartFlusher runs (tests point it at a build).
var executable = os.Executable

// StartFlusher makes sure a flusher runs for stateDir, as the hook does
// after queueing spans: nothing before nextAttempt (the backoff window of
// a flusher that gave up), then one non-blocking try of flusher.lock; if
// it is free, it starts `ccotel flush --background` in its own session
// (setsid), stdio on /dev/null, with the locked file as descriptor 3 so
// the lock passes to the child with no gap, and does not wait for it.
//
// It costs one open and one flock when a flusher is already running, and
// a fork/exec when not.
//
// A nextAttempt further ahead than MaxRetryWindow is ignored (policy.go,
// capNextAttempt): it was stored by a clock that ran ahead.
func StartFlusher(stateDir string, nextAttempt, now time.Time) (started bool, err error) {
	if now.Before(capNextAttempt(nextAttempt, now)) {
		return false, nil
	}
	l, err := AcquireFlusherLock(stateDir)
	if errors.Is(err, ErrFlusherBusy) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer l.f.Close() // the child keeps its own descriptor, and the lock
	exe, err := executable()
	if err != nil {
		l.Release()
		return false, err
	}
	cmd := exec.Command(exe, "flush", "--background")
	cmd.ExtraFiles = []*os.File{l.f}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		l.Release()
		return false, fmt.Errorf("start flusher: %w", err)
	}
	cmd.Process.Release()
	return true, nil
}
