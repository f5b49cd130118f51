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
	"sync"
	"unicode/utf8"
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
		s = cutUTF8(s, max+precutMargin)
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
		return cutUTF8(s, max)
	}
	if keep > limit {
		keep = limit
	}
	return cutUTF8(s, keep) + marker
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

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if n >= len(s) {
		return s
	}
	if n <= 0 {
		return ""
	}
	i := n
	// Back up over continuation bytes to the start of the rune at i.
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

func (r *Redactor) redact(s string) string {
	if s == "" {
		return s
	}
	set := builtins()
	// A replacement ("[REDACTED:<kind>]") can hold a trigger word (kind
	// url_password holds "pass") but no rule matches a key word followed by
	// ']', so the triggers of the original string decide for every rule.
	fired := set.scan(s)
	for i, rule := range set.rules {
		if fired&(1<<i) != 0 {
			s = rule.apply(s, set)
		}
	}
	if r != nil {
		for _, u := range r.user {
			s = u.apply(s, nil)
		}
	}
	return s
}

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
			r.pairs[n] = true
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
	// pairs marks the rule set's pair numbers of r's triggers.
	pairs [256]bool
}

func (r *rule) kinds() []string {
	if r.kind != "" {
		return []string{r.kind}
	}
	return pairKinds
}

// apply redacts r's matches in s. set is the rule set r belongs to (nil
// for a user pattern, which is not anchored).
func (r *rule) apply(s string, set *ruleSet) string {
	idx := r.matches(s, set)
	if idx == nil {
		return s
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
		return s
	}
	b.WriteString(s[last:])
	return b.String()
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
// The rule set's tables of the triggers' first three bytes reject most
// positions with two lookups.
func (r *rule) matches(s string, set *ruleSet) [][]int {
	if !r.anchored {
		return r.re.FindAllStringSubmatchIndex(s, -1)
	}
	var out [][]int
	end := 0  // matches must not overlap
	eol := -1 // end of the line holding p
	win := -1 // end of what an attempt at p may read: eol, or the next line's end
	for p := 0; p+2 < len(s); p++ {
		if p < end {
			continue
		}
		n := set.pairIdx[uint16(lower[s[p]])<<8|uint16(lower[s[p+1]])]
		if !r.pairs[n] {
			continue
		}
		if c := lower[s[p+2]]; set.third[n][c>>6]&(1<<(c&63)) == 0 || !r.triggerAt(s, p) {
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

// triggerAt reports whether one of r's triggers starts at s[p],
// ignoring ASCII case.
func (r *rule) triggerAt(s string, p int) bool {
	c := lower[s[p]]
	for _, t := range r.triggers {
		if t[0] == c && hasPrefixFold(s[p:], t) {
			return true
		}
	}
	return false
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

var pairKinds = []string{"password", "token", "secret", "private_key", "api_key"}

var (
	builtinOnce sync.Once
	builtinSet  *ruleSet
)

func builtins() *ruleSet {
	builtinOnce.Do(func() { builtinSet = newRuleSet(compileBuiltins()) })
	return builtinSet
}

// pairWord is the secret word that ends the key of a key=value pair.
const pairWord = `password|passwd|passphrase|pwd|secret[_\-]?key|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|auth[_\-]?key|credentials?`

// Pieces of the command-line rules.
const (
	// argsBefore skips the arguments before the one a rule wants, within
	// one command: no line end (a backslash-newline continues the line,
	// also JSON-escaped) and no shell operator | ; &.
	argsBefore = `(?:(?:[^\r\n|;&\\]|\\[^n\r\n]|\\\r?\n|\\\\\\n)*?[ \t])?`
	// argValue is one argument's value, double-quoted (also with JSON's
	// \"), single-quoted or bare (groups 1 to 4).
	argValue = `(?:\\"([^"\\\r\n]*)\\"|"([^"\r\n]*)"|'([^'\r\n]*)'|([^\s"'\\;|&<>` + "`" + `]+))`
	// userName is the user name before "user:password": a whole marker (a
	// token redacted before) or characters other than ':' and '['.
	userName       = `(?:\[REDACTED:[a-z_]+\]|[^\s:/@"'\\\[]*)`
	quotedUserName = `(?:\[REDACTED:[a-z_]+\]|[^:"'\\\r\n\[]*)`
	// sp is blanks with at most one line break.
	sp = `[ \t]*(?:\r?\n[ \t]*)?`
)

func compileBuiltins() []*rule {
	notCode := func(v string) bool { return !looksLikeCode(v) }
	re := regexp.MustCompile
	return []*rule{
		{
			// PEM private-key blocks, including escaped newlines in JSON
			// ("\n"), and an unterminated block (cut-off output) up to the
			// end of the string.
			kind:     "private_key",
			triggers: []string{"private key"},
			re:       re(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)`),
		},
		{kind: "anthropic", triggers: []string{"sk-ant-"}, wordStart: true, re: re(`sk-ant-[A-Za-z0-9_\-]{16,}`)},
		// Project, service-account and admin keys have dashes; legacy
		// keys are sk- plus 32+ letters and digits.
		{kind: "openai", triggers: []string{"sk-"}, wordStart: true, re: re(`sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{16,}|[A-Za-z0-9]{32,})`)},
		{kind: "github", triggers: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, wordStart: true, re: re(`gh[pousr]_[A-Za-z0-9]{30,255}\b`)},
		{kind: "github", triggers: []string{"github_pat_"}, wordStart: true, re: re(`github_pat_[A-Za-z0-9_]{22,255}\b`)},
		{kind: "slack", triggers: []string{"xox"}, wordStart: true, re: re(`xox[abprse]-[A-Za-z0-9\-]{10,}`)},
		{kind: "slack", triggers: []string{"xapp-"}, wordStart: true, re: re(`xapp-[0-9]+-[A-Za-z0-9\-]{10,}`)},
		{kind: "slack", triggers: []string{"hooks.slack.com"}, re: re(`https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]+`)},
		{
			// Stripe secret and restricted keys, live and test
			// (publishable pk_ keys are public).
			kind:      "stripe",
			triggers:  []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_"},
			anchored:  true,
			wordStart: true,
			re:        re(`^[sr]k_(?:live|test)_[A-Za-z0-9]{20,}`),
		},
		{kind: "google_api_key", triggers: []string{"aiza"}, wordStart: true, re: re(`AIza[0-9A-Za-z_\-]{35}`)},
		{kind: "jwt", triggers: []string{"eyj"}, wordStart: true, re: re(`eyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*`)},
		{
			kind:      "aws_access_key_id",
			triggers:  []string{"akia", "asia", "abia", "acca"},
			anchored:  true,
			wordStart: true,
			re:        re(`^(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`),
		},
		{
			// key = value, key: value, and "aws configure set key value".
			kind:     "aws_secret_access_key",
			triggers: []string{"aws_secret", "awssecret", "secret_access", "secretaccess"},
			anchored: true,
			nextLine: true,
			re:       re(`^(?i)(?:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)(?:\\?["'])?(?:[ \t]*[:=]` + sp + `|[ \t]+)(?:\\?["'])?([A-Za-z0-9/+=]{40})`),
			value:    1,
		},
		{
			// Azure storage and Service Bus / Event Hubs keys, in
			// connection strings (AccountKey=…;) or as pairs.
			kind:     "azure_key",
			triggers: []string{"accountkey", "sharedaccesskey"},
			anchored: true,
			re:       re(`^(?i)(?:account|sharedaccess)key(?:\\?["'])?[ \t]*[=:][ \t]*(?:\\?["'])?([A-Za-z0-9+/]{20,}={0,2})`),
			value:    1,
		},
		{
			// Authorization / Proxy-Authorization headers: with a
			// single-token scheme (Basic, Bearer, Token, …) the scheme and
			// its token; otherwise (Digest, AWS4-HMAC-SHA256, no scheme)
			// the whole value up to the end of the line or a quote.
			kind:      "authorization",
			triggers:  []string{"authorization"},
			anchored:  true,
			nextLine:  true,
			wordStart: true,
			re: re(`^(?i)authorization(?:\\?["'])?[ \t]*[:=]` + sp + `(?:\\?["'])?(` +
				`(?:basic|bearer|token|apikey|api-key|key|sso-key|jwt|otp|negotiate|ntlm)[ \t]+[^\s"'\\]+|[^\r\n"'\\]+)`),
			value: 1,
			valid: func(v string) bool {
				// "Bearer $TOKEN": the credential after the scheme decides.
				if i := strings.IndexAny(v, " \t"); i > 0 {
					v = v[i+1:]
				}
				return !looksLikeCode(v)
			},
		},
		{
			// A bare bearer token ("Bearer abc…"), not the word in prose:
			// 16 or more token characters.
			kind:      "bearer",
			triggers:  []string{"bearer"},
			anchored:  true,
			nextLine:  true,
			wordStart: true,
			re:        re(`^(?i)bearer[ \t]*(?:[ \t]|\r?\n)[ \t]*([A-Za-z0-9\-._~+/]+=*)`),
			value:     1,
			valid:     func(v string) bool { return len(v) >= 16 },
		},
		{
			// Cookie and Set-Cookie headers: the whole value (name=value
			// pairs and attributes) to the end of the line or a quote.
			kind:      "cookie",
			triggers:  []string{"cookie"},
			anchored:  true,
			wordStart: true,
			re:        re(`^(?i)cookie(?:\\?["'])?[ \t]*:[ \t]*(?:\\?["'` + "`" + `])?([^\r\n"'\\` + "`" + `]+)`),
			value:     1,
			valid:     isCookie,
		},
		{
			// curl --cookie 'name=value' (not a cookie file).
			kind:     "cookie",
			triggers: []string{"--cookie"},
			anchored: true,
			re:       re(`^--cookie[ \t]+` + argValue),
			value:    1,
			valid:    isCookie,
		},
		{
			// Passwords in URLs: scheme://user:password@host. The user
			// may be empty (redis://:pw@host) or a marker (a token
			// redacted before); the password runs to the '@' before the
			// host, so it may hold '/' and '@'.
			kind:     "url_password",
			triggers: []string{"://"},
			anchored: true,
			re:       re(`^://` + userName + `:([^\s"'\\]+?)@[A-Za-z0-9.\-_\[\]:]*(?:[^A-Za-z0-9.\-_\[\]:@]|\z)`),
			value:    1,
			valid: func(v string) bool {
				// host:port/path@…, host:port?q=a@b is no password.
				if i := strings.IndexAny(v, "/?#"); i > 0 && isDigits(v[:i]) || isDigits(v) {
					return false
				}
				return !placeholder(v)
			},
		},
		{
			// mysql -pSECRET (the password attached to -p; "-p SECRET"
			// makes mysql prompt, SECRET being the database), for the
			// MySQL and MariaDB clients.
			kind:      "password",
			triggers:  []string{"mysql", "mariadb"},
			anchored:  true,
			wordStart: true,
			re: re(`^(?:mysql(?:dump|admin|check|import|show|slap|pump|binlog|sh)?|mariadb(?:-(?:dump|admin|check|import|show|slap|binlog))?)(?:\.exe)?[ \t]` +
				argsBefore + `-p` + argValue),
			value: 1,
			valid: notCode,
			need:  hasOptionP,
		},
		{
			// curl -u user:password, --user, -U / --proxy-user, also in a
			// cluster of short options (-su).
			kind:      "password",
			triggers:  []string{"curl"},
			anchored:  true,
			wordStart: true,
			re: re(`^curl(?:\.exe)?[ \t]` + argsBefore + `(?:-[A-Za-z]*[uU][ \t]*|--(?:proxy-)?user[ \t]+)` +
				`(?:\\"` + quotedUserName + `:([^"\\\r\n]*)\\"|"` + quotedUserName + `:([^"\r\n]*)"|'` + quotedUserName + `:([^'\r\n]*)'|` +
				userName + `:([^\s"'\\;|&<>` + "`" + `]+))`),
			value: 1,
			valid: notCode,
			need:  hasOptionU,
		},
		{
			// sshpass -p PASSWORD, among sshpass's own options (not the
			// -p of the ssh command it runs).
			kind:      "password",
			triggers:  []string{"sshpass"},
			anchored:  true,
			wordStart: true,
			re: re(`^sshpass(?:[ \t]+(?:-[fdP][ \t]*(?:"[^"\r\n]*"|'[^'\r\n]*'|[^\s"']+)|-[vhV]+|-e\S*))*[ \t]+-p[ \t]*` +
				argValue),
			value: 1,
			valid: notCode,
		},
		{
			// docker login -p PASSWORD (-pPASSWORD, -p=PASSWORD), and the
			// same for podman, nerdctl, buildah, skopeo, oras and helm
			// registry; --password is the flag rule's.
			kind:      "password",
			triggers:  []string{"docker", "podman", "nerdctl", "buildah", "skopeo", "oras ", "helm "},
			anchored:  true,
			wordStart: true,
			re: re(`^(?:docker|podman|nerdctl|buildah|skopeo|oras|helm[ \t]+registry)(?:\.exe)?[ \t]+login[ \t]` +
				argsBefore + `-p(?:[ \t]+|=)?` + argValue),
			value: 1,
			valid: notCode,
			need:  hasOptionP,
		},
		{
			// openssl -pass / -passin / -passout pass:PASSWORD.
			kind:     "password",
			triggers: []string{"-pass"},
			anchored: true,
			re:       re(`^-pass(?:in|out)?[ \t]+["']?pass:([^\s"'\\]+)`),
			value:    1,
			valid:    notCode,
		},
		{
			// --password VALUE, --token VALUE, … on command lines.
			triggers: []string{"--pass", "--token", "--secret", "--api-key", "--apikey"},
			anchored: true,
			re:       re(`^(?i)--((?:password|passwd|passphrase|token|secret|api-?key))[ \t]+["']?([^\s"'\\]+)`),
			value:    2,
			kindOf:   func(m []string) string { return pairKind(m[1]) },
			valid:    notCode,
		},
		{
			// A bare passphrase is several words: it runs to the end of
			// the line, a quote or a backslash ("\n" in JSON). Quoted
			// ones are the pair rule's.
			kind:     "password",
			triggers: []string{"passphrase"},
			anchored: true,
			re:       re(`^(?i)passphrase(?:\\?["'])?[ \t]*[=:][ \t]*([^\s"'\\](?:[^\r\n"'\\]*[^\s"'\\])?)`),
			value:    1,
			valid: func(v string) bool {
				// 4+ characters, as a pair's bare value; "passphrase:
				// str = …" is a declaration.
				w, _, _ := strings.Cut(v, " ")
				return len(v) >= 4 && !looksLikeCode(v) && !looksLikeCode(w)
			},
		},
		{
			// key=value, key: value, "key": "value", KEY="value", where
			// the key ends in a secret word: the value quoted (any
			// characters) or bare (4+ characters up to a space, quote,
			// backslash, '&', ',' or ';'). Tried at each secret word; the
			// word must be followed by the separator, so it ends the key
			// ("DB_PASSWORD=" yes, "max_tokens=" and "tokenizer=" no).
			triggers: []string{"pass", "pwd", "secret", "token", "api", "access", "private", "auth", "credential"},
			anchored: true,
			re: re(`^(?i)(` + pairWord + `)(?:\\?["'])?[ \t]*(?:=|:)[ \t]*` +
				`(?:\\"((?:[^"\\\r\n])*)\\"|"((?:[^"\\\r\n]|\\[^\r\n])*)"|'([^'\r\n]*)'|([^\s"'\\&,;]{4,}))`),
			value:  2,
			kindOf: func(m []string) string { return pairKind(m[1]) },
			valid:  notCode,
		},
	}
}

// hasOptionP reports whether cmd may hold a -p option.
func hasOptionP(cmd string) bool {
	return strings.Contains(cmd, " -p") || strings.Contains(cmd, "\t-p")
}

// hasOptionU reports whether cmd may hold curl's -u or -U option, alone or
// in a cluster (-su), or --user / --proxy-user.
func hasOptionU(cmd string) bool {
	if strings.Contains(cmd, "-user") {
		return true
	}
	for i := 1; i+1 < len(cmd); i++ {
		if cmd[i] != '-' || cmd[i-1] != ' ' && cmd[i-1] != '\t' {
			continue
		}
		for j := i + 1; j < len(cmd) && ('a' <= cmd[j] && cmd[j] <= 'z' || 'A' <= cmd[j] && cmd[j] <= 'Z'); j++ {
			if cmd[j] == 'u' || cmd[j] == 'U' {
				return true
			}
		}
	}
	return false
}

// isCookie reports whether v is a cookie header's value: name=value
// pairs, not a placeholder or code ("cookie: string;").
func isCookie(v string) bool {
	return strings.Contains(v, "=") && !looksLikeCode(strings.TrimRight(v, "; \t"))
}

// pairKind maps a key name to the marker kind.
func pairKind(key string) string {
	k := strings.ToLower(key)
	switch {
	case strings.Contains(k, "pass") || strings.HasSuffix(k, "pwd"):
		return "password"
	case strings.Contains(k, "token"):
		return "token"
	case strings.Contains(k, "secret") || strings.Contains(k, "credential"):
		return "secret"
	case strings.Contains(k, "private"):
		return "private_key"
	default:
		return "api_key"
	}
}

// looksLikeCode reports whether a matched value is a program expression or
// a placeholder rather than a literal secret: "os.Getenv(…)", "getpass()",
// "$TOKEN", "${{ secrets.X }}", "= x" (from ":="/"=="), null, true, ….
// Anything else is a secret, even with '$', '*', '(' or '{' in it
// ("$ecret", "Tr0ub(4)dor").
func looksLikeCode(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || placeholder(v) || isCall(v) {
		return true
	}
	switch v[0] {
	case '=', ':', '[':
		return true
	}
	switch strings.ToLower(strings.TrimRight(v, ")]}")) {
	case "null", "nil", "none", "true", "false", "undefined", "required", "optional", "string", "str", "bool", "int":
		return true
	}
	return false
}

// placeholder reports whether v stands for a secret kept elsewhere: a
// shell or environment variable in capitals ($DB_PASSWORD, ${…}, $(…),
// $env:X, %X%, %s), a PHP or Perl variable being indexed ($_POST[,
// $this->), a template ({{ … }}, {name}, <password>), or a mask (****).
func placeholder(v string) bool {
	if v == "" || strings.Trim(v, "*") == "" {
		return true
	}
	switch v[0] {
	case '<', '%':
		return true
	case '$':
		rest := v[1:]
		switch {
		case rest == "" || rest[0] == '{' || rest[0] == '(' || strings.HasPrefix(rest, "env:"):
			return true
		case len(rest) == 1 && '0' <= rest[0] && rest[0] <= '9':
			return true
		}
		n := identLen(rest)
		if n == 0 {
			return false
		}
		if isUpperIdent(rest[:n]) && n == len(rest) {
			return true
		}
		after := rest[n:]
		return strings.HasPrefix(after, "->") || strings.HasPrefix(after, "[") || strings.HasPrefix(after, "::")
	case '{':
		if v == "{" || v == "{}" || strings.HasPrefix(v, "{{") {
			return true
		}
		n := identLen(v[1:])
		return n > 0 && v[1+n:] == "}"
	}
	return false
}

// isCall reports whether v is a function call: a dotted name, '(' and
// then nothing (the value was cut at a quote), ')' or arguments that start
// with a name or a quote and end with ')': "os.Getenv(", "getpass()",
// "tok.encode(text)", but not "hunter(2)" or "p(a)ss".
func isCall(v string) bool {
	i := 0
	for {
		n := identLen(v[i:])
		if n == 0 {
			return false
		}
		i += n
		switch {
		case strings.HasPrefix(v[i:], "."):
			i++
			continue
		case strings.HasPrefix(v[i:], "->"), strings.HasPrefix(v[i:], "::"):
			i += 2
			continue
		}
		break
	}
	if i >= len(v) || v[i] != '(' {
		return false
	}
	args := v[i+1:]
	if args == "" || args == ")" {
		return true
	}
	c := args[0]
	return strings.HasSuffix(args, ")") && (c == '_' || c == '"' || c == '\'' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
}

// identLen returns the length of the identifier ([A-Za-z_][A-Za-z0-9_]*)
// at the start of s, or 0.
func identLen(s string) int {
	n := 0
	for n < len(s) && (isWord(s[n]) && (n > 0 || s[n] < '0' || s[n] > '9')) {
		n++
	}
	return n
}

func isUpperIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
