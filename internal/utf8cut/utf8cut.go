// Package utf8cut bounds strings in bytes without splitting a UTF-8
// sequence. It imports nothing of ccotel, so every package can use it:
// the hook's identifiers and plain values, the state's error texts, the
// redactor's caps.
package utf8cut

import "unicode/utf8"

// Prefix returns the longest prefix of s of at most n bytes that does not
// end inside a UTF-8 sequence. It backs up at most utf8.UTFMax-1 bytes:
// where s is not valid UTF-8 (no rune starts within reach of n), it cuts
// at n, so a string of stray continuation bytes is not cut to nothing.
// n <= 0 gives "".
func Prefix(s string, n int) string {
	if n >= len(s) {
		return s
	}
	if n <= 0 {
		return ""
	}
	for i := n; i >= 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i]
		}
	}
	return s[:n]
}
