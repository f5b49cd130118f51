package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// File names inside the state directory.
const (
	dbName        = "ccotel.db"
	lockName      = "ccotel.lock"
	logName       = "ccotel.log"
	lostName      = "lost-events"
	compactSuffix = ".compact-tmp"
)

// Defaults for zero Options fields, declared here, where they are used;
// internal/config resolves an unset key to the same constants.
const (
	DefaultLockTimeout    = 2 * time.Second
	DefaultOutboxMaxSpans = 100_000
	DefaultOutboxMaxBytes = 64 << 20
)

// boltLockTimeout bounds bbolt's own flock on the database file. Holders of
// ccotel.lock are the only users of the file, so it is free at once unless
// a foreign tool (the bbolt CLI) has it open.
const boltLockTimeout = 100 * time.Millisecond

var (
	errReadOnly = errors.New("state: store is read-only")
	errClosed   = errors.New("state: store is closed")
)

// Store is an open state directory. Hold it only briefly: Open, one Update
// or View, Close.
//
// A Store is not safe for concurrent use by several goroutines; each
// goroutine (or process) opens its own, and the lock serialises them.
type Store struct {
	opts Options
	dir  string
	path string
	lock lockFD   // holds the flock on ccotel.lock; noLock if none (read-only, no state yet)
	db   *bolt.DB // nil when closed, after corruption, or read-only with no database
	file *os.File // bbolt's file, kept to close it if bbolt cannot (see quarantine)
	err  error    // why db is nil after a failure (returned by later calls)
}

// Open acquires the state lock (bounded wait), opens or creates
// <Dir>/ccotel.db (0600), moving a corrupt file aside.
//
// With ReadOnly, Open takes a shared lock and never writes: it creates
// neither the directory nor the database. When there is no database yet
// (a fresh machine), the Store's View sees empty buckets and zero counters.
//
// Open costs two opens, two flocks, two fstats, a pread, an mmap and the
// read of the freelist page (the directory is created only when the lock
// file is missing); it starts no goroutine unless the lock is busy.
func Open(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("state: no state directory")
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.OutboxMaxSpans <= 0 {
		opts.OutboxMaxSpans = DefaultOutboxMaxSpans
	}
	if opts.OutboxMaxBytes <= 0 {
		opts.OutboxMaxBytes = DefaultOutboxMaxBytes
	}
	// A directory someone else can write to is refused before anything in
	// it is opened (one stat); every file in it is opened O_NOFOLLOW.
	if err := CheckDir(opts.Dir); err != nil {
		return nil, err
	}
	s := &Store{opts: opts, dir: opts.Dir, path: filepath.Join(opts.Dir, dbName), lock: noLock}
	if opts.ReadOnly {
		if err := s.openReadOnly(); err != nil {
			return nil, err
		}
		return s, nil
	}

	lockPath := filepath.Join(s.dir, lockName)
	lock, err := acquireLock(lockPath, true, opts.LockTimeout)
	if errors.Is(err, os.ErrNotExist) {
		// First run: create the directory (only now, to spare the hook a
		// stat on every call).
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return nil, fmt.Errorf("state: create state directory: %w", err)
		}
		lock, err = acquireLock(lockPath, true, opts.LockTimeout)
	}
	if err != nil {
		return nil, err
	}
	s.lock = lock
	if err := s.openDB(); err != nil {
		s.lock.release()
		s.lock = noLock
		return nil, err
	}
	return s, nil
}

// openReadOnly opens an existing database under a shared lock. A missing
// directory, lock file or database leaves s.db nil: an empty store.
func (s *Store) openReadOnly() error {
	lock, err := acquireLock(filepath.Join(s.dir, lockName), false, s.opts.LockTimeout)
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		// ENOTDIR: the path cannot even be a directory; nothing was ever
		// recorded there (lost events are counted elsewhere).
		// No writer ever ran here. If a database exists anyway (copied in
		// by hand), bbolt's own shared flock on it still keeps writers out.
	case err != nil:
		return err
	default:
		s.lock = lock
	}
	if _, err := os.Lstat(s.path); errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	db, file, err := openBolt(s.path, s.opts, true)
	if err != nil {
		s.lock.release()
		s.lock = noLock
		return fmt.Errorf("state: open %s read-only: %w", s.path, err)
	}
	s.db, s.file = db, file
	return nil
}

// openDB opens or creates the database while the exclusive lock is held;
// a file bbolt cannot read is moved aside and a fresh one created.
func (s *Store) openDB() error {
	db, file, err := openBolt(s.path, s.opts, false)
	if err == nil {
		s.db, s.file = db, file
		return nil
	}
	if !isCorruption(err) {
		if errors.Is(err, berrors.ErrTimeout) {
			return fmt.Errorf("%w (bbolt file lock on %s)", ErrLocked, s.path)
		}
		return fmt.Errorf("state: open %s: %w", s.path, err)
	}
	aside, mvErr := moveAside(s.path)
	if mvErr != nil {
		return fmt.Errorf("state: %s is corrupt (%v) and cannot be moved aside: %w", s.path, err, mvErr)
	}
	Logf(s.dir, "database %s was corrupt (%v); moved to %s, starting a fresh one", s.path, err, aside)
	if db, file, err = openBolt(s.path, s.opts, false); err != nil {
		return fmt.Errorf("state: create fresh %s: %w", s.path, err)
	}
	s.db, s.file = db, file
	return nil
}

// boltOptions are the bbolt options for a Store.
//
// NoFreelistSync stays off: with it on, bbolt rebuilds the freelist by
// walking every page at each read-write open, which costs time in
// proportion to the database size on every hook, and does the walk in a
// goroutine whose panic on a corrupt page cannot be recovered. Writing the
// freelist page at each commit costs a page write (no flush) instead.
func boltOptions(opts Options, readOnly bool) *bolt.Options {
	return &bolt.Options{
		Timeout:        boltLockTimeout,
		ReadOnly:       readOnly,
		NoSync:         !opts.Durable,
		NoGrowSync:     !opts.Durable,
		NoFreelistSync: false,
		FreelistType:   bolt.FreelistMapType,
	}
}

// Close releases the database and the lock. It is safe to call twice.
func (s *Store) Close() error {
	var err error
	if s.db != nil {
		err = s.db.Close()
		s.db, s.file = nil, nil
	}
	if s.err == nil {
		s.err = errClosed
	}
	s.lock.release()
	s.lock = noLock
	return err
}

// Update runs fn in one read-write transaction. A panic inside bbolt or fn
// is recovered and returned as an error. A panic raised inside bbolt means
// the file is damaged: the database is moved aside (so the next Open
// starts fresh) and this Store is unusable afterwards.
func (s *Store) Update(fn func(*Tx) error) error {
	if s.opts.ReadOnly {
		return errReadOnly
	}
	if s.db == nil {
		return s.err
	}
	return s.guard(func() error {
		return s.db.Update(func(btx *bolt.Tx) error {
			tx := &Tx{store: s, btx: btx}
			if err := tx.createBuckets(); err != nil {
				return err
			}
			if err := fn(tx); err != nil {
				return err
			}
			return tx.flush()
		})
	})
}

// View runs fn in a read-only transaction. In a read-only Store with no
// database yet, fn sees empty buckets and zero counters.
func (s *Store) View(fn func(*Tx) error) error {
	if s.db == nil {
		if s.opts.ReadOnly && s.err == nil {
			return fn(&Tx{store: s})
		}
		return s.err
	}
	return s.guard(func() error {
		return s.db.View(func(btx *bolt.Tx) error {
			return fn(&Tx{store: s, btx: btx})
		})
	})
}

// Sync flushes the database file to disk (fdatasync).
func (s *Store) Sync() error {
	if s.db == nil || s.opts.ReadOnly {
		return nil
	}
	return s.db.Sync()
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }
