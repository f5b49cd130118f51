package hook

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ccotel/ccotel/internal/binrec"
	"github.com/ccotel/ccotel/tracing"
)

// A session's head and its open spans' records are read and written on
// every event, inside the database lock that the other hooks of the
// session wait for. They are compact binary records, not JSON: encoding/
// json builds its reflection caches anew in every hook process, which cost
// ~10 % of a hook's CPU and most of its time holding the lock. A record
// in any other form (no release wrote one) is damage, like a truncated
// one: the state machine starts the session over (Result.Reset) or
// rebuilds the span from its head.
//
// The head (headMarker first), in internal/binrec's primitives:
//
//	last, ended                                  time
//	id, transcript, last prompt, model           string
//	trace                                        16 bytes
//	run, totals (7), turn/compact/tool seqs      varint each
//	background  uvarint count × (key string, trace 16, span 8)
//	launched    uvarint count × (agent string, call string, span 8)
//	closed      string; closed_next varint
//
// last and ended come first so that a reader that needs only them
// (`ccotel status`, in package delivery) stops there: HeadTimes.
//
// A span record (bodyMarker first): desc string, events bytes (a JSON
// array, decoded only when the span ends), nevents varint, then the span
// in tracing's binary form.
//
// Every record (head, span record, index) is sealed: internal/binrec's
// CRC-32 trailer. A flipped bit is damage, found and handled as any
// unreadable record, never read as a different valid one.
const (
	headMarker byte = 0x02 // span bodies in records of their own
	bodyMarker byte = 0x01
)

var errRecord = fmt.Errorf("session state: %w", binrec.ErrRecord)

func (s *session) encode() ([]byte, error) {
	n := 64 + binrec.SealLen + len(s.ID) + len(s.Transcript) + len(s.LastPrompt) + len(s.Model) + len(s.Closed) + 48*(len(s.Background)+len(s.Launched))
	b := append(make([]byte, 0, n), headMarker)
	b = binrec.AppendTime(b, s.Last)
	b = binrec.AppendTime(b, s.Ended)
	b = binrec.AppendString(b, s.ID)
	b = binrec.AppendString(b, s.Transcript)
	b = binrec.AppendString(b, s.LastPrompt)
	b = binrec.AppendString(b, s.Model)
	b = append(b, s.Trace[:]...)
	t := s.Totals
	for _, v := range [...]int{s.Run, t.Turns, t.ToolCalls, t.ToolErrors, t.Subagents, t.Compactions, t.Late, t.Notices, s.TurnSeq, s.CompactSeq, s.Seq} {
		b = binary.AppendVarint(b, int64(v))
	}
	b = binary.AppendUvarint(b, uint64(len(s.Background)))
	for _, a := range s.Background {
		b = binrec.AppendString(b, a.Key)
		b = append(b, a.Trace[:]...)
		b = append(b, a.Span[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Launched)))
	for _, l := range s.Launched {
		b = binrec.AppendString(b, l.Agent)
		b = binrec.AppendString(b, l.Call)
		b = append(b, l.Span[:]...)
	}
	b = binrec.AppendString(b, string(s.Closed))
	b = binary.AppendVarint(b, int64(s.ClosedNext))
	return binrec.Seal(b), nil
}

// decodeHead decodes a session's head alone (no span index), as Sweep
// and status need it.
func decodeHead(b []byte) (*session, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var s session
	b, err := binrec.Unseal(b)
	if err != nil {
		return nil, fmt.Errorf("session state: head: %w", err)
	}
	if b[0] != headMarker {
		return nil, fmt.Errorf("session state: unknown record format %#x", b[0])
	}
	r := binrec.NewReader(b[1:])
	s.Last, s.Ended = r.Time(), r.Time()
	s.ID, s.Transcript, s.LastPrompt, s.Model = r.Str(), r.Str(), r.Str(), r.Str()
	r.Fixed(s.Trace[:])
	t := &s.Totals
	for _, p := range [...]*int{&s.Run, &t.Turns, &t.ToolCalls, &t.ToolErrors, &t.Subagents, &t.Compactions, &t.Late, &t.Notices, &s.TurnSeq, &s.CompactSeq, &s.Seq} {
		*p = r.Int()
	}
	if n := r.Count(8 + 16 + 1); n > 0 {
		s.Background = make([]bgAgent, n)
		for i := range s.Background {
			a := &s.Background[i]
			a.Key = r.Str()
			r.Fixed(a.Trace[:])
			r.Fixed(a.Span[:])
		}
	}
	if n := r.Count(8 + 2); n > 0 {
		s.Launched = make([]launched, n)
		for i := range s.Launched {
			l := &s.Launched[i]
			l.Agent, l.Call = r.Str(), r.Str()
			r.Fixed(l.Span[:])
		}
	}
	if c := r.Str(); c != "" {
		s.Closed = []byte(c)
	}
	s.ClosedNext = r.Int()
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("session state: %w", err)
	}
	return &s, nil
}

// HeadTimes reads a stored session head's last event time and, for an
// ended session (a tombstone), when it ended; ok is false for a record
// it cannot read. `ccotel status` counts sessions with it.
func HeadTimes(b []byte) (last, ended time.Time, ok bool) {
	b, err := binrec.Unseal(b)
	if err != nil || len(b) == 0 || b[0] != headMarker {
		return time.Time{}, time.Time{}, false
	}
	r := binrec.NewReader(b[1:])
	last, ended = r.Time(), r.Time()
	return last, ended, r.Err() == nil
}

// encodeBody is a span record.
func encodeBody(o *spanBody) []byte {
	b := append(make([]byte, 0, 256+len(o.Desc)+len(o.Events)), bodyMarker)
	b = binrec.AppendString(b, o.Desc)
	b = binrec.AppendBytes(b, o.Events)
	b = binary.AppendVarint(b, int64(o.NEvents))
	return binrec.Seal(o.Span.AppendBinary(b))
}

// decodeBody reads a span record into o.
func decodeBody(b []byte, o *spanBody) error {
	b, err := binrec.Unseal(b)
	if err != nil {
		return fmt.Errorf("session state: span record: %w", err)
	}
	if len(b) == 0 || b[0] != bodyMarker {
		return errRecord
	}
	r := binrec.NewReader(b[1:])
	o.Desc = r.Str()
	o.Events = r.Bytes()
	o.NEvents = r.Int()
	sp := tracing.ReadSpanBinary(&r)
	if err := r.Done(); err != nil {
		return fmt.Errorf("session state: span record: %w", err)
	}
	o.Span = *sp
	return nil
}
