package examples

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// TestCollectorRunsTheExampleConfig runs the real collector with
// examples/otelcol/config.yaml as a user would, plus file-exporter.yaml,
// sends spans to it with the OpenTelemetry SDK's OTLP/HTTP exporter (the
// one ccotel uses), and checks both what the collector wrote to its file
// and what it forwarded to "Tempo" (a plain otlptest.Receiver): every
// span once, attributes of each type intact.
func TestCollectorRunsTheExampleConfig(t *testing.T) {
	col := otlptest.StartCollector(t, otlptest.Collector{Bin: otlptest.CollectorBinary(t), Dir: t.TempDir(), Root: ".."})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(col.Addr), otlptracehttp.WithInsecure(),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "claude-code"))))
	tr := tp.Tracer("ccotel-test")
	const n = 20
	want := map[string]int{} // span ID -> index
	for i := range n {
		_, s := tr.Start(ctx, fmt.Sprintf("execute_tool Bash %d", i))
		s.SetAttributes(
			attribute.String("gen_ai.conversation.id", "session-1"),
			attribute.Int("claude_code.tool.duration_ms", 1000+i),
			attribute.Bool("claude_code.incomplete", i%2 == 0),
			attribute.Float64("claude_code.cost.usd", 0.25),
			attribute.StringSlice("claude_code.models", []string{"claude-opus-4", "claude-haiku-4"}),
		)
		if i == 3 {
			s.SetStatus(codes.Error, "exit status 1")
		}
		s.End()
		want[s.SpanContext().SpanID().String()] = i
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("export to the collector: %v", err)
	}

	// The file exporter flushes every 100ms; Tempo gets the batch within
	// the batch processor's 1s. A loaded machine gets a generous wait.
	spans := col.WaitSpans(t, 60*time.Second, func(s []otlptest.FileSpan) bool {
		return len(s) >= n && col.Tempo.Stats().Total >= n
	})
	seen := map[string]int{}
	for _, s := range spans {
		seen[s.ID()]++
		i, ok := want[s.ID()]
		if !ok {
			t.Errorf("unexpected span %s %q in the file", s.ID(), s.GetName())
			continue
		}
		name := fmt.Sprintf("execute_tool Bash %d", i)
		if s.GetName() != name {
			t.Errorf("span %s: name %q, want %q", s.ID(), s.GetName(), name)
		}
		if v := otlptest.AttrMap(s.Resource.GetAttributes())["service.name"]; v.GetStringValue() != "claude-code" {
			t.Errorf("span %s: resource service.name %v", s.ID(), v)
		}
		str := func(v string) *commonpb.AnyValue {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}
		}
		wantAttrs := map[string]*commonpb.AnyValue{
			"gen_ai.conversation.id":       str("session-1"),
			"claude_code.tool.duration_ms": {Value: &commonpb.AnyValue_IntValue{IntValue: int64(1000 + i)}},
			"claude_code.incomplete":       {Value: &commonpb.AnyValue_BoolValue{BoolValue: i%2 == 0}},
			"claude_code.cost.usd":         {Value: &commonpb.AnyValue_DoubleValue{DoubleValue: 0.25}},
			"claude_code.models": {Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{
				Values: []*commonpb.AnyValue{str("claude-opus-4"), str("claude-haiku-4")}}}},
		}
		got := s.Attrs()
		for k, v := range wantAttrs {
			if !proto.Equal(got[k], v) {
				t.Errorf("span %s (%s): attribute %s = %s, want %s", s.ID(), name, k, otlptest.FormatValue(got[k]), otlptest.FormatValue(v))
			}
		}
		if i == 3 && (s.GetStatus().GetCode() != 2 || s.GetStatus().GetMessage() != "exit status 1") {
			t.Errorf("span %s: status %v, want error \"exit status 1\"", name, s.GetStatus())
		}
	}
	for id, i := range want {
		if seen[id] != 1 {
			t.Errorf("span %s (#%d) is in the file %d times, want once", id, i, seen[id])
		}
		if c := col.Tempo.Count(id); c != 1 {
			t.Errorf("span %s (#%d) reached Tempo %d times, want once", id, i, c)
		}
	}
	if st := col.Tempo.Stats(); st.Gzip == 0 {
		t.Errorf("the collector did not gzip what it sent to Tempo (compression: gzip): %+v", st)
	}
}

// TestCollectorStampsTheVerifiedIdentity runs the example configuration
// in the real collector and posts spans straight to its receiver, each
// claiming to be ceo@corp in its span and resource attributes, with the
// ssl-client-subject-dn header an ingress would set (or none): the span
// carries the header's DN as tls.client.subject and its CN as
// enduser.id, and none of the client's claims survive. (The same through
// real nginx, with the header forged too: internal/e2e/identity_test.go.)
func TestCollectorStampsTheVerifiedIdentity(t *testing.T) {
	col := otlptest.StartCollector(t, otlptest.Collector{Bin: otlptest.CollectorBinary(t), Dir: t.TempDir(), Root: ".."})
	const absent = "(absent)"
	for _, tc := range []struct {
		name, dn string // dn "": no header
		want     otlptest.Identity
	}{
		{"plain", "CN=alice@corp,O=ccotel", otlptest.Identity{EnduserID: "alice@corp", Subject: "CN=alice@corp,O=ccotel"}},
		{"CN= inside an O", `O=x\,CN=ceo@corp,CN=bob`, otlptest.Identity{EnduserID: "bob", Subject: `O=x\,CN=ceo@corp,CN=bob`}},
		{"no CN", "O=ccotel", otlptest.Identity{EnduserID: absent, Subject: "O=ccotel"}},
		{"no header", "", otlptest.Identity{EnduserID: absent, Subject: absent}},
	} {
		req, id := otlptest.ForgedIdentity("identity "+tc.name, "ceo@corp")
		h := http.Header{}
		if tc.dn != "" {
			h.Set("ssl-client-subject-dn", tc.dn)
		}
		if err := otlptest.PostTraces(http.DefaultClient, "http://"+col.Addr+"/v1/traces", h, req); err != nil {
			t.Fatal(err)
		}
		s, ok := col.SpanByID(t, 60*time.Second, id)
		if !ok {
			t.Fatalf("%s: span %s not in the collector's file", tc.name, id)
		}
		tc.want.ResEnduserID, tc.want.ResSubject, tc.want.Scratch = absent, absent, absent
		if got := s.Identity(); got != tc.want {
			t.Errorf("%s (header %q): %+v, want %+v", tc.name, tc.dn, got, tc.want)
		}
	}
}
