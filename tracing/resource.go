package tracing

import (
	"os"
	"os/user"
	"runtime"
	"sort"
)

// SchemaURL is the semantic-conventions schema of the resource and span
// attributes (semconv v1.41.0, the GenAI keys).
const SchemaURL = "https://opentelemetry.io/schemas/1.41.0"

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
		"service.version":        version,
		"ccotel.version":         version,
		"telemetry.sdk.name":     "ccotel",
		"telemetry.sdk.language": "go",
		"telemetry.sdk.version":  version,
		"os.type":                runtime.GOOS,
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		m["host.name"] = h
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		m["process.owner"] = u.Username
		m["user.name"] = u.Username
	}
	for k, v := range opts.ResourceAttrs {
		m[k] = v
	}
	m["service.name"] = opts.ServiceName
	if m["service.name"] == "" {
		m["service.name"] = DefaultServiceName
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
