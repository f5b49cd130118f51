package tracing

import (
	"errors"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// AppendOTLPProto appends spans to b as one OTLP protobuf
// ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1):
// a single ResourceSpans with the given resource attributes and schema
// URL, and a single ScopeSpans. It is the wire format of http/protobuf,
// written directly with protowire: the generated OTLP packages (and the
// gRPC packages they pull in) would cost every hook process several
// milliseconds of package initialisation, for code only the flusher runs.
// TestProtoMatchesSDK checks the bytes decode to what the OpenTelemetry
// SDK's exporter sends for the same spans.
func AppendOTLPProto(b []byte, resource []Attr, schemaURL string, scope Scope, spans []*Span) []byte {
	return appendMessage(b, 1, func(b []byte) []byte { // resource_spans
		b = appendMessage(b, 1, func(b []byte) []byte { // resource
			return appendAttrs(b, 1, resource)
		})
		b = appendMessage(b, 2, func(b []byte) []byte { // scope_spans
			b = appendMessage(b, 1, func(b []byte) []byte { // scope
				b = appendString(b, 1, scope.Name)
				return appendString(b, 2, scope.Version)
			})
			for _, s := range spans {
				b = appendMessage(b, 2, func(b []byte) []byte { return appendSpan(b, s) })
			}
			return b
		})
		return appendString(b, 3, schemaURL)
	})
}

// Span flags (opentelemetry/proto/trace/v1 SpanFlags): the W3C trace flags
// in the low byte (sampled), and whether the parent is known to be local.
const (
	spanFlagsSampled          = 0x01
	spanFlagsContextHasRemote = 0x100 // "we know whether the parent is remote"
	spanFlagsContextIsRemote  = 0x200 // links point into other traces
)

func appendSpan(b []byte, s *Span) []byte {
	b = appendBytes(b, 1, s.TraceID[:])
	b = appendBytes(b, 2, s.SpanID[:])
	if s.ParentSpanID.IsValid() {
		b = appendBytes(b, 4, s.ParentSpanID[:])
	}
	b = appendString(b, 5, s.Name)
	kind := s.Kind
	if kind == KindUnspecified {
		kind = KindInternal
	}
	b = protowire.AppendTag(b, 6, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(kind))
	b = appendFixed64(b, 7, unixNanos(s.Start))
	b = appendFixed64(b, 8, unixNanos(s.End))
	b = appendAttrs(b, 9, s.Attrs)
	for _, e := range s.Events {
		b = appendMessage(b, 11, func(b []byte) []byte {
			b = appendFixed64(b, 1, unixNanos(e.Time))
			b = appendString(b, 2, e.Name)
			return appendAttrs(b, 3, e.Attrs)
		})
	}
	if s.DroppedEvents > 0 {
		b = protowire.AppendTag(b, 12, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(s.DroppedEvents))
	}
	for _, l := range s.Links {
		b = appendMessage(b, 13, func(b []byte) []byte {
			b = appendBytes(b, 1, l.TraceID[:])
			b = appendBytes(b, 2, l.SpanID[:])
			b = appendAttrs(b, 4, l.Attrs)
			return appendFixed32(b, 6, spanFlagsSampled|spanFlagsContextHasRemote|spanFlagsContextIsRemote)
		})
	}
	b = appendMessage(b, 15, func(b []byte) []byte { // status
		b = appendString(b, 2, s.StatusMessage)
		if s.StatusCode != StatusUnset {
			b = protowire.AppendTag(b, 3, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(s.StatusCode))
		}
		return b
	})
	return appendFixed32(b, 16, spanFlagsSampled|spanFlagsContextHasRemote)
}

func appendAttrs(b []byte, field protowire.Number, as []Attr) []byte {
	for _, a := range as {
		b = appendMessage(b, field, func(b []byte) []byte { // KeyValue
			b = appendString(b, 1, a.Key)
			return appendMessage(b, 2, func(b []byte) []byte { return appendAnyValue(b, a) })
		})
	}
	return b
}

// appendAnyValue writes the AnyValue fields of a (oneof: exactly one).
func appendAnyValue(b []byte, a Attr) []byte {
	switch a.Type {
	case "int":
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(a.Int))
	case "float":
		b = protowire.AppendTag(b, 4, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, math.Float64bits(a.Float))
	case "bool":
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeBool(a.Bool))
	case "strings":
		return appendMessage(b, 5, func(b []byte) []byte { // ArrayValue
			for _, s := range a.Strings {
				b = appendMessage(b, 1, func(b []byte) []byte {
					b = protowire.AppendTag(b, 1, protowire.BytesType)
					return protowire.AppendString(b, s)
				})
			}
			return b
		})
	default:
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		return protowire.AppendString(b, a.Str)
	}
}

// appendMessage writes a length-delimited sub-message built by fn: the
// body is appended first, then moved right by the size of its length
// prefix (one memmove per nesting level, cheaper than sizing twice).
func appendMessage(b []byte, field protowire.Number, fn func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	at := len(b)
	b = fn(b)
	n := len(b) - at
	size := protowire.SizeVarint(uint64(n))
	b = append(b, make([]byte, size)...)
	copy(b[at+size:], b[at:at+n])
	protowire.AppendVarint(b[at:at], uint64(n))
	return b
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytes(b []byte, field protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendFixed64(b []byte, field protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, field, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, v)
}

func appendFixed32(b []byte, field protowire.Number, v uint32) []byte {
	b = protowire.AppendTag(b, field, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, v)
}

func unixNanos(t interface{ UnixNano() int64 }) uint64 {
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}

// parsePartialSuccess reads the partial_success of a protobuf
// ExportTraceServiceResponse: rejected_spans (1) and error_message (2).
func parsePartialSuccess(b []byte) (rejected int64, msg string, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, "", errors.New("bad protobuf response")
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			ps, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, "", errors.New("bad protobuf response")
			}
			b = b[n:]
			for len(ps) > 0 {
				num, typ, n := protowire.ConsumeTag(ps)
				if n < 0 {
					return 0, "", errors.New("bad partial_success")
				}
				ps = ps[n:]
				switch {
				case num == 1 && typ == protowire.VarintType:
					v, n := protowire.ConsumeVarint(ps)
					if n < 0 {
						return 0, "", errors.New("bad rejected_spans")
					}
					rejected, ps = int64(v), ps[n:]
				case num == 2 && typ == protowire.BytesType:
					v, n := protowire.ConsumeString(ps)
					if n < 0 {
						return 0, "", errors.New("bad error_message")
					}
					msg, ps = v, ps[n:]
				default:
					n := protowire.ConsumeFieldValue(num, typ, ps)
					if n < 0 {
						return 0, "", errors.New("bad partial_success")
					}
					ps = ps[n:]
				}
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, "", errors.New("bad protobuf response")
		}
		b = b[n:]
	}
	return rejected, msg, nil
}
