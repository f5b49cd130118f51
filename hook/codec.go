package hook

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ccotel/ccotel/tracing"
)

// A session's head and its open spans' records are read and written on
// every event, inside the database lock that the other hooks of the
// session wait for. They are compact binary records, not JSON: encoding/
// json builds its reflection caches anew in every hook process, which cost
// ~10 % of a hook's CPU and most of its time holding the lock. Records
// written as JSON by earlier versions (a leading '{') are still read.
//
// The head (headMarker first):
//
//	last      time (see appendTime)
//	ended     time
//	id, transcript, last prompt, model           uvarint length + bytes
//	trace     16 bytes
//	run, totals (7), turn/compact/tool seqs      varint each
//	background  uvarint count × (key, trace 16, span 8)
//	launched    uvarint count × (agent, call, span 8)
//	closed      uvarint length + bytes; closed_next varint
//
// last and ended come first so that a reader that needs only them
// (`ccotel status`, in package delivery) stops there; see
// HeadTimes.
//
// A span record (bodyMarker first): desc, events (a JSON array, decoded
// only when the span ends), nevents (uvarint), then the span in
// tracing's binary form.
const (
	headMarker byte = 0x02 // sessionVersion 2 (span bodies in records of their own)
	bodyMarker byte = 0x01
)

var errRecord = errors.New("session state: record unreadable")

func (s *session) encode() ([]byte, error) {
	s.V = sessionVersion
	n := 64 + len(s.ID) + len(s.Transcript) + len(s.LastPrompt) + len(s.Model) + len(s.Closed) + 48*(len(s.Background)+len(s.Launched))
	b := append(make([]byte, 0, n), headMarker)
	b = appendTime(b, s.Last)
	b = appendTime(b, s.Ended)
	b = appendStr(b, s.ID)
	b = appendStr(b, s.Transcript)
	b = appendStr(b, s.LastPrompt)
	b = appendStr(b, s.Model)
	b = append(b, s.Trace[:]...)
	t := s.Totals
	for _, v := range [...]int{s.Run, t.Turns, t.ToolCalls, t.ToolErrors, t.Subagents, t.Compactions, t.Late, t.Notices, s.TurnSeq, s.CompactSeq, s.Seq} {
		b = binary.AppendVarint(b, int64(v))
	}
	b = binary.AppendUvarint(b, uint64(len(s.Background)))
	for _, a := range s.Background {
		b = appendStr(b, a.Key)
		b = append(b, a.Trace[:]...)
		b = append(b, a.Span[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Launched)))
	for _, l := range s.Launched {
		b = appendStr(b, l.Agent)
		b = appendStr(b, l.Call)
		b = append(b, l.Span[:]...)
	}
	b = appendStr(b, string(s.Closed))
	b = binary.AppendVarint(b, int64(s.ClosedNext))
	return b, nil
}

// decodeHead decodes a session's head alone (no span index), as Sweep
// and status need it.
func decodeHead(b []byte) (*session, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var s session
	if b[0] == '{' {
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("session state: %w", err)
		}
		if s.V != sessionVersion && s.V != 1 {
			return nil, fmt.Errorf("session state: version %d", s.V)
		}
		return &s, nil
	}
	if b[0] != headMarker {
		return nil, fmt.Errorf("session state: unknown record format %#x", b[0])
	}
	r := &reader{b: b[1:]}
	s.V = sessionVersion
	s.Last, s.Ended = r.time(), r.time()
	s.ID, s.Transcript, s.LastPrompt, s.Model = r.str(), r.str(), r.str(), r.str()
	r.fixed(s.Trace[:])
	t := &s.Totals
	for _, p := range [...]*int{&s.Run, &t.Turns, &t.ToolCalls, &t.ToolErrors, &t.Subagents, &t.Compactions, &t.Late, &t.Notices, &s.TurnSeq, &s.CompactSeq, &s.Seq} {
		*p = int(r.varint())
	}
	if n := r.count(8 + 16 + 1); n > 0 {
		s.Background = make([]bgAgent, n)
		for i := range s.Background {
			a := &s.Background[i]
			a.Key = r.str()
			r.fixed(a.Trace[:])
			r.fixed(a.Span[:])
		}
	}
	if n := r.count(8 + 2); n > 0 {
		s.Launched = make([]launched, n)
		for i := range s.Launched {
			l := &s.Launched[i]
			l.Agent, l.Call = r.str(), r.str()
			r.fixed(l.Span[:])
		}
	}
	if c := r.str(); c != "" {
		s.Closed = []byte(c)
	}
	s.ClosedNext = int(r.varint())
	if err := r.done(); err != nil {
		return nil, err
	}
	return &s, nil
}

// HeadTimes reads a stored session head's last event time and, for an
// ended session (a tombstone), when it ended; ok is false for a record
// it cannot read. `ccotel status` counts sessions with it.
func HeadTimes(b []byte) (last, ended time.Time, ok bool) {
	if len(b) > 0 && b[0] == headMarker {
		r := &reader{b: b[1:]}
		last, ended = r.time(), r.time()
		return last, ended, r.err == nil
	}
	s, err := decodeHead(b)
	if err != nil || s == nil {
		return time.Time{}, time.Time{}, false
	}
	return s.Last, s.Ended, true
}

// encodeBody is a span record.
func encodeBody(o *spanBody) []byte {
	b := append(make([]byte, 0, 256+len(o.Desc)+len(o.Events)), bodyMarker)
	b = appendStr(b, o.Desc)
	b = appendStr(b, string(o.Events))
	b = binary.AppendUvarint(b, uint64(o.NEvents))
	return o.Span.AppendBinary(b)
}

// decodeBody reads a span record into o.
func decodeBody(b []byte, o *spanBody) error {
	if len(b) == 0 {
		return errRecord
	}
	if b[0] == '{' {
		return json.Unmarshal(b, o)
	}
	if b[0] != bodyMarker {
		return errRecord
	}
	r := &reader{b: b[1:]}
	o.Desc = r.str()
	if ev := r.str(); ev != "" {
		o.Events = json.RawMessage(ev)
	}
	o.NEvents = int(r.uvarint())
	if r.err != nil {
		return r.err
	}
	sp, rest, err := tracing.DecodeSpanBinary(r.b)
	if err != nil {
		return fmt.Errorf("%w: %v", errRecord, err)
	}
	if len(rest) != 0 {
		return errRecord
	}
	o.Span = *sp
	return nil
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendTime writes a time as a presence byte, then (when not zero) its
// Unix seconds (varint) and nanoseconds (uvarint): any time round-trips,
// in UTC.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// reader decodes a record; the first error sticks and later reads return
// zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() { r.err, r.b = errRecord, nil }

func (r *reader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) fixed(dst []byte) {
	if len(r.b) < len(dst) {
		r.fail()
		return
	}
	copy(dst, r.b)
	r.b = r.b[len(dst):]
}

// count reads an element count, refusing one that the remaining bytes
// cannot hold at min bytes per element.
func (r *reader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/min) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *reader) time() time.Time {
	switch r.uvarint() {
	case 0:
		return time.Time{}
	case 1:
		sec := r.varint()
		nsec := r.uvarint()
		if nsec >= 1e9 {
			r.fail()
		}
		if r.err != nil {
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	}
	r.fail()
	return time.Time{}
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errRecord
	}
	return r.err
}
