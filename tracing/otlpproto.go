package tracing

import (
	"errors"
	"math"
	"time"
	"unicode/utf8"
)

// AppendOTLPProto appends spans to b as one OTLP protobuf
// ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1),
// which is also a TracesData (trace/v1): a single ResourceSpans with the
// given resource attributes and schema URL, and a single ScopeSpans (no
// scope message when scope is empty). It is the body of http/protobuf.
//
// Strings are written as valid UTF-8, each byte that is not replaced by
// U+FFFD, as encoding/json does for the outbox and the OTLP/JSON encoder:
// protobuf string fields must be UTF-8, and a decoder that checks (the
// generated Go types do) would reject the whole request. An unspecified
// kind is exported as internal; negative times and counts as zero.
//
// The wire format is written directly (wire.go) instead of by the generated
// types of go.opentelemetry.io/proto/otlp marshalled with
// google.golang.org/protobuf: linking those costs every process of the
// binary, hooks included, before any work, for code only the flusher runs.
// docs/ARCHITECTURE.md ("Choices that were measured") says why,
// docs/PERFORMANCE.md has the figures. FuzzProtoMatchesSDK checks that the
// bytes decode, with those generated types, to what the OpenTelemetry SDK's
// exporter sends for the same spans.
func AppendOTLPProto(b []byte, resource []Attr, schemaURL string, scope Scope, spans []*Span) []byte {
	return appendMessage(b, 1, func(b []byte) []byte { // resource_spans
		b = appendMessage(b, 1, func(b []byte) []byte { // resource
			return appendAttrs(b, 1, resource)
		})
		b = appendMessage(b, 2, func(b []byte) []byte { // scope_spans
			if scope != (Scope{}) {
				b = appendMessage(b, 1, func(b []byte) []byte { // scope
					b = appendString(b, 1, scope.Name)
					return appendString(b, 2, scope.Version)
				})
			}
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
	b = appendTag(b, 6, wireVarint)
	b = appendVarint(b, uint64(exportKind(s.Kind)))
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
	if n := droppedCount(s.DroppedEvents); n > 0 {
		b = appendTag(b, 12, wireVarint)
		b = appendVarint(b, uint64(n))
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
			b = appendTag(b, 3, wireVarint)
			b = appendVarint(b, uint64(s.StatusCode))
		}
		return b
	})
	return appendFixed32(b, 16, spanFlagsSampled|spanFlagsContextHasRemote)
}

func appendAttrs(b []byte, field wireNumber, as []Attr) []byte {
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
		b = appendTag(b, 3, wireVarint)
		return appendVarint(b, uint64(a.Int))
	case "float":
		b = appendTag(b, 4, wireFixed64)
		return appendWireFixed64(b, math.Float64bits(a.Float))
	case "bool":
		b = appendTag(b, 2, wireVarint)
		return appendVarint(b, encodeBool(a.Bool))
	case "strings":
		return appendMessage(b, 5, func(b []byte) []byte { // ArrayValue
			for _, s := range a.Strings {
				b = appendMessage(b, 1, func(b []byte) []byte {
					b = appendTag(b, 1, wireBytes)
					return appendUTF8(b, s)
				})
			}
			return b
		})
	default:
		b = appendTag(b, 1, wireBytes)
		return appendUTF8(b, a.Str)
	}
}

// appendMessage writes a length-delimited sub-message built by fn: the
// body is appended first, then moved right by the size of its length
// prefix (one memmove per nesting level, cheaper than sizing twice).
func appendMessage(b []byte, field wireNumber, fn func([]byte) []byte) []byte {
	b = appendTag(b, field, wireBytes)
	at := len(b)
	b = fn(b)
	n := len(b) - at
	size := sizeVarint(uint64(n))
	b = append(b, make([]byte, size)...)
	copy(b[at+size:], b[at:at+n])
	appendVarint(b[at:at], uint64(n))
	return b
}

func appendString(b []byte, field wireNumber, s string) []byte {
	if s == "" {
		return b
	}
	b = appendTag(b, field, wireBytes)
	return appendUTF8(b, s)
}

// appendUTF8 writes s length-prefixed, each byte of it that is not valid
// UTF-8 replaced by U+FFFD (as encoding/json and a []rune conversion do).
func appendUTF8(b []byte, s string) []byte {
	if utf8.ValidString(s) {
		return appendWireString(b, s)
	}
	n := 0
	for _, r := range s {
		n += utf8.RuneLen(r)
	}
	b = appendVarint(b, uint64(n))
	for _, r := range s {
		b = utf8.AppendRune(b, r)
	}
	return b
}

func appendBytes(b []byte, field wireNumber, v []byte) []byte {
	b = appendTag(b, field, wireBytes)
	return appendWireBytes(b, v)
}

func appendFixed64(b []byte, field wireNumber, v uint64) []byte {
	b = appendTag(b, field, wireFixed64)
	return appendWireFixed64(b, v)
}

func appendFixed32(b []byte, field wireNumber, v uint32) []byte {
	b = appendTag(b, field, wireFixed32)
	return appendWireFixed32(b, v)
}

// exportKind is the kind a span is exported with: an unspecified kind
// (the zero value) as internal, which is what ccotel's spans are.
func exportKind(k Kind) Kind {
	if k == KindUnspecified {
		return KindInternal
	}
	return k
}

// droppedCount is n as OTLP's uint32 counts hold it.
func droppedCount(n int) uint32 { return uint32(min(max(n, 0), math.MaxUint32)) }

// unixNanos is t in nanoseconds since the Unix epoch, as OTLP's unsigned
// fields hold it: a time before 1970 (the zero time.Time too) is 0.
func unixNanos(t time.Time) uint64 { return uint64(max(t.UnixNano(), 0)) }

// parsePartialSuccess reads the partial_success of a protobuf
// ExportTraceServiceResponse: rejected_spans (1) and error_message (2).
func parsePartialSuccess(b []byte) (rejected int64, msg string, err error) {
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return 0, "", errors.New("bad protobuf response")
		}
		b = b[n:]
		if num == 1 && typ == wireBytes {
			ps, n := consumeBytes(b)
			if n < 0 {
				return 0, "", errors.New("bad protobuf response")
			}
			b = b[n:]
			for len(ps) > 0 {
				num, typ, n := consumeTag(ps)
				if n < 0 {
					return 0, "", errors.New("bad partial_success")
				}
				ps = ps[n:]
				switch {
				case num == 1 && typ == wireVarint:
					v, n := consumeVarint(ps)
					if n < 0 {
						return 0, "", errors.New("bad rejected_spans")
					}
					rejected, ps = int64(v), ps[n:]
				case num == 2 && typ == wireBytes:
					vb, n := consumeBytes(ps)
					v := string(vb)
					if n < 0 {
						return 0, "", errors.New("bad error_message")
					}
					msg, ps = v, ps[n:]
				default:
					n := consumeFieldValue(typ, ps)
					if n < 0 {
						return 0, "", errors.New("bad partial_success")
					}
					ps = ps[n:]
				}
			}
			continue
		}
		n = consumeFieldValue(typ, b)
		if n < 0 {
			return 0, "", errors.New("bad protobuf response")
		}
		b = b[n:]
	}
	return rejected, msg, nil
}
