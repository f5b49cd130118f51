package doctor

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/certs"
	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/otlptest"
)

func diagnose(t *testing.T, cfg *config.Config) *Diagnosis {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return Diagnose(ctx, cfg, Options{})
}

// verdict joins the findings of a severity, for matching.
func verdict(d *Diagnosis, sev Severity) string {
	var b strings.Builder
	for _, f := range d.Findings {
		if f.Severity == sev {
			b.WriteString(f.Section + ": " + f.Message + " => " + f.Fix + "\n")
		}
	}
	return b.String()
}

func TestDoctorAllGood(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	cfg := testConfig(t, c, p)
	d := diagnose(t, cfg)
	if d.Failed() || verdict(d, Warn) != "" {
		t.Fatalf("failures:\n%s%s", verdict(d, Fail), verdict(d, Warn))
	}
	ok := verdict(d, OK)
	for _, want := range []string{"client certificate " + p.ClientCert, "matches the certificate", "handshake with 127.0.0.1", "asked for a client certificate and accepted ours", `test span "ccotel doctor" accepted`} {
		if !strings.Contains(ok, want) {
			t.Errorf("missing %q in:\n%s", want, ok)
		}
	}
	got, _ := c.Received()
	if len(got[d.TestSpan.SpanID.String()]) != 1 {
		t.Error("the test span did not arrive")
	}
}

func TestDoctorNamesEachFailure(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	otherCA := otlptest.MustCA(t, "other CA")
	otherCert, otherKey := otherCA.MustIssue(t, "stranger", otlptest.Leaf{})
	selfCert, selfKey := otlptest.MustSelfSigned(t, "self")
	expCert, expKey := p.ClientCA.MustIssue(t, "expired", otlptest.Leaf{NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	_, wrongKey := p.ClientCA.MustIssue(t, "other laptop", otlptest.Leaf{})
	loose := p.ClientKey + ".loose"
	b, _ := os.ReadFile(p.ClientKey)
	os.WriteFile(loose, b, 0o644)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()

	for _, tc := range []struct {
		name   string
		modify func(*config.Config)
		want   []string // substrings of the Fail (or Warn) verdict
		sev    Severity
	}{
		{"no endpoint", func(c *config.Config) { c.Endpoint = "" }, []string{"no collector endpoint is configured"}, Fail},
		{"no client cert", func(c *config.Config) { c.ClientCert, c.ClientKey = "", "" }, []string{"requires a client certificate and ccotel sent none", "set client_cert and client_key"}, Fail},
		{"self-signed", func(c *config.Config) { c.ClientCert, c.ClientKey = selfCert, selfKey }, []string{"refused the client certificate", "self-signed"}, Fail},
		{"other CA", func(c *config.Config) { c.ClientCert, c.ClientKey = otherCert, otherKey }, []string{"refused the client certificate", "issued by CN=other CA, and the server accepts certificates issued by CN=test client CA"}, Fail},
		{"expired", func(c *config.Config) { c.ClientCert, c.ClientKey = expCert, expKey }, []string{"EXPIRED on", "refused the client certificate"}, Fail},
		{"mismatched key", func(c *config.Config) { c.ClientKey = wrongKey }, []string{"does not belong to the certificate"}, Fail},
		{"cert without key", func(c *config.Config) { c.ClientKey = "" }, []string{"client_cert is set", "but client_key is not"}, Fail},
		{"missing cert file", func(c *config.Config) { c.ClientCert = "/nonexistent/client.pem" }, []string{"/nonexistent/client.pem", "no such file"}, Fail},
		{"server untrusted", func(c *config.Config) { c.CA = "" }, []string{"not trusted", "issued by CN=test server CA", "set ca ="}, Fail},
		{"server from other CA", func(c *config.Config) { c.CA = otherCA.Path }, []string{"not trusted"}, Fail},
		{"wrong path", func(c *config.Config) { c.Endpoint += "/v1/traces" }, []string{"404 Not Found", "twice"}, Fail},
		{"refused", func(c *config.Config) { c.Endpoint = "https://" + closed + "/v1/traces" }, []string{"nothing accepts connections at " + closed}, Fail},
		{"plain http to TLS", func(c *config.Config) { c.Endpoint = strings.Replace(c.Endpoint, "https:", "http:", 1) }, []string{"speaks TLS but the endpoint says http://"}, Fail},
		{"loose key", func(c *config.Config) { c.ClientKey = loose }, []string{"mode 0644", "chmod 600"}, Warn},
		{"insecure", func(c *config.Config) { c.InsecureSkipVerify = true }, []string{"INSECURE"}, Warn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, c, p)
			tc.modify(cfg)
			d := diagnose(t, cfg)
			v := verdict(d, tc.sev)
			for _, w := range tc.want {
				if !strings.Contains(v, w) {
					t.Errorf("verdict lacks %q:\n%s", w, v)
				}
			}
			if tc.sev == Fail && !d.Failed() {
				t.Error("not failed")
			}
			if tc.sev == Warn && d.Failed() {
				t.Errorf("failed:\n%s", verdict(d, Fail))
			}
		})
	}
}

func TestDoctorHTTPVerdicts(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	page := func(status int, body string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	for _, tc := range []struct {
		name    string
		handler func(http.ResponseWriter)
		delay   time.Duration
		want    []string
	}{
		{"nginx no cert", page(400, "<html><head><title>400 No required SSL certificate was sent</title></head></html>"), 0, []string{"requires a client certificate", "No required SSL certificate was sent"}},
		{"nginx bad cert", page(400, "<html><head><title>400 The SSL certificate error</title></head></html>"), 0, []string{"refused the client certificate", "The SSL certificate error"}},
		{"401", page(401, "no"), 0, []string{"HTTP 401", "[headers]"}},
		{"503", page(503, "<html><title>503 Service Temporarily Unavailable</title></html>"), 0, []string{"not available", "HTTP 503", "stay queued"}},
		{"timeout", page(200, ""), 3 * time.Second, []string{"timeout"}},
		{"302 to a login page", func(w http.ResponseWriter) {
			w.Header().Set("Location", "https://bob:s3cret@sso.example/login?next=/v1/traces")
			w.WriteHeader(302)
		}, 0, []string{"HTTP 302", "https://bob:xxxxx@sso.example/login", "does not follow redirects", "login"}},
		{"307 to http", func(w http.ResponseWriter) {
			w.Header().Set("Location", "http://collector.example:4318/v1/traces")
			w.WriteHeader(307)
		}, 0, []string{"HTTP 307", "http://collector.example:4318/v1/traces", "clear text"}},
		{"200 login page", page(200, "<html><title>Sign in</title></html>"), 0, []string{"not an OTLP", "Sign in", "proxy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Handle(tc.handler)
			c.Delay(tc.delay)
			defer func() { c.Handle(nil); c.Delay(0) }()
			cfg := testConfig(t, c, p)
			cfg.Timeout = 2 * time.Second // a loaded 2-core machine needs more than 500 ms for a handshake
			d := diagnose(t, cfg)
			v := verdict(d, Fail)
			for _, w := range tc.want {
				if !strings.Contains(v, w) {
					t.Errorf("verdict lacks %q:\n%s", w, v)
				}
			}
		})
	}
}

// testConfig is a configuration for the collector c with p's good client
// certificate, loaded as the commands load it.
func testConfig(t testing.TB, c *otlptest.Receiver, p *otlptest.PKI) *config.Config {
	t.Helper()
	env := map[string]string{
		"HOME": t.TempDir(), "CCOTEL_ENDPOINT": c.URL, "CCOTEL_CA": p.ServerCA.Path,
		"CCOTEL_CLIENT_CERT": p.ClientCert, "CCOTEL_CLIENT_KEY": p.ClientKey, "CCOTEL_TIMEOUT": "5s",
	}
	cfg, err := config.Load(config.LoadOptions{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A client certificate that ccotel certs init made and that expires within
// 30 days: doctor warns and points at `ccotel certs renew`.
func TestDoctorPointsAtCertsRenew(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	res, err := certs.Init(certs.InitOptions{Dir: t.TempDir(), CommonName: "alice@test", ClientValidity: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, c, p)
	cfg.ClientCert, cfg.ClientKey = res.ClientCert, res.ClientKey
	d := Diagnose(context.Background(), cfg, Options{Offline: true})
	for _, f := range d.Findings {
		if f.Section == "Certificates" && strings.Contains(f.Message, res.ClientCert) {
			if f.Severity != Warn || !strings.Contains(f.Fix, "ccotel certs renew") {
				t.Fatalf("finding %+v: want a warning pointing at ccotel certs renew", f)
			}
			return
		}
	}
	t.Fatalf("no finding about %s in %+v", res.ClientCert, d.Findings)
}
