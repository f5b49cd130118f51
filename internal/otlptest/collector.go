package otlptest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// CollectorBinary finds the OpenTelemetry Collector that
// .ci/build-collector.sh builds from internal/otelcol: $CCOTEL_OTELCOL,
// else the script's path for the release internal/otelcol/go.mod pins
// (${CCOTEL_OTELCOL_DIR:-${XDG_CACHE_HOME:-~/.cache}/ccotel/otelcol-<version>}/otelcol).
// Without it the test is skipped with a one-line reason, except in CI
// (CI=true), where that is a failure.
func CollectorBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("CCOTEL_OTELCOL")
	if bin == "" {
		dir := os.Getenv("CCOTEL_OTELCOL_DIR")
		if dir == "" {
			version, err := collectorVersion()
			if err != nil {
				t.Fatal(err)
			}
			cache := os.Getenv("XDG_CACHE_HOME")
			if cache == "" {
				home, _ := os.UserHomeDir()
				cache = filepath.Join(home, ".cache")
			}
			dir = filepath.Join(cache, "ccotel", "otelcol-"+version)
		}
		bin = filepath.Join(dir, "otelcol")
		if err := checkStamp(bin); err != nil {
			notBuilt(t, fmt.Sprintf("%s: %v", bin, err))
		}
	}
	if _, err := os.Stat(bin); err != nil {
		notBuilt(t, bin)
	}
	return bin
}

func notBuilt(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("OpenTelemetry Collector not built (%s): CI must run .ci/build-collector.sh first", why)
	}
	t.Skipf("OpenTelemetry Collector not built (%s): run bash .ci/build-collector.sh", why)
}

// checkStamp compares the stamp .ci/build-collector.sh leaves beside the
// binary with the hash of internal/otelcol's go.mod, go.sum and *.go as
// the script computes it: a binary built from other sources (another
// component list) would refuse the example configuration.
func checkStamp(bin string) error {
	stamp, err := os.ReadFile(bin + ".stamp")
	if os.IsNotExist(err) {
		return nil // not built yet, or by hand: the Stat after says which
	}
	if err != nil {
		return err
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	src := filepath.Join(root, "internal", "otelcol")
	goFiles, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil {
		return err
	}
	h := sha256.New()
	for _, f := range append([]string{filepath.Join(src, "go.mod"), filepath.Join(src, "go.sum")}, goFiles...) {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		h.Write(b)
	}
	if got := strings.TrimSpace(string(stamp)); got != hex.EncodeToString(h.Sum(nil)) {
		return fmt.Errorf("built from other sources than %s (stale)", src)
	}
	return nil
}

// collectorVersion is the collector release internal/otelcol/go.mod pins.
func collectorVersion() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	gomod, err := os.ReadFile(filepath.Join(root, "internal", "otelcol", "go.mod"))
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "go.opentelemetry.io/collector/otelcol" {
			return strings.TrimPrefix(f[1], "v"), nil
		}
	}
	return "", fmt.Errorf("otlptest: %s/internal/otelcol/go.mod does not require go.opentelemetry.io/collector/otelcol", root)
}

// repoRoot is the directory of ccotel's go.mod, found upwards from the
// working directory (a test's package directory).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/ccotel/ccotel\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("otlptest: no ccotel go.mod above the working directory")
		}
		dir = parent
	}
}

// Collector is a real OpenTelemetry Collector run for a test with the
// shipped configuration, examples/otelcol/config.yaml (OTLP/HTTP receiver
// → identity processors → batch → OTLP/HTTP exporter to Tempo), with
// examples/otelcol/file-exporter.yaml layered over it (every batch also
// written to a file, which ReadFileExporter reads), or the Layers given.
type Collector struct {
	Bin  string   // the collector binary (CollectorBinary)
	Dir  string   // where its file exporter output and log go
	Root string   // the repository whose examples/otelcol/ is run ("": found from the working directory)
	Env  []string // more environment, after the defaults (e.g. TEMPO_OTLP_HTTP_ENDPOINT=…)
	// Layers are the files of examples/otelcol layered over config.yaml,
	// in order (nil: file-exporter.yaml).
	Layers []string

	// Set by StartCollector.
	Addr  string    // host:port of the OTLP/HTTP receiver (127.0.0.1)
	File  string    // the file exporter's output, Dir/traces.jsonl
	Log   string    // the collector's stdout and stderr, Dir/otelcol.log
	Tempo *Receiver // the stand-in Tempo (plain HTTP) the example's exporter sends to
}

// StartCollector runs the collector on a free loopback port until the
// test ends, with a stand-in Tempo (a plain Receiver) as the exporter's
// endpoint unless c.Env names another. It returns c with Addr, File, Log
// and Tempo set, once the receiver listens. The collector's log is
// printed when the test fails.
func StartCollector(t testing.TB, c Collector) *Collector {
	t.Helper()
	if c.Root == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		c.Root = root
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Addr = ln.Addr().String()
	ln.Close()
	c.File = filepath.Join(c.Dir, "traces.jsonl")
	c.Log = filepath.Join(c.Dir, "otelcol.log")
	c.Tempo = MustStartPlain(t)

	conf := filepath.Join(c.Root, "examples", "otelcol")
	layers := c.Layers
	if layers == nil {
		layers = []string{"file-exporter.yaml"}
	}
	args := []string{"--config", filepath.Join(conf, "config.yaml")}
	for _, l := range layers {
		args = append(args, "--config", filepath.Join(conf, l))
	}
	cmd := exec.Command(c.Bin, args...)
	cmd.Env = append(os.Environ(),
		"OTLP_HTTP_LISTEN="+c.Addr,
		"TEMPO_OTLP_HTTP_ENDPOINT="+c.Tempo.URL,
		"OTELCOL_FILE_PATH="+c.File)
	cmd.Env = append(cmd.Env, c.Env...)
	done := StartLogged(t, cmd, c.Log, "collector")
	// The receiver starts last, after the pipeline behind it: once it
	// listens, the collector takes spans.
	for deadline := time.Now().Add(60 * time.Second); ; {
		select {
		case err := <-done:
			done <- err // for the cleanup's wait
			b, _ := os.ReadFile(c.Log)
			t.Fatalf("collector exited: %v\n%s", err, b)
		default:
		}
		if conn, err := net.Dial("tcp", c.Addr); err == nil {
			conn.Close()
			return &c
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(c.Log)
			t.Fatalf("collector did not listen on %s within 60s\n%s", c.Addr, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Spans reads what the collector's file exporter has written so far; it
// fails t if the file cannot be read or parsed.
func (c *Collector) Spans(t testing.TB) []FileSpan {
	t.Helper()
	spans, err := ReadFileExporter(c.File)
	if err != nil {
		t.Fatal(err)
	}
	return spans
}

// WaitSpans polls the file exporter's output until done holds for the
// spans written so far, or timeout passes; it returns the last read.
func (c *Collector) WaitSpans(t testing.TB, timeout time.Duration, done func([]FileSpan) bool) []FileSpan {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		spans := c.Spans(t)
		if done(spans) || time.Now().After(deadline) {
			return spans
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// FileSpan is one span the collector's file exporter wrote, with the
// resource and instrumentation scope it came with.
type FileSpan struct {
	*tracepb.Span
	Resource *resourcepb.Resource
	Scope    *commonpb.InstrumentationScope
}

// ID is the span ID in hex, as OTLP/JSON writes it.
func (s FileSpan) ID() string { return hex.EncodeToString(s.GetSpanId()) }

// Attrs returns the span's attributes by key.
func (s FileSpan) Attrs() map[string]*commonpb.AnyValue { return AttrMap(s.GetAttributes()) }

// AttrMap indexes attributes by key.
func AttrMap(kvs []*commonpb.KeyValue) map[string]*commonpb.AnyValue {
	m := make(map[string]*commonpb.AnyValue, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = kv.GetValue()
	}
	return m
}

// ReadFileExporter reads every span in the file exporter's output: one
// OTLP/JSON ExportTraceServiceRequest per line. A missing file is no span
// yet, and a last line without its newline is one being written (left
// for the next read). Fields newer than this module's OTLP protos are
// ignored.
func ReadFileExporter(path string) ([]FileSpan, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		b = nil
	}
	var out []FileSpan
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var req coltracepb.ExportTraceServiceRequest
		if err := unmarshalOTLPJSON(line, &req, protojson.UnmarshalOptions{DiscardUnknown: true}); err != nil {
			return nil, fmt.Errorf("otlptest: %s line %d: %w", path, n, err)
		}
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, sp := range ss.GetSpans() {
					out = append(out, FileSpan{Span: sp, Resource: rs.GetResource(), Scope: ss.GetScope()})
				}
			}
		}
	}
	return out, sc.Err()
}

// FormatValue is an attribute value as OTLP/JSON on one line, for test
// messages ("(absent)" for nil).
func FormatValue(v *commonpb.AnyValue) string {
	if v == nil {
		return "(absent)"
	}
	b, _ := protojson.Marshal(v)
	return string(b)
}

// ForgedIdentity is one span named name, in a trace of its own, whose
// span and resource attributes claim the identity claim the way a client
// forging one would: enduser.id = claim, tls.client.subject = "CN=" +
// claim, and the scratch key the identity processors extract the CN into.
// It returns the request and the span's ID in hex.
func ForgedIdentity(name, claim string) (*coltracepb.ExportTraceServiceRequest, string) {
	str := func(k, v string) *commonpb.KeyValue {
		return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
	}
	claims := func() []*commonpb.KeyValue {
		return []*commonpb.KeyValue{str("enduser.id", claim), str("tls.client.subject", "CN="+claim), str("ccotel_verified_cn", claim)}
	}
	traceID, spanID := make([]byte, 16), make([]byte, 8)
	rand.Read(traceID)
	rand.Read(spanID)
	now := uint64(time.Now().UnixNano())
	span := &tracepb.Span{TraceId: traceID, SpanId: spanID, Name: name, Kind: tracepb.Span_SPAN_KIND_INTERNAL,
		StartTimeUnixNano: now - 1e6, EndTimeUnixNano: now, Attributes: claims()}
	res := &resourcepb.Resource{Attributes: append(claims(), str("service.name", "claude-code"))}
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: res, ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{span}}}}}}, hex.EncodeToString(spanID)
}

// PostTraces sends req to url (…/v1/traces) as OTLP/HTTP protobuf with
// the extra headers h, and wants a 2xx answer.
func PostTraces(client *http.Client, url string, h http.Header, req *coltracepb.ExportTraceServiceRequest) error {
	body, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, vs := range h {
		r.Header[k] = vs // as given: a non-canonical name stays one
	}
	r.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := client.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("otlptest: POST %s: %s: %s", url, resp.Status, msg)
	}
	return nil
}

// Identity is what the collector made of a span's identity: the span's
// enduser.id and tls.client.subject ("(absent)" when missing), and the
// resource's values under the same keys.
type Identity struct {
	EnduserID, Subject       string
	ResEnduserID, ResSubject string
	Scratch                  string // the processors' scratch key, on the span
}

// Identity reads the span's identity keys.
func (s FileSpan) Identity() Identity {
	val := func(m map[string]*commonpb.AnyValue, k string) string {
		if v, ok := m[k]; ok {
			return v.GetStringValue()
		}
		return "(absent)"
	}
	span, res := s.Attrs(), AttrMap(s.Resource.GetAttributes())
	return Identity{EnduserID: val(span, "enduser.id"), Subject: val(span, "tls.client.subject"),
		ResEnduserID: val(res, "enduser.id"), ResSubject: val(res, "tls.client.subject"),
		Scratch: val(span, "ccotel_verified_cn")}
}

// SpanByID waits up to timeout for the span with hex ID id in the file
// exporter's output and returns it (ok false if it never came).
func (c *Collector) SpanByID(t testing.TB, timeout time.Duration, id string) (FileSpan, bool) {
	t.Helper()
	find := func(s []FileSpan) int {
		for i, sp := range s {
			if sp.ID() == id {
				return i
			}
		}
		return -1
	}
	spans := c.WaitSpans(t, timeout, func(s []FileSpan) bool { return find(s) >= 0 })
	if i := find(spans); i >= 0 {
		return spans[i], true
	}
	return FileSpan{}, false
}
