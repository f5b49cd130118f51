// Command otlpdeps drains stdin like bench/drain, but links the
// OpenTelemetry OTLP/HTTP exporter and SDK (and, through them, gRPC, the
// gRPC gateway and protobuf), so its run time shows what linking the
// exporter costs every process of the binary, hooks included.
package main

import (
	"io"
	"os"

	_ "go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	_ "go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func main() {
	io.Copy(io.Discard, os.Stdin)
}
