package state

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ccotel/ccotel/internal/binrec"
	"github.com/ccotel/ccotel/internal/utf8cut"
)

// Buckets. The outbox maps an 8-byte big-endian sequence number to an
// entry: the 8-byte big-endian enqueue time (unix nanoseconds) followed by
// the caller's bytes. The meta bucket holds the counters record (see
// record) and the last export error text.
var (
	bucketSessions = []byte("sessions")
	// bucketSpans holds a session's open spans, one record each, so that
	// an event reads and writes only the spans it touches: the key is the
	// session id's length (uvarint), the session id and the 8-byte span ID.
	bucketSpans  = []byte("spans")
	bucketOutbox = []byte("outbox")
	bucketMeta   = []byte("meta")

	keyCounters  = []byte("counters")
	keyLastError = []byte("last_export_error")
	// keyDatabaseID is DatabaseID.
	keyDatabaseID = []byte("id")
	// keyLastRejection is "<unix nanos> <reason>" of the last span the
	// collector refused for good.
	keyLastRejection = []byte("last_rejection")
)

// outboxFillPercent is how full bbolt packs outbox pages when it splits
// them in a transaction that enqueued (append-only keys).
const outboxFillPercent = 0.9

// maxErrorLen caps the stored export error text.
const maxErrorLen = 300

// Tx is a transaction. It is valid only inside the Update or View call
// that created it.
type Tx struct {
	store *Store
	btx   *bolt.Tx // nil in a read-only Store with no database yet

	rec    record // counters, loaded on first use
	loaded bool
	dirty  bool // rec must be written back before commit
}

func (tx *Tx) bucket(name []byte) *bolt.Bucket {
	if tx.btx == nil {
		return nil
	}
	return tx.btx.Bucket(name)
}

// createBuckets makes the buckets on the first write, so that Open and
// View never write.
func (tx *Tx) createBuckets() error {
	for _, name := range [][]byte{bucketSessions, bucketSpans, bucketOutbox, bucketMeta} {
		if tx.btx.Bucket(name) == nil {
			if _, err := tx.btx.CreateBucket(name); err != nil {
				return err
			}
		}
	}
	m := tx.btx.Bucket(bucketMeta)
	if m.Get(keyDatabaseID) == nil {
		id := make([]byte, 16)
		rand.Read(id)
		return m.Put(keyDatabaseID, []byte(hex.EncodeToString(id)))
	}
	return nil
}

// DatabaseID is a random identifier the database got when it was created
// (its first write). A long-lived process compares it from one
// transaction to the next to notice that the file was replaced under it
// (the state directory deleted and recreated, a corrupt file moved aside):
// the inode cannot tell, the file system reuses it. "" before the first
// write.
func (tx *Tx) DatabaseID() string {
	if m := tx.bucket(bucketMeta); m != nil {
		return string(m.Get(keyDatabaseID))
	}
	return ""
}

// writable returns the named bucket of a read-write transaction.
func (tx *Tx) writable(name []byte) (*bolt.Bucket, error) {
	if tx.btx == nil || !tx.btx.Writable() {
		return nil, errReadOnly
	}
	return tx.btx.Bucket(name), nil
}

// Session returns the stored bytes for a session id (nil if none). The
// slice is valid only during the transaction; copy it to keep it.
func (tx *Tx) Session(id string) []byte {
	b := tx.bucket(bucketSessions)
	if b == nil {
		return nil
	}
	return b.Get([]byte(id))
}

// PutSession stores a session's bytes. bbolt keeps b until the commit:
// do not modify it before the transaction ends.
func (tx *Tx) PutSession(id string, b []byte) error {
	bk, err := tx.writable(bucketSessions)
	if err != nil {
		return err
	}
	return bk.Put([]byte(id), b)
}

// DeleteSession removes a session and all its span records.
func (tx *Tx) DeleteSession(id string) error {
	bk, err := tx.writable(bucketSessions)
	if err != nil {
		return err
	}
	if err := bk.Delete([]byte(id)); err != nil {
		return err
	}
	sp := tx.btx.Bucket(bucketSpans)
	prefix := spanPrefix(id)
	c := sp.Cursor()
	// Seek again after each delete: a bbolt cursor may skip the element
	// after the one it deleted.
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// Span returns the stored record of one of a session's spans (nil if
// none). The slice is valid only during the transaction.
func (tx *Tx) Span(session string, span [8]byte) []byte {
	b := tx.bucket(bucketSpans)
	if b == nil {
		return nil
	}
	return b.Get(spanKey(session, span))
}

// PutSpan stores the record of one of a session's spans. bbolt keeps b
// until the commit: do not modify it before the transaction ends.
func (tx *Tx) PutSpan(session string, span [8]byte, b []byte) error {
	bk, err := tx.writable(bucketSpans)
	if err != nil {
		return err
	}
	return bk.Put(spanKey(session, span), b)
}

// DeleteSpan removes the record of one of a session's spans.
func (tx *Tx) DeleteSpan(session string, span [8]byte) error {
	bk, err := tx.writable(bucketSpans)
	if err != nil {
		return err
	}
	return bk.Delete(spanKey(session, span))
}

// spanPrefix is the key prefix of a session's span records: the id's
// length first, so that no session's prefix is another's.
func spanPrefix(session string) []byte {
	k := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(session)+8), uint64(len(session)))
	return append(k, session...)
}

func spanKey(session string, span [8]byte) []byte {
	return append(spanPrefix(session), span[:]...)
}

// ForEachSession calls fn for every session; fn must not modify sessions
// (collect ids and change them after).
func (tx *Tx) ForEachSession(fn func(id string, b []byte) error) error {
	b := tx.bucket(bucketSessions)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
}

// Counters returns the counters. It costs one read of the counters record,
// one cursor seek (the oldest entry) and a stat of the lost-events file.
func (tx *Tx) Counters() Counters {
	r := tx.peekCounters()
	c := Counters{
		Queued:       int(r.queued),
		QueuedBytes:  r.queuedBytes,
		Enqueued:     r.enqueued,
		Exported:     r.exported,
		Dropped:      r.dropped,
		LostEvents:   r.lostEvents,
		LastExport:   fromNanos(r.lastExport),
		LastExportOK: r.lastExportOK != 0,
		NextAttempt:  fromNanos(r.nextAttempt),
		Failures:     int(r.failures),
		Rejected:     r.rejected,
		Damaged:      r.damaged,
		Resets:       r.resets,
	}
	if ob := tx.bucket(bucketOutbox); ob != nil {
		if k, v := ob.Cursor().First(); k != nil {
			at, _, _ := splitEntry(v)
			c.OldestQueued = fromNanos(at)
		}
	}
	if m := tx.bucket(bucketMeta); m != nil {
		c.LastExportError = string(m.Get(keyLastError))
		if v := string(m.Get(keyLastRejection)); v != "" {
			at, reason, _ := strings.Cut(v, " ")
			n, _ := strconv.ParseInt(at, 10, 64)
			c.LastRejected, c.LastRejection = fromNanos(n), reason
		}
	}
	c.LostEvents += lostEvents(tx.store.dir)
	return c
}

// RecordExport updates the export bookkeeping after an attempt: err nil
// is a success (Failures back to 0, error text cleared), otherwise
// Failures grows by one and the error text (at most 300 bytes) is kept.
func (tx *Tx) RecordExport(at time.Time, err error, nextAttempt time.Time) error {
	m, werr := tx.writable(bucketMeta)
	if werr != nil {
		return werr
	}
	r := tx.counters()
	r.lastExport = toNanos(at)
	r.nextAttempt = toNanos(nextAttempt)
	if err == nil {
		r.lastExportOK = 1
		r.failures = 0
		return m.Delete(keyLastError)
	}
	r.lastExportOK = 0
	r.failures++
	return m.Put(keyLastError, []byte(utf8cut.Prefix(err.Error(), maxErrorLen)))
}

// AddLostEvents counts hook events that could not be recorded.
func (tx *Tx) AddLostEvents(n int64) error {
	if _, err := tx.writable(bucketMeta); err != nil {
		return err
	}
	tx.counters().lostEvents += n
	return nil
}

// AddDamaged counts records found damaged (see Counters.Damaged).
func (tx *Tx) AddDamaged(n int64) error {
	if _, err := tx.writable(bucketMeta); err != nil {
		return err
	}
	tx.counters().damaged += n
	return nil
}

// AddReset counts a session whose state was found damaged: started over,
// or a span rebuilt from its head (see Counters.Resets).
func (tx *Tx) AddReset() error {
	if _, err := tx.writable(bucketMeta); err != nil {
		return err
	}
	tx.counters().resets++
	return nil
}

// counters returns the counters record for modification; flush writes it
// back at the end of Update.
func (tx *Tx) counters() *record {
	r := tx.peekCounters()
	tx.dirty = true
	return r
}

func (tx *Tx) peekCounters() *record {
	if tx.loaded {
		return &tx.rec
	}
	tx.loaded = true
	var b []byte
	if m := tx.bucket(bucketMeta); m != nil {
		b = m.Get(keyCounters)
	}
	ob := tx.bucket(bucketOutbox)
	empty := ob == nil || func() bool { k, _ := ob.Cursor().First(); return k == nil }()
	switch tx.rec.decode(b) {
	case recordSealed:
		if tx.rec.plausible() && (tx.rec.queued == 0) == empty {
			return &tx.rec
		}
		tx.rec.damaged++ // a checksum cannot vouch for what is impossible
	case recordDamaged:
		tx.rec.damaged++
	case recordMissing:
		if empty && tx.rec.queued == 0 && tx.rec.plausible() {
			return &tx.rec
		}
	}
	// No record but maybe entries (the record was lost, or written by a
	// version without a checksum), or a record that cannot be true (a
	// flipped bit once made a hook evict the whole outbox as "full"):
	// recount what the outbox holds, never act on the figure.
	tx.recount(ob)
	return &tx.rec
}

// recount sets queued and queuedBytes from the outbox itself, and every
// other count that cannot be true to 0.
func (tx *Tx) recount(ob *bolt.Bucket) {
	r := &tx.rec
	r.clamp()
	r.queued, r.queuedBytes = 0, 0
	if ob != nil {
		ob.ForEach(func(_, v []byte) error {
			_, body, _ := splitEntry(v)
			r.queued++
			r.queuedBytes += int64(len(body))
			return nil
		})
	}
	if tx.btx != nil && tx.btx.Writable() {
		tx.dirty = true
	}
}

// flush writes the counters record back if it changed.
func (tx *Tx) flush() error {
	if !tx.dirty {
		return nil
	}
	return tx.btx.Bucket(bucketMeta).Put(keyCounters, tx.rec.encode())
}

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// record is the counters as stored under meta/counters: a sequence of
// big-endian int64 fields in this order, sealed (internal/binrec: a
// CRC-32 trailer). New fields are only ever appended; decode leaves
// missing trailing fields at zero and ignores extra ones. A record
// without the trailer (written before it existed) is read, then
// recounted.
type record struct {
	queued       int64
	queuedBytes  int64
	enqueued     int64
	exported     int64
	dropped      int64
	lostEvents   int64
	lastExport   int64 // unix nanoseconds, 0 for never
	lastExportOK int64 // 1 if the last attempt succeeded
	nextAttempt  int64 // unix nanoseconds, 0 for none
	failures     int64
	rejected     int64 // spans dropped because the collector refused them
	damaged      int64 // records found damaged (see Counters.Damaged)
	resets       int64 // sessions started over on damaged state
}

func (r *record) fields() []*int64 {
	return []*int64{
		&r.queued, &r.queuedBytes, &r.enqueued, &r.exported, &r.dropped,
		&r.lostEvents, &r.lastExport, &r.lastExportOK, &r.nextAttempt, &r.failures,
		&r.rejected, &r.damaged, &r.resets,
	}
}

// counts are the fields that count things (the others are times and a
// flag).
func (r *record) counts() []*int64 {
	return []*int64{
		&r.queued, &r.queuedBytes, &r.enqueued, &r.exported, &r.dropped,
		&r.lostEvents, &r.failures, &r.rejected, &r.damaged, &r.resets,
	}
}

// maxCount bounds any count a real state directory can reach (2^48:
// a span a microsecond for nine years).
const maxCount = 1 << 48

// plausible reports whether every field can be true.
func (r *record) plausible() bool {
	for _, p := range r.counts() {
		if *p < 0 || *p > maxCount {
			return false
		}
	}
	return r.lastExport >= 0 && r.nextAttempt >= 0 && r.lastExportOK&^1 == 0 && r.queuedBytes >= r.queued
}

// clamp sets every field that cannot be true to 0.
func (r *record) clamp() {
	for _, p := range r.counts() {
		if *p < 0 || *p > maxCount {
			*p = 0
		}
	}
	for _, p := range []*int64{&r.lastExport, &r.nextAttempt} {
		*p = max(*p, 0)
	}
	r.lastExportOK &= 1
}

func (r *record) encode() []byte {
	f := r.fields()
	b := make([]byte, 8*len(f), 8*len(f)+binrec.SealLen)
	for i, p := range f {
		binary.BigEndian.PutUint64(b[8*i:], uint64(*p))
	}
	return binrec.Seal(b)
}

// What decode found.
const (
	recordMissing = iota // no record, or one without a checksum
	recordSealed
	recordDamaged
)

func (r *record) decode(b []byte) int {
	res := recordMissing
	if len(b)%8 == binrec.SealLen {
		body, err := binrec.Unseal(b)
		res = recordSealed
		if err != nil {
			// Read it all the same: the recount replaces the queue's
			// figures, and what else cannot be true is cleared.
			body, res = b[:len(b)-binrec.SealLen], recordDamaged
		}
		b = body
	}
	for i, p := range r.fields() {
		if len(b) < 8*(i+1) {
			break
		}
		*p = int64(binary.BigEndian.Uint64(b[8*i:]))
	}
	return res
}
