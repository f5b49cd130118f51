package main

import (
	"testing"

	"github.com/ccotel/ccotel/tracing"
)

// A redact pattern that does not compile must not leave capture running
// with the built-in rules alone: the user's own secrets would leave
// unredacted. Capture falls back to metadata (a nil Redactor).
func TestHookOptionsBadRedactPatternMeansMetadata(t *testing.T) {
	cfg := &tracing.Config{StateDir: t.TempDir(), Capture: "content", RedactPatterns: []string{"("}}
	if o := hookOptions(cfg); o.Redactor != nil {
		t.Fatalf("bad pattern: Redactor = %#v, want nil (metadata only)", o.Redactor)
	}
	cfg.RedactPatterns = []string{`internal-[0-9]+`}
	if o := hookOptions(cfg); o.Redactor == nil {
		t.Fatal("good pattern: no Redactor")
	}
}
