// Package tracing is ccotel's span record and its way to a collector: the
// Span that the hook builds and the outbox stores (in a binary form of its
// own), OTLP encoding in protobuf and JSON, the OTLP/HTTP client with
// mutual TLS, the resource, and the classification of a failed export
// that the flusher's retry policy acts on. It knows nothing of Claude
// Code, bbolt or when to retry.
//
// It encodes OTLP itself instead of through the OpenTelemetry SDK or the
// generated OTLP types, which every hook process would pay for at
// start-up; docs/ARCHITECTURE.md says why, and the fuzz tests check its
// requests against the SDK's.
package tracing
