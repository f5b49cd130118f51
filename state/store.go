// Package state owns ccotel's state directory: the bbolt database with the
// sessions, the outbox of finished spans and the counters; the lock that
// serialises hook processes; and the size-capped log file.
//
// It knows nothing of Claude Code or of OpenTelemetry: sessions and outbox
// entries are opaque bytes.
//
// Guarantees:
//   - One process at a time holds the database, only for the duration of
//     one Update or View call through Open/Close. Open waits for the lock at
//     most Options.LockTimeout and then returns ErrLocked.
//   - By default nothing is fsynced (bbolt NoSync, NoGrowSync,
//     NoFreelistSync): a hook must not pay for a disk flush. Sync forces the
//     file to disk; the flusher calls it. Options.Durable syncs every commit.
//   - A database bbolt cannot open (truncated, garbage, bad checksum) is
//     renamed to ccotel.db.corrupt-<UTC time> and a fresh one is created.
//   - Outbox entries get increasing keys; entries are removed only by
//     Remove (after the collector accepted them) or by the cap (oldest
//     first, counted in Counters.Dropped).
package state

import (
	"errors"
	"time"
)

// ErrLocked is returned by Open when another process held the database
// longer than Options.LockTimeout.
var ErrLocked = errors.New("state: database busy (lock wait timed out)")

// Options configure a Store.
type Options struct {
	Dir         string        // state directory; created 0700 if missing
	LockTimeout time.Duration // bounded wait for the lock; default 2s
	Durable     bool          // fsync every commit (durability = "full")
	ReadOnly    bool          // shared lock, no writes (status, doctor)

	OutboxMaxSpans int   // default 100_000
	OutboxMaxBytes int64 // default 64 MiB
}

// Entry is one outbox entry.
type Entry struct {
	Key   uint64
	Value []byte
}

// Counters are the store's persistent counters and export bookkeeping.
type Counters struct {
	Queued       int       // spans in the outbox now
	QueuedBytes  int64     // their size
	OldestQueued time.Time // enqueue time of the oldest entry (zero if none)
	Enqueued     int64     // spans ever enqueued
	Exported     int64     // spans ever removed after a successful export
	Dropped      int64     // spans dropped by the outbox cap
	LostEvents   int64     // hook events dropped (lock timeout, errors)

	LastExport      time.Time // time of the last export attempt
	LastExportOK    bool
	LastExportError string
	NextAttempt     time.Time // the flusher's backoff: no new flusher before this
	Failures        int       // consecutive failed export attempts
}
