// Package redact removes secrets from strings that ccotel captures (prompts,
// commands, file paths, tool arguments and results) and caps their length.
//
// Every captured string passes through Redactor.Clean before it becomes a
// span attribute. Secrets are replaced by "[REDACTED:<kind>]"; for
// key=value pairs and headers only the value is replaced, so the text
// around a secret stays readable. Markers are never cut or nested: a rule
// whose match would start or end inside an earlier marker widens it to the
// whole marker, and a value that starts with a marker is left alone, so
// that redacting redacted text changes nothing.
//
// Costs: the built-in expressions are compiled once per process, on the
// first Clean (never at metadata capture, which calls nothing here). A
// string with none of the rules' trigger words (the common case) costs one
// table-driven pass over its bytes, without allocating; only the rules
// whose trigger word appears run their regular expression. All expressions are RE2:
// linear time, no catastrophic backtracking.
package redact

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ccotel/ccotel/internal/utf8cut"
)

// Redactor redacts the built-in secret kinds plus user-supplied patterns.
// A nil *Redactor redacts the built-in kinds only. It is safe for
// concurrent use.
type Redactor struct {
	user []*rule
}

// New returns a Redactor that, besides the built-in kinds, replaces every
// match of each of patterns (Go regexp syntax) with "[REDACTED:custom]".
// Empty matches and matches inside a marker are ignored. It fails on a
// pattern that does not compile, naming it.
func New(patterns []string) (*Redactor, error) {
	r := &Redactor{}
	for i, p := range patterns {
		if p == "" {
			continue
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("redact: pattern %d (%q): %w", i+1, p, err)
		}
		r.user = append(r.user, &rule{kind: "custom", re: re})
	}
	return r, nil
}

// Kinds lists the built-in secret kinds, as they appear in
// "[REDACTED:<kind>]" markers, in the order they are applied.
func Kinds() []string {
	rs := builtins().rules
	out := make([]string, 0, len(rs))
	seen := map[string]bool{}
	for _, r := range rs {
		for _, k := range r.kinds() {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// Clean returns s with secrets redacted, invalid UTF-8 replaced by U+FFFD,
// and the result capped to max bytes (max <= 0: no cap). A capped result
// ends, within the max bytes, with a marker "…[truncated, N bytes]" (N is
// the length of s) and is cut on a UTF-8 boundary.
//
// Very long inputs are cut before redaction (to max plus a margin), and the
// margin's tail is dropped after it, so that a secret straddling the cut
// can never appear in part.
func (r *Redactor) Clean(s string, max int) string {
	orig := len(s)
	precut := false
	if max > 0 && len(s) > max+precutMargin {
		s = utf8cut.Prefix(s, max+precutMargin)
		precut = true
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = r.redact(s)
	if max <= 0 {
		return s
	}
	limit := len(s)
	if precut {
		limit -= precutGuard
	}
	if !precut && len(s) <= max {
		return s
	}
	marker := "…[truncated, " + strconv.Itoa(orig) + " bytes]"
	keep := max - len(marker)
	if keep < 0 {
		// No room for the marker: a bare cut.
		return utf8cut.Prefix(s, max)
	}
	if keep > limit {
		keep = limit
	}
	return utf8cut.Prefix(s, keep) + marker
}

const (
	// precutMargin is how much beyond max a long input keeps before
	// redaction; precutGuard is how much of that margin's end is then
	// dropped. Any secret that the pre-cut splits lies within precutGuard
	// bytes of the end (no built-in secret is longer, and an unterminated
	// private-key block is redacted to the end of the string).
	precutMargin = 32 << 10
	precutGuard  = 16 << 10
)

func (r *Redactor) redact(s string) string {
	if s == "" {
		return s
	}
	set := builtins()
	// A replacement ("[REDACTED:<kind>]") can hold a trigger word (kind
	// url_password holds "pass") but no rule matches a key word followed by
	// ']', so the triggers of the original string decide for every rule.
	fired := set.scan(s)
	var hits []hit
	stale := true // hits are not s's: s changed since (or none yet)
	for i, rule := range set.rules {
		if fired&(1<<i) == 0 {
			continue
		}
		if rule.anchored && stale {
			hits, stale = set.hits(s, fired&set.anchored, hits[:0]), false
		}
		if out, changed := rule.apply(s, hits); changed {
			s, stale = out, true
		}
	}
	if r != nil {
		for _, u := range r.user {
			s, _ = u.apply(s, nil)
		}
	}
	return s
}
