package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// forgedHeaders are the names a client might hope the collector reads its
// identity from: the one nginx and ingress-nginx set (and the collector
// reads), and the names other proxies use.
var forgedHeaders = []string{"ssl-client-subject-dn", "X-Client-Cert-Subject", "X-Client-Subject"}

// TestVerifiedIdentityThroughNginx runs the shipped nginx site
// (ssl_verify_client on) in front of the real collector running the
// example configuration, and sends spans whose client claims to be
// ceo@corp twice over: in the identity headers (sent by the client
// itself) and in the span and resource attributes enduser.id and
// tls.client.subject. What the collector writes carries the subject of
// the client certificate nginx verified instead, and none of the claims:
//
//   - the real ccotel binary (`ccotel doctor`'s test span), its [headers]
//     and [resource] configuration forging both, with a certificate for
//     CN=dev laptop;
//   - a raw OTLP/HTTP client with a certificate whose subject hides
//     "CN=ceo@corp" inside its O (printed first by nginx,
//     O=x\,CN=ceo@corp,CN=alice@corp), sending the forged header twice.
//
// It needs nginx and the collector, as TestEndToEndNginx does.
func TestVerifiedIdentityThroughNginx(t *testing.T) {
	nginx, otelcol, dir, bin := throughNginx(t)
	certs, err := otlptest.NewPKI(mkdir(t, dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	col := otlptest.StartCollector(t, otlptest.Collector{Bin: otelcol, Dir: mkdir(t, dir, "otelcol"), Root: root})
	port := otlptest.StartNginx(t, otlptest.Nginx{Bin: nginx, Dir: mkdir(t, dir, "nginx"), Conf: filepath.Join(root, "examples", "nginx", "ccotel.conf"),
		ServerCert: certs.ServerCert, ServerKey: certs.ServerKey, ClientCA: certs.ClientCA.Path, Upstream: col.Addr})
	endpoint := "https://127.0.0.1:" + port
	const claim, absent = "ceo@corp", "(absent)"

	t.Run("ccotel", func(t *testing.T) {
		home := mkdir(t, dir, "home")
		run := runner(t, bin, cleanEnv(home), home)
		conf := fmt.Sprintf("endpoint = %q\nclient_cert = %q\nclient_key = %q\nca = %q\n\n[headers]\n",
			endpoint, certs.ClientCert, certs.ClientKey, certs.ServerCA.Path)
		for _, h := range forgedHeaders {
			conf += fmt.Sprintf("%q = %q\n", h, "CN="+claim)
		}
		conf += fmt.Sprintf("\n[resource]\n\"enduser.id\" = %q\n\"tls.client.subject\" = %q\n", claim, "CN="+claim)
		out, errs, code := run(nil, []string{"CCOTEL_CONFIG=" + writeFile(t, dir, "forged.toml", conf)}, "doctor")
		m := doctorSpanRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("doctor (exit %d) does not report its test span accepted:\n%s%s", code, out, errs)
		}
		checkIdentity(t, col, m[2], otlptest.Identity{EnduserID: "dev laptop", Subject: "CN=dev laptop",
			ResEnduserID: absent, ResSubject: absent, Scratch: absent})
	})

	t.Run("raw OTLP", func(t *testing.T) {
		cert := issueWithSubject(t, certs.ClientCA, pkix.RDNSequence{
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "alice@corp"}},
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "x,CN=" + claim}},
		})
		client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: certs.ServerCA.Pool, Certificates: []tls.Certificate{cert}}}}
		defer client.CloseIdleConnections()
		h := http.Header{}
		for _, name := range forgedHeaders {
			h[name] = []string{"CN=" + claim, "CN=" + claim} // twice: none may survive
		}
		req, id := otlptest.ForgedIdentity("forged identity", claim)
		if err := otlptest.PostTraces(client, endpoint+"/v1/traces", h, req); err != nil {
			t.Fatal(err)
		}
		checkIdentity(t, col, id, otlptest.Identity{EnduserID: "alice@corp", Subject: `O=x\,CN=ceo@corp,CN=alice@corp`,
			ResEnduserID: absent, ResSubject: absent, Scratch: absent})
	})
}

// checkIdentity waits for span id in the collector's file and compares
// its identity with want.
func checkIdentity(t *testing.T, col *otlptest.Collector, id string, want otlptest.Identity) {
	t.Helper()
	s, ok := col.SpanByID(t, 60*time.Second, id)
	if !ok {
		t.Fatalf("span %s is not in the collector's file", id)
	}
	got := s.Identity()
	t.Logf("identity written by the collector on span %s (%q): %+v", id, s.GetName(), got)
	if got != want {
		t.Errorf("span %s: %+v, want %+v", id, got, want)
	}
}

// issueWithSubject signs a client certificate for subject, RDNs in the
// order given (nginx prints them last first), with ca's key.
func issueWithSubject(t *testing.T, ca *otlptest.CA, subject pkix.RDNSequence) tls.Certificate {
	t.Helper()
	raw, err := asn1.Marshal(subject)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		RawSubject:   raw,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// withIdentity is want with the attributes the example collector adds to
// every span that came through nginx: enduser.id = cn, tls.client.subject
// = dn (a copy: want is left alone).
func withIdentity(want map[string]*tracepb.Span, cn, dn string) map[string]*tracepb.Span {
	out := make(map[string]*tracepb.Span, len(want))
	for id, s := range want {
		c := proto.Clone(s).(*tracepb.Span)
		for k, v := range map[string]string{"enduser.id": cn, "tls.client.subject": dn} {
			c.Attributes = append(c.Attributes, &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}})
		}
		out[id] = c
	}
	return out
}
