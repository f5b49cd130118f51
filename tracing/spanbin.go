package tracing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// The binary form of a Span: the outbox's storage format, and what package
// hook embeds in its span records. It replaces JSON because encoding/json
// builds its reflection caches anew in every (short-lived) hook process,
// which cost ~10 % of a hook's CPU; UnmarshalSpan still reads the JSON
// that earlier versions wrote.
//
// A span is
//
//	marker   1 byte, spanFormat (never '{', which starts the old JSON form)
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
	b = appendBinString(b, s.Name)
	b = binary.AppendVarint(b, int64(s.Kind))
	b = appendBinTime(b, s.Start)
	b = appendBinTime(b, s.End)
	b = appendBinAttrs(b, s.Attrs)
	b = appendBinLen(b, len(s.Events), s.Events == nil)
	for i := range s.Events {
		e := &s.Events[i]
		b = appendBinString(b, e.Name)
		b = appendBinTime(b, e.Time)
		b = appendBinAttrs(b, e.Attrs)
	}
	b = appendBinLen(b, len(s.Links), s.Links == nil)
	for i := range s.Links {
		l := &s.Links[i]
		b = append(b, l.TraceID[:]...)
		b = append(b, l.SpanID[:]...)
		b = appendBinAttrs(b, l.Attrs)
	}
	b = binary.AppendVarint(b, int64(s.StatusCode))
	b = appendBinString(b, s.StatusMessage)
	b = binary.AppendVarint(b, int64(s.DroppedEvents))
	b = appendBinLen(b, len(s.Pending), s.Pending == nil)
	b = append(b, s.Pending...)
	b = appendBinTime(b, s.ReadyAt)
	extra := s.Extra
	if depth >= maxSpanDepth {
		extra = nil
	}
	b = appendBinLen(b, len(extra), extra == nil)
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
	if k := uvarintLen(uint64(n)); k > 1 {
		b = append(b, make([]byte, k-1)...)
		copy(b[at+k-1:], b[at:at+n])
	}
	binary.PutUvarint(b[at-1:], uint64(n))
	return b
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

func appendBinString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendBinLen writes a list's or byte slice's length: 0 for nil, else
// n+1.
func appendBinLen(b []byte, n int, isNil bool) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

func appendBinTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendBinAttrs(b []byte, as []Attr) []byte {
	b = appendBinLen(b, len(as), as == nil)
	for i := range as {
		a := &as[i]
		b = appendBinString(b, a.Key)
		typ := attrTypeCode(a.Type)
		b = append(b, typ)
		if typ == attrTypeOther {
			b = appendBinString(b, a.Type)
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
			b = appendBinString(b, a.Str)
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
				b = appendBinString(b, v)
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
	n := 1 + v + 32 + strSize(s.Name) + v + 2*t + attrsSize(s.Attrs)
	n += v
	for i := range s.Events {
		n += strSize(s.Events[i].Name) + t + attrsSize(s.Events[i].Attrs)
	}
	n += v
	for i := range s.Links {
		n += 24 + attrsSize(s.Links[i].Attrs)
	}
	n += v + strSize(s.StatusMessage) + v + v + len(s.Pending) + t
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

func strSize(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func attrsSize(as []Attr) int {
	n := binary.MaxVarintLen64
	for i := range as {
		a := &as[i]
		n += strSize(a.Key) + 2 + strSize(a.Str)
		if attrTypeCode(a.Type) == attrTypeOther {
			n += strSize(a.Type)
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
				n += strSize(s)
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
	h := spanReader{b: b}
	end := h.header()
	if h.err != nil {
		return nil, nil, h.err
	}
	// One copy of the span's bytes as a string, from which all its strings
	// are cut: one allocation instead of one per string.
	r := spanReader{b: b[:end], s: string(b[:end])}
	s := new(Span)
	r.span(s, 0)
	if r.err != nil {
		return nil, nil, r.err
	}
	return s, b[end:], nil
}

// spanReader is a cursor over a span's binary form. The first error
// sticks; after it every read returns a zero value.
type spanReader struct {
	b   []byte
	s   string // b's bytes, when strings are to be read
	i   int    // the next byte to read
	err error
}

func (r *spanReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d", errSpanBinary, what, r.i)
	}
	r.i = len(r.b) // every later read fails
}

func (r *spanReader) left() int { return len(r.b) - r.i }

func (r *spanReader) byte() byte {
	if r.i >= len(r.b) {
		r.fail("truncated")
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *spanReader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b[r.i:])
	if k <= 0 {
		r.fail("bad uvarint")
		return 0
	}
	r.i += k
	return v
}

func (r *spanReader) varint() int64 {
	v, k := binary.Varint(r.b[r.i:])
	if k <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.i += k
	return v
}

func (r *spanReader) int() int {
	v := r.varint()
	if int64(int(v)) != v {
		r.fail("int out of range")
		return 0
	}
	return int(v)
}

func (r *spanReader) string() string {
	n := r.uvarint()
	if n > uint64(r.left()) {
		r.fail("string past the end")
		return ""
	}
	s := r.s[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

// count reads a plain element count, refusing one that the bytes left
// cannot hold at min bytes per element.
func (r *spanReader) count(min int) int {
	v := r.uvarint()
	if v > uint64(r.left()/min) {
		r.fail("count past the end")
		return 0
	}
	return int(v)
}

// list reads a list's or byte slice's length (see appendBinLen), refusing
// one that the bytes left cannot hold at min bytes per element.
func (r *spanReader) list(min int) (n int, isNil bool) {
	v := r.uvarint()
	if v == 0 {
		return 0, true
	}
	if v-1 > uint64(r.left()/min) {
		r.fail("count past the end")
		return 0, true
	}
	return int(v - 1), false
}

// bytes reads a byte slice, copied, keeping nil apart from empty.
func (r *spanReader) bytes() []byte {
	n, isNil := r.list(1)
	if isNil {
		return nil
	}
	v := append([]byte{}, r.b[r.i:r.i+n]...)
	r.i += n
	return v
}

func (r *spanReader) id16() (id TraceID) {
	if r.left() < len(id) {
		r.fail("truncated id")
		return id
	}
	r.i += copy(id[:], r.b[r.i:])
	return id
}

func (r *spanReader) id8() (id SpanID) {
	if r.left() < len(id) {
		r.fail("truncated id")
		return id
	}
	r.i += copy(id[:], r.b[r.i:])
	return id
}

func (r *spanReader) time() time.Time {
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
		sec := r.varint()
		nsec := r.uvarint()
		if nsec >= 1e9 {
			r.fail("bad nanoseconds")
		}
		if r.err != nil {
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec))
	}
	r.fail("bad time")
	return time.Time{}
}

// header reads a span's marker and length and returns where its fields
// end.
func (r *spanReader) header() (end int) {
	if c := r.byte(); c != spanFormat {
		if r.err == nil {
			r.i--
			r.fail(fmt.Sprintf("unknown format %#x", c))
		}
		return 0
	}
	n := r.uvarint()
	if n > uint64(r.left()) {
		r.fail("length past the end")
		return 0
	}
	return r.i + int(n)
}

// span reads a span, marker and length first, into s at depth.
func (r *spanReader) span(s *Span, depth int) {
	end := r.header()
	if r.err != nil {
		return
	}
	whole := r.b
	r.b = r.b[:end] // no field reads past the span
	r.fields(s, depth)
	r.b = whole
	if r.err != nil {
		r.i = len(r.b)
	} else {
		r.i = end // past any fields added by a later version
	}
}

func (r *spanReader) fields(s *Span, depth int) {
	s.TraceID, s.SpanID, s.ParentSpanID = r.id16(), r.id8(), r.id8()
	s.Name = r.string()
	s.Kind = Kind(r.int())
	s.Start, s.End = r.time(), r.time()
	s.Attrs = r.attrs()
	if n, isNil := r.list(3); !isNil {
		s.Events = make([]Event, n)
		for i := range s.Events {
			e := &s.Events[i]
			e.Name, e.Time, e.Attrs = r.string(), r.time(), r.attrs()
		}
	}
	if n, isNil := r.list(25); !isNil {
		s.Links = make([]Link, n)
		for i := range s.Links {
			l := &s.Links[i]
			l.TraceID, l.SpanID, l.Attrs = r.id16(), r.id8(), r.attrs()
		}
	}
	s.StatusCode = StatusCode(r.int())
	s.StatusMessage = r.string()
	s.DroppedEvents = r.int()
	s.Pending = r.bytes()
	s.ReadyAt = r.time()
	if n, isNil := r.list(1); !isNil {
		if n > 0 && depth >= maxSpanDepth {
			r.fail("extra spans nested too deep")
			return
		}
		s.Extra = make([]*Span, n)
		var all []Span // the non-nil ones, in one allocation
		for i := range s.Extra {
			if r.err != nil {
				return
			}
			if r.i < len(r.b) && r.b[r.i] == 0 {
				r.i++
				continue
			}
			if len(all) == 0 {
				all = make([]Span, min(n-i, 1+r.left()/minSpanLen))
			}
			x := &all[0]
			all = all[1:]
			r.span(x, depth+1)
			s.Extra[i] = x
		}
	}
}

func (r *spanReader) attrs() []Attr {
	n, isNil := r.list(3)
	if isNil {
		return nil
	}
	as := make([]Attr, n)
	for i := range as {
		if r.err != nil {
			return nil
		}
		a := &as[i]
		a.Key = r.string()
		switch typ := r.byte(); {
		case typ < attrTypeOther:
			a.Type = attrTypes[typ]
		case typ == attrTypeOther:
			a.Type = r.string()
		default:
			r.fail("bad attribute type")
		}
		flags := r.byte()
		if flags&^attrFlags != 0 {
			r.fail("bad attribute flags")
		}
		if flags&attrStr != 0 {
			a.Str = r.string()
		}
		if flags&attrInt != 0 {
			a.Int = r.varint()
		}
		if flags&attrFloat != 0 {
			if r.left() < 8 {
				r.fail("truncated float")
			} else {
				a.Float = math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.i:]))
				r.i += 8
			}
		}
		a.Bool = flags&attrBool != 0
		if flags&attrStrings != 0 {
			a.Strings = make([]string, r.count(1))
			for j := range a.Strings {
				a.Strings[j] = r.string()
			}
		}
	}
	return as
}
