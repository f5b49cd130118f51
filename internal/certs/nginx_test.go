package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
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
	nginx := findNginx(t)
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

	up := newUpstream(t)
	port := runNginx(t, nginx, filepath.Join(dir, "nginx"), server.ServerCert, server.ServerKey, mine.CACert, up.addr)
	url := "https://127.0.0.1:" + port + "/v1/traces"

	post := func(certFile, keyFile string) (int, string) {
		t.Helper()
		roots := x509.NewCertPool()
		ca, err := ReadCertificate(server.ServerCA.Path)
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

	if code, body := post(mine.ClientCert, mine.ClientKey); code != 200 {
		t.Errorf("Init's certificate: HTTP %d\n%s", code, body)
	}
	if got := up.lastSubject(); !strings.Contains(got, "CN=alice@mac") {
		t.Errorf("upstream saw X-Client-Subject %q, want the certificate's subject", got)
	}

	if code, body := post(server.ClientCert, server.ClientKey); code != 400 || !strings.Contains(body, "The SSL certificate error") {
		t.Errorf("unrelated CA's certificate: HTTP %d, want 400 \"The SSL certificate error\"\n%s", code, body)
	}
	if code, body := post("", ""); code != 400 || !strings.Contains(body, "No required SSL certificate was sent") {
		t.Errorf("no certificate: HTTP %d, want 400 \"No required SSL certificate was sent\"\n%s", code, body)
	}
	if n := up.count(); n != 1 {
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

func findNginx(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("nginx is not installed; CI must install it (apt-get install nginx)")
	}
	t.Skip("nginx not installed")
	return ""
}

// runNginx renders examples/nginx/ccotel.conf (listen address,
// certificate paths, upstream) inside a minimal main configuration and
// runs nginx in the foreground until the test ends. It returns the port.
func runNginx(t *testing.T, nginx, dir, serverCert, serverKey, clientCA, upstream string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "nginx", "ccotel.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(example)
	for _, r := range [][2]string{
		{"listen 443 ssl;", "listen 127.0.0.1:" + port + " ssl;"},
		{"/etc/nginx/ccotel/server.pem", serverCert},
		{"/etc/nginx/ccotel/server-key.pem", serverKey},
		{"/etc/nginx/ccotel/client-ca.pem", clientCA},
		{"server 127.0.0.1:4318;", "server " + upstream + ";"},
		{"shared:ccotel_ssl:1m", "shared:ccotel_ssl_" + port + ":1m"},
	} {
		if !strings.Contains(conf, r[0]) {
			t.Fatalf("examples/nginx/ccotel.conf no longer contains %q: update the test with the example", r[0])
		}
		conf = strings.ReplaceAll(conf, r[0], r[1])
	}
	site := filepath.Join(dir, "ccotel.conf")
	if err := os.WriteFile(site, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // workers keep access to the temp directory
	}
	main := fmt.Sprintf(`%sdaemon off;
worker_processes 1;
error_log %[2]s/error.log info;
pid %[2]s/nginx.pid;
events { worker_connections 64; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[3]s;
}
`, user, dir, site)
	mainPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(mainPath, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-c", mainPath, "-p", dir, "-e", filepath.Join(dir, "error.log"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case err := <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s\n%s", err, out.String(), log)
		default:
		}
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// upstream stands in for the collector behind nginx: it answers every
// request with an empty OTLP response and records the client subject
// nginx passes on.
type upstream struct {
	addr    string
	mu      sync.Mutex
	n       int
	subject string
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		u.mu.Lock()
		u.n++
		u.subject = r.Header.Get("X-Client-Subject")
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(srv.Close)
	u.addr = strings.TrimPrefix(srv.URL, "http://")
	return u
}

func (u *upstream) lastSubject() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.subject
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n
}
