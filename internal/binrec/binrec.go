// Package binrec writes and reads the compact binary records ccotel keeps
// in its state database: a session's head and its open spans' records
// (package hook) and the spans in the outbox (package tracing). A hook
// process reads and writes them on every event, inside the database lock;
// encoding/json would build its reflection caches anew in every such
// process.
//
// The primitives:
//
//	uvarint, varint   encoding/binary's
//	string            uvarint length + bytes
//	len               uvarint 0 for nil, else n+1 (a list's or a byte
//	                  slice's length, keeping nil apart from empty)
//	bytes             len + bytes
//	time              1 byte: 0 for the zero time; 1, then varint Unix
//	                  seconds and uvarint nanoseconds (any time round-trips;
//	                  read back in the local zone, like a parsed RFC 3339
//	                  time with the local offset)
//
// A Reader never panics and never allocates more than its input can
// justify: every length and count is checked against the bytes left. Its
// first error sticks, and every later read returns a zero value.
package binrec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrRecord is what every Reader error wraps.
var ErrRecord = errors.New("record unreadable")

// AppendString appends a string.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendLen appends a list's or byte slice's length: 0 for nil, else n+1.
func AppendLen(b []byte, n int, isNil bool) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

// AppendBytes appends a byte slice, nil kept apart from empty.
func AppendBytes(b, v []byte) []byte {
	return append(AppendLen(b, len(v), v == nil), v...)
}

// AppendTime appends a time.
func AppendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// UvarintLen is the length of v as a uvarint.
func UvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// StringLen is the length of s as a string.
func StringLen(s string) int { return UvarintLen(uint64(len(s))) + len(s) }

// Reader is a cursor over a record.
type Reader struct {
	b   []byte
	s   string // b's bytes: strings are cut from this one copy
	i   int    // the next byte to read
	err error
}

// NewReader reads b. It copies b once, so that the strings it returns
// share no memory with b (one allocation instead of one per string).
func NewReader(b []byte) Reader {
	return Reader{b: b, s: string(b)}
}

// Err is the first error, nil if none.
func (r *Reader) Err() error { return r.err }

// Fail records an error (the first one sticks) and moves to the end.
func (r *Reader) Fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d", ErrRecord, what, r.i)
	}
	r.i = len(r.b)
}

// Left is the number of bytes not read yet.
func (r *Reader) Left() int { return len(r.b) - r.i }

// Rest returns the bytes not read yet and moves to the end.
func (r *Reader) Rest() []byte {
	rest := r.b[r.i:]
	r.i = len(r.b)
	return rest
}

// Done is Err, or an error if bytes are left.
func (r *Reader) Done() error {
	if r.err == nil && r.i != len(r.b) {
		r.Fail("trailing bytes")
	}
	return r.err
}

// Take returns a Reader over the next n bytes and moves past them. Read
// it, then hand it back with Adopt so that its error becomes r's.
func (r *Reader) Take(n uint64) Reader {
	if n > uint64(r.Left()) {
		r.Fail("length past the end")
		return Reader{err: r.err}
	}
	end := r.i + int(n)
	sub := Reader{b: r.b[:end], s: r.s[:end], i: r.i}
	r.i = end
	return sub
}

// Adopt takes sub's error, if any, as r's.
func (r *Reader) Adopt(sub *Reader) {
	if sub.err != nil && r.err == nil {
		r.err = sub.err
		r.i = len(r.b)
	}
}

// Peek returns the next byte without reading it; ok is false at the end.
func (r *Reader) Peek() (c byte, ok bool) {
	if r.i >= len(r.b) {
		return 0, false
	}
	return r.b[r.i], true
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.i >= len(r.b) {
		r.Fail("truncated")
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

// Uvarint reads a uvarint.
func (r *Reader) Uvarint() uint64 {
	v, k := binary.Uvarint(r.b[r.i:])
	if k <= 0 {
		r.Fail("bad uvarint")
		return 0
	}
	r.i += k
	return v
}

// Varint reads a varint.
func (r *Reader) Varint() int64 {
	v, k := binary.Varint(r.b[r.i:])
	if k <= 0 {
		r.Fail("bad varint")
		return 0
	}
	r.i += k
	return v
}

// Int reads a varint that must fit an int.
func (r *Reader) Int() int {
	v := r.Varint()
	if int64(int(v)) != v {
		r.Fail("int out of range")
		return 0
	}
	return int(v)
}

// Str reads a string.
func (r *Reader) Str() string {
	n := r.Uvarint()
	if n > uint64(r.Left()) {
		r.Fail("string past the end")
		return ""
	}
	s := r.s[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

// Fixed reads len(dst) bytes into dst.
func (r *Reader) Fixed(dst []byte) {
	if r.Left() < len(dst) {
		r.Fail("truncated")
		return
	}
	r.i += copy(dst, r.b[r.i:])
}

// Count reads a plain element count, refusing one that the bytes left
// cannot hold at min bytes per element.
func (r *Reader) Count(min int) int {
	v := r.Uvarint()
	if v > uint64(r.Left()/min) {
		r.Fail("count past the end")
		return 0
	}
	return int(v)
}

// Len reads a length written by AppendLen, refusing one that the bytes
// left cannot hold at min bytes per element.
func (r *Reader) Len(min int) (n int, isNil bool) {
	v := r.Uvarint()
	if v == 0 {
		return 0, true
	}
	if v-1 > uint64(r.Left()/min) {
		r.Fail("count past the end")
		return 0, true
	}
	return int(v - 1), false
}

// Bytes reads a byte slice written by AppendBytes, copied, nil kept
// apart from empty.
func (r *Reader) Bytes() []byte {
	n, isNil := r.Len(1)
	if isNil {
		return nil
	}
	v := append([]byte{}, r.b[r.i:r.i+n]...)
	r.i += n
	return v
}

// Time reads a time.
func (r *Reader) Time() time.Time {
	switch r.Byte() {
	case 0:
		return time.Time{}
	case 1:
		sec := r.Varint()
		nsec := r.Uvarint()
		if nsec >= 1e9 {
			r.Fail("bad nanoseconds")
		}
		if r.err != nil {
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec))
	}
	r.Fail("bad time")
	return time.Time{}
}
