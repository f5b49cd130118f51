package examples

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// collectorBinary finds the OpenTelemetry Collector that
// .ci/build-collector.sh builds: $CCOTEL_OTELCOL, else the script's
// default path for the version internal/otelcol/go.mod pins. Without it
// the test is skipped with a one-line reason, except in CI (CI=true).
func collectorBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("CCOTEL_OTELCOL")
	if bin == "" {
		gomod, err := os.ReadFile(filepath.Join("..", "internal", "otelcol", "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		var version string
		for _, l := range strings.Split(string(gomod), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == "go.opentelemetry.io/collector/otelcol" {
				version = strings.TrimPrefix(f[1], "v")
			}
		}
		if version == "" {
			t.Fatal("internal/otelcol/go.mod does not require go.opentelemetry.io/collector/otelcol")
		}
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		bin = filepath.Join(cache, "ccotel", "otelcol-"+version, "otelcol")
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("OpenTelemetry Collector not built (%s): CI must run .ci/build-collector.sh first", bin)
		}
		t.Skipf("OpenTelemetry Collector not built (%s): run bash .ci/build-collector.sh", bin)
	}
	return bin
}

// TestCollectorRunsTheExampleConfig runs the real collector with
// examples/otelcol/config.yaml as a user would, plus file-exporter.yaml,
// sends spans to it with the OpenTelemetry SDK's OTLP/HTTP exporter (the
// one ccotel uses), and checks both what the collector wrote to its file
// and what it forwarded to "Tempo" (a loopback OTLP/HTTP receiver): every
// span once, attributes of each type intact.
func TestCollectorRunsTheExampleConfig(t *testing.T) {
	bin := collectorBinary(t)
	dir := t.TempDir()
	tempo := newTempo(t)
	out := filepath.Join(dir, "traces.jsonl")
	col := startCollector(t, bin, dir, []string{
		"TEMPO_OTLP_HTTP_ENDPOINT=" + tempo.url,
		"OTELCOL_FILE_PATH=" + out,
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(col), otlptracehttp.WithInsecure(),
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
	// the batch processor's 1s.
	var spans []fileSpan
	deadline := time.Now().Add(20 * time.Second)
	for {
		spans = readFileExporter(t, out)
		if (len(spans) >= n && tempo.total() >= n) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	seen := map[string]int{}
	for _, s := range spans {
		seen[s.SpanID]++
		i, ok := want[s.SpanID]
		if !ok {
			t.Errorf("unexpected span %s %q in the file", s.SpanID, s.Name)
			continue
		}
		name := fmt.Sprintf("execute_tool Bash %d", i)
		if s.Name != name {
			t.Errorf("span %s: name %q, want %q", s.SpanID, s.Name, name)
		}
		if s.Resource["service.name"] != `"claude-code"` {
			t.Errorf("span %s: resource service.name %s", s.SpanID, s.Resource["service.name"])
		}
		wantAttrs := map[string]string{
			"gen_ai.conversation.id":       `{"stringValue":"session-1"}`,
			"claude_code.tool.duration_ms": fmt.Sprintf(`{"intValue":"%d"}`, 1000+i),
			"claude_code.incomplete":       fmt.Sprintf(`{"boolValue":%v}`, i%2 == 0),
			"claude_code.cost.usd":         `{"doubleValue":0.25}`,
			"claude_code.models":           `{"arrayValue":{"values":[{"stringValue":"claude-opus-4"},{"stringValue":"claude-haiku-4"}]}}`,
		}
		for k, v := range wantAttrs {
			if got := s.Attrs[k]; got != v {
				t.Errorf("span %s (%s): attribute %s = %s, want %s", s.SpanID, name, k, got, v)
			}
		}
		if i == 3 && (s.Status.Code != 2 || s.Status.Message != "exit status 1") {
			t.Errorf("span %s: status %+v, want error \"exit status 1\"", name, s.Status)
		}
	}
	for id, i := range want {
		if seen[id] != 1 {
			t.Errorf("span %s (#%d) is in the file %d times, want once", id, i, seen[id])
		}
		if c := tempo.count(id); c != 1 {
			t.Errorf("span %s (#%d) reached Tempo %d times, want once", id, i, c)
		}
	}
	if !tempo.sawGzip() {
		t.Error("the collector did not gzip what it sent to Tempo (compression: gzip)")
	}
}

// startCollector runs the collector with the example configuration and
// the file exporter layered over it, on a free loopback port, until the
// test ends. It returns the receiver's host:port.
func startCollector(t *testing.T, bin, dir string, env []string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--config", filepath.Join("otelcol", "config.yaml"), "--config", filepath.Join("otelcol", "file-exporter.yaml"))
	cmd.Env = append(os.Environ(), append([]string{"OTLP_HTTP_LISTEN=" + addr}, env...)...)
	logPath := filepath.Join(dir, "otelcol.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("collector log:\n%s", b)
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; {
		select {
		case err := <-done:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("collector exited: %v\n%s", err, b)
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("collector did not listen on %s\n%s", addr, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fileSpan is one span as the collector's file exporter writes it
// (OTLP/JSON: hex IDs, attribute values as {"stringValue": …} objects).
type fileSpan struct {
	SpanID   string
	Name     string
	Attrs    map[string]string // key -> the AnyValue's JSON
	Resource map[string]string // key -> the bare value's JSON
	Status   struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
}

// readFileExporter reads every span of the file exporter's output, one
// ExportTraceServiceRequest per line. A missing file is no span yet.
func readFileExporter(t *testing.T, path string) []fileSpan {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type kv struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	var out []fileSpan
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !json.Valid(line) {
			break // a line being written
		}
		var req struct {
			ResourceSpans []struct {
				Resource struct {
					Attributes []kv `json:"attributes"`
				} `json:"resource"`
				ScopeSpans []struct {
					Spans []struct {
						SpanID     string          `json:"spanId"`
						Name       string          `json:"name"`
						Attributes []kv            `json:"attributes"`
						Status     json.RawMessage `json:"status"`
					} `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		}
		if err := json.Unmarshal(line, &req); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, rs := range req.ResourceSpans {
			res := map[string]string{}
			for _, a := range rs.Resource.Attributes {
				var v map[string]json.RawMessage
				json.Unmarshal(a.Value, &v)
				for _, x := range v {
					res[a.Key] = string(x)
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					fs := fileSpan{SpanID: s.SpanID, Name: s.Name, Attrs: map[string]string{}, Resource: res}
					for _, a := range s.Attributes {
						fs.Attrs[a.Key] = string(a.Value)
					}
					if len(s.Status) > 0 {
						json.Unmarshal(s.Status, &fs.Status)
					}
					out = append(out, fs)
				}
			}
		}
	}
	return out
}

// tempo stands in for Tempo's OTLP/HTTP endpoint: it decodes what the
// collector's exporter sends and counts spans by ID.
type tempo struct {
	url    string
	mu     sync.Mutex
	counts map[string]int
	gzip   bool
}

func newTempo(t *testing.T) *tempo {
	tp := &tempo{counts: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		var body io.Reader = r.Body
		gz := r.Header.Get("Content-Encoding") == "gzip"
		if gz {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		tp.mu.Lock()
		tp.gzip = tp.gzip || gz
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					tp.counts[hex.EncodeToString(s.GetSpanId())]++
				}
			}
		}
		tp.mu.Unlock()
		resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	tp.url = srv.URL
	return tp
}

func (tp *tempo) count(id string) int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.counts[id]
}

func (tp *tempo) total() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	n := 0
	for _, c := range tp.counts {
		n += c
	}
	return n
}

func (tp *tempo) sawGzip() bool {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.gzip
}
