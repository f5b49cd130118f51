package hook

// A reference decoder for the streaming scanner: the whole payload in
// memory, scanned with plain slices. TestDecodeMatchesReference and
// FuzzDecode check that both agree on every input.

import (
	"bytes"
)

// forEachMember calls fn for every member of the JSON object in b with the
// decoded key and the raw value (a sub-slice of b). It stops at the first
// structural error.
func forEachMember(b []byte, fn func(key string, raw []byte)) error {
	return forEachMemberN(b, func(key string, _ int, raw []byte) { fn(key, raw) })
}

// forEachMemberN also passes the raw length of the key (quotes included).
func forEachMemberN(b []byte, fn func(key string, rawKeyLen int, raw []byte)) error {
	i := skipSpace(b, 0)
	if i >= len(b) {
		return errTruncated
	}
	if b[i] != '{' {
		return errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return trailing(b, i+1)
	}
	for {
		if i >= len(b) {
			return errTruncated
		}
		if b[i] != '"' {
			return errSyntax
		}
		end, err := skipString(b, i)
		if err != nil {
			return err
		}
		key := decodeString(b[i:end])
		keyLen := end - i
		i = skipSpace(b, end)
		if i >= len(b) {
			return errTruncated
		}
		if b[i] != ':' {
			return errSyntax
		}
		i = skipSpace(b, i+1)
		vend, err := skipValue(b, i)
		if err != nil {
			return err
		}
		fn(key, keyLen, b[i:vend])
		i = skipSpace(b, vend)
		if i >= len(b) {
			return errTruncated
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return trailing(b, i+1)
		default:
			return errSyntax
		}
	}
}

// trailing accepts only white space after the top-level value.
func trailing(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return errSyntax
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string starting at b[i]=='"'.
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errTruncated
		}
		q := j + k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errTruncated
	}
	switch c := b[i]; c {
	case '"':
		return skipString(b, i)
	case '{', '[':
		return skipComposite(b, i)
	default:
		j := i
		for j < len(b) && isScalarByte(b[j]) {
			j++
		}
		if j == i {
			return 0, errSyntax
		}
		if j-i > maxScalar || !validScalar(b[i:j]) {
			return 0, errSyntax
		}
		return j, nil
	}
}

// skipComposite skips an object or array, jumping over strings with
// bytes.IndexByte. It checks that brackets pair up.
func skipComposite(b []byte, i int) (int, error) {
	var stack [64]byte
	open := stack[:0]
	for j := i; j < len(b); j++ {
		switch c := b[j]; c {
		case '"':
			end, err := skipString(b, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		case '{', '[':
			if len(open) >= maxDepth {
				return 0, errSyntax
			}
			open = append(open, c)
		case '}', ']':
			if len(open) == 0 || (c == '}') != (open[len(open)-1] == '{') {
				return 0, errSyntax
			}
			open = open[:len(open)-1]
			if len(open) == 0 {
				return j + 1, nil
			}
		case ' ', '\t', '\n', '\r', ',', ':':
		default:
			end, err := skipValue(b, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		}
	}
	return 0, errTruncated
}

// arrayLen counts the elements of a raw JSON array (0 for anything
// else): the commas at depth 1, plus one when there is an element.
func arrayLen(raw []byte) int {
	if len(raw) < 2 || raw[0] != '[' {
		return 0
	}
	n, depth, items := 0, 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '"':
			end, err := skipString(raw, i)
			if err != nil {
				return n
			}
			i = end - 1
			items = items || depth == 1
		case '[', '{':
			items = items || depth == 1
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				if items {
					n++
				}
				return n
			}
		case ',':
			if depth == 1 {
				n++
			}
		case ' ', '\t', '\n', '\r', ':':
		default:
			items = items || depth == 1
		}
	}
	return n
}

// refDecode is the reference for Decode.
func refDecode(b []byte) (*Event, error) {
	if skipSpace(b, 0) == len(b) {
		return nil, ErrEmpty
	}
	ev := &Event{Size: int64(len(b)), transcriptSize: -1}
	err := forEachMemberN(b, func(key string, keyLen int, raw []byte) {
		if keyLen > keyCap {
			key = ""
		}
		v := &rawValue{raw: append([]byte(nil), raw[:min(len(raw), RawCap)]...), size: int64(len(raw)), elems: arrayLen(raw)}
		if key == "tool_input" || key == "tool_response" || key == "effort" {
			v.fields = refFields(raw)
		}
		if key == "tool_calls" {
			v.calls = refCalls(raw)
		}
		ev.set(key, v)
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// refFields is what the scanner keeps of an object's members.
func refFields(raw []byte) map[string][]byte {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var fields map[string][]byte
	forEachMemberN(raw, func(k string, keyLen int, v []byte) {
		if keyLen > keyCap || len(v) == 0 || v[0] == '{' || v[0] == '[' || (v[0] == '"' && len(v) > fieldCap) {
			return
		}
		if fields == nil {
			fields = map[string][]byte{}
		}
		fields[k] = v
	})
	return fields
}

// member returns the raw value of key in the raw JSON object obj (nil if
// obj is not an object or has no such key).
func member(obj []byte, key string) []byte {
	var found []byte
	if len(obj) == 0 || obj[0] != '{' {
		return nil
	}
	_ = forEachMember(obj, func(k string, raw []byte) {
		if k == key {
			found = raw
		}
	})
	return found
}

// refCalls is what the scanner keeps of PostToolBatch's tool_calls.
func refCalls(raw []byte) []BatchCall {
	var calls []BatchCall
	for _, e := range refElems(raw) {
		if len(e) == 0 || e[0] != '{' || len(calls) == maxBatchCalls {
			continue
		}
		var bc BatchCall
		forEachMemberN(e, func(k string, keyLen int, v []byte) {
			if keyLen > keyCap || len(v) == 0 || v[0] != '"' {
				return
			}
			str := func(max int) string {
				if len(v) > max {
					return decodeString(append(append([]byte(nil), v[:max]...), '"'))
				}
				return decodeString(v)
			}
			switch k {
			case "tool_use_id", "tool_name":
				bc.set(k, str(maxIdent+1))
			case "tool_response":
				bc.set(k, str(len(toolUseError)+batchMessageCap+1))
			}
		})
		calls = append(calls, bc)
	}
	return calls
}

// refElems returns the composite elements (objects, arrays) of a raw
// JSON array, in order; scalars and strings between them are skipped.
func refElems(raw []byte) [][]byte {
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}
	var out [][]byte
	depth, start, inStr, esc := 0, 0, false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '[' || c == '{':
			if depth == 1 {
				start = i
			}
			depth++
		case c == ']' || c == '}':
			depth--
			if depth == 0 {
				return out
			}
			if depth == 1 {
				out = append(out, raw[start:i+1])
			}
		}
	}
	return out
}
