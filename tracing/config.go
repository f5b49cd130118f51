package tracing

import "time"

// Config is ccotel's resolved configuration: one struct, every value's
// source known (Sources), resolved once per process by Load.
//
// Precedence, highest first: command-line flags; CCOTEL_* variables; the
// standard OTEL_EXPORTER_OTLP_[TRACES_]* / OTEL_SERVICE_NAME /
// OTEL_RESOURCE_ATTRIBUTES / OTEL_SDK_DISABLED variables; the seed script's
// OTLP_CLIENT_CERTIFICATE, OTLP_CLIENT_KEY, REQUESTS_CA_BUNDLE; the config
// file ($CCOTEL_CONFIG, else $XDG_CONFIG_HOME/ccotel/config.toml, else
// ~/.config/ccotel/config.toml); defaults.
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
	// Getenv looks up an environment variable (os.LookupEnv in production).
	Getenv func(string) (string, bool)
	// Flags holds values given on the command line, by config-file key
	// ("endpoint", "client_cert", "client_key", "ca", "state_dir", …).
	Flags map[string]string
}

// Load resolves the configuration. It fails only on a config file that
// exists but cannot be parsed, or on invalid values; a missing file is fine.
func Load(o LoadOptions) (*Config, error) { panic("unimplemented") }
