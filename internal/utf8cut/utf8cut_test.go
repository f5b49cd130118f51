package utf8cut

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefix(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abc", 2, "ab"},
		{"abc", 0, ""},
		{"abc", -1, ""},
		{"", 0, ""},
		{"aé", 2, "a"},   // é is 2 bytes: not split
		{"a€b", 3, "a"},  // € is 3 bytes
		{"a€b", 4, "a€"}, // exactly at its end
		{"😀x", 3, ""},    // a 4-byte rune cut at 3: nothing fits
		{"😀x", 4, "😀"},
		{"\x80\x80\x80\x80\x80", 4, "\x80\x80\x80\x80"}, // invalid: cut at n, not to nothing
	} {
		if got := Prefix(c.s, c.n); got != c.want {
			t.Errorf("Prefix(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
	// Every cut of valid text is valid, as long as possible, and a prefix.
	s := strings.Repeat("aé€😀", 20)
	for n := 0; n <= len(s); n++ {
		got := Prefix(s, n)
		if !utf8.ValidString(got) || len(got) > n || len(got) < n-utf8.UTFMax+1 || !strings.HasPrefix(s, got) {
			t.Fatalf("Prefix(s, %d) = %q (%d bytes)", n, got, len(got))
		}
	}
}
