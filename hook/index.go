package hook

import (
	"encoding/binary"
	"fmt"

	"github.com/ccotel/ccotel/internal/binrec"
)

// The index is the heads of a session's open spans, in order (the top
// span first), kept as a record of its own under indexKey: it is read
// and written on every event, so it is a compact binary encoding rather
// than JSON (docs/PERFORMANCE.md, "Figures behind choices in the code"). In
// internal/binrec's primitives, per span:
//
//	kind     1 byte (indexKinds)
//	flags    1 byte (1: Perm)
//	key, tool, agent, bound   string each
//	last     time
//	offset   varint
//	owner, id, parent         8 bytes each
//
// preceded by the number of spans (uvarint), and sealed (binrec.Seal).

// indexKey is the record key of the index; derived span IDs are never
// zero, so no span's record can have it.
var indexKey [8]byte

var indexKinds = [...]string{kindRoot, kindRun, kindTurn, kindTool, kindAgent, kindCompact}

// minIndexSpan is the fewest bytes a span takes in the index: kind,
// flags, four empty strings, the zero time, offset 0 and three IDs.
const minIndexSpan = 2 + 4 + 1 + 1 + 24

func encodeIndex(spans []*openSpan) []byte {
	n := binary.MaxVarintLen64 + binrec.SealLen
	for _, o := range spans {
		n += minIndexSpan + 3*binary.MaxVarintLen64 + len(o.Key) + len(o.Tool) + len(o.Agent) + len(o.Bound) + 4*binary.MaxVarintLen64
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
			b = binrec.AppendString(b, s)
		}
		b = binrec.AppendTime(b, o.Last)
		b = binary.AppendVarint(b, o.Offset)
		id, parent := o.id(), o.parent()
		b = append(b, o.Owner[:]...)
		b = append(b, id[:]...)
		b = append(b, parent[:]...)
	}
	return binrec.Seal(b)
}

// decodeIndex reads an index. A damaged one (truncated, a length or
// count past its end, an unknown kind, trailing bytes) is an error, never
// a panic or an allocation its bytes cannot justify.
func decodeIndex(b []byte) ([]*openSpan, error) {
	b, err := binrec.Unseal(b)
	if err != nil {
		return nil, fmt.Errorf("session state: span index: %w", err)
	}
	r := binrec.NewReader(b)
	all := make([]openSpan, r.Count(minIndexSpan))
	spans := make([]*openSpan, len(all))
	for i := range all {
		o := &all[i]
		if kind := r.Byte(); int(kind) < len(indexKinds) {
			o.Kind = indexKinds[kind]
		} else {
			r.Fail("unknown span kind")
		}
		o.Perm = r.Byte()&1 != 0
		o.Key, o.Tool, o.Agent, o.Bound = r.Str(), r.Str(), r.Str(), r.Str()
		if t := r.Time(); !t.IsZero() {
			o.Last = t.UTC()
		}
		o.Offset = r.Varint()
		r.Fixed(o.Owner[:])
		r.Fixed(o.ID[:])
		r.Fixed(o.Parent[:])
		o.stored = true
		spans[i] = o
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("session state: span index: %w", err)
	}
	return spans, nil
}
