package tracing

import (
	"math"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The hand-written varints agree with protobuf's own, at every length.
func TestVarintMatchesProtowire(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1<<14 - 1, 1 << 14, 1<<35 + 7, math.MaxInt64, math.MaxUint64} {
		got := appendVarint(nil, v)
		want := protowire.AppendVarint(nil, v)
		if string(got) != string(want) || sizeVarint(v) != len(want) {
			t.Errorf("varint %d: %x (size %d), want %x", v, got, sizeVarint(v), want)
		}
		if back, n := consumeVarint(got); back != v || n != len(got) {
			t.Errorf("consume %x = %d, %d", got, back, n)
		}
	}
	if _, n := consumeVarint([]byte{0x80, 0x80}); n >= 0 {
		t.Error("truncated varint accepted")
	}
}

// A collector's partial-success response, as the SDK's generated code
// writes it, decodes to its rejected count and message; unknown fields are
// skipped and malformed bytes are an error, not a panic.
func TestParsePartialSuccessSkipsUnknownRejectsMalformed(t *testing.T) {
	resp := &coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
		RejectedSpans: 3, ErrorMessage: "span too large",
	}}
	b, err := proto.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	b = protowire.AppendTag(b, 9, protowire.Fixed32Type) // a field from the future
	b = protowire.AppendFixed32(b, 42)
	n, msg, err := parsePartialSuccess(b)
	if err != nil || n != 3 || msg != "span too large" {
		t.Fatalf("parsePartialSuccess = %d, %q, %v", n, msg, err)
	}
	if n, msg, err := parsePartialSuccess(nil); err != nil || n != 0 || msg != "" {
		t.Errorf("empty response = %d, %q, %v", n, msg, err)
	}
	for _, bad := range [][]byte{{0x0a}, {0x0a, 0x05, 0x08}, {0x0b}, {0xff}} {
		if _, _, err := parsePartialSuccess(bad); err == nil {
			t.Errorf("malformed %x accepted", bad)
		}
	}
}
