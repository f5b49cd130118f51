package hook

import (
	"bytes"
	"io"
)

// This file decodes a hook payload as it is read, through a fixed 64 KiB
// window. A payload can be many megabytes (the tool_response of a Read,
// the tool_input of a Write); ccotel needs a handful of short fields, the
// size of the big values, their first bytes (for content capture) and a
// few of their top-level members (a Bash call's "interrupted", an Agent
// call's "subagent_type", the command or path at details capture). So the
// payload is never held whole: memory stays flat and every byte is touched
// once, strings skipped with bytes.IndexByte.
//
// The scanner checks structure (balanced brackets, terminated strings, a
// colon after every key, nothing after the object), not every detail of
// the grammar: the values ccotel uses are parsed strictly when read.

const (
	windowSize = 64 << 10
	// RawCap bounds the bytes kept of any one top-level value; a longer
	// value keeps its first RawCap bytes (its full size is still known).
	RawCap = 256 << 10
	// fieldCap bounds a nested member kept from tool_input/tool_response.
	fieldCap = 16 << 10
	keyCap   = 1 << 10
)

// rawValue is what the scanner keeps of one top-level value.
type rawValue struct {
	raw    []byte            // the value's JSON, or its first RawCap bytes
	size   int64             // its full length in bytes
	fields map[string][]byte // an object's top-level members that are short scalars or strings
	elems  int               // an array's element count
	calls  []BatchCall       // tool_calls: what each element says (batch)
}

type scanner struct {
	r     io.Reader
	count int64 // bytes read

	buf []byte
	i   int // next unread byte in buf[:n]
	n   int
	eof bool
	err error // read error other than EOF

	// Consumed bytes are copied to the captures that are on: main keeps
	// (a prefix of) the current top-level value, side one short token.
	main, side capture
}

// capture collects consumed bytes up to max; n counts them all.
type capture struct {
	on  bool
	buf []byte
	max int
	n   int64
}

func (c *capture) add(b []byte) {
	if !c.on {
		return
	}
	c.n += int64(len(b))
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, b[:min(len(b), room)]...)
	}
}

// fill reads more input into the window. It reports false at the end of
// the input (or on a read error, kept in s.err).
func (s *scanner) fill() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.i == s.n {
		s.i, s.n = 0, 0
	}
	if s.n == len(s.buf) {
		if s.i == 0 {
			return true // full: nothing consumed yet (not reached by the scanner)
		}
		s.n = copy(s.buf, s.buf[s.i:s.n])
		s.i = 0
	}
	for {
		m, err := s.r.Read(s.buf[s.n:])
		s.n += m
		s.count += int64(m)
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.err = err
		}
		if m > 0 || s.eof || s.err != nil {
			return m > 0
		}
	}
}

// consume marks the next k buffered bytes as read.
func (s *scanner) consume(k int) {
	seg := s.buf[s.i : s.i+k]
	s.main.add(seg)
	s.side.add(seg)
	s.i += k
}

// token runs read with the side capture on (up to max bytes) and returns
// what it captured and the token's full length.
func (s *scanner) token(read func() error, max int) ([]byte, int64, error) {
	s.side = capture{on: true, max: max}
	err := read()
	b, n := s.side.buf, s.side.n
	s.side = capture{}
	return b, n, err
}

// peek returns the next non-space byte without consuming it.
func (s *scanner) peek() (byte, bool) {
	for {
		for s.i < s.n {
			switch c := s.buf[s.i]; c {
			case ' ', '\t', '\n', '\r':
				s.consume(1)
			default:
				return c, true
			}
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// drain reads the rest of the input, so the writer never sees a closed
// pipe, whatever the scanner thought of the payload.
func (s *scanner) drain() {
	s.main.on, s.side.on = false, false
	s.i = s.n
	for s.fill() {
		s.i = s.n
	}
}

func (s *scanner) truncated() error {
	if s.err != nil {
		return s.err
	}
	return errTruncated
}

// object scans the top-level object, calling fn for each member.
// withFields says which members' nested members are worth keeping.
func (s *scanner) object(fn func(key string, v *rawValue), withFields func(key string) bool) error {
	c, ok := s.peek()
	if !ok {
		if s.err != nil {
			return s.err
		}
		return ErrEmpty
	}
	if c != '{' {
		return errNotObject
	}
	s.consume(1)
	c, ok = s.peek()
	if ok && c == '}' {
		s.consume(1)
		return s.end()
	}
	for {
		if !ok {
			return s.truncated()
		}
		if c != '"' {
			return errSyntax
		}
		raw, n, err := s.token(s.str, keyCap+1)
		if err != nil {
			return err
		}
		key := ""
		if n <= keyCap {
			key = decodeString(raw)
		}
		if c, ok = s.peek(); !ok {
			return s.truncated()
		} else if c != ':' {
			return errSyntax
		}
		s.consume(1)
		if _, ok = s.peek(); !ok {
			return s.truncated()
		}
		v := &rawValue{}
		s.main = capture{on: true, max: RawCap}
		if c, _ := s.peek(); c == '[' && key == "tool_calls" {
			err = s.batch(v)
		} else {
			err = s.value(v, withFields(key))
		}
		v.raw, v.size = s.main.buf, s.main.n
		s.main = capture{}
		if err != nil {
			return err
		}
		fn(key, v)
		if c, ok = s.peek(); !ok {
			return s.truncated()
		}
		switch c {
		case ',':
			s.consume(1)
			c, ok = s.peek()
		case '}':
			s.consume(1)
			return s.end()
		default:
			return errSyntax
		}
	}
}

// end accepts only white space after the object.
func (s *scanner) end() error {
	if _, ok := s.peek(); ok {
		return errSyntax
	}
	return s.err
}

// str skips the string that starts at the next byte ('"').
func (s *scanner) str() error {
	s.consume(1) // the opening quote
	backslashes := 0
	for {
		if s.i == s.n && !s.fill() {
			return s.truncated()
		}
		seg := s.buf[s.i:s.n]
		k := bytes.IndexByte(seg, '"')
		if k < 0 {
			backslashes = trailingBackslashes(seg, backslashes)
			s.consume(len(seg))
			continue
		}
		escaped := trailingBackslashes(seg[:k], backslashes)%2 == 1
		s.consume(k + 1)
		if !escaped {
			return nil
		}
		backslashes = 0
	}
}

// trailingBackslashes counts the backslashes that end b, adding carry
// (those that ended the previous segment) when b is all backslashes.
func trailingBackslashes(b []byte, carry int) int {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	if n == len(b) {
		n += carry
	}
	return n
}

// maxScalar bounds a number or literal; longer is not JSON ccotel accepts.
const maxScalar = 64

// scalar reads a number or literal (true, false, null) and returns it.
func (s *scanner) scalar() ([]byte, error) {
	raw, n, err := s.token(func() error {
		for {
			k := 0
			for s.i+k < s.n && isScalarByte(s.buf[s.i+k]) {
				k++
			}
			s.consume(k)
			if s.i < s.n || !s.fill() {
				return nil
			}
		}
	}, maxScalar+1)
	if err != nil {
		return nil, err
	}
	if n == 0 || n > maxScalar || !validScalar(raw) {
		if n == 0 && s.i == s.n && s.eof {
			return nil, s.truncated()
		}
		return nil, errSyntax
	}
	return raw, nil
}

// value skips one JSON value, recording in v what composite keeps.
func (s *scanner) value(v *rawValue, withFields bool) error {
	c, _ := s.peek()
	switch c {
	case '"':
		return s.str()
	case '{', '[':
		return s.composite(v, withFields)
	default:
		_, err := s.scalar()
		return err
	}
}

// composite skips an object or array, checking that brackets pair up. At
// depth 1 it counts an array's elements, and, with withFields, keeps an
// object's members that are scalars or strings of at most fieldCap bytes.
func (s *scanner) composite(v *rawValue, withFields bool) error {
	var stack [64]byte
	open := stack[:0]
	expectKey := false  // at depth 1 of an object: the next string is a key
	keyRead := false    // this member's key was read (a second string before ':' is malformed)
	var key []byte      // the current depth-1 key (nil: none, or too long)
	arrayItems := false // the depth-1 array has an element
	for {
		if s.i == s.n && !s.fill() {
			return s.truncated()
		}
		depth1 := len(open) == 1
		inObject := depth1 && open[0] == '{'
		inArray := depth1 && open[0] == '['
		switch c := s.buf[s.i]; c {
		case '"':
			arrayItems = arrayItems || inArray
			if !(withFields && inObject) {
				if err := s.str(); err != nil {
					return err
				}
				continue
			}
			raw, n, err := s.token(s.str, fieldCap+1)
			if err != nil {
				return err
			}
			switch {
			case expectKey:
				key = nil
				if n <= keyCap && !keyRead {
					key = raw
				}
				keyRead = true
			case key != nil && n <= fieldCap:
				v.setField(key, raw)
			}
			continue
		case '{', '[':
			arrayItems = arrayItems || inArray
			if len(open) >= maxDepth {
				return errSyntax
			}
			open = append(open, c)
			expectKey = len(open) == 1 && c == '{'
			keyRead = false
		case '}', ']':
			if len(open) == 0 || (c == '}') != (open[len(open)-1] == '{') {
				return errSyntax
			}
			open = open[:len(open)-1]
			if len(open) == 0 {
				if c == ']' && arrayItems {
					v.elems++
				}
				s.consume(1)
				return nil
			}
		case ',':
			if inArray {
				v.elems++
			}
			if inObject {
				expectKey, key, keyRead = true, nil, false
			}
		case ':':
			if inObject {
				expectKey = false
			}
		case ' ', '\t', '\n', '\r':
		default:
			raw, err := s.scalar()
			if err != nil {
				return err
			}
			arrayItems = arrayItems || inArray
			if withFields && inObject && key != nil && !expectKey {
				v.setField(key, raw)
			}
			if inObject && expectKey {
				// A number or literal where a key belongs: the member is
				// malformed and records no field.
				key, keyRead = nil, true
			}
			continue
		}
		s.consume(1)
	}
}

func (v *rawValue) setField(key, raw []byte) {
	if v.fields == nil {
		v.fields = map[string][]byte{}
	}
	v.fields[decodeString(key)] = raw
}
