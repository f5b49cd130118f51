package redact

import (
	"regexp"
	"strings"
)

// Rules by the shape of an assignment: a key name whose last segment says
// secret (pass, key, auth, …) in KEY=value, key: value, "key": "value"
// (JSON-escaped to any depth) and --key value forms. The strong words
// (password, token, secret, …: the pair rule's) take any value that is
// not code; the weak ones (key, auth) only a value that looks like a
// secret (secretish), under a name that is not a kind of key that is no
// secret (primary, sort, cache, public, …).

// flagWord is the strong secret word that ends a command-line flag's name.
const flagWord = `password|passwd|passphrase|pass|pwd|token|secret[_\-]?key|secret|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|auth[_\-]?key|credentials?`

// flagValue is a flag's value after a blank: bare or after an opening
// quote (also JSON-escaped), up to a blank, quote or backslash.
const flagValue = `(?:\\*["'])?([^\s"'\\]+)`

func shapeRules() []*rule {
	re := regexp.MustCompile
	notCode := func(v string) bool { return !looksLikeCode(v) }
	return []*rule{
		{
			// --password VALUE, --session-token VALUE, --client-secret
			// VALUE: a flag (its name starts with "--") ending in a strong
			// word, the value after a blank (--x=VALUE is a pair).
			triggers: []string{"pass", "pwd", "secret", "token", "api", "access", "private", "auth", "credential"},
			anchored: true,
			at:       flagAt,
			re:       re(`^(?i)(` + flagWord + `)[ \t]+` + flagValue),
			value:    2,
			kindOf:   func(m []string) string { return pairKind(m[1]) },
			valid:    notCode,
		},
		{
			// --license-key VALUE, --encryption-key VALUE.
			triggers: []string{"key", "auth"},
			anchored: true,
			at:       func(s string, p int) bool { return flagAt(s, p) && keyNameAt(s, p) },
			re:       re(`^(?i)(key|auth)[ \t]+` + flagValue),
			value:    2,
			kindOf:   weakKind,
			valid:    secretish,
		},
		{
			// ADMIN_PASS=…, SMTP_PASS: …: "pass" as the name's last
			// segment (not bypass=, compass:).
			kind:     "password",
			triggers: []string{"pass"},
			anchored: true,
			at:       func(s string, p int) bool { return segmentStart(s, p) && sepAfter(s, p+len("pass")) },
			re:       re(`^(?i)pass` + quote + `[ \t]*[=:][ \t]*` + pairValue(4)),
			value:    1,
			valid:    notCode,
		},
		{
			// ENCRYPTION_KEY=…, JWT_SIGNING_KEY=…, client-key-data: …,
			// "signingKey": "…", docker's "auth": "…".
			triggers: []string{"key", "auth"},
			anchored: true,
			at:       func(s string, p int) bool { return sepAfter(s, weakWordEnd(s, p)) && keyNameAt(s, p) },
			re:       re(`^(?i)(key(?:[_\-]?data)?|auth)` + quote + `[ \t]*[=:][ \t]*` + pairValue(8)),
			value:    2,
			kindOf:   weakKind,
			valid:    secretish,
		},
	}
}

// sepAfter reports whether a pair's separator follows the key word that
// ends at s[i]: quotes (JSON-escaped or not), blanks, then '=' or ':'. It
// spares the expression the many words that are no key (a regular
// expression's attempt costs the length of the rest of the line).
func sepAfter(s string, i int) bool {
	for i < len(s) && (s[i] == '\\' || s[i] == '"' || s[i] == '\'' || s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i < len(s) && (s[i] == '=' || s[i] == ':')
}

// nameEnd returns where the name holding s[p] ends (letters, digits, '_'
// and '-': a pair's key word ends its name).
func nameEnd(s string, p int) int {
	for p < len(s) && (isWord(s[p]) || s[p] == '-') {
		p++
	}
	return p
}

// weakWordEnd returns the end of the key or auth word at s[p] (with a
// "data" suffix: client-key-data).
func weakWordEnd(s string, p int) int {
	if lower[s[p]] == 'a' {
		return p + len("auth")
	}
	e := p + len("key")
	if e < len(s) && (s[e] == '_' || s[e] == '-') {
		e++
	}
	if hasPrefixFold(s[min(e, len(s)):], "data") {
		return e + len("data")
	}
	return p + len("key")
}

// weakKind is the marker kind of a key or auth value: a kubeconfig's
// client-key-data is a private key.
func weakKind(m []string) string {
	if strings.HasSuffix(strings.ToLower(m[1]), "data") {
		return "private_key"
	}
	return "api_key"
}

// isNameByte reports a byte of a key name: letters, digits, '_', '-', '.'.
func isNameByte(c byte) bool { return isWord(c) || c == '-' || c == '.' }

// nameStart returns where the key name holding s[p] starts.
func nameStart(s string, p int) int {
	for p > 0 && isNameByte(s[p-1]) {
		p--
	}
	return p
}

// segmentStart reports whether s[p] starts a segment of a name: it
// follows no letter or digit ('_', '-', '.', a quote, the start), or it
// is a capital after a small letter (camelCase: signingKey).
func segmentStart(s string, p int) bool {
	if p == 0 {
		return true
	}
	b, c := s[p-1], s[p]
	switch {
	case 'a' <= b && b <= 'z':
		return 'A' <= c && c <= 'Z'
	case 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return false
	}
	return true
}

// flagAt reports whether the trigger at s[p] starts a segment of a
// command-line flag's name (--client-secret, --session-token).
func flagAt(s string, p int) bool {
	q := nameStart(s, p)
	return segmentStart(s, p) && p >= q+2 && strings.HasPrefix(s[q:], "--")
}

// keyNameAt reports whether the key or auth at s[p] ends a name that may
// hold a secret: "key" needs a qualifier before it (ENCRYPTION_KEY,
// client-key-data, signingKey; a name that is only "key" is a map's or a
// list's), and that qualifier must not name a kind of key that is no
// secret (notSecretKey).
func keyNameAt(s string, p int) bool {
	if !segmentStart(s, p) {
		return false
	}
	prefix := strings.TrimRight(strings.TrimLeft(s[nameStart(s, p):p], "-"), "_-.")
	if prefix == "" {
		return lower[s[p]] == 'a' // "auth" alone (docker's config.json), not "key"
	}
	i := len(prefix) - 1
	for i > 0 && isWord(prefix[i-1]) && prefix[i-1] != '_' && !segmentStart(prefix, i) {
		i--
	}
	return !notSecretKey[strings.ToLower(prefix[i:])]
}

// notSecretKey lists the qualifiers of keys that are no secrets.
var notSecretKey = map[string]bool{
	"public": true, "primary": true, "foreign": true, "sort": true, "partition": true, "range": true,
	"cache": true, "lookup": true, "idempotency": true, "dedup": true, "dedupe": true, "unique": true,
	"composite": true, "map": true, "dict": true, "group": true, "index": true, "row": true,
	"object": true, "routing": true, "message": true, "translation": true, "i18n": true, "label": true,
	"hot": true, "short": true, "shortcut": true, "default": true,
}

// secretish reports whether a key's or auth's value looks like a secret:
// not code or a placeholder, not a path, a URL or words; 8 or more
// characters with letters and digits, or 20 or more.
func secretish(v string) bool {
	if len(v) < 8 || looksLikeCode(v) || strings.ContainsAny(v, " \t") || isPathLike(v) {
		return false
	}
	letters, digits := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		letters = letters || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		digits = digits || '0' <= c && c <= '9'
	}
	return letters && digits || len(v) >= 20
}

// isPathLike reports a file path or a URL: it starts with '/', '~' or
// '.', holds "://", or ends in a file extension (client.key, sign.pem).
func isPathLike(v string) bool {
	if v[0] == '/' || v[0] == '~' || v[0] == '.' || strings.Contains(v, "://") {
		return true
	}
	i := strings.LastIndexByte(v, '.')
	if i <= 0 || len(v)-i-1 < 2 || len(v)-i-1 > 5 {
		return false
	}
	for _, c := range v[i+1:] {
		if !('a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
