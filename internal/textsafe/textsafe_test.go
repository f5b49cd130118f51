package textsafe

import (
	"testing"
)

func TestClean(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"two\nlines\tand tab", "two\nlines\tand tab"},
		{"\x1b[2J\x1b[H\x1b[32m✓ all spans delivered\x1b[0m", "✓ all spans delivered"},
		{"title\x1b]0;owned\x07 after", "title after"},
		{"osc st\x1b]8;;http://x\x1b\\link", "osc stlink"},
		{"over\rwrite", "overwrite"},
		{"bell\x07 nul\x00 del\x7f", "bell nul del"},
		{"c1 \u009b31mred \u0085nel", "c1 red nel"},
		{"\u202eevil\u202c \u2066iso\u2069 \u200f", "evil iso "},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"reset\x1bc done", "reset done"},
		{"charset\x1b(B ok", "charset ok"},
		{"trailing esc\x1b", "trailing esc"},
		{"日本語 ok", "日本語 ok"},
	} {
		if got := Clean(c.in); got != c.want {
			t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCleanPlainDoesNotAllocate(t *testing.T) {
	s := "collector unavailable: HTTP 503: Service Unavailable"
	if n := testing.AllocsPerRun(100, func() { Clean(s) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func TestMask(t *testing.T) {
	secrets := HeaderSecrets(map[string]string{"Authorization": " Bearer tok-123456 ", "X-Short": "ab"})
	got := Mask("Authorization: Bearer tok-123456; token tok-123456; ab cab", secrets)
	want := "Authorization: [masked]; token [masked]; ab cab"
	if got != want {
		t.Errorf("Mask = %q, want %q", got, want)
	}
}
