package tracing

import (
	"os"
	"os/user"
	"runtime"
	"sort"

	"github.com/ccotel/ccotel/internal/semconv"
)

// SchemaURL is the semantic-conventions schema of the resource and span
// attributes (internal/semconv).
const SchemaURL = semconv.SchemaURL

// ResourceAttrs describes who sends the traces, so a central collector can
// tell many developers' machines apart: service.name (opts.ServiceName),
// service.version and ccotel.version (opts.Version), host.name, os.type,
// process.owner and user.name, telemetry.sdk.*, then opts.ResourceAttrs,
// which override the detected values (service.name excepted: that is
// opts.ServiceName, already resolved with the attributes in mind). Sorted
// by key.
//
// It looks up the host and user, so the flusher builds it once per run;
// the hook never does.
func ResourceAttrs(opts *Options) []Attr {
	version := opts.Version
	m := map[string]string{
		semconv.ServiceVersion:       version,
		semconv.CcotelVersion:        version,
		semconv.TelemetrySDKName:     "ccotel",
		semconv.TelemetrySDKLanguage: "go",
		semconv.TelemetrySDKVersion:  version,
		semconv.OSType:               runtime.GOOS,
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		m[semconv.HostName] = h
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		m[semconv.ProcessOwner] = u.Username
		m[semconv.UserName] = u.Username
	}
	for k, v := range opts.ResourceAttrs {
		m[k] = v
	}
	m[semconv.ServiceName] = opts.ServiceName
	if m[semconv.ServiceName] == "" {
		m[semconv.ServiceName] = DefaultServiceName
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, String(k, m[k]))
	}
	return attrs
}
