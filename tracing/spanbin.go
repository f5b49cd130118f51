package tracing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/ccotel/ccotel/internal/binrec"
)

// The binary form of a Span: the outbox's storage format, and what package
// hook embeds in its span records. It replaces JSON because encoding/json
// builds its reflection caches anew in every (short-lived) hook process,
// which cost ~10 % of a hook's CPU.
//
// A span is
//
//	marker   1 byte, spanFormat
//	length   uvarint: the number of bytes of the fields that follow
//	fields   in this order:
//	  trace id 16 bytes, span id 8, parent span id 8
//	  name                         string
//	  kind                         varint
//	  start, end                   time
//	  attrs                        list of attr
//	  events                       list of (name string, time, attrs)
//	  links                        list of (trace id 16, span id 8, attrs)
//	  status code                  varint
//	  status message               string
//	  dropped events               varint
//	  pending                      bytes
//	  ready at                     time
//	  extra                        list of (0x00 for a nil span, or a span
//	                               in this same form, marker and length
//	                               included)
//
// where
//
//	string  uvarint length + bytes
//	bytes   uvarint 0 for nil, else uvarint length+1 + bytes
//	list    uvarint 0 for nil, else uvarint count+1, then the elements
//	time    1 byte: 0 for the zero time; 1, then varint Unix seconds and
//	        uvarint nanoseconds (any time round-trips; decoded in Local)
//	attr    key string; type 1 byte (attrTypes; attrTypeOther: a string
//	        naming it follows); 1 byte of flags saying which of Str, Int,
//	        Float, Bool, Strings are set; then those that are, in that
//	        order: Str string, Int varint, Float 8 bytes (little-endian
//	        math.Float64bits), Strings uvarint count + strings (Bool is
//	        its flag)
//
// A decoder ignores bytes after the fields it knows, up to the span's
// length: a later version may append fields without changing the marker
// (as with JSON, an older version that rewrites the span drops them). A
// change to the existing fields needs a new marker.
//
// Every field is kept, including the value fields an attribute's Type does
// not name and nil against empty slices, so a span decodes to exactly the
// struct that was encoded (times compare with Equal: the location and the
// monotonic reading are not kept). Strings are kept byte for byte, invalid
// UTF-8 too, where JSON made each bad byte U+FFFD; the OTLP encoders
// replace bad bytes in the same way when they export.

const (
	spanFormat byte = 0x01

	// maxSpanDepth is how deep Extra may nest: the span itself is at depth
	// 0, its Extra at 1. The decoder refuses deeper spans.
	maxSpanDepth = 8

	// minSpanLen is the fewest bytes a span takes: marker, length, ids,
	// and one byte for each other field.
	minSpanLen = 2 + 32 + 13
)

// Attribute type codes, the index in attrTypes; any other Type is
// attrTypeOther followed by the Type itself.
var attrTypes = [...]string{"", "string", "int", "float", "bool", "strings"}

const attrTypeOther = byte(len(attrTypes))

func attrTypeCode(t string) byte {
	for i, u := range attrTypes {
		if t == u {
			return byte(i)
		}
	}
	return attrTypeOther
}

// Which attribute value fields are set.
const (
	attrStr byte = 1 << iota
	attrInt
	attrFloat
	attrBool
	attrStrings // non-nil, possibly empty
	attrFlags   = attrStr | attrInt | attrFloat | attrBool | attrStrings
)

var errSpanBinary = errors.New("tracing: span encoding unreadable")

// AppendBinary appends the binary form of s (not nil) to b, as described
// above; DecodeSpanBinary reads it back.
// Spans nested in Extra deeper than maxSpanDepth levels, which the decoder
// would refuse, are left out; Marshal reports them as an error instead.
func (s *Span) AppendBinary(b []byte) []byte { return s.appendBinary(b, 0) }

func (s *Span) appendBinary(b []byte, depth int) []byte {
	b = append(b, spanFormat, 0) // the length: one byte for now
	at := len(b)
	b = append(b, s.TraceID[:]...)
	b = append(b, s.SpanID[:]...)
	b = append(b, s.ParentSpanID[:]...)
	b = binrec.AppendString(b, s.Name)
	b = binary.AppendVarint(b, int64(s.Kind))
	b = binrec.AppendTime(b, s.Start)
	b = binrec.AppendTime(b, s.End)
	b = appendBinAttrs(b, s.Attrs)
	b = binrec.AppendLen(b, len(s.Events), s.Events == nil)
	for i := range s.Events {
		e := &s.Events[i]
		b = binrec.AppendString(b, e.Name)
		b = binrec.AppendTime(b, e.Time)
		b = appendBinAttrs(b, e.Attrs)
	}
	b = binrec.AppendLen(b, len(s.Links), s.Links == nil)
	for i := range s.Links {
		l := &s.Links[i]
		b = append(b, l.TraceID[:]...)
		b = append(b, l.SpanID[:]...)
		b = appendBinAttrs(b, l.Attrs)
	}
	b = binary.AppendVarint(b, int64(s.StatusCode))
	b = binrec.AppendString(b, s.StatusMessage)
	b = binary.AppendVarint(b, int64(s.DroppedEvents))
	b = binrec.AppendLen(b, len(s.Pending), s.Pending == nil)
	b = append(b, s.Pending...)
	b = binrec.AppendTime(b, s.ReadyAt)
	extra := s.Extra
	if depth >= maxSpanDepth {
		extra = nil
	}
	b = binrec.AppendLen(b, len(extra), extra == nil)
	for _, x := range extra {
		if x == nil {
			b = append(b, 0)
			continue
		}
		b = x.appendBinary(b, depth+1)
	}

	// Now that the fields' length is known, write it where the byte was
	// kept for it, moving the fields up if it needs more.
	n := len(b) - at
	if k := binrec.UvarintLen(uint64(n)); k > 1 {
		b = append(b, make([]byte, k-1)...)
		copy(b[at+k-1:], b[at:at+n])
	}
	binary.PutUvarint(b[at-1:], uint64(n))
	return b
}

func appendBinAttrs(b []byte, as []Attr) []byte {
	b = binrec.AppendLen(b, len(as), as == nil)
	for i := range as {
		a := &as[i]
		b = binrec.AppendString(b, a.Key)
		typ := attrTypeCode(a.Type)
		b = append(b, typ)
		if typ == attrTypeOther {
			b = binrec.AppendString(b, a.Type)
		}
		var flags byte
		if a.Str != "" {
			flags |= attrStr
		}
		if a.Int != 0 {
			flags |= attrInt
		}
		if math.Float64bits(a.Float) != 0 { // -0 is kept
			flags |= attrFloat
		}
		if a.Bool {
			flags |= attrBool
		}
		if a.Strings != nil {
			flags |= attrStrings
		}
		b = append(b, flags)
		if flags&attrStr != 0 {
			b = binrec.AppendString(b, a.Str)
		}
		if flags&attrInt != 0 {
			b = binary.AppendVarint(b, a.Int)
		}
		if flags&attrFloat != 0 {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(a.Float))
		}
		if flags&attrStrings != 0 {
			b = binary.AppendUvarint(b, uint64(len(a.Strings)))
			for _, v := range a.Strings {
				b = binrec.AppendString(b, v)
			}
		}
	}
	return b
}

// binarySize is an upper bound on the length of s's binary form at depth
// (exact but for varint values, counted at their longest), so that Marshal
// allocates once.
func (s *Span) binarySize(depth int) int {
	const v = binary.MaxVarintLen64
	const t = 1 + 2*v // a time
	n := 1 + v + 32 + binrec.StringLen(s.Name) + v + 2*t + attrsSize(s.Attrs)
	n += v
	for i := range s.Events {
		n += binrec.StringLen(s.Events[i].Name) + t + attrsSize(s.Events[i].Attrs)
	}
	n += v
	for i := range s.Links {
		n += 24 + attrsSize(s.Links[i].Attrs)
	}
	n += v + binrec.StringLen(s.StatusMessage) + v + v + len(s.Pending) + t
	n += v
	if depth < maxSpanDepth {
		for _, x := range s.Extra {
			n++
			if x != nil {
				n += x.binarySize(depth + 1)
			}
		}
	}
	return n
}

func attrsSize(as []Attr) int {
	n := binary.MaxVarintLen64
	for i := range as {
		a := &as[i]
		n += binrec.StringLen(a.Key) + 2 + binrec.StringLen(a.Str)
		if attrTypeCode(a.Type) == attrTypeOther {
			n += binrec.StringLen(a.Type)
		}
		if a.Int != 0 {
			n += binary.MaxVarintLen64
		}
		if math.Float64bits(a.Float) != 0 {
			n += 8
		}
		if a.Strings != nil {
			n += binary.MaxVarintLen64
			for _, s := range a.Strings {
				n += binrec.StringLen(s)
			}
		}
	}
	return n
}

// tooDeep reports whether Extra nests spans deeper below s, which is at
// depth, than the binary form keeps. It stops at that depth, cycles too.
func (s *Span) tooDeep(depth int) bool {
	if len(s.Extra) == 0 {
		return false
	}
	if depth >= maxSpanDepth {
		return true
	}
	for _, x := range s.Extra {
		if x != nil && x.tooDeep(depth+1) {
			return true
		}
	}
	return false
}

// DecodeSpanBinary decodes the span at the front of b, written by
// AppendBinary, and returns the bytes after it. The span shares no memory
// with b. Any input, however malformed, gives an error rather than a
// panic or an outsize allocation; on error the rest is nil.
func DecodeSpanBinary(b []byte) (*Span, []byte, error) {
	r := binrec.NewReader(b)
	s := ReadSpanBinary(&r)
	if err := r.Err(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errSpanBinary, err)
	}
	return s, r.Rest(), nil
}

// ReadSpanBinary reads a span in its binary form from r, for records
// that embed one (package hook's span records): the strings are cut from
// r's one copy of the record. On error, r.Err() says why.
func ReadSpanBinary(r *binrec.Reader) *Span {
	s := new(Span)
	readSpan(r, s, 0)
	return s
}

// readSpan reads a span, marker and length first, into s at depth. The
// fields are read from a Reader over the span's length alone, so none
// reads past it, and bytes after the fields this version knows (appended
// by a later one) are skipped.
func readSpan(r *binrec.Reader, s *Span, depth int) {
	if c := r.Byte(); c != spanFormat && r.Err() == nil {
		r.Fail(fmt.Sprintf("unknown span format %#x", c))
	}
	n := r.Uvarint()
	if r.Err() != nil {
		return
	}
	f := r.Take(n)
	readFields(&f, s, depth)
	r.Adopt(&f)
}

func readFields(r *binrec.Reader, s *Span, depth int) {
	r.Fixed(s.TraceID[:])
	r.Fixed(s.SpanID[:])
	r.Fixed(s.ParentSpanID[:])
	s.Name = r.Str()
	s.Kind = Kind(r.Int())
	s.Start, s.End = r.Time(), r.Time()
	s.Attrs = readAttrs(r)
	if n, isNil := r.Len(3); !isNil {
		s.Events = make([]Event, n)
		for i := range s.Events {
			e := &s.Events[i]
			e.Name, e.Time, e.Attrs = r.Str(), r.Time(), readAttrs(r)
		}
	}
	if n, isNil := r.Len(25); !isNil {
		s.Links = make([]Link, n)
		for i := range s.Links {
			l := &s.Links[i]
			r.Fixed(l.TraceID[:])
			r.Fixed(l.SpanID[:])
			l.Attrs = readAttrs(r)
		}
	}
	s.StatusCode = StatusCode(r.Int())
	s.StatusMessage = r.Str()
	s.DroppedEvents = r.Int()
	s.Pending = r.Bytes()
	s.ReadyAt = r.Time()
	n, isNil := r.Len(1)
	if isNil {
		return
	}
	if n > 0 && depth >= maxSpanDepth {
		r.Fail("extra spans nested too deep")
		return
	}
	s.Extra = make([]*Span, n)
	var all []Span // the non-nil ones, in one allocation
	for i := range s.Extra {
		if r.Err() != nil {
			return
		}
		if c, ok := r.Peek(); ok && c == 0 {
			r.Byte()
			continue
		}
		if len(all) == 0 {
			all = make([]Span, min(n-i, 1+r.Left()/minSpanLen))
		}
		x := &all[0]
		all = all[1:]
		readSpan(r, x, depth+1)
		s.Extra[i] = x
	}
}

func readAttrs(r *binrec.Reader) []Attr {
	n, isNil := r.Len(3)
	if isNil {
		return nil
	}
	as := make([]Attr, n)
	for i := range as {
		if r.Err() != nil {
			return nil
		}
		a := &as[i]
		a.Key = r.Str()
		switch typ := r.Byte(); {
		case typ < attrTypeOther:
			a.Type = attrTypes[typ]
		case typ == attrTypeOther:
			a.Type = r.Str()
		default:
			r.Fail("bad attribute type")
		}
		flags := r.Byte()
		if flags&^attrFlags != 0 {
			r.Fail("bad attribute flags")
		}
		if flags&attrStr != 0 {
			a.Str = r.Str()
		}
		if flags&attrInt != 0 {
			a.Int = r.Varint()
		}
		if flags&attrFloat != 0 {
			var f [8]byte
			r.Fixed(f[:])
			a.Float = math.Float64frombits(binary.LittleEndian.Uint64(f[:]))
		}
		a.Bool = flags&attrBool != 0
		if flags&attrStrings != 0 {
			a.Strings = make([]string, r.Count(1))
			for j := range a.Strings {
				a.Strings[j] = r.Str()
			}
		}
	}
	return as
}
