// Package textsafe makes text that came from outside (a collector's or a
// proxy's answer, a server certificate's names) safe to store, log and
// print on a terminal, and masks configured secrets that such text may
// echo back.
package textsafe

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Clean returns s without what could drive a terminal or reorder what it
// shows: C0 control characters except '\n' and '\t' (so '\r', which
// rewrites a line, goes too), DEL, C1 controls, whole escape sequences
// (ESC [ … final byte, ESC ] … BEL or ESC \, ESC and one character) and
// the Unicode bidirectional overrides, isolates and marks. Invalid UTF-8
// becomes U+FFFD. Text of printable ASCII is returned as it is, without
// allocating.
func Clean(s string) string {
	i := 0
	for i < len(s) && (s[i] >= 0x20 && s[i] < 0x7f || s[i] == '\n' || s[i] == '\t') {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		switch {
		case c == 0x1b:
			i = skipEscape(s, i+1)
		case c < 0x80:
			if c >= 0x20 && c != 0x7f || c == '\n' || c == '\t' {
				b.WriteByte(c)
			}
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				b.WriteRune(utf8.RuneError)
			case r == 0x9b: // C1 CSI: a whole sequence, as ESC [
				i = skipCSI(s, i+n)
				continue
			case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f: // OSC, DCS, SOS, PM, APC
				i = skipString(s, i+n)
				continue
			case hidden(r):
			default:
				b.WriteString(s[i : i+n])
			}
			i += n
		}
	}
	return b.String()
}

// hidden reports the runes Clean drops: C1 controls, bidi controls, line
// and paragraph separators.
func hidden(r rune) bool {
	switch {
	case 0x80 <= r && r <= 0x9f,
		r == 0x061c, r == 0x200e, r == 0x200f,
		0x202a <= r && r <= 0x202e,
		0x2066 <= r && r <= 0x2069,
		r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// skipEscape returns the index after the escape sequence whose ESC is
// just before s[i].
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// Intermediate bytes, then one final byte (ESC ( B, ESC c, ESC 7).
	for i < len(s) && 0x20 <= s[i] && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && 0x30 <= s[i] && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI skips a control sequence's parameter and intermediate bytes and
// its final byte.
func skipCSI(s string, i int) int {
	for i < len(s) && 0x20 <= s[i] && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && 0x40 <= s[i] && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString skips an OSC, DCS, SOS, PM or APC string up to its BEL, ST
// (ESC \ or U+009C) or the end of s.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
		i++
	}
	return i
}

// Masked replaces a secret in Mask's result.
const Masked = "[masked]"

// MinSecret is the shortest secret Mask replaces: shorter ones would mask
// ordinary words.
const MinSecret = 4

// Mask returns s with every occurrence of each of secrets (at least
// MinSecret bytes long; longer ones first) replaced by Masked.
func Mask(s string, secrets []string) string {
	if len(secrets) == 0 || s == "" {
		return s
	}
	for _, sec := range byLength(secrets) {
		if len(sec) >= MinSecret && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Masked)
		}
	}
	return s
}

func byLength(secrets []string) []string {
	if sort.SliceIsSorted(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) }) {
		return secrets
	}
	out := append([]string(nil), secrets...)
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// HeaderSecrets lists what Mask should hide of configured header values:
// each value, and the credential after a scheme word ("Bearer abc" also
// hides "abc"), each trimmed.
func HeaderSecrets(headers map[string]string) []string {
	var out []string
	for _, v := range headers {
		v = strings.TrimSpace(v)
		out = append(out, v)
		if _, cred, ok := strings.Cut(v, " "); ok {
			out = append(out, strings.TrimSpace(cred))
		}
	}
	return out
}
