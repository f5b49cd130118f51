package tracing

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ccotel/ccotel/internal/otlptest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// A span whose strings are not valid UTF-8 keeps its bytes through the
// outbox's binary form, and is exported as if it had been through
// encoding/json (which makes each bad byte U+FFFD): both encoders replace
// bad bytes as encoding/json does, and the protobuf decodes with a
// decoder that checks UTF-8 (the generated types).
func TestInvalidUTF8AsThroughTheOutbox(t *testing.T) {
	const bad = "ok\xff\xfe\xc3(\xe2\x82"
	s := &Span{
		TraceID: TraceID{1}, SpanID: SpanID{2}, Name: bad, Kind: KindInternal, Start: t0, End: t0,
		Attrs:      []Attr{String(bad, bad), Strings("a", bad, "", bad), Int("i", 1)},
		Events:     []Event{{Name: bad, Time: t0, Attrs: []Attr{String("e", bad)}}},
		Links:      []Link{{TraceID: TraceID{3}, SpanID: SpanID{4}, Attrs: []Attr{String("l", bad)}}},
		StatusCode: StatusError, StatusMessage: bad,
	}
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	kept, err := UnmarshalSpan(b)
	if err != nil {
		t.Fatal(err)
	}
	if kept.Name != bad {
		t.Fatalf("the outbox's binary form turned %q into %q", bad, kept.Name)
	}
	viaJSON, err := json.Marshal(s) // the reference: encoding/json's replacement
	if err != nil {
		t.Fatal(err)
	}
	stored := &Span{}
	if err := json.Unmarshal(viaJSON, stored); err != nil {
		t.Fatal(err)
	}
	if stored.Name != "ok\uFFFD\uFFFD\uFFFD(\uFFFD\uFFFD" {
		t.Fatalf("encoding/json keeps %q: the premise of this test changed", stored.Name)
	}
	res, scope := []Attr{String("service.name", bad)}, Scope{Name: bad, Version: bad}
	var got, want coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(AppendOTLPProto(nil, res, bad, scope, []*Span{kept}), &got); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(AppendOTLPProto(nil, res, validUTF8Test(bad), scope, []*Span{stored}), &want); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&got, &want) {
		t.Errorf("protobuf:\n got %v\nwant %v", trim(&got), trim(&want))
	}
	var fromJSON coltracepb.ExportTraceServiceRequest
	var buf bytes.Buffer
	if err := EncodeOTLPJSON(&buf, res, scope, []*Span{kept}); err != nil {
		t.Fatal(err)
	}
	if err := otlptest.UnmarshalOTLPJSON(buf.Bytes(), &fromJSON); err != nil {
		t.Fatal(err)
	}
	want.ResourceSpans[0].SchemaUrl = "" // not in OTLP/JSON, nor are flags
	want.ResourceSpans[0].ScopeSpans[0].Spans[0].Flags = 0
	want.ResourceSpans[0].ScopeSpans[0].Spans[0].Links[0].Flags = 0
	if !proto.Equal(&fromJSON, &want) {
		t.Errorf("JSON:\n got %v\nwant %v", trim(&fromJSON), trim(&want))
	}
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
