package redact

import (
	"regexp"
	"strings"
)

// The matching engine: a rule set with a prefilter of trigger words, and
// how one rule finds and replaces its values without cutting into markers.

// ruleSet is the compiled built-in rules and their trigger index.
type ruleSet struct {
	rules []*rule
	// pairIdx numbers the (ASCII-lower-cased) first two bytes of the
	// triggers, from 1 (0: no trigger starts so); byPair[n-1] lists the
	// triggers starting with pair n.
	pairIdx [1 << 16]uint8
	byPair  [][]trigger
	// third[n] has the bits of the lower-cased third bytes of pair n's
	// triggers: most pairs in ordinary text go no further.
	third [256][4]uint64
	// anchored has bit i set when rules[i] is anchored.
	anchored uint64
}

type trigger struct {
	needle string // lower case
	rule   int
}

func newRuleSet(rules []*rule) *ruleSet {
	if len(rules) > 64 {
		panic("redact: more than 64 rules")
	}
	set := &ruleSet{rules: rules}
	for i, r := range rules {
		r.idx = i
		if r.anchored {
			set.anchored |= 1 << i
		}
		for _, t := range r.triggers {
			if len(t) < 3 {
				panic("redact: trigger " + t + " shorter than 3 bytes")
			}
			k := uint16(t[0])<<8 | uint16(t[1])
			if set.pairIdx[k] == 0 {
				if len(set.byPair) == 255 {
					panic("redact: more than 255 trigger pairs")
				}
				set.byPair = append(set.byPair, nil)
				set.pairIdx[k] = uint8(len(set.byPair))
			}
			n := set.pairIdx[k]
			set.byPair[n-1] = append(set.byPair[n-1], trigger{t, i})
			set.third[n][t[2]>>6] |= 1 << (t[2] & 63)
		}
	}
	return set
}

// scan returns the set of rules (bit i = rules[i]) whose triggers occur in
// s, ASCII case-insensitively. One pass over s with a table lookup per
// byte (and a bit test where a trigger's first two bytes are); no
// allocation.
func (set *ruleSet) scan(s string) uint64 {
	var fired uint64
	for i := 0; i+2 < len(s); i++ {
		n := set.pairIdx[uint16(lower[s[i]])<<8|uint16(lower[s[i+1]])]
		if n == 0 {
			continue
		}
		if c := lower[s[i+2]]; set.third[n][c>>6]&(1<<(c&63)) == 0 {
			continue
		}
		for _, t := range set.byPair[n-1] {
			if fired&(1<<t.rule) == 0 && hasPrefixFold(s[i:], t.needle) {
				fired |= 1 << t.rule
			}
		}
	}
	return fired
}

// A hit is a trigger occurrence: where, and whose rule.
type hit struct {
	pos, rule int
}

// hits appends to dst the occurrences in s of the triggers of the rules
// in want (bit i = rules[i]), by position; a rule appears once per
// position. The anchored rules try their expression there only, so one
// pass over s serves them all.
func (set *ruleSet) hits(s string, want uint64, dst []hit) []hit {
	for i := 0; i+2 < len(s); i++ {
		n := set.pairIdx[uint16(lower[s[i]])<<8|uint16(lower[s[i+1]])]
		if n == 0 {
			continue
		}
		if c := lower[s[i+2]]; set.third[n][c>>6]&(1<<(c&63)) == 0 {
			continue
		}
		first := len(dst)
	triggers:
		for _, t := range set.byPair[n-1] {
			if want&(1<<t.rule) == 0 || !hasPrefixFold(s[i:], t.needle) {
				continue
			}
			for _, h := range dst[first:] {
				if h.rule == t.rule {
					continue triggers
				}
			}
			dst = append(dst, hit{i, t.rule})
		}
	}
	return dst
}

// lower maps ASCII upper-case letters to lower case, other bytes to themselves.
var lower = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

// hasPrefixFold reports whether s starts with needle (lower case),
// ignoring ASCII case.
func hasPrefixFold(s, needle string) bool {
	if len(s) < len(needle) {
		return false
	}
	for j := 0; j < len(needle); j++ {
		if lower[s[j]] != needle[j] {
			return false
		}
	}
	return true
}

// A rule is one built-in secret kind.
type rule struct {
	kind     string   // marker kind, when the whole match (or group "v") is one kind
	triggers []string // lower-case substrings, one of which must appear for the rule to run
	re       *regexp.Regexp
	// value, when set, is the first submatch index that may hold the
	// secret: the first participating submatch from there on is replaced
	// and the rest of the match kept. Zero: the whole match is replaced.
	value int
	// kindOf picks the marker kind from the match (key=value pairs).
	kindOf func(m []string) string
	// valid rejects matches that are not secrets (code, placeholders).
	valid func(v string) bool
	// anchored: re starts with ^ and is tried at each trigger occurrence
	// (see matches); otherwise re is searched for, and should start with
	// a literal so that regexp can skip ahead to candidates.
	anchored bool
	// wordStart rejects a match preceded by a letter, digit or '_' (what
	// a leading \b would do, without defeating regexp's literal-prefix
	// search), unless that letter ends a JSON escape (see wordStartAt).
	wordStart bool
	// nextLine: an anchored match may run into the next line (a line
	// break between a key and its value); otherwise it is tried on the
	// rest of its line only.
	nextLine bool
	// need, when set, is a cheap test of the command at a trigger (up to
	// the end of the line, a shell operator | ; & or a JSON-escaped
	// newline) that re's match needs to pass: it spares a command-line
	// rule's expression the commands that lack its option.
	need func(cmd string) bool
	// at, when set, is a test of the text around a trigger occurrence at
	// s[p] (an anchored rule's): what the key name before the trigger
	// word is (a flag's "--", a name's segment).
	at func(s string, p int) bool
	// idx is the rule's index in its rule set.
	idx int
}

func (r *rule) kinds() []string {
	if r.kind != "" {
		return []string{r.kind}
	}
	return pairKinds
}

// apply redacts r's matches in s, and reports whether it changed s.
// hits are s's trigger occurrences (set.hits) for an anchored rule.
func (r *rule) apply(s string, hits []hit) (string, bool) {
	idx := r.matches(s, hits)
	if idx == nil {
		return s, false
	}
	marked := strings.Contains(s, markerOpen)
	var b strings.Builder
	last := 0
	for _, m := range idx {
		start, end := m[0], m[1]
		if r.wordStart && !wordStartAt(s, start) {
			continue
		}
		vs, ve := start, end
		if r.value > 0 {
			vs = -1
			for g := r.value; 2*g < len(m); g++ {
				if m[2*g] >= 0 {
					vs, ve = m[2*g], m[2*g+1]
					break
				}
			}
			if vs < 0 {
				continue
			}
		}
		if vs == ve {
			continue
		}
		if marked {
			var ok bool
			if vs, ve, ok = besideMarkers(s, vs, ve); !ok || vs < last {
				continue
			}
		}
		v := s[vs:ve]
		// A value widened to a marker holds a secret found before: no
		// code, whatever it looks like.
		if r.valid != nil && markerLen(v) == 0 && !r.valid(v) {
			continue
		}
		kind := r.kind
		if r.kindOf != nil {
			groups := make([]string, len(m)/2)
			for g := range groups {
				if m[2*g] >= 0 {
					groups[g] = s[m[2*g]:m[2*g+1]]
				}
			}
			kind = r.kindOf(groups)
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:vs])
		b.WriteString(markerOpen)
		b.WriteString(kind)
		b.WriteString("]")
		last = ve
	}
	if last == 0 {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// markerOpen starts every marker; a marker is markerOpen, a kind of
// 'a'…'z' and '_' (at most maxKind bytes), and "]".
const (
	markerOpen = "[REDACTED:"
	maxKind    = 32
)

// besideMarkers adjusts the value s[vs:ve] that a rule wants to redact to
// the markers already in s. A value that starts with a whole marker was
// redacted before, by this rule or another (ok false: what follows the
// marker is no secret of this rule's, as in "token:[REDACTED:github]@host").
// A value that starts or ends inside a marker is widened to include it,
// so that a marker is never cut or nested.
func besideMarkers(s string, vs, ve int) (int, int, bool) {
	if ms, _ := markerAt(s, vs); ms >= 0 {
		if ms == vs {
			return vs, ve, false
		}
		vs = ms
	}
	if ms, me := markerAt(s, ve-1); ms >= 0 && me > ve {
		ve = me
	}
	if markerLen(s[vs:ve]) == ve-vs {
		return vs, ve, false // inside one marker
	}
	return vs, ve, true
}

// markerAt returns the bounds of the marker in s that holds byte i, or -1.
func markerAt(s string, i int) (int, int) {
	lo := max(i-len(markerOpen)-maxKind, 0)
	hi := min(i+len(markerOpen), len(s))
	j := strings.LastIndex(s[lo:hi], markerOpen)
	if j < 0 {
		return -1, -1
	}
	ms := lo + j
	if n := markerLen(s[ms:]); n > 0 && i < ms+n {
		return ms, ms + n
	}
	return -1, -1
}

// markerLen returns the length of the marker at the start of s, or 0.
func markerLen(s string) int {
	if !strings.HasPrefix(s, markerOpen) {
		return 0
	}
	for k := len(markerOpen); k < len(s) && k <= len(markerOpen)+maxKind; k++ {
		c := s[k]
		switch {
		case c == ']' && k > len(markerOpen):
			return k + 1
		case 'a' <= c && c <= 'z' || c == '_':
		default:
			return 0
		}
	}
	return 0
}

// matches returns the rule's non-overlapping matches in s, as
// FindAllStringSubmatchIndex does. An anchored rule's expression (which
// starts with ^) is tried only where one of its triggers occurs: Go's
// regexp scans a case-insensitive or class-led expression at a few MB/s,
// but an anchored attempt costs only the length of what it matches (and,
// below a few KB, a clearing of the backtracker's state in proportion to
// the input's length: hence the attempt on the rest of the line only, or
// of the next line too; no expression can match across more).
//
// The trigger occurrences come from hits (one pass over s for all the
// anchored rules); r.at, when set, rejects most of them before the
// expression runs.
func (r *rule) matches(s string, hits []hit) [][]int {
	if !r.anchored {
		return r.re.FindAllStringSubmatchIndex(s, -1)
	}
	var out [][]int
	end := 0  // matches must not overlap
	eol := -1 // end of the line holding p
	win := -1 // end of what an attempt at p may read: eol, or the next line's end
	for _, h := range hits {
		p := h.pos
		if h.rule != r.idx || p < end {
			continue
		}
		if r.at != nil && !r.at(s, p) {
			continue
		}
		if eol < p {
			eol = lineEnd(s, p)
			win = eol
			if r.nextLine && eol < len(s) {
				win = lineEnd(s, eol+1)
			}
		}
		if r.need != nil && !r.need(command(s[p:eol])) {
			continue
		}
		m := r.re.FindStringSubmatchIndex(s[p:win])
		if m == nil {
			continue
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += p
			}
		}
		out = append(out, m)
		end = m[1]
	}
	return out
}

// command returns the start of line up to a shell operator | ; & or a
// JSON-escaped newline ("\n"), what argsBefore can skip.
func command(line string) string {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '|', ';', '&':
			return line[:i]
		case '\\':
			if i+1 < len(line) && line[i+1] == 'n' && (i == 0 || line[i-1] != '\\') {
				return line[:i]
			}
		}
	}
	return line
}

// lineEnd returns the index of the first newline in s from p on that a
// backslash does not continue (a shell line continuation), or len(s).
func lineEnd(s string, p int) int {
	for {
		i := strings.IndexByte(s[p:], '\n')
		if i < 0 {
			return len(s)
		}
		e := p + i
		if b := e - 1; b >= 0 && (s[b] == '\\' || s[b] == '\r' && b > 0 && s[b-1] == '\\') {
			p = e + 1
			continue
		}
		return e
	}
}

// wordStartAt reports whether s[i] starts a word: it follows no letter,
// digit or '_', or an escape \n, \t or \r (a line of JSON-encoded text,
// as tool input and results are).
func wordStartAt(s string, i int) bool {
	if i == 0 || !isWord(s[i-1]) {
		return true
	}
	switch s[i-1] {
	case 'n', 't', 'r':
		// An odd number of backslashes before the letter escapes it.
		n := 0
		for j := i - 2; j >= 0 && s[j] == '\\'; j-- {
			n++
		}
		return n%2 == 1
	}
	return false
}

func isWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}
