package hook

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/ccotel/ccotel/tracing"
)

// The index is the heads of a session's open spans, in order (the top
// span first), kept as a record of its own under indexKey: it is read
// and written on every event, so it is a compact binary encoding rather
// than JSON (which cost ~2 µs per open span per event). Per span:
//
//	kind     1 byte (indexKinds)
//	flags    1 byte (1: Perm)
//	key, tool, agent, bound   uvarint length + bytes each
//	last     varint unix nanoseconds (0: zero time)
//	offset   varint
//	owner, id, parent         8 bytes each
//
// preceded by the number of spans (uvarint).

// indexKey is the record key of the index; derived span IDs are never
// zero, so no span's record can have it.
var indexKey [8]byte

var indexKinds = [...]string{kindRoot, kindRun, kindTurn, kindTool, kindAgent, kindCompact}

var errIndex = errors.New("session state: span index unreadable")

func encodeIndex(spans []*openSpan) []byte {
	n := binary.MaxVarintLen64
	for _, o := range spans {
		n += 2 + 4*binary.MaxVarintLen64 + len(o.Key) + len(o.Tool) + len(o.Agent) + len(o.Bound) + 2*binary.MaxVarintLen64 + 24
	}
	b := binary.AppendUvarint(make([]byte, 0, n), uint64(len(spans)))
	for _, o := range spans {
		kind := byte(len(indexKinds))
		for i, k := range indexKinds {
			if o.Kind == k {
				kind = byte(i)
			}
		}
		var flags byte
		if o.Perm {
			flags |= 1
		}
		b = append(b, kind, flags)
		for _, s := range [...]string{o.Key, o.Tool, o.Agent, o.Bound} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		var last int64
		if !o.Last.IsZero() {
			last = o.Last.UnixNano()
		}
		b = binary.AppendVarint(b, last)
		b = binary.AppendVarint(b, o.Offset)
		id, parent := o.id(), o.parent()
		b = append(b, o.Owner[:]...)
		b = append(b, id[:]...)
		b = append(b, parent[:]...)
	}
	return b
}

func decodeIndex(b []byte) ([]*openSpan, error) {
	// The strings are cut from one copy of the record: one allocation
	// instead of one per key.
	str := string(b)
	at := func(rest []byte) int { return len(str) - len(rest) }
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errIndex
	}
	b = b[k:]
	spans := make([]*openSpan, 0, n)
	all := make([]openSpan, n)
	for i := range all {
		o := &all[i]
		if len(b) < 2 || int(b[0]) >= len(indexKinds) {
			return nil, errIndex
		}
		o.Kind, o.Perm = indexKinds[b[0]], b[1]&1 != 0
		b = b[2:]
		for _, s := range [...]*string{&o.Key, &o.Tool, &o.Agent, &o.Bound} {
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return nil, errIndex
			}
			*s = str[at(b)+k : at(b)+k+int(l)]
			b = b[k+int(l):]
		}
		last, k := binary.Varint(b)
		if k <= 0 {
			return nil, errIndex
		}
		b = b[k:]
		if last != 0 {
			o.Last = time.Unix(0, last).UTC()
		}
		if o.Offset, k = binary.Varint(b); k <= 0 {
			return nil, errIndex
		}
		b = b[k:]
		if len(b) < 24 {
			return nil, errIndex
		}
		o.Owner, o.ID, o.Parent = tracing.SpanID(b[:8]), tracing.SpanID(b[8:16]), tracing.SpanID(b[16:24])
		b = b[24:]
		o.stored = true
		spans = append(spans, o)
	}
	if len(b) != 0 {
		return nil, errIndex
	}
	return spans, nil
}
