package state

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// errCorruptPanic marks a panic raised inside bbolt: the file is damaged.
var errCorruptPanic = errors.New("state: database corrupt")

// openBolt opens the bbolt file with the Store's options and also returns
// the *os.File bbolt reads and writes (see quarantine). A panic inside bbolt
// (it trusts the page ids it reads) and a memory fault on the mapped file
// (a page past the end of a truncated file) come back as errors wrapping
// errCorruptPanic, with the file closed.
func openBolt(path string, opts Options, readOnly bool) (db *bolt.DB, file *os.File, err error) {
	bo := boltOptions(opts, readOnly)
	bo.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		var err error
		file, err = OpenFile(name, flag)
		return file, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if file != nil {
				file.Close()
			}
			db, file, err = nil, nil, fmt.Errorf("%w: panic while opening: %v", errCorruptPanic, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, bo)
	if err != nil {
		return nil, nil, err
	}
	return db, file, nil
}

// isCorruption tells whether an error from bbolt.Open means the file's
// contents are bad (as opposed to the system refusing an operation:
// permissions, a full disk, no memory, a busy lock). Only then is the file
// moved aside; a system error is returned so that no good data is thrown
// away because of a passing condition.
func isCorruption(err error) bool {
	switch {
	case errors.Is(err, errCorruptPanic),
		errors.Is(err, berrors.ErrInvalid),
		errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch):
		return true
	case errors.Is(err, berrors.ErrTimeout):
		return false
	}
	var errno syscall.Errno
	var pathErr *os.PathError
	if errors.As(err, &errno) || errors.As(err, &pathErr) {
		return false
	}
	// What remains are bbolt's own complaints about the contents ("file
	// size too small", "mmap too large", "invalid page type" ...).
	return true
}

// moveAside renames a corrupt database to <path>.corrupt-<UTC time>,
// adding -2, -3 ... if that name is taken.
func moveAside(path string) (string, error) {
	base := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405Z")
	aside := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, os.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s-%d", base, i)
	}
	return aside, os.Rename(path, aside)
}

// guard runs a transaction, turning panics into errors. A panic raised in
// bbolt's code (or a memory fault on the mapped file) means the database is
// damaged: unless the Store is read-only, the file is closed and moved
// aside, so that the next Open starts a fresh one, and the Store is left
// unusable. A panic in the caller's own code is only reported: its data is
// not at fault.
func (s *Store) guard(run func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if _, fault := r.(interface{ Addr() uintptr }); !fault && !panickedInBolt() {
			err = fmt.Errorf("state: panic in transaction: %v", r)
			return
		}
		err = fmt.Errorf("%w: %v", errCorruptPanic, r)
		if s.opts.ReadOnly {
			return
		}
		s.quarantine(err)
		err = s.err
	}()
	return run()
}

// quarantine closes a damaged database and moves it aside; the Store is
// unusable afterwards (s.err says why).
//
// bbolt may be unable to close: when the rollback of a panicking write
// transaction panics too, it leaves its writer lock held and DB.Close
// would block for ever. So Close runs in a goroutine given a short time;
// past it, the file descriptor is closed directly (dropping bbolt's flock)
// and the goroutine and the mapping are abandoned: a leak of one blocked
// goroutine and some address space, once, in a process that met a corrupt
// database.
func (s *Store) quarantine(cause error) {
	db, file := s.db, s.file
	s.db, s.file = nil, nil
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		defer func() { recover() }() // closing a damaged db may panic too
		db.Close()
	}()
	select {
	case <-closed:
	case <-time.After(quarantineCloseWait):
		file.Close()
	}
	aside, err := moveAside(s.path)
	if err != nil {
		s.err = fmt.Errorf("%w; moving it aside failed: %v", cause, err)
		Logf(s.dir, "database %s is corrupt (%v) and could not be moved aside: %v", s.path, cause, err)
		return
	}
	s.err = fmt.Errorf("%w; moved to %s", cause, aside)
	Logf(s.dir, "database %s is corrupt (%v); moved to %s, the next open starts a fresh one", s.path, cause, aside)
}

// quarantineCloseWait bounds the wait for bbolt to close a damaged database.
const quarantineCloseWait = 100 * time.Millisecond

// panickedInBolt reports whether the panic being recovered was raised in
// bbolt's code. Called from a deferred function, it walks the panicking
// goroutine's stack down from the panic: the first frame outside the Go
// runtime is where the panic happened.
func panickedInBolt() bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs) // skip Callers, panickedInBolt, the deferred func
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		fn := f.Function
		if !strings.HasPrefix(fn, "runtime.") && !strings.HasPrefix(fn, "runtime/") {
			return strings.HasPrefix(fn, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}
