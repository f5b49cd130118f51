package tracing

import (
	"os"
	"os/user"
	"runtime"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
)

// Resource describes who sends the traces, so a central collector can
// tell many developers' machines apart: service.name (cfg.ServiceName),
// service.version and ccotel.version (version), host.name, os.type,
// process.owner and user.name, telemetry.sdk.*, then cfg.ResourceAttrs,
// which override the detected values (service.name excepted: that is
// cfg.ServiceName, already resolved with the attributes in mind).
//
// It looks up the host and user, so the flusher builds it once per run;
// the hook never does.
func Resource(cfg *Config, version string) *resource.Resource {
	attrs := []attribute.KeyValue{
		semconv.ServiceVersionKey.String(version),
		attribute.String("ccotel.version", version),
		semconv.TelemetrySDKNameKey.String("opentelemetry"),
		semconv.TelemetrySDKLanguageKey.String("go"),
		semconv.TelemetrySDKVersionKey.String(sdk.Version()),
		semconv.OSTypeKey.String(runtime.GOOS),
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		attrs = append(attrs, semconv.HostNameKey.String(h))
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		attrs = append(attrs, semconv.ProcessOwnerKey.String(u.Username), semconv.UserNameKey.String(u.Username))
	}
	for _, k := range SortedKeys(cfg.ResourceAttrs) {
		attrs = append(attrs, attribute.String(k, cfg.ResourceAttrs[k]))
	}
	name := cfg.ServiceName
	if name == "" {
		name = DefaultServiceName
	}
	// Later attributes win in NewWithAttributes: service.name goes last.
	attrs = append(attrs, semconv.ServiceNameKey.String(name))
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...)
}
