package tracing

import (
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// testCA is a private CA generated for one test.
type testCA struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	path string // PEM of the CA certificate
	pool *x509.CertPool
}

var serial atomic.Int64

func newCA(t testing.TB, name string) *testCA {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{dir: dir, cert: cert, key: key, path: filepath.Join(dir, "ca.pem"), pool: x509.NewCertPool()}
	ca.pool.AddCert(cert)
	writePEMFile(t, ca.path, "CERTIFICATE", der, 0o644)
	return ca
}

type leafOpts struct {
	server    bool
	notBefore time.Time
	notAfter  time.Time
}

// issue signs a leaf certificate and writes cert and key PEM files.
func (ca *testCA) issue(t testing.TB, cn string, o leafOpts) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(30 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    o.notBefore,
		NotAfter:     o.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if o.server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	parent, signer := ca.cert, ca.key
	if ca.cert == nil { // self-signed
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	base := strings.ReplaceAll(cn, " ", "-")
	certPath = filepath.Join(ca.dir, base+".pem")
	keyPath = filepath.Join(ca.dir, base+"-key.pem")
	writePEMFile(t, certPath, "CERTIFICATE", der, 0o644)
	writePEMFile(t, keyPath, "PRIVATE KEY", keyDER, 0o600)
	return certPath, keyPath
}

// selfSigned returns a client certificate signed by its own key.
func selfSigned(t testing.TB, cn string) (certPath, keyPath string) {
	return (&testCA{dir: t.TempDir()}).issue(t, cn, leafOpts{})
}

func writePEMFile(t testing.TB, path, typ string, der []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		t.Fatal(err)
	}
}

// pki is the usual setup: a server CA (the client trusts it), a client CA
// (the collector trusts it) and a good client certificate.
type pki struct {
	serverCA, clientCA  *testCA
	serverCert, serverK string
	clientCert, clientK string
}

func newPKI(t testing.TB) *pki {
	p := &pki{serverCA: newCA(t, "test server CA"), clientCA: newCA(t, "test client CA")}
	p.serverCert, p.serverK = p.serverCA.issue(t, "127.0.0.1", leafOpts{server: true})
	p.clientCert, p.clientK = p.clientCA.issue(t, "dev laptop", leafOpts{})
	return p
}

// collector is an in-process OTLP/HTTP receiver that requires and
// verifies client certificates and records every span it decodes.
type collector struct {
	srv *httptest.Server
	URL string // base URL

	mu       sync.Mutex
	spans    map[string][]*tracepb.Span // hex span id → every copy received
	resource map[string]string
	scope    string
	requests int
	json     int
	gzip     int
	fail     int                       // answer this status instead of accepting
	handler  func(http.ResponseWriter) // answer with this instead (when set)
	delay    time.Duration
}

func startCollector(t testing.TB, p *pki) *collector {
	t.Helper()
	c := &collector{spans: map[string][]*tracepb.Span{}, resource: map[string]string{}}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
	pair, err := tls.LoadX509KeyPair(p.serverCert, p.serverK)
	if err != nil {
		t.Fatal(err)
	}
	c.srv.TLS = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.clientCA.pool,
	}
	c.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	c.srv.StartTLS()
	c.URL = c.srv.URL
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) setFail(status int) {
	c.mu.Lock()
	c.fail = status
	c.mu.Unlock()
}

func (c *collector) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	fail, handler, delay := c.fail, c.handler, c.delay
	c.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if handler != nil {
		io.Copy(io.Discard, r.Body)
		handler(w)
		return
	}
	if r.URL.Path != "/v1/traces" {
		http.NotFound(w, r)
		return
	}
	if fail != 0 {
		io.Copy(io.Discard, r.Body)
		http.Error(w, http.StatusText(fail), fail)
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
	b, _ := io.ReadAll(body)
	var req coltracepb.ExportTraceServiceRequest
	isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
	var err error
	if isJSON {
		err = unmarshalOTLPJSON(b, &req)
	} else {
		err = proto.Unmarshal(b, &req)
	}
	if err != nil {
		http.Error(w, "bad request: "+err.Error(), 400)
		return
	}
	c.mu.Lock()
	c.requests++
	if isJSON {
		c.json++
	}
	if gz {
		c.gzip++
	}
	for _, rs := range req.GetResourceSpans() {
		for _, kv := range rs.GetResource().GetAttributes() {
			c.resource[kv.GetKey()] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.GetScopeSpans() {
			c.scope = ss.GetScope().GetName() + "@" + ss.GetScope().GetVersion()
			for _, sp := range ss.GetSpans() {
				id := hex.EncodeToString(sp.GetSpanId())
				c.spans[id] = append(c.spans[id], sp)
			}
		}
	}
	c.mu.Unlock()
	if isJSON {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
		return
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// received returns span id → copies, and the number of spans in total.
func (c *collector) received() (map[string][]*tracepb.Span, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string][]*tracepb.Span, len(c.spans))
	n := 0
	for k, v := range c.spans {
		m[k] = append([]*tracepb.Span(nil), v...)
		n += len(v)
	}
	return m, n
}

// testConfig is a Config for the collector with p's good client cert.
func testConfig(t testing.TB, c *collector, p *pki) *Config {
	t.Helper()
	cfg, err := Load(LoadOptions{Getenv: envOf(t.TempDir(),
		"CCOTEL_ENDPOINT", c.URL,
		"CCOTEL_CA", p.serverCA.path,
		"CCOTEL_CLIENT_CERT", p.clientCert,
		"CCOTEL_CLIENT_KEY", p.clientK,
		"CCOTEL_TIMEOUT", "5s",
	)})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// unmarshalOTLPJSON decodes OTLP/JSON, whose ids are hex (protojson
// expects base64 for bytes fields).
func unmarshalOTLPJSON(b []byte, m proto.Message) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, v := range t {
				if s, ok := v.(string); ok && (k == "traceId" || k == "spanId" || k == "parentSpanId") {
					raw, err := hex.DecodeString(s)
					if err == nil {
						t[k] = base64.StdEncoding.EncodeToString(raw)
					}
					continue
				}
				walk(v)
			}
		case []any:
			for _, v := range t {
				walk(v)
			}
		}
	}
	walk(v)
	b, _ = json.Marshal(v)
	return protojson.Unmarshal(b, m)
}
