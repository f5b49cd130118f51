package tracing

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
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
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// The OpenTelemetry SDK's own exporter (otlptracehttp, fed
// tracetest.SpanStub snapshots) is the oracle for both encoders: random
// spans go through ours and through the SDK's, and the two requests must
// decode to equal ExportTraceServiceRequests.

// FuzzProtoMatchesSDK: AppendOTLPProto writes what the SDK's exporter sends
// over http/protobuf for the same spans. The random spans also go through
// the outbox's binary form (checkSpanCodec): this target covers that
// codec too.
func FuzzProtoMatchesSDK(f *testing.F) {
	addSeeds(f)
	o := newSDKOracle(f, otlptracehttp.EncodingProtobuf)
	f.Fuzz(func(t *testing.T, data []byte) {
		in := genInput(data)
		checkSpanCodec(t, in)
		checkProto(t, o, in)
	})
}

// checkSpanCodec: each of in's spans, and one that sets the fields the
// exporters ignore (Pending, ReadyAt, Extra: the other spans and a nil),
// come back the same through Marshal and UnmarshalSpan. in is unchanged.
func checkSpanCodec(t *testing.T, in fuzzInput) {
	t.Helper()
	for _, s := range in.spans {
		checkRoundTrip(t, s)
	}
	top := *in.spans[0]
	switch {
	case in.schemaURL != "":
		top.Pending = json.RawMessage(in.schemaURL)
	case in.scope.Name != "":
		top.Pending = json.RawMessage{}
	}
	top.ReadyAt = in.spans[len(in.spans)-1].End
	top.Extra = slices.Clone(in.spans[1:])
	if len(top.Extra) > 1 {
		top.Extra = append(top.Extra, nil)
	}
	checkRoundTrip(t, &top)
}

func checkProto(t *testing.T, o *sdkOracle, in fuzzInput) {
	t.Helper()
	var ours coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(AppendOTLPProto(nil, in.resource, in.schemaURL, in.scope, in.spans), &ours); err != nil {
		t.Fatal(err)
	}
	want := o.request(t, in)
	if !proto.Equal(&ours, want) {
		t.Errorf("ours differs from the SDK's:\n ours %v\n sdk  %v", trim(&ours), trim(want))
	}
}

// FuzzJSONMatchesSDK: EncodeOTLPJSON writes what the SDK's exporter sends
// over http/json, apart from what the JSON encoder leaves out on purpose
// (the schema URL, and span and link flags).
func FuzzJSONMatchesSDK(f *testing.F) {
	addSeeds(f)
	o := newSDKOracle(f, otlptracehttp.EncodingJSON)
	f.Fuzz(func(t *testing.T, data []byte) { checkJSON(t, o, genInput(data)) })
}

func checkJSON(t *testing.T, o *sdkOracle, in fuzzInput) {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeOTLPJSON(&buf, in.resource, in.scope, in.spans); err != nil {
		t.Fatal(err)
	}
	var ours coltracepb.ExportTraceServiceRequest
	if err := otlptest.UnmarshalOTLPJSON(buf.Bytes(), &ours); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	want := o.request(t, in)
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

// Floats the fuzz seeds do not reach: NaN (protobuf JSON: "NaN"),
// infinities, negative zero, the extremes.
func TestSpecialFloatsMatchSDK(t *testing.T) {
	var as []Attr
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.MaxFloat64, math.SmallestNonzeroFloat64, -1e-300} {
		as = append(as, Float(fmt.Sprint(f), f))
	}
	in := fuzzInput{resource: resourceSet(slices.Clone(as)), scope: Scope{Name: ScopeName}, spans: []*Span{{
		TraceID: TraceID{1}, SpanID: SpanID{2}, Name: "floats", Start: t0, End: t0, Attrs: as,
		Events: []Event{{Name: "e", Time: t0, Attrs: as}}, Links: []Link{{TraceID: TraceID{3}, SpanID: SpanID{4}, Attrs: as}},
	}}}
	checkProto(t, newSDKOracle(t, otlptracehttp.EncodingProtobuf), in)
	checkJSON(t, newSDKOracle(t, otlptracehttp.EncodingJSON), in)
}

// addSeeds adds inputs that between them, through genInput, reach every
// branch of both encoders but the special floats (TestSpecialFloatsMatchSDK):
// every string shape, attribute type, kind and status, odd times and counts.
func addSeeds(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	for k := range byte(7) { // every choice the same: k modulo its range
		f.Add(bytes.Repeat([]byte{k}, 600))
	}
	f.Add([]byte("\x03\x05\x01resource\x02\x01\x03\x02\xe2\x9c\x93\x01\x04\x07\x00\x13span one\x02\x03\x05\x05\x01\x02\x03\x04\x05\x00\x80"))
	seq := make([]byte, 0, 1024)
	for i := range 1024 {
		seq = append(seq, byte(i*7+i/3))
	}
	f.Add(seq)
	long := slices.Clone(seq[:40])
	long = append(long, 4, 0xff, 'x') // a long string early on: multi-byte length prefixes
	f.Add(append(long, seq[40:400]...))
}

// fuzzInput is one request's worth of input to an encoder.
type fuzzInput struct {
	resource  []Attr
	schemaURL string
	scope     Scope
	spans     []*Span
}

// genInput derives a request from fuzz bytes; once they run out, every
// further choice is zero, so every input is valid.
func genInput(data []byte) fuzzInput {
	g := &gen{b: data}
	in := fuzzInput{
		resource:  resourceSet(g.attrs(6)),
		schemaURL: g.str(),
		scope:     Scope{Name: g.str(), Version: g.str()},
	}
	for range 1 + g.intn(4) {
		in.spans = append(in.spans, g.span())
	}
	return in
}

// resourceSet is as, the way an SDK resource holds attributes: a set, so
// sorted by key, without empty keys, the last of duplicate keys winning.
func resourceSet(as []Attr) []Attr {
	for i := range as {
		as[i].Key = validUTF8Test(as[i].Key) // as the SDK will see it
	}
	as = slices.DeleteFunc(as, func(a Attr) bool { return a.Key == "" })
	slices.Reverse(as)
	slices.SortStableFunc(as, func(a, b Attr) int { return cmp.Compare(a.Key, b.Key) })
	return slices.CompactFunc(as, func(a, b Attr) bool { return a.Key == b.Key })
}

type gen struct{ b []byte }

func (g *gen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *gen) intn(n int) int { return int(g.byte()) % n }

func (g *gen) uint64() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = g.byte()
	}
	return binary.LittleEndian.Uint64(b[:])
}

var fuzzRunes = []rune{'a', 'Z', '0', ' ', '"', '\\', '<', '&', '\n', '\t', 0, 0x7f, 'é', 'ß', '✓', '\u2028', '日', '😀', '\uFFFD'}

// str is a string of one of several shapes: empty, ASCII taken from the
// input, a mix of escapes and multi-byte runes, raw bytes (often invalid
// UTF-8), or long enough to need two- and three-byte length prefixes.
func (g *gen) str() string {
	switch g.intn(5) {
	case 1:
		n := g.intn(24)
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a' + g.byte()%26
		}
		return string(b)
	case 2:
		var sb strings.Builder
		for range g.intn(12) {
			sb.WriteRune(fuzzRunes[g.intn(len(fuzzRunes))])
		}
		return sb.String()
	case 3:
		b := make([]byte, g.intn(12))
		for i := range b {
			b[i] = g.byte()
		}
		return string(b)
	case 4: // up to 16k runes: one to four bytes each
		return strings.Repeat(string(fuzzRunes[g.intn(len(fuzzRunes))]), 1+int(g.byte())*64)
	}
	return ""
}

func (g *gen) time() time.Time {
	switch g.intn(5) {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(0, 0)
	case 2:
		return time.Unix(0, int64(g.uint64())) // negative ones too
	case 3:
		return time.Date(1000+g.intn(250)*10, 1, 1, 0, 0, 0, 0, time.UTC) // before 1970, some before 1678
	}
	return t0.Add(time.Duration(g.uint64() % uint64(48*time.Hour)))
}

func (g *gen) count() int {
	switch g.intn(4) {
	case 1:
		return g.intn(200)
	case 2:
		return -1 - g.intn(3)
	case 3:
		return math.MaxUint32 + g.intn(3) - 1
	}
	return 0
}

func (g *gen) attrs(max int) []Attr {
	var as []Attr
	for range g.intn(max + 1) {
		k := g.str()
		switch g.intn(7) {
		case 0:
			as = append(as, String(k, g.str()))
		case 1:
			as = append(as, Int(k, int64(g.uint64())))
		case 2:
			as = append(as, Float(k, math.Float64frombits(g.uint64()))) // NaNs and infinities too
		case 3:
			as = append(as, Bool(k, g.byte()&1 == 1))
		case 4:
			var vs []string
			for range g.intn(4) {
				vs = append(vs, g.str())
			}
			as = append(as, Strings(k, vs...))
		case 5:
			as = append(as, Float(k, float64(int8(g.byte()))/4))
		case 6:
			as = append(as, Attr{Key: k, Type: "", Str: g.str()}) // an unknown type is a string
		}
	}
	return as
}

func (g *gen) id(b []byte) {
	if g.intn(8) == 0 {
		return // all zero
	}
	for i := range b {
		b[i] = g.byte()
	}
}

func (g *gen) span() *Span {
	s := &Span{Name: g.str(), Kind: Kind(g.intn(6)), Start: g.time(), End: g.time()}
	g.id(s.TraceID[:])
	g.id(s.SpanID[:])
	g.id(s.ParentSpanID[:])
	s.Attrs = g.attrs(8)
	for range g.intn(4) {
		s.Events = append(s.Events, Event{Name: g.str(), Time: g.time(), Attrs: g.attrs(3)})
	}
	for range g.intn(3) {
		l := Link{Attrs: g.attrs(3)}
		g.id(l.TraceID[:])
		g.id(l.SpanID[:])
		s.Links = append(s.Links, l)
	}
	s.StatusCode = StatusCode(g.intn(3))
	s.StatusMessage = g.str()
	s.DroppedEvents = g.count()
	return s
}

// sdkOracle is the SDK's exporter pointed at a server that hands over
// each request body. It is made once per fuzz process.
type sdkOracle struct {
	exp    sdktrace.SpanExporter
	bodies chan []byte
	json   bool
}

func newSDKOracle(tb testing.TB, encoding otlptracehttp.Encoding) *sdkOracle {
	o := &sdkOracle{bodies: make(chan []byte, 1), json: encoding == otlptracehttp.EncodingJSON}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		o.bodies <- b
	}))
	tb.Cleanup(srv.Close)
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"),
		otlptracehttp.WithEncoding(encoding), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { exp.Shutdown(context.Background()) })
	o.exp = exp
	return o
}

// request exports in through the SDK and returns the request it sent.
func (o *sdkOracle) request(t *testing.T, in fuzzInput) *coltracepb.ExportTraceServiceRequest {
	t.Helper()
	r := resource.NewWithAttributes(validUTF8Test(in.schemaURL), toKeyValues(in.resource)...)
	is := instrumentation.Scope{Name: validUTF8Test(in.scope.Name), Version: validUTF8Test(in.scope.Version)}
	ro := make([]sdktrace.ReadOnlySpan, len(in.spans))
	for i, s := range in.spans {
		ro[i] = sdkStub(s, r, is).Snapshot()
	}
	if err := o.exp.ExportSpans(context.Background(), ro); err != nil {
		t.Fatal(err)
	}
	b := <-o.bodies
	var req coltracepb.ExportTraceServiceRequest
	var err error
	if o.json {
		err = otlptest.UnmarshalOTLPJSON(b, &req)
	} else {
		err = proto.Unmarshal(b, &req)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &req
}

// sdkStub is the span as the SDK would have recorded it. Strings are
// made valid UTF-8 first, each invalid byte becoming U+FFFD as
// encoding/json does, because the SDK's protobuf marshalling rejects
// invalid UTF-8 where our encoders replace it.
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
		Name: validUTF8Test(s.Name), SpanContext: sc, Parent: parent, SpanKind: kind, StartTime: s.Start, EndTime: s.End,
		Attributes: toKeyValues(s.Attrs), DroppedEvents: s.DroppedEvents, Resource: r, InstrumentationScope: is,
		// The exporter copies the description whatever the code (only
		// the SDK's Span.SetStatus drops it for non-errors).
		Status: sdktrace.Status{Description: validUTF8Test(s.StatusMessage)},
	}
	switch s.StatusCode { // the API's codes are numbered differently from OTLP's
	case StatusOK:
		st.Status.Code = codes.Ok
	case StatusError:
		st.Status.Code = codes.Error
	}
	for _, ev := range s.Events {
		st.Events = append(st.Events, sdktrace.Event{Name: validUTF8Test(ev.Name), Time: ev.Time, Attributes: toKeyValues(ev.Attrs)})
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
		k := attribute.Key(validUTF8Test(a.Key))
		switch a.Type {
		case "int":
			kv = append(kv, k.Int64(a.Int))
		case "float":
			kv = append(kv, k.Float64(a.Float))
		case "bool":
			kv = append(kv, k.Bool(a.Bool))
		case "strings":
			vs := make([]string, len(a.Strings))
			for i, s := range a.Strings {
				vs[i] = validUTF8Test(s)
			}
			kv = append(kv, k.StringSlice(vs))
		default:
			kv = append(kv, k.String(validUTF8Test(a.Str)))
		}
	}
	return kv
}

// validUTF8Test is s with each byte that is not part of valid UTF-8
// replaced by U+FFFD: what a conversion to []rune does, and what
// encoding/json does to strings it encodes.
func validUTF8Test(s string) string { return string([]rune(s)) }

// trim keeps failure messages readable.
func trim(m proto.Message) string {
	s := protojson.Format(m)
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}
