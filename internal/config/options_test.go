package config

import "testing"

// A redact pattern that does not compile must not leave capture running
// with the built-in rules alone: the user's own secrets would leave
// unredacted. Capture falls back to metadata (a nil Redactor).
func TestHookOptionsBadRedactPatternMeansMetadata(t *testing.T) {
	cfg := &Config{StateDir: t.TempDir(), Capture: "content", RedactPatterns: []string{"("}}
	if o := cfg.Hook(); o.Redactor != nil {
		t.Fatalf("bad pattern: Redactor = %#v, want nil (metadata only)", o.Redactor)
	}
	cfg.RedactPatterns = []string{`internal-[0-9]+`}
	if o := cfg.Hook(); o.Redactor == nil {
		t.Fatal("good pattern: no Redactor")
	}
}
