package config

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/usage"
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
	Protocol           string            // "http/protobuf" (tracing.DefaultProtocol) or "http/json"
	Compression        string            // "gzip" (tracing.DefaultCompression) or "none"
	Headers            map[string]string // extra HTTP headers (values are secrets: never log them)
	Timeout            time.Duration     // per export request; default tracing.DefaultTimeout
	ClientCert         string            // PEM client certificate path ("~" expanded)
	ClientKey          string            // PEM client key path
	CA                 string            // PEM CA bundle for the server, added to system roots
	CAAlso             string            // the file's ca, trusted too when REQUESTS_CA_BUNDLE took precedence over it
	InsecureSkipVerify bool              // only from the config file key insecure_skip_verify
	Disabled           bool              // OTEL_SDK_DISABLED=true or disabled = true

	// Resource.
	ServiceName   string            // default tracing.DefaultServiceName
	ResourceAttrs map[string]string // OTEL_RESOURCE_ATTRIBUTES, CCOTEL_RESOURCE_ATTRIBUTES, [resource] table

	// State and delivery.
	StateDir       string        // default $XDG_STATE_HOME/ccotel or ~/.local/state/ccotel
	Sync           bool          // export inline in the hook (hard deadline = Timeout)
	Durability     string        // "default" (DefaultDurability: no fsync in the hook) or "full"
	LockTimeout    time.Duration // hook's bounded wait for the database; default state.DefaultLockTimeout
	OutboxMaxSpans int           // default state.DefaultOutboxMaxSpans
	OutboxMaxBytes int64         // default state.DefaultOutboxMaxBytes
	IdleTimeout    time.Duration // a session with no event for this long is closed; default hook.DefaultIdleTimeout
	RetryFor       time.Duration // the flusher keeps trying an unreachable collector this long; default delivery.DefaultRetryFor
	RetryMax       time.Duration // cap on the flusher's backoff (retry_max_interval); default delivery.DefaultMaxBackoff

	// Trace content.
	Capture               hook.Capture // hook.CaptureMetadata (hook.DefaultCapture), CaptureDetails, CaptureContent
	MaxAttrLen            int          // cap on every captured string attribute; default hook.DefaultMaxAttrLen
	RedactPatterns        []string     // extra regexes whose matches are redacted
	ParentFromTraceparent bool         // TRACEPARENT becomes the root's parent instead of a link
	TraceSplit            string       // hook.TraceSplitSession (hook.DefaultTraceSplit: one trace per session) or TraceSplitTurn

	// Cost: per-model prices in USD per million tokens, overriding the
	// built-in table. Keys are model ids or prefixes ("claude-sonnet-4-5").
	Prices map[string]usage.Price

	// Where each value came from, by config-file key name ("endpoint",
	// "client_cert", …): "flag --endpoint", "env CCOTEL_ENDPOINT",
	// "env OTEL_EXPORTER_OTLP_ENDPOINT", "file ~/.config/ccotel/config.toml",
	// "default".
	Sources map[string]string

	// ConfigFile is the path of the config file that was read ("" if none).
	ConfigFile string
	// SystemConfigFile is the system-wide config file that was read ("" if
	// none): SystemConfigPath, below the user's file.
	SystemConfigFile string

	// Warnings are problems that did not stop Load: unknown keys in the
	// config file, standard OTEL_* values ccotel cannot honour (gRPC,
	// INSECURE), a named config file that does not exist. doctor prints
	// them; the hook ignores them.
	Warnings []string
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
	// EnvFrom names, per variable, the file that put it in Getenv's
	// environment (a Claude Code settings file's env block, as a hook gets
	// it): its source reads "env NAME (from FILE)".
	EnvFrom map[string]string
}

// Every other default is declared by the package that uses the value
// (tracing, state, hook: otlpconfig's way); Load resolves an unset key to
// that package's constant, and TestDocumentedDefaults holds docs/CONFIG.md
// to them.
const (
	// DefaultDurability is the durability key's own vocabulary: "default"
	// is state.Options.Durable false, "full" is true.
	DefaultDurability = "default"

	// TracesPath is appended to a base endpoint.
	TracesPath = "/v1/traces"
)

// ConfigKeys lists every config-file key, in the order doctor prints them.
var ConfigKeys = []string{
	"endpoint", "protocol", "compression", "headers", "timeout",
	"client_cert", "client_key", "ca", "insecure_skip_verify", "disabled",
	"service_name", "resource",
	"state_dir", "sync", "durability", "lock_timeout",
	"outbox_max_spans", "outbox_max_bytes", "idle_timeout", "retry_for", "retry_max_interval",
	"capture", "max_attr_len", "redact", "parent_from_traceparent", "prices",
	"trace_split",
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
	"trace_split":  {"CCOTEL_TRACE_SPLIT"},

	// The flusher's retry (delivery).
	"retry_for":          {"CCOTEL_RETRY_FOR"},
	"retry_max_interval": {"CCOTEL_RETRY_MAX_INTERVAL"},
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
	l := &loader{getenv: getenv, flags: o.Flags, envFrom: o.EnvFrom, cfg: &Config{Sources: map[string]string{}}}
	for k := range o.Flags {
		if k != "config" && !isConfigKey(k) {
			return nil, fmt.Errorf("ccotel: unknown configuration key %q", k)
		}
	}
	l.home = l.env("HOME")
	if err := l.readFile(); err != nil {
		return nil, err
	}
	if err := l.readSystemFile(); err != nil {
		return nil, err
	}
	for _, step := range []func() error{
		l.loadEndpoint, l.loadExport, l.loadTLS, l.loadResource, l.loadState, l.loadDelivery, l.loadContent,
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
