package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzClean: any input comes out valid UTF-8, within the cap, and with
// the planted token gone.
func FuzzClean(f *testing.F) {
	for _, tc := range secretCases() {
		f.Add(tc.text, 64)
	}
	f.Add("\xff\xfe password=x", 5)
	f.Add(strings.Repeat("é", 50), 7)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max > 1<<20 || max < -1 {
			max = 4096
		}
		var r *Redactor
		out := r.Clean(s, max)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out")
		}
		if max > 0 && len(out) > max {
			t.Fatalf("len %d > max %d", len(out), max)
		}
		planted := r.Clean(s+" "+ghClassic+" "+s, 0)
		if strings.Contains(planted, ghClassic) {
			t.Fatalf("token survived next to %q", s)
		}
	})
}
