package tracing

import "time"

// Options is everything the OTLP/HTTP client needs: where to send, how,
// with which certificates, and who is sending. internal/config resolves
// them from flags, the environment and the config file (Config.Export).
type Options struct {
	Endpoint    string            // full traces URL, e.g. https://collector:4318/v1/traces
	Protocol    string            // "http/protobuf" ("" too) or "http/json"
	Compression string            // "gzip" or "none" ("" too)
	Headers     map[string]string // extra HTTP headers (values are secrets: never log them)
	Timeout     time.Duration     // per request, and per TLS probe dial; 0 = DefaultTimeout

	ClientCert         string // PEM client certificate path
	ClientKey          string // PEM client key path (may also hold the certificate)
	CA                 string // PEM CA bundle for the server, added to the system roots
	CAAlso             string // a second CA bundle trusted too ("" = none)
	InsecureSkipVerify bool   // do not verify the server (config file opt-in only)

	ServiceName   string            // service.name of the resource
	ResourceAttrs map[string]string // extra resource attributes, overriding detected ones

	// Version is ccotel's version: service.version, the instrumentation
	// scope's version and the User-Agent.
	Version string

	// Sources says where client_cert, client_key and ca came from ("env
	// CCOTEL_CA", "file …"), so that errors name the setting to fix.
	Sources map[string]string
}

// The export's defaults, declared here, where they are used;
// internal/config resolves an unset key to them.
const (
	DefaultProtocol    = "http/protobuf"
	DefaultCompression = "gzip"
	DefaultTimeout     = 10 * time.Second
	// DefaultServiceName is service.name when none is configured.
	DefaultServiceName = "claude-code"
)

func (o *Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}
