package state

import (
	"encoding/binary"
	"strconv"
	"time"

	"github.com/ccotel/ccotel/internal/binrec"
	"github.com/ccotel/ccotel/internal/utf8cut"
)

// The outbox: finished spans waiting for export, oldest first.

// Enqueue appends one entry to the outbox, enforcing the cap (oldest
// dropped and counted). An entry larger than OutboxMaxBytes on its own is
// dropped too, since it can never fit.
func (tx *Tx) Enqueue(b []byte) error {
	ob, err := tx.writable(bucketOutbox)
	if err != nil {
		return err
	}
	// Keys only ever grow: pack leaves instead of bbolt's default half
	// fill, which would leave the outbox's pages half empty.
	ob.FillPercent = outboxFillPercent
	r := tx.counters() // before the Put: a recount must not see the new entry
	seq, err := ob.NextSequence()
	if err != nil {
		return err
	}
	if err := ob.Put(seqKey(seq), sealEntry(time.Now().UnixNano(), b)); err != nil {
		return err
	}
	r.queued++
	r.queuedBytes += int64(len(b))
	r.enqueued++

	opts := &tx.store.opts
	if r.queued <= int64(opts.OutboxMaxSpans) && r.queuedBytes <= opts.OutboxMaxBytes {
		return nil
	}
	c := ob.Cursor()
	for r.queued > int64(opts.OutboxMaxSpans) || r.queuedBytes > opts.OutboxMaxBytes {
		k, v := c.First()
		if k == nil {
			// The counters disagree with the bucket; trust the bucket.
			r.queued, r.queuedBytes = 0, 0
			break
		}
		_, body, _ := splitEntry(v)
		if err := c.Delete(); err != nil {
			return err
		}
		r.queued--
		r.queuedBytes -= int64(len(body))
		r.dropped++
	}
	return nil
}

// Peek returns up to n of the oldest outbox entries (values copied).
func (tx *Tx) Peek(n int) ([]Entry, error) {
	ob := tx.bucket(bucketOutbox)
	if ob == nil || n <= 0 {
		return nil, nil
	}
	var out []Entry
	c := ob.Cursor()
	for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
		if len(k) != 8 {
			continue
		}
		_, body, ok := splitEntry(v)
		out = append(out, Entry{Key: binary.BigEndian.Uint64(k), Value: append([]byte(nil), body...), Damaged: !ok})
	}
	return out, nil
}

// Replace overwrites an existing outbox entry's value (used to store the
// result of pending work); it is a no-op if the key is gone. The entry
// keeps its place and its enqueue time.
func (tx *Tx) Replace(key uint64, b []byte) error {
	ob, err := tx.writable(bucketOutbox)
	if err != nil {
		return err
	}
	r := tx.counters()
	k := seqKey(key)
	old := ob.Get(k)
	if old == nil {
		return nil
	}
	at, body, _ := splitEntry(old)
	oldLen := len(body)
	if err := ob.Put(k, sealEntry(at, b)); err != nil {
		return err
	}
	r.queuedBytes += int64(len(b) - oldLen)
	return nil
}

// Remove deletes outbox entries by key, counting them as exported. Keys
// already gone are skipped.
func (tx *Tx) Remove(keys []uint64) error {
	return tx.remove(keys, &tx.counters().exported)
}

// Discard deletes outbox entries found damaged (Entry.Damaged, or bytes
// that do not decode), counting them in Counters.Damaged: the collector
// never saw them, so they are neither exported nor rejected.
func (tx *Tx) Discard(keys []uint64) error {
	return tx.remove(keys, &tx.counters().damaged)
}

// Reject deletes outbox entries the collector refused for good, counting
// them in Counters.Rejected (not Exported), and keeps reason (at most 300
// bytes) as the last rejection. n > len(keys) adds spans rejected inside
// an accepted request (an OTLP partial success), whose entries Remove
// deletes.
func (tx *Tx) Reject(keys []uint64, n int, at time.Time, reason string) error {
	if err := tx.remove(keys, &tx.counters().rejected); err != nil {
		return err
	}
	m, err := tx.writable(bucketMeta)
	if err != nil {
		return err
	}
	if extra := n - len(keys); extra > 0 {
		tx.counters().rejected += int64(extra)
	}
	v := strconv.AppendInt(nil, toNanos(at), 10)
	v = append(append(v, ' '), utf8cut.Prefix(reason, maxErrorLen)...)
	return m.Put(keyLastRejection, v)
}

// remove deletes outbox entries by key, adding each one deleted to
// *count. Keys already gone are skipped.
func (tx *Tx) remove(keys []uint64, count *int64) error {
	ob, err := tx.writable(bucketOutbox)
	if err != nil {
		return err
	}
	r := tx.counters()
	for _, key := range keys {
		k := seqKey(key)
		v := ob.Get(k)
		if v == nil {
			continue
		}
		_, body, _ := splitEntry(v)
		n := len(body)
		if err := ob.Delete(k); err != nil {
			return err
		}
		r.queued--
		r.queuedBytes -= int64(n)
		*count++
	}
	return nil
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// sealEntry is an outbox value: the enqueue time (8 bytes, big-endian
// unix nanoseconds), the caller's bytes, and a checksum of both
// (internal/binrec's seal), so that a flipped bit is found as damage
// rather than delivered as an altered span.
func sealEntry(at int64, b []byte) []byte {
	v := make([]byte, 8+len(b), 8+len(b)+binrec.SealLen)
	binary.BigEndian.PutUint64(v, uint64(at))
	copy(v[8:], b)
	return binrec.Seal(v)
}

// splitEntry splits an outbox value into its enqueue time and the caller's
// bytes; ok is false when its checksum does not match (the time and bytes
// are then as stored, damaged). A value too short to hold the time and
// the checksum is returned whole, with time 0.
func splitEntry(v []byte) (at int64, body []byte, ok bool) {
	if len(v) < 8+binrec.SealLen {
		return 0, v, false
	}
	_, err := binrec.Unseal(v)
	return int64(binary.BigEndian.Uint64(v)), v[8 : len(v)-binrec.SealLen], err == nil
}
