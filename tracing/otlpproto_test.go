package tracing

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// sdkRequest sends spans through the OpenTelemetry SDK's own otlptracehttp
// exporter (tracetest.SpanStub snapshots) and returns the request it made.
func sdkRequest(t *testing.T, res []Attr, scope Scope, spans []*Span, encoding otlptracehttp.Encoding) *coltracepb.ExportTraceServiceRequest {
	t.Helper()
	bodies := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			body, _ = gzip.NewReader(r.Body)
		}
		b, _ := io.ReadAll(body)
		bodies <- b
	}))
	defer srv.Close()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"),
		otlptracehttp.WithEncoding(encoding), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(context.Background())

	kvs := make([]attribute.KeyValue, 0, len(res))
	for _, a := range res {
		kvs = append(kvs, toKeyValues([]Attr{a})...)
	}
	r := resource.NewWithAttributes(SchemaURL, kvs...)
	is := instrumentation.Scope{Name: scope.Name, Version: scope.Version}
	ro := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, s := range spans {
		ro[i] = sdkStub(s, r, is).Snapshot()
	}
	if err := exp.ExportSpans(context.Background(), ro); err != nil {
		t.Fatal(err)
	}
	var req coltracepb.ExportTraceServiceRequest
	b := <-bodies
	if encoding == otlptracehttp.EncodingJSON {
		err = otlptest.UnmarshalOTLPJSON(b, &req)
	} else {
		err = proto.Unmarshal(b, &req)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &req
}

// sdkStub is the span as the SDK would have recorded it.
func sdkStub(s *Span, r *resource.Resource, is instrumentation.Scope) tracetest.SpanStub {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID(s.TraceID), SpanID: trace.SpanID(s.SpanID), TraceFlags: trace.FlagsSampled})
	var parent trace.SpanContext
	if s.ParentSpanID.IsValid() {
		parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID(s.TraceID), SpanID: trace.SpanID(s.ParentSpanID), TraceFlags: trace.FlagsSampled})
	}
	kind := trace.SpanKind(s.Kind)
	if kind == trace.SpanKindUnspecified {
		kind = trace.SpanKindInternal
	}
	st := tracetest.SpanStub{
		Name: s.Name, SpanContext: sc, Parent: parent, SpanKind: kind, StartTime: s.Start, EndTime: s.End,
		Attributes: toKeyValues(s.Attrs), DroppedEvents: s.DroppedEvents, Resource: r, InstrumentationScope: is,
	}
	switch s.StatusCode {
	case StatusOK:
		st.Status = sdktrace.Status{Code: codes.Ok}
	case StatusError:
		st.Status = sdktrace.Status{Code: codes.Error, Description: s.StatusMessage}
	}
	for _, ev := range s.Events {
		st.Events = append(st.Events, sdktrace.Event{Name: ev.Name, Time: ev.Time, Attributes: toKeyValues(ev.Attrs)})
	}
	for _, l := range s.Links {
		st.Links = append(st.Links, sdktrace.Link{
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID(l.TraceID), SpanID: trace.SpanID(l.SpanID), TraceFlags: trace.FlagsSampled, Remote: true}),
			Attributes:  toKeyValues(l.Attrs),
		})
	}
	return st
}

func toKeyValues(as []Attr) []attribute.KeyValue {
	var kv []attribute.KeyValue
	for _, a := range as {
		switch a.Type {
		case "int":
			kv = append(kv, attribute.Int64(a.Key, a.Int))
		case "float":
			kv = append(kv, attribute.Float64(a.Key, a.Float))
		case "bool":
			kv = append(kv, attribute.Bool(a.Key, a.Bool))
		case "strings":
			kv = append(kv, attribute.StringSlice(a.Key, a.Strings))
		default:
			kv = append(kv, attribute.String(a.Key, a.Str))
		}
	}
	return kv
}

// protoTestSpans covers every field the encoder writes, with values that
// stress it: a big attribute (multi-byte lengths), negative ints, NaN-free
// floats, unicode, error status, events, links, dropped events.
func protoTestSpans() []*Span {
	spans := testSpans("proto", 4)
	big := make([]byte, 70000)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	spans[1].Attrs = append(spans[1].Attrs, String("big", string(big)), Int("neg", -42), Float("pi", math.Pi), String("unicode", "héllo ✓"), Strings("empty"))
	spans[1].DroppedEvents = 3
	spans[2].StatusCode = StatusOK
	spans[3].Kind = KindClient
	spans[3].Events = []Event{{Name: "a", Time: t0}, {Name: "b", Time: t0.Add(time.Millisecond), Attrs: []Attr{Int("x", 1)}}}
	return spans
}

// TestProtoMatchesSDK: AppendOTLPProto writes what the OpenTelemetry SDK's
// otlptracehttp exporter sends for the same spans.
func TestProtoMatchesSDK(t *testing.T) {
	cfg := &Options{ServiceName: "claude-code", ResourceAttrs: map[string]string{"team": "payments"}, Version: "1.2.3"}
	res := ResourceAttrs(cfg)
	scope := Scope{Name: ScopeName, Version: "1.2.3"}
	spans := protoTestSpans()

	var ours coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(AppendOTLPProto(nil, res, SchemaURL, scope, spans), &ours); err != nil {
		t.Fatal(err)
	}
	want := sdkRequest(t, res, scope, spans, otlptracehttp.EncodingProtobuf)
	if !proto.Equal(&ours, want) {
		t.Errorf("ours differs from the SDK's:\n ours %v\n sdk  %v", trim(&ours), trim(want))
	}
}

// TestJSONMatchesSDK: the http/json body (EncodeOTLPJSON) decodes to what
// the SDK sends, except for what the JSON encoder leaves out on purpose.
func TestJSONMatchesSDK(t *testing.T) {
	cfg := &Options{ServiceName: "claude-code", Version: "1.2.3"}
	res := ResourceAttrs(cfg)
	scope := Scope{Name: ScopeName, Version: "1.2.3"}
	spans := protoTestSpans()
	exp := &Exporter{opts: &Options{Protocol: "http/json", Compression: "none"}, resource: res, scope: scope}
	body, err := exp.encode(spans)
	if err != nil {
		t.Fatal(err)
	}
	var ours coltracepb.ExportTraceServiceRequest
	if err := otlptest.UnmarshalOTLPJSON(body, &ours); err != nil {
		t.Fatal(err)
	}
	want := sdkRequest(t, res, scope, spans, otlptracehttp.EncodingJSON)
	// The JSON encoder writes no schema URL and no span flags.
	for _, rs := range want.ResourceSpans {
		rs.SchemaUrl = ""
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				s.Flags = 0
				for _, l := range s.Links {
					l.Flags = 0
				}
			}
		}
	}
	if !proto.Equal(&ours, want) {
		t.Errorf("ours differs from the SDK's:\n ours %v\n sdk  %v", trim(&ours), trim(want))
	}
}

// trim keeps failure messages readable.
func trim(m proto.Message) string {
	b, _ := json.Marshal(m)
	if len(b) > 3000 {
		b = append(b[:3000], "…"...)
	}
	return string(b)
}

func TestAppendMessageLengths(t *testing.T) {
	// Bodies whose length prefixes need 1, 2 and 3 bytes.
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 1 << 20} {
		body := make([]byte, n)
		b := appendMessage([]byte{0xff}, 7, func(b []byte) []byte { return append(b, body...) })
		num, typ, tl := protowire.ConsumeTag(b[1:])
		v, vl := protowire.ConsumeBytes(b[1+tl:])
		if num != 7 || typ != protowire.BytesType || vl < 0 || len(v) != n || 1+tl+vl != len(b) {
			t.Errorf("n=%d: tag %d/%d, %d bytes, consumed %d of %d", n, num, typ, len(v), 1+tl+vl, len(b))
		}
	}
}

func TestParsePartialSuccess(t *testing.T) {
	b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 7, ErrorMessage: "too old"}})
	if n, msg, ok := partialSuccess("application/x-protobuf", b); !ok || n != 7 || msg != "too old" {
		t.Errorf("protobuf: %d %q %v", n, msg, ok)
	}
	if n, msg, ok := partialSuccess("application/json", []byte(`{"partialSuccess":{"rejectedSpans":"2","errorMessage":"x"}}`)); !ok || n != 2 || msg != "x" {
		t.Errorf("json: %d %q %v", n, msg, ok)
	}
	for _, body := range []string{"", "{}", `{"partialSuccess":{}}`} {
		if _, _, ok := partialSuccess("application/json", []byte(body)); ok {
			t.Errorf("%q is not a partial success", body)
		}
	}
	empty, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	if _, _, ok := partialSuccess("application/x-protobuf", empty); ok {
		t.Error("empty response is not a partial success")
	}
}

func BenchmarkAppendOTLPProto(b *testing.B) {
	spans := testSpans("bench", 512)
	res := ResourceAttrs(&Options{Version: "bench"})
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendOTLPProto(buf[:0], res, SchemaURL, Scope{Name: ScopeName}, spans)
	}
	b.SetBytes(int64(len(buf)))
}
