package otlptest

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

func client(t *testing.T, c *PKI, withCert bool) *http.Client {
	t.Helper()
	ca, err := os.ReadFile(c.ServerCA.Path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cfg := &tls.Config{RootCAs: pool}
	if withCert {
		kp, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 5 * time.Second}
}

func body(t *testing.T, ids ...byte) []byte {
	t.Helper()
	var spans []*tracepb.Span
	for _, id := range ids {
		spans = append(spans, &tracepb.Span{TraceId: bytes.Repeat([]byte{1}, 16), SpanId: []byte{0, 0, 0, 0, 0, 0, 0, id}, Name: "s"})
	}
	b, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReceiverCountsSpansAndRequiresClientCert(t *testing.T) {
	c, err := NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := Start(c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	good := client(t, c, true)
	resp, err := good.Post(r.TracesURL(), "application/x-protobuf", bytes.NewReader(body(t, 1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body(t, 2, 3))
	zw.Close()
	req, _ := http.NewRequest("POST", r.TracesURL(), &gz)
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err = good.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if _, err := client(t, c, false).Post(r.TracesURL(), "application/x-protobuf", bytes.NewReader(body(t, 9))); err == nil {
		t.Fatal("request without a client certificate was accepted")
	}

	got := r.Stats()
	want := Stats{Requests: 2, Gzip: 1, Total: 4, Distinct: 3}
	if got != want || got.Dups() != 1 || r.Count("0000000000000002") != 2 {
		t.Fatalf("stats %+v, want %+v with span 2 twice", got, want)
	}
}

func TestHoldBlocksUntilClientGoesAway(t *testing.T) {
	c, err := NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := Start(c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Hold()
	cl := client(t, c, true)
	cl.Timeout = 2 * time.Second // the handshake must finish first, on a loaded machine too
	if _, err := cl.Post(r.TracesURL(), "application/x-protobuf", bytes.NewReader(body(t, 7))); err == nil {
		t.Fatal("held request answered")
	}
	if s := r.Stats(); s.Distinct != 1 {
		t.Fatalf("held batch not counted: %+v", s)
	}
	r.Release()
	cl.Timeout = 5 * time.Second
	resp, err := cl.Post(r.TracesURL(), "application/x-protobuf", bytes.NewReader(body(t, 7)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if s := r.Stats(); s.Dups() != 1 {
		t.Fatalf("stats after resend %+v", s)
	}
}
