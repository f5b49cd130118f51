package hook

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// This file is a small JSON scanner for the top level of an object. It
// exists because a hook payload can be many megabytes (the tool_response
// of a Read, the tool_input of a Write) and ccotel needs a handful of short
// fields from it: encoding/json would validate and copy every byte of the
// big values, the scanner jumps over their strings with bytes.IndexByte.
//
// It checks structure (balanced brackets, terminated strings, a colon after
// every key), not every detail of the grammar: values ccotel uses are
// parsed strictly when they are read, the others are only skipped.

var (
	errNotObject = errors.New("not a JSON object")
	errTruncated = errors.New("truncated JSON")
	errSyntax    = errors.New("invalid JSON")
)

// maxDepth bounds the nesting the skipper accepts, like encoding/json's.
const maxDepth = 10000

// forEachMember calls fn for every member of the JSON object in b with the
// decoded key and the raw value (a sub-slice of b). It stops at the first
// structural error.
func forEachMember(b []byte, fn func(key string, raw []byte)) error {
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
		fn(key, b[i:vend])
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
		if !validScalar(b[i:j]) {
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
		}
	}
	return 0, errTruncated
}

func isScalarByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '+' || c == '.'
}

func validScalar(s []byte) bool {
	switch string(s) {
	case "true", "false", "null":
		return true
	}
	_, err := strconv.ParseFloat(string(s), 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

// decodeString turns a raw JSON string (with its quotes) into a Go string.
// The common case, no escapes and valid UTF-8, is a plain copy.
func decodeString(raw []byte) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return string(bytes.ToValidUTF8(body, []byte("\uFFFD")))
	}
	return s
}

// rawString returns the decoded value of a raw JSON string, and false for
// any other JSON type (a wrong type reads as absent, not as an error).
func rawString(raw []byte) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	return decodeString(raw), true
}

// rawBool reads true/false; anything else is absent.
func rawBool(raw []byte) (v, ok bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// rawInt reads a JSON number (or a string holding one), rounding
// fractions; anything else is absent.
func rawInt(raw []byte) (int64, bool) {
	if s, ok := rawString(raw); ok {
		raw = []byte(s)
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != f || f > 9e18 || f < -9e18 {
		return 0, false
	}
	if f < 0 {
		return int64(f - 0.5), true
	}
	return int64(f + 0.5), true
}

// arrayLen counts the elements of a raw JSON array (0 for anything else).
func arrayLen(raw []byte) int {
	if len(raw) < 2 || raw[0] != '[' {
		return 0
	}
	n := 0
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] != ']' {
		end, err := skipValue(raw, i)
		if err != nil {
			return n
		}
		n++
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return n
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
