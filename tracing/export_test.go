package tracing

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

// testSpans makes n spans of one trace: a root and n-1 children, with
// ids derived from seed so different calls do not collide.
func testSpans(seed string, n int) []*Span {
	h := sha256.Sum256([]byte("trace/" + seed))
	var tid TraceID
	copy(tid[:], h[:16])
	spanID := func(i int) SpanID {
		h := sha256.Sum256([]byte(fmt.Sprintf("span/%s/%d", seed, i)))
		var s SpanID
		copy(s[:], h[:8])
		return s
	}
	root := spanID(0)
	spans := make([]*Span, n)
	for i := range spans {
		s := &Span{
			TraceID: tid, SpanID: spanID(i), Name: fmt.Sprintf("execute_tool Bash %d", i),
			Start: t0.Add(time.Duration(i) * time.Millisecond), End: t0.Add(time.Duration(i)*time.Millisecond + 1500*time.Microsecond),
			Attrs: []Attr{String("gen_ai.tool.name", "Bash"), Int("n", int64(i)), Bool("ok", true), Float("f", 0.5), Strings("models", "a", "b")},
		}
		if i > 0 {
			s.ParentSpanID = root
		} else {
			s.Name = "invoke_agent claude-code"
			s.End = t0.Add(time.Hour)
			s.Events = []Event{{Name: "Notification", Time: t0.Add(time.Second), Attrs: []Attr{String("kind", "idle")}}}
			s.Links = []Link{{TraceID: TraceID{1}, SpanID: SpanID{2}, Attrs: []Attr{String("l", "v")}}}
			s.StatusCode, s.StatusMessage = StatusError, "boom"
		}
		spans[i] = s
	}
	return spans
}

func TestExportDelivers(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	for _, proto := range []string{"http/protobuf", "http/json"} {
		for _, comp := range []string{"gzip", "none"} {
			t.Run(proto+"/"+comp, func(t *testing.T) {
				cfg := testConfig(t, c, p)
				cfg.Protocol, cfg.Compression = proto, comp
				cfg.ResourceAttrs = map[string]string{"team": "payments"}
				exp, err := NewExporter(withVersion(cfg, "1.2.3"), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer exp.Close()
				spans := testSpans(proto+comp, 5)
				if err := exp.Export(context.Background(), spans); err != nil {
					t.Fatalf("export: %v", err)
				}
				got, _ := c.Received()
				for i, s := range spans {
					copies := got[s.SpanID.String()]
					if len(copies) != 1 {
						t.Fatalf("span %d arrived %d times", i, len(copies))
					}
					r := copies[0]
					wantParent := ""
					if s.ParentSpanID.IsValid() {
						wantParent = s.ParentSpanID.String()
					}
					if fmt.Sprintf("%x", r.GetTraceId()) != s.TraceID.String() || fmt.Sprintf("%x", r.GetParentSpanId()) != wantParent {
						t.Errorf("span %d ids: trace %x parent %x", i, r.GetTraceId(), r.GetParentSpanId())
					}
					if r.GetName() != s.Name || r.GetStartTimeUnixNano() != uint64(s.Start.UnixNano()) || r.GetEndTimeUnixNano() != uint64(s.End.UnixNano()) {
						t.Errorf("span %d: %q %d %d", i, r.GetName(), r.GetStartTimeUnixNano(), r.GetEndTimeUnixNano())
					}
					if len(r.GetAttributes()) != 5 || r.GetKind().String() != "SPAN_KIND_INTERNAL" {
						t.Errorf("span %d attrs %v kind %v", i, r.GetAttributes(), r.GetKind())
					}
					if i == 0 {
						if len(r.GetEvents()) != 1 || r.GetEvents()[0].GetTimeUnixNano() != uint64(t0.Add(time.Second).UnixNano()) {
							t.Errorf("events %v", r.GetEvents())
						}
						if len(r.GetLinks()) != 1 || fmt.Sprintf("%x", r.GetLinks()[0].GetSpanId()) != (SpanID{2}).String() {
							t.Errorf("links %v", r.GetLinks())
						}
						if r.GetStatus().GetCode().String() != "STATUS_CODE_ERROR" || r.GetStatus().GetMessage() != "boom" {
							t.Errorf("status %v", r.GetStatus())
						}
					}
				}
				if c.Resource()["service.name"] != "claude-code" || c.Resource()["team"] != "payments" || c.Resource()["ccotel.version"] != "1.2.3" || c.Resource()["host.name"] == "" {
					t.Errorf("resource %v", c.Resource())
				}
				if c.Scope() != ScopeName+"@1.2.3" {
					t.Errorf("scope %q", c.Scope())
				}
			})
		}
	}
	if c.Stats().JSON != 2 || c.Stats().Gzip != 2 {
		t.Errorf("json requests %d gzip %d, want 2 and 2", c.Stats().JSON, c.Stats().Gzip)
	}
}

// exportErr exports one span with cfg and returns the classified error.
func exportErr(t *testing.T, cfg *Options) *ExportError {
	t.Helper()
	exp, err := NewExporter(withVersion(cfg, "test"), nil)
	if err != nil {
		var ee *ExportError
		if errors.As(err, &ee) {
			return ee
		}
		t.Fatalf("NewExporter: %v", err)
	}
	defer exp.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err = exp.Export(ctx, testSpans(t.Name(), 1))
	if err == nil {
		return nil
	}
	var ee *ExportError
	if !errors.As(err, &ee) {
		t.Fatalf("error %T %v is not an *ExportError", err, err)
	}
	return ee
}

func TestExportClassifiesTLSFailures(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	otherCA := otlptest.MustCA(t, "some other CA")
	otherCert, otherKey := otherCA.MustIssue(t, "stranger", otlptest.Leaf{})
	selfCert, selfKey := otlptest.MustSelfSigned(t, "self")
	expCert, expKey := p.ClientCA.MustIssue(t, "expired", otlptest.Leaf{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	_, wrongKey := p.ClientCA.MustIssue(t, "other laptop", otlptest.Leaf{})

	for _, tc := range []struct {
		name   string
		modify func(*Options)
		want   FailureKind
	}{
		{"good", func(*Options) {}, -1},
		{"no client cert", func(c *Options) { c.ClientCert, c.ClientKey = "", "" }, FailNoClientCert},
		{"self-signed", func(c *Options) { c.ClientCert, c.ClientKey = selfCert, selfKey }, FailClientCertRejected},
		{"other CA", func(c *Options) { c.ClientCert, c.ClientKey = otherCert, otherKey }, FailClientCertRejected},
		{"expired", func(c *Options) { c.ClientCert, c.ClientKey = expCert, expKey }, FailClientCertRejected},
		{"mismatched key", func(c *Options) { c.ClientKey = wrongKey }, FailConfig},
		{"cert without key", func(c *Options) { c.ClientKey = "" }, FailConfig},
		{"server untrusted", func(c *Options) { c.CA = "" }, FailServerUntrusted},
		{"server from another CA", func(c *Options) { c.CA = otherCA.Path }, FailServerUntrusted},
		{"insecure skip verify", func(c *Options) { c.CA = ""; c.InsecureSkipVerify = true }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, c, p)
			tc.modify(cfg)
			ee := exportErr(t, cfg)
			switch {
			case tc.want == -1 && ee != nil:
				t.Fatalf("want success, got %v", ee)
			case tc.want == -1:
			case ee == nil:
				t.Fatalf("want %v, got success", tc.want)
			case ee.Kind != tc.want:
				t.Fatalf("want %v, got %v (%v)", tc.want, ee.Kind, ee)
			}
		})
	}
}

// A refused client certificate reaches the HTTP client as whatever the
// transport made of the hang-up, and the words change from run to run
// (CI once saw "http2: client conn is closed"). Whatever they are, Export
// asks the server with a bare handshake and names the refusal.
func TestExportNamesRefusalWhateverTheTransportSaid(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	otherCA := otlptest.MustCA(t, "some other CA")
	otherCert, otherKey := otherCA.MustIssue(t, "stranger", otlptest.Leaf{})
	for _, said := range []string{
		"http2: client conn is closed",
		"http2: client connection lost",
		"http2: client conn not usable",
		"connection reset by peer",
		"some wording no one has seen yet",
	} {
		t.Run(said, func(t *testing.T) {
			cfg := testConfig(t, c, p)
			cfg.ClientCert, cfg.ClientKey = otherCert, otherKey
			exp, err := NewExporter(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer exp.Close()
			exp.client.Transport = roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New(said) })
			err = exp.Export(context.Background(), testSpans(t.Name(), 1))
			var ee *ExportError
			if !errors.As(err, &ee) || ee.Kind != FailClientCertRejected {
				t.Fatalf("want %v, got %v", FailClientCertRejected, err)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestExportClassifiesHTTPFailures(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	answer := func(status int, ctype, body string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	partial, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 1, ErrorMessage: "too old"}})
	nginxPage := func(msg string) string {
		return "<html>\r\n<head><title>400 " + msg + "</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>" + msg + "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	}
	for _, tc := range []struct {
		name      string
		handler   func(http.ResponseWriter)
		want      FailureKind
		retryable bool // the retry policy's verdict: internal/delivery tests it
	}{
		{"404", answer(404, "text/plain", "404 page not found"), FailNotFound, true},
		{"401", answer(401, "text/plain", "no"), FailUnauthorized, true},
		{"403", answer(403, "text/plain", "no"), FailUnauthorized, true},
		{"413", answer(413, "text/plain", "big"), FailTooLarge, false},
		{"429", answer(429, "text/plain", "slow down"), FailUnavailable, true},
		{"503", answer(503, "text/plain", "down"), FailUnavailable, true},
		{"502", answer(502, "text/html", "<html><title>502 Bad Gateway</title></html>"), FailUnavailable, true},
		{"400 otlp", answer(400, "application/json", `{"code":3,"message":"bad span"}`), FailRejected, false},
		{"400 proxy page", answer(400, "text/html", "<html><title>400 Bad Request</title></html>"), FailRejected, false},
		{"405", answer(405, "text/plain", "method"), FailRejected, false},
		{"408", answer(408, "text/plain", "slow"), FailRejected, false},
		{"500", answer(500, "text/plain", "oops"), FailRejected, false},
		{"501", answer(501, "text/plain", "no"), FailRejected, false},
		{"302", func(w http.ResponseWriter) {
			w.Header().Set("Location", "http://alice:hunter2@login.example/sso")
			w.WriteHeader(302)
		}, FailRedirect, false},
		{"307", func(w http.ResponseWriter) {
			w.Header().Set("Location", "http://plain.example/v1/traces")
			w.WriteHeader(307)
		}, FailRedirect, false},
		{"200 html", answer(200, "text/html; charset=utf-8", "<!doctype html><title>Sign in</title>"), FailNotOTLP, false},
		{"200 protobuf garbage", answer(200, "application/x-protobuf", "\xff\xff\xff"), FailNotOTLP, false},
		{"400 nginx no cert", answer(400, "text/html", nginxPage("No required SSL certificate was sent")), FailNoClientCert, true},
		{"400 nginx bad cert", answer(400, "text/html", nginxPage("The SSL certificate error")), FailClientCertRejected, true},
		{"partial", answer(200, "application/x-protobuf", string(partial)), FailPartial, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Handle(tc.handler)
			defer c.Handle(nil)
			ee := exportErr(t, testConfig(t, c, p))
			if ee == nil || ee.Kind != tc.want {
				t.Fatalf("got %v (kind %v), want %v", ee, kindOf(ee), tc.want)
			}
			if tc.name == "400 nginx no cert" && ee.Body != "400 No required SSL certificate was sent" {
				t.Errorf("body snippet %q", ee.Body)
			}
			if tc.name == "302" && (ee.Location != "http://alice:xxxxx@login.example/sso" || strings.Contains(ee.Error(), "hunter2")) {
				t.Errorf("redirect location %q, error %q", ee.Location, ee.Error())
			}
			if tc.name == "400 otlp" && ee.Body != "bad span" {
				t.Errorf("OTLP message %q", ee.Body)
			}
		})
	}
}

func kindOf(e *ExportError) any {
	if e == nil {
		return "none"
	}
	return e.Kind
}

func TestExportClassifiesNetworkFailures(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)

	// Connection refused: a port nobody listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg := testConfig(t, c, p)
	cfg.Endpoint = "https://" + addr + "/v1/traces"
	if ee := exportErr(t, cfg); ee == nil || ee.Kind != FailRefused {
		t.Errorf("refused: %v", ee)
	}

	// Timeout: the collector answers too late.
	c.Delay(1 * time.Second)
	cfg = testConfig(t, c, p)
	cfg.Timeout = 200 * time.Millisecond
	start := time.Now()
	if ee := exportErr(t, cfg); ee == nil || ee.Kind != FailTimeout {
		t.Errorf("timeout: %v", ee)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("timeout took %v", d)
	}
	c.Delay(0)

	// Plain HTTP to a TLS port.
	cfg = testConfig(t, c, p)
	cfg.Endpoint = strings.Replace(cfg.Endpoint, "https://", "http://", 1)
	if ee := exportErr(t, cfg); ee == nil || ee.Kind != FailWrongScheme {
		t.Errorf("http to https port: %v", ee)
	}
}

func BenchmarkExport512(b *testing.B) {
	p := otlptest.MustPKI(b)
	c := otlptest.MustStart(b, p)
	cfg := testConfig(b, c, p)
	exp, err := NewExporter(withVersion(cfg, "bench"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer exp.Close()
	spans := testSpans("bench", 512)
	var seq uint64
	b.ResetTimer()
	for b.Loop() {
		for _, s := range spans {
			seq++
			binary.BigEndian.PutUint64(s.SpanID[:], seq)
		}
		if err := exp.Export(context.Background(), spans); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(512*b.N)/b.Elapsed().Seconds(), "spans/s")
}

// testConfig is the exporter's options for the collector c, with p's
// good client certificate.
func testConfig(t testing.TB, c *otlptest.Receiver, p *otlptest.PKI) *Options {
	return &Options{
		Endpoint: c.TracesURL(), Protocol: "http/protobuf", Compression: "gzip", Timeout: 5 * time.Second,
		CA: p.ServerCA.Path, ClientCert: p.ClientCert, ClientKey: p.ClientKey, ServiceName: DefaultServiceName,
		Version: "test",
	}
}

func withVersion(o *Options, v string) *Options { o.Version = v; return o }
