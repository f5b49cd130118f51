package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/ccotel/ccotel/internal/settings"
)

// Writing the config file (what `ccotel install` and `ccotel certs init`
// set) lives here with reading it (Load), so that one package owns the
// file: its keys, its format, its path.

// Collector holds what `ccotel install --endpoint … --client-cert … ` writes
// to the config file; empty fields are left as they are in the file.
type Collector struct {
	Endpoint   string
	ClientCert string
	ClientKey  string
	CA         string
}

// Setting is one top-level string key of the config file.
type Setting struct {
	Key, Value string
}

// Settings checks c and returns its config-file settings: the endpoint must
// be an http or https URL with a host, and each file must be a readable
// regular file; files are written as absolute paths ("~" is expanded with
// home, relative paths are taken from the current directory). The warnings
// are for the person running install (a key readable by others, client
// certificates on a plain-http endpoint).
func (c Collector) Settings(home string) (set []Setting, warnings []string, err error) {
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, nil, fmt.Errorf("--endpoint %q: want an http(s) URL such as https://collector.example.com:4318", c.Endpoint)
		}
		if u.Scheme == "http" && (c.ClientCert != "" || c.ClientKey != "" || c.CA != "") {
			warnings = append(warnings, fmt.Sprintf("endpoint %s is plain http: the certificates are not used; use https:// for mutual TLS", c.Endpoint))
		}
		set = append(set, Setting{"endpoint", c.Endpoint})
	}
	for _, f := range []struct{ key, flag, path string }{
		{"client_cert", "--client-cert", c.ClientCert},
		{"client_key", "--client-key", c.ClientKey},
		{"ca", "--ca", c.CA},
	} {
		if f.path == "" {
			continue
		}
		p, err := filepath.Abs(ExpandHome(f.path, home))
		if err != nil {
			return nil, nil, err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", f.flag, f.path, unwrapPath(err))
		}
		if !fi.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("%s %s: not a regular file", f.flag, f.path)
		}
		r, err := os.Open(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", f.flag, f.path, unwrapPath(err))
		}
		r.Close()
		if f.key == "client_key" && fi.Mode().Perm()&0o077 != 0 {
			warnings = append(warnings, fmt.Sprintf("%s is readable by other users (mode %04o); run: chmod 600 %s", p, fi.Mode().Perm(), p))
		}
		set = append(set, Setting{f.key, p})
	}
	return set, warnings, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

const configHeader = "# ccotel configuration. `ccotel doctor` explains every value and where it came from.\n"

// SetKeys returns the TOML config file src with each setting's key set to
// its value. It keeps everything else, comments included: an existing
// top-level line `key = …` is replaced, a missing key is added after the
// last top-level key (top-level keys must come before the first [table]).
// A file that is not valid TOML, or one whose key cannot be replaced line
// for line (a multi-line value), is refused: set the key by hand.
func SetKeys(src []byte, set []Setting) ([]byte, error) {
	var before map[string]any
	if _, err := toml.Decode(string(src), &before); err != nil {
		return nil, fmt.Errorf("not valid TOML, not changed: %w", err)
	}
	lines := strings.SplitAfter(string(src), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(src) == 0 {
		lines = []string{configHeader}
	}
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		lines[n-1] += "\n"
	}
	// The top-level region ends at the first table header.
	top := len(lines)
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "[") {
			top = i
			break
		}
	}
	for _, s := range set {
		line := s.Key + " = " + tomlString(s.Value) + "\n"
		re := regexp.MustCompile(`^\s*(` + regexp.QuoteMeta(s.Key) + `|"` + regexp.QuoteMeta(s.Key) + `"|'` + regexp.QuoteMeta(s.Key) + `')\s*=`)
		found := false
		for i := 0; i < top; i++ {
			if re.MatchString(lines[i]) {
				lines[i], found = line, true
				break
			}
		}
		if found {
			continue
		}
		at := top
		if top < len(lines) {
			// Before the comments and blank lines that lead into the first table.
			for at > 0 && isBlankOrComment(lines[at-1]) {
				at--
			}
		}
		lines = append(lines[:at], append([]string{line}, lines[at:]...)...)
		top++
	}
	out := strings.Join(lines, "")
	var after map[string]any
	if _, err := toml.Decode(out, &after); err != nil {
		return nil, fmt.Errorf("cannot update the file line by line (%v); set these keys by hand: %s", err, settingsText(set))
	}
	for _, s := range set {
		if after[s.Key] != s.Value {
			return nil, fmt.Errorf("cannot update %q line by line; set these keys by hand: %s", s.Key, settingsText(set))
		}
	}
	return []byte(out), nil
}

func isBlankOrComment(l string) bool {
	t := strings.TrimSpace(l)
	return t == "" || strings.HasPrefix(t, "#")
}

func settingsText(set []Setting) string {
	var b strings.Builder
	for _, s := range set {
		b.WriteString("\n  " + s.Key + " = " + tomlString(s.Value))
	}
	return b.String()
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == utf8.RuneError:
			b.WriteString(`\uFFFD`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// WriteFile sets settings in the config file at path (see SetKeys) and,
// unless dryRun, writes it like settings.EditFile does, but always with
// mode 0600 in a directory created 0700: the file may also hold header
// secrets.
func WriteFile(path string, set []Setting, dryRun bool) (settings.Result, error) {
	return settings.EditFileMode(path, func(src []byte) ([]byte, error) { return SetKeys(src, set) }, dryRun, 0o600)
}
