package tracing

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
)

func sampleSpans() []*Span {
	t0 := time.Date(2026, 8, 1, 10, 0, 0, 123456789, time.UTC)
	root := &Span{
		TraceID: TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  SpanID{0xa, 0xb, 0xc, 0xd, 1, 2, 3, 4},
		Name:    "invoke_agent claude-code",
		Kind:    KindInternal,
		Start:   t0,
		End:     t0.Add(90 * time.Second),
		Attrs: []Attr{
			String("gen_ai.operation.name", "invoke_agent"),
			Int("claude_code.session.turns", 1<<40),
			Float("claude_code.cost.usd", 0.0123),
			Float("nan", math.NaN()),
			Bool("claude_code.incomplete", true),
			Strings("claude_code.models", "a", "b"),
		},
		Events:        []Event{{Name: "SessionStart", Time: t0.Add(time.Second), Attrs: []Attr{String("claude_code.source", "clear")}}},
		DroppedEvents: 3,
		Links:         []Link{{TraceID: TraceID{0xff, 1}, SpanID: SpanID{0xee, 2}}},
	}
	tool := &Span{
		TraceID:       root.TraceID,
		SpanID:        SpanID{9, 9, 9, 9, 9, 9, 9, 9},
		ParentSpanID:  root.SpanID,
		Name:          "execute_tool Bash",
		Kind:          KindInternal,
		Start:         t0.Add(2 * time.Second),
		End:           t0.Add(3*time.Second + 204*time.Millisecond),
		StatusCode:    StatusError,
		StatusMessage: "Exit code 1 <&>",
		Attrs:         []Attr{String("error.type", "tool_error")},
	}
	return []*Span{root, tool}
}

func TestEncodeOTLPJSON(t *testing.T) {
	var buf bytes.Buffer
	spans := sampleSpans()
	err := EncodeOTLPJSON(&buf, []Attr{String("service.name", "claude-code")}, Scope{Name: "github.com/ccotel/ccotel", Version: "dev"}, spans)
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`"traceId":"0102030405060708090a0b0c0d0e0f10"`, `"spanId":"0a0b0c0d01020304"`,
		`"parentSpanId":"0a0b0c0d01020304"`, `"startTimeUnixNano":"1785578400123456789"`,
		`"intValue":"1099511627776"`, `"doubleValue":0.0123`, `"doubleValue":"NaN"`, `"boolValue":true`,
		`"arrayValue":{"values":[{"stringValue":"a"},{"stringValue":"b"}]}`, `"status":{"code":2,"message":"Exit code 1 <&>"}`,
		`"droppedEventsCount":3`, `"kind":1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
	if strings.Count(out, `"parentSpanId"`) != 1 {
		t.Error("root has a parentSpanId")
	}

	// The output must be a valid ExportTraceServiceRequest.
	var req coltrace.ExportTraceServiceRequest
	if err := otlptest.UnmarshalOTLPJSON(buf.Bytes(), &req); err != nil {
		t.Fatalf("not an ExportTraceServiceRequest: %v\n%s", err, buf.Bytes())
	}
	rs := req.ResourceSpans[0]
	if rs.Resource.Attributes[0].Value.GetStringValue() != "claude-code" || rs.ScopeSpans[0].Scope.Name != "github.com/ccotel/ccotel" {
		t.Error("resource/scope")
	}
	got := rs.ScopeSpans[0].Spans
	if len(got) != 2 {
		t.Fatalf("%d spans", len(got))
	}
	for i, s := range spans {
		g := got[i]
		if !bytes.Equal(g.TraceId, s.TraceID[:]) || !bytes.Equal(g.SpanId, s.SpanID[:]) || g.Name != s.Name ||
			g.StartTimeUnixNano != uint64(s.Start.UnixNano()) || g.EndTimeUnixNano != uint64(s.End.UnixNano()) ||
			int(g.Status.GetCode()) != int(s.StatusCode) || len(g.Attributes) != len(s.Attrs) {
			t.Errorf("span %d: %v", i, g)
		}
	}
	if got[0].Attributes[1].Value.GetIntValue() != 1<<40 || len(got[0].Events) != 1 || len(got[0].Links) != 1 ||
		!bytes.Equal(got[1].ParentSpanId, spans[0].SpanID[:]) {
		t.Errorf("details: %v", got[0])
	}
}
