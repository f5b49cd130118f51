package tracing

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is ccotel's resolved configuration: one struct, every value's
// source known (Sources), resolved once per process by Load.
//
// Precedence, highest first: command-line flags; CCOTEL_* variables; the
// standard OTEL_EXPORTER_OTLP_[TRACES_]* / OTEL_SERVICE_NAME /
// OTEL_RESOURCE_ATTRIBUTES / OTEL_SDK_DISABLED variables; the seed script's
// OTLP_CLIENT_CERTIFICATE, OTLP_CLIENT_KEY, REQUESTS_CA_BUNDLE; the config
// file ($CCOTEL_CONFIG, else $XDG_CONFIG_HOME/ccotel/config.toml, else
// ~/.config/ccotel/config.toml); defaults.
//
// Precedence is per key: the client certificate may come from the
// environment and the endpoint from the file. Tables (headers) are taken
// whole from the highest source that sets them, except the resource
// attributes, which are merged key by key (file < OTEL_RESOURCE_ATTRIBUTES
// < CCOTEL_RESOURCE_ATTRIBUTES < flag).
type Config struct {
	// Export.
	Endpoint           string            // full traces URL ("" = not configured: the hook does nothing)
	Protocol           string            // "http/protobuf" (default) or "http/json"
	Compression        string            // "gzip" (default) or "none"
	Headers            map[string]string // extra HTTP headers (values are secrets: never log them)
	Timeout            time.Duration     // per export request; default 10s
	ClientCert         string            // PEM client certificate path ("~" expanded)
	ClientKey          string            // PEM client key path
	CA                 string            // PEM CA bundle for the server, added to system roots
	CAAlso             string            // the file's ca, trusted too when REQUESTS_CA_BUNDLE took precedence over it
	InsecureSkipVerify bool              // only from the config file key insecure_skip_verify
	Disabled           bool              // OTEL_SDK_DISABLED=true or disabled = true

	// Resource.
	ServiceName   string            // default "claude-code"
	ResourceAttrs map[string]string // OTEL_RESOURCE_ATTRIBUTES, CCOTEL_RESOURCE_ATTRIBUTES, [resource] table

	// State and delivery.
	StateDir       string        // default $XDG_STATE_HOME/ccotel or ~/.local/state/ccotel
	Sync           bool          // export inline in the hook (hard deadline = Timeout)
	Durability     string        // "default" (no fsync in the hook) or "full"
	LockTimeout    time.Duration // hook's bounded wait for the database; default 2s
	OutboxMaxSpans int           // default 100000
	OutboxMaxBytes int64         // default 64 MiB
	IdleTimeout    time.Duration // a session with no event for this long is closed; default 24h

	// Trace content.
	Capture               string   // "metadata" (default), "details", "content"
	MaxAttrLen            int      // cap on every captured string attribute; default 4096
	RedactPatterns        []string // extra regexes whose matches are redacted
	ParentFromTraceparent bool     // TRACEPARENT becomes the root's parent instead of a link

	// Cost: per-model prices in USD per million tokens, overriding the
	// built-in table. Keys are model ids or prefixes ("claude-sonnet-4-5").
	Prices map[string]ModelPrice

	// Where each value came from, by config-file key name ("endpoint",
	// "client_cert", …): "flag --endpoint", "env CCOTEL_ENDPOINT",
	// "env OTEL_EXPORTER_OTLP_ENDPOINT", "file ~/.config/ccotel/config.toml",
	// "default".
	Sources map[string]string

	// ConfigFile is the path of the config file that was read ("" if none).
	ConfigFile string

	// Warnings are problems that did not stop Load: unknown keys in the
	// config file, standard OTEL_* values ccotel cannot honour (gRPC,
	// INSECURE), a named config file that does not exist. doctor prints
	// them; the hook ignores them.
	Warnings []string
}

// ModelPrice is a model's price in USD per million tokens.
type ModelPrice struct {
	Input        float64 `toml:"input"`
	Output       float64 `toml:"output"`
	CacheWrite5m float64 `toml:"cache_write_5m"`
	CacheWrite1h float64 `toml:"cache_write_1h"`
	CacheRead    float64 `toml:"cache_read"`
}

// LoadOptions are Load's inputs, so tests need no real environment.
type LoadOptions struct {
	// Getenv looks up an environment variable (os.LookupEnv in production;
	// nil means os.LookupEnv).
	Getenv func(string) (string, bool)
	// Flags holds values given on the command line, by config-file key
	// ("endpoint", "client_cert", "client_key", "ca", "state_dir", …), in
	// the same text form as the CCOTEL_* variables. The extra key "config"
	// names the config file, ahead of $CCOTEL_CONFIG.
	Flags map[string]string
}

// Defaults.
const (
	DefaultProtocol       = "http/protobuf"
	DefaultCompression    = "gzip"
	DefaultTimeout        = 10 * time.Second
	DefaultServiceName    = "claude-code"
	DefaultLockTimeout    = 2 * time.Second
	DefaultOutboxMaxSpans = 100_000
	DefaultOutboxMaxBytes = 64 << 20
	DefaultIdleTimeout    = 24 * time.Hour
	DefaultCapture        = "metadata"
	DefaultMaxAttrLen     = 4096
	DefaultDurability     = "default"

	// TracesPath is appended to a base endpoint.
	TracesPath = "/v1/traces"
)

// ConfigKeys lists every config-file key, in the order doctor prints them.
var ConfigKeys = []string{
	"endpoint", "protocol", "compression", "headers", "timeout",
	"client_cert", "client_key", "ca", "insecure_skip_verify", "disabled",
	"service_name", "resource",
	"state_dir", "sync", "durability", "lock_timeout",
	"outbox_max_spans", "outbox_max_bytes", "idle_timeout",
	"capture", "max_attr_len", "redact", "parent_from_traceparent", "prices",
}

// envFor lists, per key, the environment variables that set it, highest
// precedence first. The order across groups is the documented one:
// CCOTEL_*, then OTEL_*, then the seed script's names.
var envFor = map[string][]string{
	"endpoint":     {"CCOTEL_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"},
	"protocol":     {"CCOTEL_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"},
	"compression":  {"CCOTEL_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"},
	"headers":      {"CCOTEL_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"},
	"timeout":      {"CCOTEL_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"},
	"client_cert":  {"CCOTEL_CLIENT_CERT", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTLP_CLIENT_CERTIFICATE"},
	"client_key":   {"CCOTEL_CLIENT_KEY", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY", "OTLP_CLIENT_KEY"},
	"ca":           {"CCOTEL_CA", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE", "REQUESTS_CA_BUNDLE"},
	"disabled":     {"CCOTEL_DISABLED", "OTEL_SDK_DISABLED"},
	"service_name": {"CCOTEL_SERVICE_NAME", "OTEL_SERVICE_NAME"},
	"state_dir":    {"CCOTEL_STATE_DIR"},
	"sync":         {"CCOTEL_SYNC"},
	"durability":   {"CCOTEL_DURABILITY"},
	"lock_timeout": {"CCOTEL_LOCK_TIMEOUT"},
	"idle_timeout": {"CCOTEL_IDLE_TIMEOUT"},
	"capture":      {"CCOTEL_CAPTURE"},
	// resource: merged, see loadResource. insecure_skip_verify, redact,
	// prices, max_attr_len, outbox_*, parent_from_traceparent: file (and
	// flags) only.
}

// The standard variables whose values are owned by other tools too: a
// value ccotel cannot honour there is a warning and is skipped, not an
// error.
func isStandardEnv(name string) bool { return strings.HasPrefix(name, "OTEL_") }

// Load resolves the configuration. It fails only on a config file that
// exists but cannot be parsed, or on invalid values; a missing file is fine.
//
// Load runs on every hook event: it reads the environment and at most one
// small file, compiles no regular expression and opens no certificate.
func Load(o LoadOptions) (*Config, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	l := &loader{getenv: getenv, flags: o.Flags, cfg: &Config{Sources: map[string]string{}}}
	for k := range o.Flags {
		if k != "config" && !isConfigKey(k) {
			return nil, fmt.Errorf("ccotel: unknown configuration key %q", k)
		}
	}
	l.home = l.env("HOME")
	if err := l.readFile(); err != nil {
		return nil, err
	}
	for _, step := range []func() error{
		l.loadEndpoint, l.loadExport, l.loadTLS, l.loadResource, l.loadState, l.loadContent,
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return l.cfg, nil
}

// ConfigFilePath returns the config file Load reads: $CCOTEL_CONFIG, else
// $XDG_CONFIG_HOME/ccotel/config.toml, else ~/.config/ccotel/config.toml.
// getenv nil means os.LookupEnv.
func ConfigFilePath(getenv func(string) (string, bool)) string {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	l := &loader{getenv: getenv}
	l.home = l.env("HOME")
	p, _ := l.configPath()
	return p
}

func isConfigKey(k string) bool {
	for _, c := range ConfigKeys {
		if c == k {
			return true
		}
	}
	return false
}

type loader struct {
	getenv  func(string) (string, bool)
	flags   map[string]string
	home    string
	cfg     *Config
	file    map[string]any // decoded config file (nil if none)
	fileSrc string         // "file <path>"
	fileDir string
}

func (l *loader) env(name string) string {
	v, _ := l.getenv(name)
	return v
}

func (l *loader) warnf(format string, args ...any) {
	l.cfg.Warnings = append(l.cfg.Warnings, fmt.Sprintf(format, args...))
}

// configPath returns the config file path and the source that named it
// ("" for the default location).
func (l *loader) configPath() (path, namedBy string) {
	if p := l.flags["config"]; p != "" {
		return expandHome(p, l.home), "flag --config"
	}
	if p := l.env("CCOTEL_CONFIG"); p != "" {
		return expandHome(p, l.home), "env CCOTEL_CONFIG"
	}
	if x := l.env("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "ccotel", "config.toml"), ""
	}
	if l.home == "" {
		return "", ""
	}
	return filepath.Join(l.home, ".config", "ccotel", "config.toml"), ""
}

func (l *loader) readFile() error {
	path, namedBy := l.configPath()
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if namedBy != "" {
			l.warnf("config file %s (named by %s) does not exist", path, namedBy)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("ccotel: reading config file: %w", err)
	}
	var m map[string]any
	if _, err := toml.Decode(string(b), &m); err != nil {
		return fmt.Errorf("ccotel: config file %s: %w", path, err)
	}
	for k := range m {
		if !isConfigKey(k) {
			l.warnf("config file %s: unknown key %q (ignored)", path, k)
		}
	}
	l.file = m
	l.fileSrc = "file " + path
	l.fileDir = filepath.Dir(path)
	l.cfg.ConfigFile = path
	return nil
}

// value is one raw setting and where it came from.
type value struct {
	raw  string
	src  string // "flag --x", "env X", "file P"
	env  string // the variable's name when src is an env var
	file any    // the decoded TOML value when src is the file
}

// pick returns the highest-precedence setting of key among flags, the
// given variables (in order) and the config file.
func (l *loader) pick(key string) (value, bool) {
	vs := l.candidates(key, 1)
	if len(vs) == 0 {
		return value{}, false
	}
	return vs[0], true
}

// candidates returns up to max settings of key, highest precedence first.
func (l *loader) candidates(key string, max int) []value {
	var vs []value
	if v, ok := l.flags[key]; ok {
		vs = append(vs, value{raw: v, src: "flag --" + strings.ReplaceAll(key, "_", "-")})
	}
	for _, name := range envFor[key] {
		if len(vs) >= max {
			return vs
		}
		if v, ok := l.getenv(name); ok && strings.TrimSpace(v) != "" {
			vs = append(vs, value{raw: strings.TrimSpace(v), src: "env " + name, env: name})
		}
	}
	if fv, ok := l.file[key]; ok && len(vs) < max {
		v := value{src: l.fileSrc, file: fv}
		switch t := fv.(type) {
		case string:
			v.raw = t
		case int64:
			v.raw = strconv.FormatInt(t, 10)
		case float64:
			v.raw = strconv.FormatFloat(t, 'g', -1, 64)
		case bool:
			v.raw = strconv.FormatBool(t)
		}
		vs = append(vs, v)
	}
	return vs
}

func (l *loader) set(key, src string) { l.cfg.Sources[key] = src }

func (v value) errorf(key, format string, args ...any) error {
	return fmt.Errorf("ccotel: %s %q (from %s): %s", key, v.raw, v.src, fmt.Sprintf(format, args...))
}

func (v value) fromFile() bool { return v.file != nil }

// path expands "~" and, for a path written in the config file, resolves it
// against the file's directory (hooks run in whatever directory Claude
// Code is in, so a relative path there would be a trap).
func (l *loader) path(v value) string {
	p := expandHome(v.raw, l.home)
	if p != "" && v.fromFile() && !filepath.IsAbs(p) {
		p = filepath.Join(l.fileDir, p)
	}
	return p
}

func expandHome(p, home string) string {
	if home == "" {
		return p
	}
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

func (l *loader) loadEndpoint() error {
	v, ok := l.pick("endpoint")
	if !ok {
		l.set("endpoint", "not set")
		return nil
	}
	u, err := url.Parse(v.raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return v.errorf("endpoint", `want a URL starting with https:// (or http://), like "https://collector.example.com:4318"`)
	}
	switch v.env {
	case "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT":
		// A signal-specific endpoint is used as given (OTLP spec).
	case "OTEL_EXPORTER_OTLP_ENDPOINT":
		// A base endpoint always gets /v1/traces appended (OTLP spec).
		u.Path = strings.TrimSuffix(u.Path, "/") + TracesPath
	default:
		// ccotel's own endpoint (flag, CCOTEL_ENDPOINT, file) is a base
		// URL like OTEL_EXPORTER_OTLP_ENDPOINT, so a value copied from the
		// seed's settings.json means the same thing; a URL that already
		// ends in /v1/traces is taken as the full traces URL.
		if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), TracesPath) {
			u.Path = strings.TrimSuffix(u.Path, "/") + TracesPath
		}
	}
	u.RawPath = ""
	l.cfg.Endpoint = u.String()
	l.set("endpoint", v.src)
	return nil
}

func (l *loader) loadExport() error {
	c := l.cfg
	c.Protocol, c.Compression, c.Timeout = DefaultProtocol, DefaultCompression, DefaultTimeout
	for _, k := range []string{"protocol", "compression", "headers", "timeout", "disabled", "insecure_skip_verify"} {
		l.set(k, "default")
	}

protocol:
	for _, v := range l.candidates("protocol", 8) {
		switch p := strings.ToLower(v.raw); p {
		case "http/protobuf", "http/json":
			c.Protocol = p
			l.set("protocol", v.src)
			break protocol
		case "grpc":
			msg := "gRPC is not supported: ccotel sends OTLP over HTTP; use http/protobuf (port 4318) or http/json"
			if !isStandardEnv(v.env) {
				return v.errorf("protocol", "%s", msg)
			}
			// Another tool's setting: say so and fall through to the
			// next source.
			l.warnf("%s=grpc ignored: %s", v.env, msg)
		default:
			return v.errorf("protocol", `want "http/protobuf" or "http/json"`)
		}
	}
	if v, ok := l.pick("compression"); ok {
		switch p := strings.ToLower(v.raw); p {
		case "gzip", "none":
			c.Compression = p
		default:
			return v.errorf("compression", `want "gzip" or "none"`)
		}
		l.set("compression", v.src)
	}
	if v, ok := l.pick("headers"); ok {
		var err error
		if m, isTable := v.file.(map[string]any); isTable {
			c.Headers = make(map[string]string, len(m))
			for k, x := range m {
				s, isStr := x.(string)
				if !isStr {
					return fmt.Errorf("ccotel: headers.%s (from %s): want a string", k, v.src)
				}
				c.Headers[k] = s
			}
		} else if c.Headers, err = parseKeyValues(v.raw); err != nil {
			return fmt.Errorf("ccotel: headers (from %s): %v", v.src, err)
		}
		l.set("headers", v.src)
	}
	if v, ok := l.pick("timeout"); ok {
		d, err := parseDuration(v.raw)
		if err != nil || d <= 0 {
			return v.errorf("timeout", `want a positive duration like "10s" or milliseconds like 10000`)
		}
		c.Timeout = d
		l.set("timeout", v.src)
	}
	if v, ok := l.pick("disabled"); ok {
		b, err := parseBool(v.raw)
		if err != nil {
			return v.errorf("disabled", "want true or false")
		}
		c.Disabled = b
		l.set("disabled", v.src)
	}
	// insecure_skip_verify: only from the config file, on purpose.
	if fv, ok := l.file["insecure_skip_verify"]; ok {
		b, isBool := fv.(bool)
		if !isBool {
			return fmt.Errorf("ccotel: insecure_skip_verify (from %s): want true or false", l.fileSrc)
		}
		c.InsecureSkipVerify = b
		l.set("insecure_skip_verify", l.fileSrc)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_INSECURE", "OTEL_EXPORTER_OTLP_INSECURE"} {
		if v := l.env(name); v != "" {
			l.warnf("%s applies to gRPC only and is ignored: for OTLP/HTTP the endpoint's scheme decides (https:// or http://)", name)
		}
	}
	return nil
}

func (l *loader) loadTLS() error {
	c := l.cfg
	for _, f := range []struct {
		key string
		dst *string
	}{{"client_cert", &c.ClientCert}, {"client_key", &c.ClientKey}, {"ca", &c.CA}} {
		l.set(f.key, "not set")
		if v, ok := l.pick(f.key); ok {
			*f.dst = l.path(v)
			l.set(f.key, v.src)
		}
	}
	// REQUESTS_CA_BUNDLE is ambient (often a corporate bundle meant for
	// Python): it must not silently undo the file's private CA.
	if vs := l.candidates("ca", 8); len(vs) > 1 && vs[0].env == "REQUESTS_CA_BUNDLE" && vs[len(vs)-1].fromFile() {
		c.CAAlso = l.path(vs[len(vs)-1])
		l.set("ca", vs[0].src+" + "+vs[len(vs)-1].src)
	}
	return nil
}

func (l *loader) loadResource() error {
	c := l.cfg
	c.ServiceName = DefaultServiceName
	l.set("service_name", "default")
	if v, ok := l.pick("service_name"); ok {
		c.ServiceName = v.raw
		l.set("service_name", v.src)
	}

	// Merged key by key, lowest precedence first.
	c.ResourceAttrs = map[string]string{}
	var srcs []string
	if fv, ok := l.file["resource"]; ok {
		m, isTable := fv.(map[string]any)
		if !isTable {
			return fmt.Errorf("ccotel: resource (from %s): want a table like [resource] team = \"payments\"", l.fileSrc)
		}
		for k, x := range m {
			c.ResourceAttrs[k] = fmt.Sprint(x)
		}
		srcs = append(srcs, l.fileSrc)
	}
	for _, name := range []string{"OTEL_RESOURCE_ATTRIBUTES", "CCOTEL_RESOURCE_ATTRIBUTES"} {
		v := l.env(name)
		if strings.TrimSpace(v) == "" {
			continue
		}
		m, err := parseKeyValues(v)
		if err != nil {
			return fmt.Errorf("ccotel: %s: %v", name, err)
		}
		for k, x := range m {
			c.ResourceAttrs[k] = x
		}
		srcs = append(srcs, "env "+name)
	}
	if v, ok := l.flags["resource"]; ok {
		m, err := parseKeyValues(v)
		if err != nil {
			return fmt.Errorf("ccotel: --resource: %v", err)
		}
		for k, x := range m {
			c.ResourceAttrs[k] = x
		}
		srcs = append(srcs, "flag --resource")
	}
	if len(srcs) == 0 {
		l.set("resource", "not set")
	} else {
		for i, j := 0, len(srcs)-1; i < j; i, j = i+1, j-1 {
			srcs[i], srcs[j] = srcs[j], srcs[i]
		}
		l.set("resource", strings.Join(srcs, " > "))
	}
	// OTEL_SERVICE_NAME wins over service.name in the resource attributes
	// (OTel spec); a service.name there wins over ccotel's default.
	if sn, ok := c.ResourceAttrs["service.name"]; ok && l.cfg.Sources["service_name"] == "default" && sn != "" {
		c.ServiceName = sn
		l.set("service_name", "resource service.name ("+l.cfg.Sources["resource"]+")")
	}
	delete(c.ResourceAttrs, "service.name")
	return nil
}

func (l *loader) loadState() error {
	c := l.cfg
	if v, ok := l.pick("state_dir"); ok && v.raw != "" {
		c.StateDir = l.path(v)
		l.set("state_dir", v.src)
	} else if x := l.env("XDG_STATE_HOME"); filepath.IsAbs(x) {
		c.StateDir = filepath.Join(x, "ccotel")
		l.set("state_dir", "default ($XDG_STATE_HOME/ccotel)")
	} else {
		home := l.home
		if home == "" {
			home = os.TempDir() // no home at all: still somewhere private-ish, never "" (the cwd)
		}
		c.StateDir = filepath.Join(home, ".local", "state", "ccotel")
		l.set("state_dir", "default")
	}

	c.Durability, c.LockTimeout, c.IdleTimeout = DefaultDurability, DefaultLockTimeout, DefaultIdleTimeout
	c.OutboxMaxSpans, c.OutboxMaxBytes = DefaultOutboxMaxSpans, DefaultOutboxMaxBytes
	if err := l.boolKey("sync", &c.Sync); err != nil {
		return err
	}
	l.set("durability", "default")
	if v, ok := l.pick("durability"); ok {
		switch d := strings.ToLower(v.raw); d {
		case "default", "full":
			c.Durability = d
		default:
			return v.errorf("durability", `want "default" (no fsync in the hook) or "full"`)
		}
		l.set("durability", v.src)
	}
	if err := l.durationKey("lock_timeout", &c.LockTimeout); err != nil {
		return err
	}
	if err := l.durationKey("idle_timeout", &c.IdleTimeout); err != nil {
		return err
	}
	var maxSpans, maxBytes int64 = int64(c.OutboxMaxSpans), c.OutboxMaxBytes
	if err := l.intKey("outbox_max_spans", &maxSpans); err != nil {
		return err
	}
	if err := l.intKey("outbox_max_bytes", &maxBytes); err != nil {
		return err
	}
	c.OutboxMaxSpans, c.OutboxMaxBytes = int(maxSpans), maxBytes
	return nil
}

func (l *loader) loadContent() error {
	c := l.cfg
	c.Capture, c.MaxAttrLen = DefaultCapture, DefaultMaxAttrLen
	l.set("capture", "default")
	if v, ok := l.pick("capture"); ok {
		switch s := strings.ToLower(v.raw); s {
		case "metadata", "details", "content":
			c.Capture = s
		default:
			return v.errorf("capture", `want "metadata", "details" or "content"`)
		}
		l.set("capture", v.src)
	}
	maxLen := int64(c.MaxAttrLen)
	if err := l.intKey("max_attr_len", &maxLen); err != nil {
		return err
	}
	c.MaxAttrLen = int(maxLen)
	if err := l.boolKey("parent_from_traceparent", &c.ParentFromTraceparent); err != nil {
		return err
	}

	l.set("redact", "not set")
	if v, ok := l.flags["redact"]; ok {
		c.RedactPatterns = []string{v}
		l.set("redact", "flag --redact")
	} else if fv, ok := l.file["redact"]; ok {
		list, isList := fv.([]any)
		if !isList {
			return fmt.Errorf("ccotel: redact (from %s): want an array of regular expressions", l.fileSrc)
		}
		for _, x := range list {
			s, isStr := x.(string)
			if !isStr {
				return fmt.Errorf("ccotel: redact (from %s): want an array of strings", l.fileSrc)
			}
			c.RedactPatterns = append(c.RedactPatterns, s)
		}
		l.set("redact", l.fileSrc)
	}

	l.set("prices", "default")
	if fv, ok := l.file["prices"]; ok {
		models, isTable := fv.(map[string]any)
		if !isTable {
			return fmt.Errorf(`ccotel: prices (from %s): want tables like [prices."claude-sonnet-4-5"]`, l.fileSrc)
		}
		c.Prices = make(map[string]ModelPrice, len(models))
		for model, x := range models {
			p, err := parsePrice(x)
			if err != nil {
				return fmt.Errorf("ccotel: prices.%q (from %s): %v", model, l.fileSrc, err)
			}
			c.Prices[model] = p
		}
		l.set("prices", l.fileSrc)
	}
	return nil
}

func parsePrice(x any) (ModelPrice, error) {
	m, ok := x.(map[string]any)
	if !ok {
		return ModelPrice{}, errors.New("want a table of input, output, cache_write_5m, cache_write_1h, cache_read")
	}
	var p ModelPrice
	for k, v := range m {
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case int64:
			f = float64(n)
		default:
			return p, fmt.Errorf("%s: want a number (USD per million tokens)", k)
		}
		switch k {
		case "input":
			p.Input = f
		case "output":
			p.Output = f
		case "cache_write_5m":
			p.CacheWrite5m = f
		case "cache_write_1h":
			p.CacheWrite1h = f
		case "cache_read":
			p.CacheRead = f
		default:
			return p, fmt.Errorf("unknown key %q", k)
		}
	}
	return p, nil
}

func (l *loader) boolKey(key string, dst *bool) error {
	l.set(key, "default")
	v, ok := l.pick(key)
	if !ok {
		return nil
	}
	b, err := parseBool(v.raw)
	if err != nil {
		return v.errorf(key, "want true or false")
	}
	*dst = b
	l.set(key, v.src)
	return nil
}

func (l *loader) durationKey(key string, dst *time.Duration) error {
	l.set(key, "default")
	v, ok := l.pick(key)
	if !ok {
		return nil
	}
	d, err := parseDuration(v.raw)
	if err != nil || d <= 0 {
		return v.errorf(key, `want a positive duration like "2s", "24h" or milliseconds`)
	}
	*dst = d
	l.set(key, v.src)
	return nil
}

func (l *loader) intKey(key string, dst *int64) error {
	l.set(key, "default")
	v, ok := l.pick(key)
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(v.raw, 10, 64)
	if err != nil || n <= 0 {
		return v.errorf(key, "want a positive whole number")
	}
	*dst = n
	l.set(key, v.src)
	return nil
}

// parseDuration accepts Go durations ("10s", "1m30s") and, like the
// OTEL_*_TIMEOUT variables, a bare number of milliseconds.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n) * time.Millisecond, nil
	}
	return time.ParseDuration(s)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "yes", "on":
		return true, nil
	case "0", "f", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// parseKeyValues parses the W3C-baggage-like list the OTEL variables use:
// "k1=v1,k2=v2", keys and values URL-encoded (percent-decoded here), spaces
// around items ignored.
func parseKeyValues(s string) (map[string]string, error) {
	m := map[string]string{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("want key=value pairs separated by commas, got an item without '=' (%q)", redactItem(item))
		}
		dk, err1 := url.PathUnescape(k)
		dv, err2 := url.PathUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad percent-encoding in the item for key %q", k)
		}
		m[dk] = dv
	}
	return m, nil
}

// redactItem keeps an error message from echoing what may be a secret.
func redactItem(s string) string {
	if len(s) <= 4 {
		return "…"
	}
	return s[:4] + "…"
}

// SortedKeys returns m's keys in order (for printing headers and
// resource attributes deterministically).
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
