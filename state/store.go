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
//   - By default nothing is fsynced (bbolt NoSync, NoGrowSync): a hook must
//     not pay for a disk flush. Only creating a brand-new database syncs
//     once. Sync forces the file to disk; the flusher calls it.
//     Options.Durable syncs every commit. The freelist is still written at
//     each commit (NoFreelistSync off): without it bbolt rebuilds the
//     freelist at every open by walking the whole file (docs/PERFORMANCE.md,
//     "Figures behind choices in the code").
//   - A database bbolt cannot open (truncated, garbage, bad checksum) is
//     renamed to ccotel.db.corrupt-<UTC time> and a fresh one is created.
//     A panic or memory fault inside bbolt during a transaction means the
//     same: the file is moved aside, the call returns an error and the
//     next Open starts fresh. A read-only Store reports such errors but
//     never moves or writes anything.
//   - Nothing is written until the first Update (the buckets are created
//     then), and a read-only Open creates neither the directory nor the
//     database: with no database yet, View sees empty buckets.
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
	LockTimeout time.Duration // bounded wait for the lock; 0 = DefaultLockTimeout
	Durable     bool          // fsync every commit (durability = "full")
	ReadOnly    bool          // shared lock, no writes (status, doctor)

	OutboxMaxSpans int   // 0 = DefaultOutboxMaxSpans
	OutboxMaxBytes int64 // 0 = DefaultOutboxMaxBytes
}

// Entry is one outbox entry.
type Entry struct {
	Key   uint64
	Value []byte
	// Damaged: the entry's checksum does not match; Value is the bytes
	// as stored. Discard it.
	Damaged bool
}

// Counters are the store's persistent counters and export bookkeeping.
type Counters struct {
	Queued       int       // spans in the outbox now
	QueuedBytes  int64     // their size
	OldestQueued time.Time // enqueue time of the oldest entry (zero if none)
	Enqueued     int64     // spans ever enqueued
	Exported     int64     // spans ever removed after a successful export
	Dropped      int64     // spans dropped by the outbox cap
	Rejected     int64     // spans dropped because the collector refused them for good
	LostEvents   int64     // hook events dropped (lock timeout, errors)
	// Damaged counts records found damaged (a checksum that does not
	// match, a record that does not decode, counters that cannot be
	// true): damage, never counted as delivered or refused.
	Damaged int64
	// Resets counts hook events that found their session's state damaged
	// and started it over (or rebuilt a span from its head).
	Resets int64

	LastExport      time.Time // time of the last export attempt
	LastExportOK    bool
	LastExportError string
	NextAttempt     time.Time // the flusher's backoff: no new flusher before this
	Failures        int       // consecutive failed export attempts

	LastRejected  time.Time // when a span was last refused for good
	LastRejection string    // the collector's reason then
}
