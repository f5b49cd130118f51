package hook

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// Helpers of the scanner (stream.go): errors and the strict parsing of the
// values ccotel reads.

var (
	errNotObject = errors.New("not a JSON object")
	errTruncated = errors.New("truncated JSON")
	errSyntax    = errors.New("invalid JSON")
)

// maxDepth bounds the nesting the scanner accepts, like encoding/json's.
const maxDepth = 10000

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

// rawFloat reads a finite JSON number; anything else is absent.
func rawFloat(raw []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != f || f > 1e300 || f < -1e300 {
		return 0, false
	}
	return f, true
}
