package delivery

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
	"github.com/ccotel/ccotel/tracing"
	"google.golang.org/protobuf/proto"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
)

// TestPolicyTable: every answer a collector (or what stands in front of
// it) can give, through the real exporter, and the verdict the flusher
// acts on.
func TestPolicyTable(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	answer := func(status int, ctype, body string, hdr ...string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			for i := 0; i+1 < len(hdr); i += 2 {
				w.Header().Set(hdr[i], hdr[i+1])
			}
			if ctype != "" {
				w.Header().Set("Content-Type", ctype)
			}
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	ok, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	partial, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 2, ErrorMessage: "too old"}})
	otlp400 := `{"code":3,"message":"invalid span"}`
	for _, tc := range []struct {
		name    string
		handler func(http.ResponseWriter) // nil: the real receiver
		kind    tracing.FailureKind       // -1: success
		want    verdict
	}{
		{"200 OTLP", nil, -1, verdictDelivered},
		{"200 OTLP empty", answer(200, "application/x-protobuf", string(ok)), -1, verdictDelivered},
		{"200 OTLP partial", answer(200, "application/x-protobuf", string(partial)), tracing.FailPartial, verdictDelivered},
		{"200 non-OTLP (login page)", answer(200, "text/html", "<html><title>Sign in</title></html>"), tracing.FailNotOTLP, verdictHold},
		{"301", answer(301, "", "", "Location", "https://other/v1/traces"), tracing.FailRedirect, verdictHold},
		{"302", answer(302, "", "", "Location", "https://sso/login"), tracing.FailRedirect, verdictHold},
		{"307", answer(307, "", "", "Location", "http://plain/v1/traces"), tracing.FailRedirect, verdictHold},
		{"308", answer(308, "", "", "Location", "http://plain/v1/traces"), tracing.FailRedirect, verdictHold},
		{"400 OTLP", answer(400, "application/json", otlp400), tracing.FailRejected, verdictRefused},
		{"400 plain", answer(400, "text/plain", "bad"), tracing.FailRejected, verdictRefused},
		{"401", answer(401, "text/plain", "who"), tracing.FailUnauthorized, verdictRefused},
		{"403", answer(403, "text/plain", "no"), tracing.FailUnauthorized, verdictRefused},
		{"404", answer(404, "text/plain", "404 page not found"), tracing.FailNotFound, verdictRefused},
		{"408", answer(408, "text/plain", "slow"), tracing.FailRejected, verdictRefused},
		{"413", answer(413, "text/plain", "big"), tracing.FailTooLarge, verdictRefused},
		{"429", answer(429, "text/plain", "slow down", "Retry-After", "7"), tracing.FailUnavailable, verdictRetry},
		{"500", answer(500, "text/plain", "oops"), tracing.FailRejected, verdictRefused},
		{"501", answer(501, "text/plain", "no"), tracing.FailRejected, verdictRefused},
		{"502", answer(502, "text/html", "<title>502 Bad Gateway</title>"), tracing.FailUnavailable, verdictRetry},
		{"503", answer(503, "text/plain", "down", "Retry-After", time.Now().Add(20*time.Second).UTC().Format(http.TimeFormat)), tracing.FailUnavailable, verdictRetry},
		{"504", answer(504, "text/plain", "gateway timeout"), tracing.FailUnavailable, verdictRetry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Handle(tc.handler)
			defer c.Handle(nil)
			cfg := testConfig(t, c, p)
			err := export(t, cfg.Options)
			checkVerdict(t, err, tc.kind, tc.want)
			if tc.name == "429" {
				if d := backoff(1, time.Second, 30*time.Second, err); d != 7*time.Second {
					t.Errorf("Retry-After 7: backoff %s", d)
				}
				if d := backoff(1, time.Second, 5*time.Second, err); d != 5*time.Second {
					t.Errorf("Retry-After capped at the max backoff: %s", d)
				}
			}
			if tc.name == "503" {
				if d := backoff(1, time.Second, 30*time.Second, err); d < 15*time.Second || d > 21*time.Second {
					t.Errorf("Retry-After HTTP date 20 s ahead: backoff %s", d)
				}
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		cfg := testConfig(t, c, p)
		cfg.Endpoint = "https://" + addr + "/v1/traces"
		checkVerdict(t, export(t, cfg.Options), tracing.FailRefused, verdictRetry)
	})
	t.Run("timeout", func(t *testing.T) {
		c.Delay(time.Second)
		defer c.Delay(0)
		cfg := testConfig(t, c, p)
		cfg.Timeout = 150 * time.Millisecond
		checkVerdict(t, export(t, cfg.Options), tracing.FailTimeout, verdictRetry)
	})
	t.Run("TLS server not trusted", func(t *testing.T) {
		cfg := testConfig(t, c, p)
		cfg.CA = ""
		checkVerdict(t, export(t, cfg.Options), tracing.FailServerUntrusted, verdictHold)
	})
	t.Run("TLS no client certificate", func(t *testing.T) {
		cfg := testConfig(t, c, p)
		cfg.ClientCert, cfg.ClientKey = "", ""
		checkVerdict(t, export(t, cfg.Options), tracing.FailNoClientCert, verdictHold)
	})
	t.Run("TLS client certificate rejected", func(t *testing.T) {
		other := otlptest.MustCA(t, "other CA")
		cert, key := other.MustIssue(t, "stranger", otlptest.Leaf{})
		cfg := testConfig(t, c, p)
		cfg.ClientCert, cfg.ClientKey = cert, key
		checkVerdict(t, export(t, cfg.Options), tracing.FailClientCertRejected, verdictHold)
	})
	t.Run("http:// to the TLS port", func(t *testing.T) {
		cfg := testConfig(t, c, p)
		cfg.Endpoint = strings.Replace(cfg.Endpoint, "https://", "http://", 1)
		checkVerdict(t, export(t, cfg.Options), tracing.FailWrongScheme, verdictHold)
	})
}

func export(t *testing.T, o tracing.Options) error {
	t.Helper()
	e, err := tracing.NewExporter(&o, nil)
	if err != nil {
		return err
	}
	defer e.Close()
	return e.Export(context.Background(), testSpans("policy", 3))
}

func checkVerdict(t *testing.T, err error, kind tracing.FailureKind, want verdict) {
	t.Helper()
	var ee *tracing.ExportError
	switch {
	case kind == -1 && err != nil:
		t.Fatalf("want success, got %v", err)
	case kind != -1 && (!errors.As(err, &ee) || ee.Kind != kind):
		t.Fatalf("want %v, got %v", kind, err)
	}
	if got := decide(err); got != want {
		t.Errorf("verdict %v, want %v (%v)", got, want, err)
	}
}

func TestBackoffJitterAndCap(t *testing.T) {
	for n := 1; n <= 10; n++ {
		full := min(time.Second<<(n-1), 30*time.Second)
		for range 50 {
			d := backoff(n, time.Second, 30*time.Second, nil)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: %s outside [%s, %s]", n, d, full/2, full)
			}
		}
	}
}

func TestCapNextAttempt(t *testing.T) {
	now := time.Now()
	if got := capNextAttempt(now.Add(time.Hour), now); !got.Equal(now) {
		t.Errorf("an hour ahead: %v", got)
	}
	if got := capNextAttempt(now.Add(20*time.Second), now); !got.Equal(now.Add(20 * time.Second)) {
		t.Errorf("20 s ahead: %v", got)
	}
}
