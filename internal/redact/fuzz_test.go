package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzClean: any input comes out valid UTF-8, within the cap, and with
// the planted token gone; redaction is idempotent (redacting the output
// again changes nothing) and, for input without the word REDACTED, every
// marker it leaves is whole, never nested or cut.
func FuzzClean(f *testing.F) {
	for _, tc := range append(secretCases(), leakCases()...) {
		f.Add(tc.text, 64)
	}
	f.Add("\xff\xfe password=x", 5)
	f.Add(strings.Repeat("é", 50), 7)
	f.Add("git clone https://"+ghClassic+":x-oauth-basic@github.com/o/r.git", 0)
	f.Add("curl -u "+stripeTest+":pw https://x", 0)
	f.Add("0"+ghClassic+"0", 64) // no token: it follows a digit
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
		// The planted token, between spaces, must go; s may hold the same
		// characters where they are no token (after a letter or digit).
		planted := r.Clean(s+" "+ghClassic+" "+s, 0)
		if strings.Count(planted, ghClassic) > 2*strings.Count(s, ghClassic) {
			t.Fatalf("token survived next to %q", s)
		}
		once := r.Clean(s, 0)
		if twice := r.Clean(once, 0); twice != once {
			t.Fatalf("not idempotent:\n 1x: %q\n 2x: %q", once, twice)
		}
		if !strings.Contains(s, "REDACTED") {
			if p := markerProblem(once); p != "" {
				t.Fatalf("%s: %q", p, once)
			}
		}
	})
}
