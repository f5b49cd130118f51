package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ccotel/ccotel/internal/otlptest"
)

// TestTeamCAWithNginx is the team CA's round as people run it, with the
// real binary, nginx (the shipped examples/nginx/ccotel.conf plus the
// ssl_crl line `certs ca` prints) and the real collector behind it: the
// admin's `certs ca`; a developer's `certs request`; the admin's `certs
// sign`; the developer's `certs install` and `install --endpoint`; then
// `doctor` through nginx: accepted, its test span in the collector. A
// certificate from another team CA is refused. After `certs revoke`, the
// CRL copied where ssl_crl points and `nginx -s reload`, the same
// certificate is refused, nginx logs "certificate revoked", and a
// colleague's certificate still gets through.
//
// It needs nginx and the collector, as TestEndToEndNginx does.
func TestTeamCAWithNginx(t *testing.T) {
	nginx, otelcol, dir, bin := throughNginx(t)
	admin := newPerson(t, bin, dir, "admin")
	bob := newPerson(t, bin, dir, "bob")
	alice := newPerson(t, bin, dir, "alice")
	caDir := filepath.Join(admin.home, "ca")

	admin.must("certs", "ca", "--dir", caDir)
	crl := filepath.Join(caDir, "client-ca.crl")
	bob.enroll(admin, caDir, "bob@corp")
	alice.enroll(admin, caDir, "alice@corp")
	// Mallory: another team CA's certificate, under bob's name.
	mallory := newPerson(t, bin, dir, "mallory")
	otherCA := filepath.Join(mallory.home, "ca")
	mallory.must("certs", "ca", "--dir", otherCA)
	mallory.enroll(mallory, otherCA, "bob@corp")

	server, err := otlptest.NewPKI(mkdir(t, dir, "server"))
	if err != nil {
		t.Fatal(err)
	}
	col := otlptest.StartCollector(t, otlptest.Collector{Bin: otelcol, Dir: mkdir(t, dir, "otelcol"), Root: root})
	ng := otlptest.Nginx{Bin: nginx, Dir: mkdir(t, dir, "nginx"), Conf: filepath.Join(root, "examples", "nginx", "ccotel.conf"),
		ServerCert: server.ServerCert, ServerKey: server.ServerKey, ClientCA: filepath.Join(caDir, "client-ca.pem"), CRL: filepath.Join(mkdir(t, dir, "nginx-etc"), "client-ca.crl"), Upstream: col.Addr}
	publish := func() { otlptest.PublishCRL(t, ng, crl) }
	publish()
	endpoint := "https://127.0.0.1:" + otlptest.StartNginx(t, ng)
	for _, p := range []*person{bob, alice, mallory} {
		p.must("install", "--endpoint", endpoint, "--ca", server.ServerCA.Path)
		t.Cleanup(func() { stopFlusher(t, filepath.Join(p.home, ".local", "state", "ccotel")) })
	}

	// Accepted: doctor is all good and its span reaches the collector.
	out := bob.doctor(0, "accepted")
	waitDoctorSpan(t, col, out)
	// Another CA's certificate: refused.
	mallory.doctor(1, "another CA", "refused the client certificate", "The SSL certificate error")

	// Revoked: the CRL published, nginx reloaded.
	out = admin.must("certs", "revoke", "bob@corp", "--ca-dir", caDir)
	t.Logf("certs revoke:\n%s", out)
	publish()
	otlptest.ReloadNginx(t, ng)
	bob.doctor(1, "revoked", "refused the client certificate", "The SSL certificate error")
	// nginx's reasons, in order: mallory's, then bob's after the CRL.
	log, _ := os.ReadFile(filepath.Join(ng.Dir, "error.log"))
	reasons := regexp.MustCompile(`client SSL certificate verify error: \([0-9]+:[^)]*\)`).FindAll(log, -1)
	for _, r := range reasons {
		t.Logf("nginx error.log: %s", r)
	}
	if len(reasons) == 0 || !strings.HasSuffix(string(reasons[len(reasons)-1]), ":certificate revoked)") {
		t.Errorf("nginx's error log does not name the revocation last:\n%s", log)
	}
	alice.doctor(0, "a colleague's, after the revocation")
	if out := admin.must("certs", "list", "--ca-dir", caDir); !regexp.MustCompile(`CN=bob@corp,O=ccotel +revoked`).MatchString(out) ||
		!regexp.MustCompile(`CN=alice@corp,O=ccotel +valid`).MatchString(out) {
		t.Errorf("certs list after the revocation:\n%s", out)
	}
}

// person is one HOME running the ccotel binary.
type person struct {
	t    *testing.T
	home string
	run  func(stdin []byte, extraEnv []string, args ...string) (string, string, int)
}

func newPerson(t *testing.T, bin, dir, name string) *person {
	home := mkdir(t, dir, name)
	return &person{t: t, home: home, run: runner(t, bin, cleanEnv(home), home)}
}

// must runs ccotel and fails the test unless it exits 0.
func (p *person) must(args ...string) string {
	p.t.Helper()
	out, errs, code := p.run(nil, nil, args...)
	if code != 0 {
		p.t.Fatalf("%s: ccotel %s: exit %d\n%s%s", filepath.Base(p.home), strings.Join(args, " "), code, out, errs)
	}
	return out
}

// enroll is the request round: p requests, the admin signs with the CA in
// caDir, p installs.
func (p *person) enroll(admin *person, caDir, cn string) {
	p.t.Helper()
	p.must("certs", "request", "--cn", cn)
	signed := filepath.Join(admin.home, cn+".pem")
	admin.must("certs", "sign", filepath.Join(p.home, ".config", "ccotel", "client.csr"), "--ca-dir", caDir, "--out", signed)
	if out := p.must("certs", "install", signed); !strings.Contains(out, "(checked)") {
		p.t.Errorf("certs install did not check the issuer:\n%s", out)
	}
}

// doctor runs `ccotel doctor` and checks its exit code and output.
func (p *person) doctor(wantCode int, what string, want ...string) string {
	p.t.Helper()
	out, _, code := p.run(nil, nil, "doctor")
	if code != wantCode {
		p.t.Errorf("doctor with %s's certificate (%s): exit %d, want %d\n%s", filepath.Base(p.home), what, code, wantCode, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			p.t.Errorf("doctor (%s): output lacks %q:\n%s", what, w, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "accepted") || strings.Contains(l, "refused") || strings.Contains(l, "HTTP") {
			p.t.Logf("%s (%s): %s", filepath.Base(p.home), what, strings.TrimSpace(l))
		}
	}
	return out
}
