package certs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
)

// TestNginxTeamCA runs the shipped examples/nginx/ccotel.conf with the
// team CA as ssl_client_certificate and its CRL as ssl_crl, as `certs
// ca` prints them: certificates from `certs sign` get through; one from
// another team CA does not; /v1/metrics and /v1/logs (Claude Code's own
// telemetry) pass the same gate; after `certs revoke` and the CRL published
// (copied where ssl_crl points, nginx reloaded) the revoked certificate is
// refused and nginx logs why, while a colleague's goes on working; a CRL
// past its next update makes nginx refuse everyone until `certs crl`
// writes a fresh one.
//
// It needs nginx (Debian's package); it is skipped without it, except in
// CI (CI=true), where a missing nginx is a failure.
func TestNginxTeamCA(t *testing.T) {
	bin := otlptest.NginxBinary(t)
	dir := t.TempDir()
	now := time.Now
	tm := &team{ca: mustNewCA(t, filepath.Join(dir, "ca"), now)}
	bob := issueFor(t, tm, filepath.Join(dir, "bob"), "bob@corp", now)
	alice := issueFor(t, tm, filepath.Join(dir, "alice"), "alice@corp", now)
	other := &team{ca: mustNewCA(t, filepath.Join(dir, "other-ca"), now)}
	mallory := issueFor(t, other, filepath.Join(dir, "mallory"), "bob@corp", now)

	g := startGate(t, bin, dir, tm.ca.Cert, tm.ca.CRL)
	ng, url, up, server := g.nginx, g.url, g.up, g.server
	publish := func() { otlptest.PublishCRL(t, ng, tm.ca.CRL) }
	post := func(p Paths) (int, string) {
		return postThrough(t, url, server.ServerCA.Path, p.ClientCert, p.ClientKey)
	}

	if code, body := post(bob); code != 200 {
		t.Errorf("bob's signed certificate: HTTP %d, want 200\n%s", code, body)
	}
	if got := up.Header().Get("X-Client-Subject"); !strings.Contains(got, "CN=bob@corp") {
		t.Errorf("upstream saw X-Client-Subject %q", got)
	}
	// Claude Code's own telemetry goes through the same gate to the same
	// upstream (which takes traces only, so answers Go's 404); other paths
	// stop at nginx.
	base := strings.TrimSuffix(url, "/v1/traces")
	for _, path := range []string{"/v1/metrics", "/v1/logs"} {
		if code, body := postThrough(t, base+path, server.ServerCA.Path, bob.ClientCert, bob.ClientKey); code != 404 || body != "404 page not found\n" {
			t.Errorf("%s with bob's certificate: HTTP %d %q, want the upstream's 404", path, code, body)
		}
		if code, _ := postThrough(t, base+path, server.ServerCA.Path, "", ""); code != 400 {
			t.Errorf("%s without a certificate: HTTP %d, want 400", path, code)
		}
	}
	if code, body := postThrough(t, base+"/v1/profiles", server.ServerCA.Path, bob.ClientCert, bob.ClientKey); code != 404 || !strings.Contains(body, "nginx") {
		t.Errorf("/v1/profiles: HTTP %d %q, want nginx's own 404", code, body)
	}
	if code, body := post(mallory); code != 400 || !strings.Contains(body, "The SSL certificate error") {
		t.Errorf("another CA's certificate (same CN): HTTP %d, want 400 \"The SSL certificate error\"\n%s", code, body)
	}

	if _, err := Revoke(RevokeOptions{CADir: tm.ca.Dir, Which: "bob@corp", Now: now}); err != nil {
		t.Fatal(err)
	}
	publish()
	otlptest.ReloadNginx(t, ng)
	if code, body := post(bob); code != 400 || !strings.Contains(body, "The SSL certificate error") {
		t.Errorf("bob's revoked certificate after the CRL is published: HTTP %d, want 400\n%s", code, body)
	}
	if log, _ := os.ReadFile(filepath.Join(ng.Dir, "error.log")); !strings.Contains(string(log), "certificate revoked") {
		t.Errorf("nginx's error log does not say \"certificate revoked\":\n%s", log)
	}
	if code, body := post(alice); code != 200 {
		t.Errorf("alice's certificate (not revoked) after the CRL: HTTP %d, want 200\n%s", code, body)
	}

	// A CRL past its next update: nginx refuses everyone, until `certs
	// crl` writes a fresh one and it is published.
	stale := func() time.Time { return time.Now().Add(-48 * time.Hour) }
	if _, err := RefreshCRL(RevokeOptions{CADir: tm.ca.Dir, CRLValidity: 24 * time.Hour, Now: stale}); err != nil {
		t.Fatal(err)
	}
	publish()
	otlptest.ReloadNginx(t, ng)
	if code, _ := post(alice); code != 400 {
		t.Errorf("alice's certificate with an expired CRL: HTTP %d, want 400", code)
	}
	if log, _ := os.ReadFile(filepath.Join(ng.Dir, "error.log")); !strings.Contains(string(log), "CRL has expired") {
		t.Errorf("nginx's error log does not say \"CRL has expired\"")
	}
	if _, err := RefreshCRL(RevokeOptions{CADir: tm.ca.Dir, Now: now}); err != nil {
		t.Fatal(err)
	}
	publish()
	otlptest.ReloadNginx(t, ng)
	if code, _ := post(alice); code != 200 {
		t.Errorf("alice's certificate after `certs crl`: HTTP %d, want 200", code)
	}
	if code, _ := post(bob); code != 400 {
		t.Errorf("bob's revoked certificate after `certs crl`: HTTP %d, want 400 (still revoked)", code)
	}
}
func mustNewCA(t *testing.T, dir string, now func() time.Time) *CAResult {
	t.Helper()
	ca, err := NewCA(CAOptions{Dir: dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// issueFor runs request, sign and install for cn in dir and returns the
// installed pair.
func issueFor(t *testing.T, tm *team, dir, cn string, now func() time.Time) Paths {
	t.Helper()
	req, err := Request(RequestOptions{Dir: dir, CommonName: cn})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Sign(SignOptions{CADir: tm.ca.Dir, CSR: req.CSR, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	in, err := Install(InstallOptions{Dir: dir, File: s.Out, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return Paths{ClientCert: in.Cert, ClientKey: in.Key}
}

func mkdirT(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNginxCRLCoversEveryCA is why `certs ca` writes a CRL on the first
// day: with ssl_crl on, nginx refuses a certificate whose CA has no CRL
// in the file ("unable to get certificate CRL"), so an ingress that
// trusts two CAs and holds the CRL of one refuses everyone from the other.
func TestNginxCRLCoversEveryCA(t *testing.T) {
	bin := otlptest.NginxBinary(t)
	dir := t.TempDir()
	now := time.Now
	tm := &team{ca: mustNewCA(t, filepath.Join(dir, "ca"), now)}
	bob := issueFor(t, tm, filepath.Join(dir, "bob"), "bob@corp", now)
	// An older CA the ingress also trusts, with certificates but no CRL
	// in the published file (a laptop CA of `certs init`).
	solo, err := Init(InitOptions{Dir: filepath.Join(dir, "solo"), CommonName: "carol@mac", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "bundle.pem")
	b1, _ := os.ReadFile(tm.ca.Cert)
	b2, _ := os.ReadFile(solo.CACert)
	if err := os.WriteFile(bundle, append(b1, b2...), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startGate(t, bin, dir, bundle, tm.ca.CRL)
	url, server, ng := g.url, g.server, g.nginx
	if code, body := postThrough(t, url, server.ServerCA.Path, bob.ClientCert, bob.ClientKey); code != 200 {
		t.Errorf("the team CA's certificate (its CRL published): HTTP %d\n%s", code, body)
	}
	if code, _ := postThrough(t, url, server.ServerCA.Path, solo.ClientCert, solo.ClientKey); code != 400 {
		t.Errorf("a trusted CA's certificate without that CA's CRL: HTTP %d, want 400", code)
	}
	if log, _ := os.ReadFile(filepath.Join(ng.Dir, "error.log")); !strings.Contains(string(log), "(3:unable to get certificate CRL)") {
		t.Errorf("nginx's error log does not say \"unable to get certificate CRL\":\n%s", log)
	}
}

// gate is nginx with the shipped site configuration in front of a plain
// OTLP receiver, verifying client certificates against a CA file and a CRL.
type gate struct {
	nginx  otlptest.Nginx
	url    string // …/v1/traces
	up     *otlptest.Receiver
	server *otlptest.PKI // nginx's own certificate and its CA
}

// startGate publishes crl where ssl_crl points and starts nginx.
func startGate(t *testing.T, bin, dir, clientCA, crl string) *gate {
	t.Helper()
	server, err := otlptest.NewPKI(mkdirT(t, dir, "server"))
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{up: otlptest.MustStartPlain(t), server: server}
	g.nginx = otlptest.Nginx{Bin: bin, Dir: filepath.Join(dir, "nginx"), Conf: filepath.Join("..", "..", "examples", "nginx", "ccotel.conf"),
		ServerCert: server.ServerCert, ServerKey: server.ServerKey, ClientCA: clientCA, CRL: filepath.Join(mkdirT(t, dir, "nginx-etc"), "client-ca.crl"), Upstream: g.up.Addr()}
	otlptest.PublishCRL(t, g.nginx, crl)
	g.url = "https://127.0.0.1:" + otlptest.StartNginx(t, g.nginx) + "/v1/traces"
	return g
}
