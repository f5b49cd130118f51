package otlptest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NginxBinary finds nginx (Debian's package). Without it the test is
// skipped, except in CI (CI=true), where a missing nginx is a failure.
func NginxBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Unavailable(t, "nginx not installed (apt-get install nginx)")
	return ""
}

// Nginx is an nginx to run for a test with ccotel's shipped site
// configuration (examples/nginx/ccotel.conf: ssl_verify_client on,
// ssl_verify_depth 1, as ingress-nginx renders its auth-tls annotations).
type Nginx struct {
	Bin        string // the nginx binary (NginxBinary)
	Dir        string // its prefix: configuration, logs, temp files
	Conf       string // path of examples/nginx/ccotel.conf
	ServerCert string // nginx's certificate and key
	ServerKey  string
	ClientCA   string // ssl_client_certificate: the CA client certificates must come from
	// CRL, when set, is the client CA's CRL: StartNginx adds ssl_crl
	// (ingress-nginx's ca.crl in the auth-tls-secret) after
	// ssl_verify_client. ReloadNginx makes nginx read it again.
	CRL      string
	Upstream string // host:port of the plain-HTTP OTLP receiver behind it
}

// StartNginx renders the site configuration for this test (listen
// address, certificates, upstream), wraps it in a minimal main
// configuration and runs nginx in the foreground until the test ends. It
// returns the port nginx listens on (127.0.0.1).
func StartNginx(t testing.TB, n Nginx) string {
	t.Helper()
	nginx, dir := n.Bin, n.Dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(FreeAddr(t))

	example, err := os.ReadFile(n.Conf)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(example)
	for _, r := range []struct{ old, new string }{
		{"listen 443 ssl;", "listen 127.0.0.1:" + port + " ssl;"},
		{"/etc/nginx/ccotel/server.pem", n.ServerCert},
		{"/etc/nginx/ccotel/server-key.pem", n.ServerKey},
		{"/etc/nginx/ccotel/client-ca.pem", n.ClientCA},
		{"server 127.0.0.1:4318;", "server " + n.Upstream + ";"},
		{"shared:ccotel_ssl:1m", "shared:ccotel_ssl_" + port + ":1m"},
	} {
		if !strings.Contains(conf, r.old) {
			t.Fatalf("examples/nginx/ccotel.conf no longer contains %q: update the test with the example", r.old)
		}
		conf = strings.ReplaceAll(conf, r.old, r.new)
	}
	if n.CRL != "" {
		const verify = "ssl_verify_client      on;"
		if !strings.Contains(conf, verify) {
			t.Fatalf("examples/nginx/ccotel.conf no longer contains %q: update the test with the example", verify)
		}
		conf = strings.Replace(conf, verify, verify+"\n    ssl_crl                "+n.CRL+";", 1)
	}
	site := writeTestFile(t, dir, "ccotel.conf", conf)
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
	mainPath := writeTestFile(t, dir, "nginx.conf", main)
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
			done <- err // for the cleanup's wait
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

// PublishCRL copies the CRL file src to n.CRL, where nginx's ssl_crl
// points: what an admin does with a new CRL before StartNginx or
// ReloadNginx.
func PublishCRL(t testing.TB, n Nginx, src string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.CRL, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ReloadNginx has the nginx StartNginx runs for n read its configuration
// and files (certificates, the CRL) again, as `nginx -s reload` does after
// a CRL is published, and returns once the old worker has exited (its
// "exited with code" line in the error log): from then on every new
// connection meets the new configuration.
func ReloadNginx(t testing.TB, n Nginx) {
	t.Helper()
	logPath := filepath.Join(n.Dir, "error.log")
	exited := func() int {
		b, _ := os.ReadFile(logPath)
		return bytes.Count(b, []byte(" exited with code "))
	}
	before := exited()
	out, err := exec.Command(n.Bin, "-c", filepath.Join(n.Dir, "nginx.conf"), "-p", n.Dir, "-e", logPath, "-s", "reload").CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -s reload: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(10 * time.Second); exited() == before; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("nginx -s reload: the old worker did not exit within 10 s (a configuration nginx refused?)\n%s", log)
		}
	}
}

func writeTestFile(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
