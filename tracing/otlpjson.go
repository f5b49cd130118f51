package tracing

import (
	"encoding/json"
	"io"
	"math"
	"strconv"
	"time"
)

// Scope is the instrumentation scope exported spans are attributed to.
type Scope struct {
	Name    string
	Version string
}

// EncodeOTLPJSON writes spans as one OTLP/JSON ExportTraceServiceRequest
// (the protobuf JSON mapping the OTLP/HTTP spec requires for
// application/json): a single resourceSpans with the given resource
// attributes and a single scopeSpans. IDs are lower-case hex, times and
// 64-bit integers decimal strings, enums numbers. Kinds, times and counts
// are mapped as AppendOTLPProto maps them, and invalid UTF-8 becomes
// U+FFFD (encoding/json's rule, which AppendOTLPProto follows); it writes
// no schema URL and no span flags. It is a pure function of
// its inputs (same spans, same bytes) and holds no state, so the http/json
// exporter and `ccotel replay --stdout` share it.
func EncodeOTLPJSON(w io.Writer, resource []Attr, scope Scope, spans []*Span) error {
	req := otlpRequest{ResourceSpans: []otlpResourceSpans{{
		Resource:   otlpResource{Attributes: otlpAttrs(resource)},
		ScopeSpans: []otlpScopeSpans{{Spans: make([]otlpSpan, 0, len(spans))}},
	}}}
	ss := &req.ResourceSpans[0].ScopeSpans[0]
	if scope != (Scope{}) {
		ss.Scope = &otlpScope{Name: scope.Name, Version: scope.Version}
	}
	for _, s := range spans {
		ss.Spans = append(ss.Spans, otlpSpanOf(s))
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(&req)
}

type otlpRequest struct {
	ResourceSpans []otlpResourceSpans `json:"resourceSpans"`
}

type otlpResourceSpans struct {
	Resource   otlpResource     `json:"resource"`
	ScopeSpans []otlpScopeSpans `json:"scopeSpans"`
}

type otlpResource struct {
	Attributes []otlpKeyValue `json:"attributes"`
}

type otlpScopeSpans struct {
	Scope *otlpScope `json:"scope,omitempty"`
	Spans []otlpSpan `json:"spans"`
}

type otlpScope struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

type otlpSpan struct {
	TraceID            string         `json:"traceId"`
	SpanID             string         `json:"spanId"`
	ParentSpanID       string         `json:"parentSpanId,omitempty"`
	Name               string         `json:"name"`
	Kind               int            `json:"kind"`
	StartTimeUnixNano  string         `json:"startTimeUnixNano"`
	EndTimeUnixNano    string         `json:"endTimeUnixNano"`
	Attributes         []otlpKeyValue `json:"attributes,omitempty"`
	Events             []otlpEvent    `json:"events,omitempty"`
	DroppedEventsCount uint32         `json:"droppedEventsCount,omitempty"`
	Links              []otlpLink     `json:"links,omitempty"`
	Status             otlpStatus     `json:"status"`
}

type otlpEvent struct {
	TimeUnixNano string         `json:"timeUnixNano"`
	Name         string         `json:"name"`
	Attributes   []otlpKeyValue `json:"attributes,omitempty"`
}

type otlpLink struct {
	TraceID    string         `json:"traceId"`
	SpanID     string         `json:"spanId"`
	Attributes []otlpKeyValue `json:"attributes,omitempty"`
}

type otlpStatus struct {
	Code    int    `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

type otlpKeyValue struct {
	Key   string       `json:"key"`
	Value otlpAnyValue `json:"value"`
}

// otlpAnyValue has exactly one field set.
type otlpAnyValue struct {
	StringValue *string         `json:"stringValue,omitempty"`
	BoolValue   *bool           `json:"boolValue,omitempty"`
	IntValue    *string         `json:"intValue,omitempty"`
	DoubleValue json.RawMessage `json:"doubleValue,omitempty"`
	ArrayValue  *otlpArrayValue `json:"arrayValue,omitempty"`
}

type otlpArrayValue struct {
	Values []otlpAnyValue `json:"values"`
}

func otlpSpanOf(s *Span) otlpSpan {
	o := otlpSpan{
		TraceID:            s.TraceID.String(),
		SpanID:             s.SpanID.String(),
		Name:               s.Name,
		Kind:               int(exportKind(s.Kind)),
		StartTimeUnixNano:  unixNano(s.Start),
		EndTimeUnixNano:    unixNano(s.End),
		Attributes:         otlpAttrs(s.Attrs),
		DroppedEventsCount: droppedCount(s.DroppedEvents),
		Status:             otlpStatus{Code: int(s.StatusCode), Message: s.StatusMessage},
	}
	if s.ParentSpanID.IsValid() {
		o.ParentSpanID = s.ParentSpanID.String()
	}
	for _, e := range s.Events {
		o.Events = append(o.Events, otlpEvent{TimeUnixNano: unixNano(e.Time), Name: e.Name, Attributes: otlpAttrs(e.Attrs)})
	}
	for _, l := range s.Links {
		o.Links = append(o.Links, otlpLink{TraceID: l.TraceID.String(), SpanID: l.SpanID.String(), Attributes: otlpAttrs(l.Attrs)})
	}
	return o
}

func unixNano(t time.Time) string { return strconv.FormatUint(unixNanos(t), 10) }

func otlpAttrs(as []Attr) []otlpKeyValue {
	if len(as) == 0 {
		return nil
	}
	out := make([]otlpKeyValue, 0, len(as))
	for _, a := range as {
		out = append(out, otlpKeyValue{Key: a.Key, Value: otlpValue(a)})
	}
	return out
}

func otlpValue(a Attr) otlpAnyValue {
	switch a.Type {
	case "int":
		s := strconv.FormatInt(a.Int, 10)
		return otlpAnyValue{IntValue: &s}
	case "float":
		return otlpAnyValue{DoubleValue: otlpDouble(a.Float)}
	case "bool":
		b := a.Bool
		return otlpAnyValue{BoolValue: &b}
	case "strings":
		vals := make([]otlpAnyValue, 0, len(a.Strings))
		for i := range a.Strings {
			vals = append(vals, otlpAnyValue{StringValue: &a.Strings[i]})
		}
		return otlpAnyValue{ArrayValue: &otlpArrayValue{Values: vals}}
	default:
		s := a.Str
		return otlpAnyValue{StringValue: &s}
	}
}

// otlpDouble follows the protobuf JSON mapping: a number, or the strings
// "NaN", "Infinity", "-Infinity".
func otlpDouble(f float64) json.RawMessage {
	switch {
	case math.IsNaN(f):
		return json.RawMessage(`"NaN"`)
	case math.IsInf(f, 1):
		return json.RawMessage(`"Infinity"`)
	case math.IsInf(f, -1):
		return json.RawMessage(`"-Infinity"`)
	}
	return json.RawMessage(strconv.FormatFloat(f, 'g', -1, 64))
}
