package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
)

// TestNginxAcceptsInitsCertificate runs the shipped
// examples/nginx/ccotel.conf (ssl_verify_client on, ssl_verify_depth 1)
// with Init's client CA as ssl_client_certificate, and checks what a
// person would: Init's client certificate gets a request through to the
// upstream (which sees its subject), so does a renewed one, and a
// certificate from an unrelated CA, or none, gets nginx's 400 pages.
//
// It needs nginx (Debian's package); it is skipped without it, except in
// CI (CI=true), where a missing nginx is a failure.
func TestNginxAcceptsInitsCertificate(t *testing.T) {
	nginx := otlptest.NginxBinary(t)
	dir := t.TempDir()
	mine := mustInit(t, InitOptions{Dir: filepath.Join(dir, "ccotel"), CommonName: "alice@mac", Now: time.Now})
	// The server certificate, and an unrelated CA with a client
	// certificate of its own.
	serverDir := filepath.Join(dir, "server")
	if err := os.Mkdir(serverDir, 0o700); err != nil {
		t.Fatal(err)
	}
	server, err := otlptest.NewPKI(serverDir)
	if err != nil {
		t.Fatal(err)
	}

	// The collector behind nginx: a plain-HTTP receiver that also keeps
	// the headers nginx adds.
	up := otlptest.MustStartPlain(t)
	port := otlptest.StartNginx(t, otlptest.Nginx{Bin: nginx, Dir: filepath.Join(dir, "nginx"), Conf: filepath.Join("..", "..", "examples", "nginx", "ccotel.conf"),
		ServerCert: server.ServerCert, ServerKey: server.ServerKey, ClientCA: mine.CACert, Upstream: up.Addr()})
	url := "https://127.0.0.1:" + port + "/v1/traces"

	post := func(certFile, keyFile string) (int, string) {
		t.Helper()
		return postThrough(t, url, server.ServerCA.Path, certFile, keyFile)
	}

	if code, body := post(mine.ClientCert, mine.ClientKey); code != 200 {
		t.Errorf("Init's certificate: HTTP %d\n%s", code, body)
	}
	if got := up.Header().Get("X-Client-Subject"); !strings.Contains(got, "CN=alice@mac") {
		t.Errorf("upstream saw X-Client-Subject %q, want the certificate's subject", got)
	}

	if code, body := post(server.ClientCert, server.ClientKey); code != 400 || !strings.Contains(body, "The SSL certificate error") {
		t.Errorf("unrelated CA's certificate: HTTP %d, want 400 \"The SSL certificate error\"\n%s", code, body)
	}
	if code, body := post("", ""); code != 400 || !strings.Contains(body, "No required SSL certificate was sent") {
		t.Errorf("no certificate: HTTP %d, want 400 \"No required SSL certificate was sent\"\n%s", code, body)
	}
	if n := up.Stats().Requests; n != 1 {
		t.Errorf("upstream got %d requests, want 1 (only the good certificate's)", n)
	}

	// A renewed certificate from the same CA: no change on the nginx side.
	if _, err := Renew(RenewOptions{Paths: mine.Paths}); err != nil {
		t.Fatal(err)
	}
	if code, body := post(mine.ClientCert, mine.ClientKey); code != 200 {
		t.Errorf("renewed certificate: HTTP %d\n%s", code, body)
	}
	// A client CA made again with Force is another CA: nginx refuses its
	// certificate until the secret (here ssl_client_certificate) changes.
	again := filepath.Join(dir, "again")
	r2 := mustInit(t, InitOptions{Dir: again, CommonName: "alice@mac", Now: time.Now})
	if code, _ := post(r2.ClientCert, r2.ClientKey); code != 400 {
		t.Errorf("a new CA's certificate: HTTP %d, want 400", code)
	}
}

// postThrough POSTs an empty OTLP request to url, trusting serverCA,
// presenting the client certificate in certFile (none when "") as ccotel
// does, on a fresh connection (no TLS session resumed), and returns the
// HTTP status and body.
func postThrough(t *testing.T, url, serverCA, certFile, keyFile string) (int, string) {
	t.Helper()
	roots := x509.NewCertPool()
	ca, err := ReadCertificate(serverCA)
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(ca)
	tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		// Always send it, as ccotel does: with Certificates, Go sends
		// nothing when nginx's list of acceptable CAs lacks the issuer.
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	defer c.CloseIdleConnections()
	resp, err := c.Post(url, "application/x-protobuf", bytes.NewReader(nil))
	if err != nil {
		t.Fatalf("POST with %s: %v", certFile, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
