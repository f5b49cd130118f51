package state

import "time"

// API CONTRACT (bodies to be implemented; signatures are shared with the
// hook, tracing and main packages — do not change them without telling).

// Store is an open state directory. Hold it only briefly: Open, one Update
// or View, Close.
type Store struct{}

// Open acquires the state lock (bounded wait), opens or creates
// <Dir>/ccotel.db (0600), moving a corrupt file aside.
func Open(opts Options) (*Store, error) { panic("unimplemented") }

// Close releases the database and the lock.
func (s *Store) Close() error { panic("unimplemented") }

// Update runs fn in one read-write transaction. A panic inside bbolt or fn
// is recovered and returned as an error.
func (s *Store) Update(fn func(*Tx) error) error { panic("unimplemented") }

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) error { panic("unimplemented") }

// Sync flushes the database file to disk (fdatasync).
func (s *Store) Sync() error { panic("unimplemented") }

// Compact rewrites the database when its file is larger than threshold
// bytes and mostly free space. It is for the flusher, never the hook.
func (s *Store) Compact(threshold int64) error { panic("unimplemented") }

// Path returns the database file's path.
func (s *Store) Path() string { panic("unimplemented") }

// Tx is a transaction.
type Tx struct{}

// Session returns the stored bytes for a session id (nil if none). The
// slice is valid only during the transaction; copy it to keep it.
func (tx *Tx) Session(id string) []byte { panic("unimplemented") }

// PutSession stores a session's bytes.
func (tx *Tx) PutSession(id string, b []byte) error { panic("unimplemented") }

// DeleteSession removes a session.
func (tx *Tx) DeleteSession(id string) error { panic("unimplemented") }

// ForEachSession calls fn for every session; fn must not modify sessions
// (collect ids and change them after).
func (tx *Tx) ForEachSession(fn func(id string, b []byte) error) error { panic("unimplemented") }

// Enqueue appends one entry to the outbox, enforcing the cap (oldest
// dropped and counted).
func (tx *Tx) Enqueue(b []byte) error { panic("unimplemented") }

// Peek returns up to n of the oldest outbox entries (values copied).
func (tx *Tx) Peek(n int) ([]Entry, error) { panic("unimplemented") }

// Replace overwrites an existing outbox entry's value (used to store the
// result of pending work); it is a no-op if the key is gone.
func (tx *Tx) Replace(key uint64, b []byte) error { panic("unimplemented") }

// Remove deletes outbox entries by key, counting them as exported.
func (tx *Tx) Remove(keys []uint64) error { panic("unimplemented") }

// Counters returns the counters.
func (tx *Tx) Counters() Counters { panic("unimplemented") }

// RecordExport updates the export bookkeeping after an attempt.
func (tx *Tx) RecordExport(at time.Time, err error, nextAttempt time.Time) error {
	panic("unimplemented")
}

// AddLostEvents counts hook events that could not be recorded.
func (tx *Tx) AddLostEvents(n int64) error { panic("unimplemented") }

// Logf appends one timestamped line to <dir>/ccotel.log (0600), rotating it
// to ccotel.log.1 past 1 MiB. It never returns an error and never writes to
// stdout or stderr: it is the hook's only diagnostic channel.
func Logf(dir, format string, args ...any) { panic("unimplemented") }

// NoteLostEvent counts one hook event that could not be recorded because
// the database was unavailable (lock timeout, unwritable directory). It
// does not need the database lock: it appends one byte to <dir>/lost-events
// (O_APPEND), whose size is the count; Counters().LostEvents includes it.
func NoteLostEvent(dir string) { panic("unimplemented") }
