// Package redact removes secrets from strings that ccotel captures (prompts,
// commands, file paths, tool arguments and results) and caps their length.
//
// Every captured string passes through Redactor.Clean before it becomes a
// span attribute. Secrets are replaced by "[REDACTED:<kind>]"; for
// key=value pairs and headers only the value is replaced, so the text
// around a secret stays readable.
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
	user []*regexp.Regexp
}

// New returns a Redactor that, besides the built-in kinds, replaces every
// match of each of patterns (Go regexp syntax) with "[REDACTED:custom]".
// It fails on a pattern that does not compile, naming it.
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
		r.user = append(r.user, re)
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
	// Replacements ("[REDACTED:…]") cannot create a trigger, so the
	// triggers of the original string decide for every rule.
	fired := set.scan(s)
	for i, rule := range set.rules {
		if fired&(1<<i) != 0 {
			s = rule.apply(s)
		}
	}
	if r != nil {
		for _, re := range r.user {
			s = re.ReplaceAllLiteralString(s, "[REDACTED:custom]")
		}
	}
	return s
}

// ruleSet is the compiled built-in rules and their trigger index.
type ruleSet struct {
	rules []*rule
	// pair marks the (ASCII-lower-cased) first two bytes of any trigger;
	// byPair lists, for such a pair, the triggers starting with it.
	pair   [1 << 16]bool
	byPair map[uint16][]trigger
}

type trigger struct {
	needle string // lower case
	rule   int
}

func newRuleSet(rules []*rule) *ruleSet {
	if len(rules) > 64 {
		panic("redact: more than 64 rules")
	}
	set := &ruleSet{rules: rules, byPair: map[uint16][]trigger{}}
	for i, r := range rules {
		for _, t := range r.triggers {
			k := uint16(t[0])<<8 | uint16(t[1])
			set.pair[k] = true
			set.byPair[k] = append(set.byPair[k], trigger{t, i})
		}
	}
	return set
}

// scan returns the set of rules (bit i = rules[i]) whose triggers occur in
// s, ASCII case-insensitively. One pass over s with a table lookup per
// byte; no allocation.
func (set *ruleSet) scan(s string) uint64 {
	var fired uint64
	for i := 0; i+1 < len(s); i++ {
		k := uint16(lower[s[i]])<<8 | uint16(lower[s[i+1]])
		if !set.pair[k] {
			continue
		}
		for _, t := range set.byPair[k] {
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
	// search).
	wordStart bool
}

func (r *rule) kinds() []string {
	if r.kind != "" {
		return []string{r.kind}
	}
	return pairKinds
}

func (r *rule) apply(s string) string {
	idx := r.matches(s)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		start, end := m[0], m[1]
		if r.wordStart && start > 0 && isWord(s[start-1]) {
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
			if vs < 0 || vs == ve {
				continue
			}
		}
		v := s[vs:ve]
		if strings.HasPrefix(v, "[REDACTED") || (r.valid != nil && !r.valid(v)) {
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
		b.WriteString("[REDACTED:")
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

// matches returns the rule's non-overlapping matches in s, as
// FindAllStringSubmatchIndex does. An anchored rule's expression (which
// starts with ^) is tried only where one of its triggers occurs: Go's
// regexp scans a case-insensitive or class-led expression at a few MB/s,
// but an anchored attempt costs only the length of what it matches.
func (r *rule) matches(s string) [][]int {
	if !r.anchored {
		return r.re.FindAllStringSubmatchIndex(s, -1)
	}
	var out [][]int
	end := 0 // matches must not overlap
	for p := 0; p < len(s); p++ {
		if p < end || !r.triggerAt(s, p) {
			continue
		}
		m := r.re.FindStringSubmatchIndex(s[p:])
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

func compileBuiltins() []*rule {
	notCode := func(v string) bool { return !looksLikeCode(v) }
	hasDigitLong := func(v string) bool {
		return len(v) >= 16 && strings.ContainsAny(v, "0123456789")
	}
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
		{kind: "jwt", triggers: []string{"eyj"}, wordStart: true, re: re(`eyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*`)},
		{
			kind:      "aws_access_key_id",
			triggers:  []string{"akia", "asia", "abia", "acca"},
			anchored:  true,
			wordStart: true,
			re:        re(`^(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`),
		},
		{
			kind:     "aws_secret_access_key",
			triggers: []string{"aws_secret", "awssecret", "secret_access", "secretaccess"},
			anchored: true,
			re:       re(`^(?i)(?:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})`),
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
			wordStart: true,
			re: re(`^(?i)authorization["']?\s*[:=]\s*["']?(` +
				`(?:basic|bearer|token|apikey|api-key|key|sso-key|jwt|otp|negotiate|ntlm)[ \t]+[^\s"'\\]+|[^\r\n"'\\]+)`),
			value: 1,
			valid: notCode,
		},
		{
			// A bare bearer token ("Bearer abc…"), not the word in prose.
			kind:      "bearer",
			triggers:  []string{"bearer"},
			anchored:  true,
			wordStart: true,
			re:        re(`^(?i)bearer\s+([A-Za-z0-9\-._~+/]+=*)`),
			value:     1,
			valid:     hasDigitLong,
		},
		{
			// Passwords in URLs: scheme://user:password@host.
			kind:     "url_password",
			triggers: []string{"://"},
			anchored: true,
			re:       re(`^://[^\s:/@"'\\]+:([^\s@/"'\\]+)@`),
			value:    1,
			valid:    func(v string) bool { return !strings.HasPrefix(v, "$") },
		},
		{
			// --password VALUE, --token VALUE, … on command lines.
			triggers: []string{"--pass", "--token", "--secret", "--api-key", "--apikey"},
			anchored: true,
			re:       re(`^(?i)--((?:password|passwd|token|secret|api-?key))[ \t]+["']?([^\s"'\\]+)`),
			value:    2,
			kindOf:   func(m []string) string { return pairKind(m[1]) },
			valid:    notCode,
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
// a placeholder rather than a literal secret: "os.Getenv(…)", "$TOKEN",
// "${{ secrets.X }}", "= x" (from ":="/"=="), null, true, ….
func looksLikeCode(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	switch v[0] {
	case '=', ':', '$', '%', '<', '{', '[', '(', '*':
		return true
	}
	if strings.ContainsAny(v, "(){}") {
		return true
	}
	switch strings.ToLower(v) {
	case "null", "nil", "none", "true", "false", "undefined", "required", "optional", "string", "str", "bool", "int":
		return true
	}
	return false
}
