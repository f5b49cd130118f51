package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

type loader struct {
	getenv  func(string) (string, bool)
	flags   map[string]string
	home    string
	cfg     *Config
	file    map[string]any // decoded config file (nil if none)
	fileSrc string         // "file <path>"
	fileDir string
	system  systemLayer // the system-wide config file's keys merged into file (system.go)
	envFrom map[string]string
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
		return ExpandHome(p, l.home), "flag --config"
	}
	if p := l.env("CCOTEL_CONFIG"); p != "" {
		return ExpandHome(p, l.home), "env CCOTEL_CONFIG"
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
	b, err := readConfigFile(path)
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
	dir  string // the directory of that file (relative paths)
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
			vs = append(vs, value{raw: strings.TrimSpace(v), src: l.envSrc(name), env: name})
		}
	}
	if fv, ok := l.file[key]; ok && len(vs) < max {
		v := value{src: l.fileSrcOf(key), file: fv, dir: l.fileDirOf(key)}
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
	p := ExpandHome(v.raw, l.home)
	if p != "" && v.fromFile() && !filepath.IsAbs(p) {
		p = filepath.Join(v.dir, p)
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
	c.Protocol, c.Compression, c.Timeout = tracing.DefaultProtocol, tracing.DefaultCompression, tracing.DefaultTimeout
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
			return fmt.Errorf("ccotel: insecure_skip_verify (from %s): want true or false", l.fileSrcOf("insecure_skip_verify"))
		}
		c.InsecureSkipVerify = b
		l.set("insecure_skip_verify", l.fileSrcOf("insecure_skip_verify"))
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
	c.ServiceName = tracing.DefaultServiceName
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
			return fmt.Errorf("ccotel: resource (from %s): want a table like [resource] team = \"payments\"", l.fileSrcOf("resource"))
		}
		for k, x := range m {
			c.ResourceAttrs[k] = fmt.Sprint(x)
		}
		srcs = append(srcs, l.fileSrcOf("resource"))
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
	} else {
		dir, src := DefaultStateDir(l.getenv)
		c.StateDir = dir
		l.set("state_dir", src)
	}

	c.Durability, c.LockTimeout, c.IdleTimeout = DefaultDurability, state.DefaultLockTimeout, hook.DefaultIdleTimeout
	c.OutboxMaxSpans, c.OutboxMaxBytes = state.DefaultOutboxMaxSpans, state.DefaultOutboxMaxBytes
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
	c.Capture, c.MaxAttrLen = hook.DefaultCapture, hook.DefaultMaxAttrLen
	l.set("capture", "default")
	if v, ok := l.pick("capture"); ok {
		if c.Capture, ok = hook.ParseCapture(v.raw); !ok {
			return v.errorf("capture", `want "metadata", "details" or "content"`)
		}
		l.set("capture", v.src)
	}
	c.TraceSplit = hook.DefaultTraceSplit
	l.set("trace_split", "default")
	if v, ok := l.pick("trace_split"); ok {
		switch v.raw {
		case hook.TraceSplitSession, hook.TraceSplitTurn:
			c.TraceSplit = v.raw
		default:
			return v.errorf("trace_split", `want "session" or "turn"`)
		}
		l.set("trace_split", v.src)
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
			return fmt.Errorf("ccotel: redact (from %s): want an array of regular expressions", l.fileSrcOf("redact"))
		}
		for _, x := range list {
			s, isStr := x.(string)
			if !isStr {
				return fmt.Errorf("ccotel: redact (from %s): want an array of strings", l.fileSrcOf("redact"))
			}
			c.RedactPatterns = append(c.RedactPatterns, s)
		}
		l.set("redact", l.fileSrcOf("redact"))
	}

	l.set("prices", "default")
	if fv, ok := l.file["prices"]; ok {
		models, isTable := fv.(map[string]any)
		if !isTable {
			return fmt.Errorf(`ccotel: prices (from %s): want tables like [prices."claude-sonnet-4-5"]`, l.fileSrcOf("prices"))
		}
		c.Prices = make(map[string]usage.Price, len(models))
		for model, x := range models {
			p, err := parsePrice(x)
			if err != nil {
				return fmt.Errorf("ccotel: prices.%q (from %s): %v", model, l.fileSrcOf("prices"), err)
			}
			c.Prices[model] = p
		}
		l.set("prices", l.fileSrcOf("prices"))
	}
	return nil
}
