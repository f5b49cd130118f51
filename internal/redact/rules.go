package redact

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// The built-in rules: every secret kind, its trigger words and the
// expressions that find its values, and the tests that tell a secret from
// code or a placeholder.

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
	// quote is an optional quote around a key or before a value, also
	// JSON-escaped to any depth (\", \\\", …: JSON in a JSON string in a
	// tool result).
	quote = `(?:\\*["'])?`
)

func compileBuiltins() []*rule {
	notCode := func(v string) bool { return !looksLikeCode(v) }
	re := regexp.MustCompile
	return append([]*rule{
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
		{kind: "openai", triggers: []string{"sk-"}, wordStart: true, re: re(`sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{16,}|[A-Za-z0-9]{32,})`)},
		{kind: "github", triggers: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, wordStart: true, re: re(`gh[pousr]_[A-Za-z0-9]{30,255}\b`)},
		{kind: "github", triggers: []string{"github_pat_"}, wordStart: true, re: re(`github_pat_[A-Za-z0-9_]{22,255}\b`)},
		// Bot, user, app, refresh (xoxe.xoxp-), browser session (xoxc-)
		// tokens, and the session cookie's value (xoxd-, URL-encoded).
		{kind: "slack", triggers: []string{"xox"}, wordStart: true, re: re(`xox[a-z](?:\.xox[a-z])?-[A-Za-z0-9%+/=\-]{10,}`)},
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
		// JWE (compact: header, encrypted key, which "dir" leaves empty,
		// IV, ciphertext, tag), then JWS/JWT.
		{kind: "jwt", triggers: []string{"eyj"}, wordStart: true, re: re(`eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}`)},
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
			re:       re(`^(?i)(?:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)` + quote + `(?:[ \t]*[:=]` + sp + `|[ \t]+)` + quote + `([A-Za-z0-9/+=]{40})`),
			value:    1,
		},
		{
			// AWS session tokens (STS): key = value, key: value, "aws
			// configure set aws_session_token value".
			kind:     "aws_session_token",
			triggers: []string{"aws_session", "awssession", "aws_security", "awssecurity"},
			anchored: true,
			nextLine: true,
			re:       re(`^(?i)aws_?(?:session|security)_?token` + quote + `(?:[ \t]*[:=]` + sp + `|[ \t]+)` + quote + `([A-Za-z0-9/+=]{16,})`),
			value:    1,
		},
		{
			// Azure storage and Service Bus / Event Hubs keys, in
			// connection strings (AccountKey=…;) or as pairs.
			kind:     "azure_key",
			triggers: []string{"accountkey", "sharedaccesskey"},
			anchored: true,
			re:       re(`^(?i)(?:account|sharedaccess)key` + quote + `[ \t]*[=:][ \t]*` + quote + `([A-Za-z0-9+/]{20,}={0,2})`),
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
			re: re(`^(?i)authorization` + quote + `[ \t]*[:=]` + sp + quote + `(` +
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
			re:        re(`^(?i)cookie` + quote + `[ \t]*:[ \t]*(?:\\?["'` + "`" + `])?([^\r\n"'\\` + "`" + `]+)`),
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
			// A bare passphrase is several words: it runs to the end of
			// the line, a quote or a backslash ("\n" in JSON). Quoted
			// ones are the pair rule's.
			kind:     "password",
			triggers: []string{"passphrase"},
			anchored: true,
			re:       re(`^(?i)passphrase` + quote + `[ \t]*[=:][ \t]*([^\s"'\\](?:[^\r\n"'\\]*[^\s"'\\])?)`),
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
			at:       func(s string, p int) bool { return sepAfter(s, nameEnd(s, p)) },
			re:       re(`^(?i)(` + pairWord + `)` + quote + `[ \t]*(?:=|:)[ \t]*` + pairValue(4)),
			value:    2,
			kindOf:   func(m []string) string { return pairKind(m[1]) },
			valid:    notCode,
		},
	}, shapeRules()...)
}

// pairValue is the value of a key=value pair: quoted, with JSON-escaped
// quotes of any depth (\"v\", \\\"v\\\"), plain double or single quotes
// (any characters), or bare (min or more characters up to a space, quote,
// backslash, '&', ',' or ';'). The first of groups 1 to 4 that took part
// holds it.
func pairValue(min int) string {
	return `(?:\\+"((?:[^"\\\r\n]|\\+[^"\\\r\n])*)\\+"|"((?:[^"\\\r\n]|\\[^\r\n])*)"|'([^'\r\n]*)'|([^\s"'\\&,;]{` + strconv.Itoa(min) + `,}))`
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
