package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

func mustInit(t *testing.T, o InitOptions) *Result {
	t.Helper()
	if o.Now == nil {
		o.Now = fixedNow
	}
	r, err := Init(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestInitIssuesAClientCertificateTheCAVerifies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ccotel")
	r := mustInit(t, InitOptions{Dir: dir, CommonName: "alice@mac"})

	ca, err := ReadCertificate(r.CACert)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ReadCertificate(r.ClientCert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("client certificate does not verify for client auth: %v", err)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client certificate also verifies for server auth; want clientAuth only")
	}

	// The CA: self-signed, signs leaves only.
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.MaxPathLen != 0 || !ca.MaxPathLenZero {
		t.Errorf("CA basic constraints: IsCA %v valid %v MaxPathLen %d zero %v", ca.IsCA, ca.BasicConstraintsValid, ca.MaxPathLen, ca.MaxPathLenZero)
	}
	if ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA key usage %b, want CertSign|CRLSign", ca.KeyUsage)
	}
	if err := ca.CheckSignatureFrom(ca); err != nil {
		t.Errorf("CA is not self-signed: %v", err)
	}
	// The client: digital signature, clientAuth, not a CA, ECDSA P-256.
	if client.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("client key usage %b, want DigitalSignature", client.KeyUsage)
	}
	if len(client.ExtKeyUsage) != 1 || client.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("client extended key usage %v, want [clientAuth]", client.ExtKeyUsage)
	}
	if client.IsCA {
		t.Error("client certificate is a CA")
	}
	if pub, ok := client.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("client key %T, want ECDSA P-256", client.PublicKey)
	}
	if got := client.Subject.CommonName; got != "alice@mac" {
		t.Errorf("client CN %q", got)
	}
	if got := client.Subject.Organization; len(got) != 1 || got[0] != Organization {
		t.Errorf("client O %v", got)
	}
	if !client.NotAfter.Equal(t0.Add(ClientValidity).Truncate(time.Second)) {
		t.Errorf("client NotAfter %v, want %v", client.NotAfter, t0.Add(ClientValidity))
	}
	if !ca.NotAfter.Equal(t0.Add(CAValidity).Truncate(time.Second)) {
		t.Errorf("CA NotAfter %v", ca.NotAfter)
	}

	// The keys belong to their certificates and load the way ccotel's
	// exporter loads them.
	for _, pair := range [][2]string{{r.ClientKey, r.ClientCert}, {r.CAKey, r.CACert}} {
		k, err := ReadPrivateKey(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		c, _ := ReadCertificate(pair[1])
		if !samePublicKey(k, c.PublicKey) {
			t.Errorf("%s does not belong to %s", pair[0], pair[1])
		}
		b, _ := os.ReadFile(pair[0])
		if !bytes.HasPrefix(b, []byte("-----BEGIN PRIVATE KEY-----\n")) {
			t.Errorf("%s is not a PKCS #8 PEM key: %q", pair[0], b[:min(len(b), 40)])
		}
	}
}

func TestInitModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "ccotel")
	r := mustInit(t, InitOptions{Dir: dir})
	want := map[string]os.FileMode{dir: 0o700, r.CAKey: 0o600, r.ClientKey: 0o600, r.CACert: 0o644, r.ClientCert: 0o644}
	for p, m := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != m {
			t.Errorf("%s: mode %04o, want %04o", p, got, m)
		}
	}
	// Nothing else is left in the directory (no temporary files).
	ents, _ := os.ReadDir(dir)
	if len(ents) != 4 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want the four files", names)
	}
}

func TestInitNeverOverwritesWithoutForce(t *testing.T) {
	dir := t.TempDir()
	// An existing client certificate of someone else's making.
	mine := []byte("-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n")
	if err := os.WriteFile(filepath.Join(dir, ClientCertFile), mine, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Init(InitOptions{Dir: dir, Now: fixedNow})
	var ee *ExistsError
	if !errors.As(err, &ee) {
		t.Fatalf("Init over an existing file: %v, want ExistsError", err)
	}
	if len(ee.Files) != 1 || ee.Files[0] != filepath.Join(dir, ClientCertFile) {
		t.Errorf("ExistsError names %v", ee.Files)
	}
	// No CA key here: the way to a certificate is a request to the
	// team's admin, not renew (which needs that key).
	for _, w := range []string{ClientCertFile, "ccotel certs request", "--force", "nothing was written"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	// Nothing was written: not the other three files, not the existing one.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after a refused Init", len(ents))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ClientCertFile)); !bytes.Equal(b, mine) {
		t.Error("the existing file was changed")
	}

	// A second Init over a full set is refused too and changes nothing.
	dir2 := t.TempDir()
	r1 := mustInit(t, InitOptions{Dir: dir2})
	before := readAll(t, r1.Paths)
	if _, err := Init(InitOptions{Dir: dir2}); !errors.As(err, &ee) || len(ee.Files) != 4 {
		t.Fatalf("second Init: %v", err)
	}
	if after := readAll(t, r1.Paths); after != before {
		t.Error("a refused Init changed the files")
	}

	// With Force everything is new.
	r2 := mustInit(t, InitOptions{Dir: dir2, Force: true})
	if len(r2.Replaced) != 4 {
		t.Errorf("Replaced %v", r2.Replaced)
	}
	if r2.CA.Equal(r1.CA) || r2.Client.Equal(r1.Client) {
		t.Error("Force kept an old certificate")
	}
	if !strings.Contains(r2.Text, "replaced") {
		t.Errorf("text does not say what it replaced:\n%s", r2.Text)
	}
}

func readAll(t *testing.T, p Paths) string {
	var s string
	for _, f := range p.all() {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s += string(b)
	}
	return s
}

func TestWriteFileAtomicDoesNotClobber(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := writeFileAtomic(p, []byte("one"), 0o600, false); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(p, []byte("two"), 0o600, false); err == nil {
		t.Fatal("second write without replace succeeded")
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("file holds %q", b)
	}
	if err := writeFileAtomic(p, []byte("three"), 0o600, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "three" {
		t.Errorf("file holds %q", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Errorf("%d entries left, want 1", len(ents))
	}
}

func TestInitText(t *testing.T) {
	dir := t.TempDir()
	r := mustInit(t, InitOptions{Dir: dir, CommonName: "alice@mac"})
	wantSecret := "kubectl create secret generic otel-client-ca -n observability --from-file=ca.crt=" + filepath.Join(dir, "client-ca.pem")
	if r.Secret != wantSecret {
		t.Errorf("Secret\n %q\nwant\n %q", r.Secret, wantSecret)
	}
	wantAnn := []string{
		`nginx.ingress.kubernetes.io/auth-tls-verify-client: "on"`,
		`nginx.ingress.kubernetes.io/auth-tls-secret: observability/otel-client-ca`,
		`nginx.ingress.kubernetes.io/auth-tls-verify-depth: "1"`,
	}
	if strings.Join(r.Annotations, "\n") != strings.Join(wantAnn, "\n") {
		t.Errorf("Annotations %q", r.Annotations)
	}
	for _, w := range append(wantAnn, "  "+wantSecret+"\n", r.CACert, r.CAKey, r.ClientCert, r.ClientKey,
		"CN=alice@mac,O=ccotel", "valid until 2027-12-01 10:00 UTC (365 days left)", "(mode 0600)") {
		if !strings.Contains(r.Text, w) {
			t.Errorf("text lacks %q:\n%s", w, r.Text)
		}
	}
	if !strings.HasSuffix(r.Text, "\n") {
		t.Error("text does not end with a newline")
	}
	if got := SecretCommand("/Users/a b/ca.pem"); !strings.HasSuffix(got, "--from-file=ca.crt='/Users/a b/ca.pem'") {
		t.Errorf("a path with a space is not quoted: %s", got)
	}
}

func TestDefaultCommonName(t *testing.T) {
	cn := DefaultCommonName()
	host, _ := os.Hostname()
	if !strings.Contains(cn, "@") || !strings.HasSuffix(cn, "@"+strings.TrimSuffix(host, ".local")) {
		t.Errorf("DefaultCommonName() = %q, want user@%s", cn, host)
	}
	r := mustInit(t, InitOptions{Dir: t.TempDir()})
	if r.Client.Subject.CommonName != cn {
		t.Errorf("Init without a name: CN %q, want %q", r.Client.Subject.CommonName, cn)
	}
}

func TestRenewKeepsCAAndSubjectAndChangesTheKey(t *testing.T) {
	dir := t.TempDir()
	r1 := mustInit(t, InitOptions{Dir: dir, CommonName: "alice@mac"})
	caBefore, _ := os.ReadFile(r1.CACert)
	caKeyBefore, _ := os.ReadFile(r1.CAKey)
	keyBefore, _ := os.ReadFile(r1.ClientKey)

	later := t0.Add(340 * 24 * time.Hour)
	r2, err := Renew(RenewOptions{Paths: PathsIn(dir), Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(r1.CACert); !bytes.Equal(b, caBefore) {
		t.Error("Renew changed the CA certificate")
	}
	if b, _ := os.ReadFile(r1.CAKey); !bytes.Equal(b, caKeyBefore) {
		t.Error("Renew changed the CA key")
	}
	if b, _ := os.ReadFile(r1.ClientKey); bytes.Equal(b, keyBefore) {
		t.Error("Renew kept the client key")
	}
	client, _ := ReadCertificate(r1.ClientCert)
	if !bytes.Equal(client.RawSubject, r1.Client.RawSubject) {
		t.Errorf("subject %s, want %s", client.Subject, r1.Client.Subject)
	}
	if client.SerialNumber.Cmp(r1.Client.SerialNumber) == 0 {
		t.Error("same serial number")
	}
	if !client.NotAfter.Equal(later.Add(ClientValidity).Truncate(time.Second)) {
		t.Errorf("renewed NotAfter %v", client.NotAfter)
	}
	key, _ := ReadPrivateKey(r1.ClientKey)
	if !samePublicKey(key, client.PublicKey) {
		t.Error("the new key does not belong to the new certificate")
	}
	if samePublicKey(key, r1.Client.PublicKey) {
		t.Error("the new certificate has the old public key")
	}
	roots := x509.NewCertPool()
	roots.AddCert(r1.CA)
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: later,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("renewed certificate does not verify against the same CA: %v", err)
	}
	if fi, _ := os.Stat(r1.ClientKey); fi.Mode().Perm() != 0o600 {
		t.Errorf("renewed key mode %04o", fi.Mode().Perm())
	}
	if !strings.Contains(r2.Text, "needs no change") || strings.Contains(r2.Text, "kubectl") {
		t.Errorf("renew text:\n%s", r2.Text)
	}
}

func TestCheckRenewable(t *testing.T) {
	dir := t.TempDir()
	r := mustInit(t, InitOptions{Dir: dir})
	if err := CheckRenewable(r.Paths); err != nil {
		t.Errorf("Init's files: %v", err)
	}
	other := mustInit(t, InitOptions{Dir: t.TempDir()})
	p := r.Paths
	p.ClientCert = other.ClientCert
	if err := CheckRenewable(p); err == nil || !strings.Contains(err.Error(), "was not issued by") {
		t.Errorf("another CA's certificate: %v", err)
	}
	p = r.Paths
	p.CAKey = other.CAKey
	if err := CheckRenewable(p); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("another CA's key: %v", err)
	}
	os.Remove(r.CAKey)
	if err := CheckRenewable(r.Paths); err == nil || !strings.Contains(err.Error(), r.CAKey) {
		t.Errorf("no CA key: %v", err)
	}
}

func TestRenewRefusals(t *testing.T) {
	dir := t.TempDir()
	r := mustInit(t, InitOptions{Dir: dir})
	other := mustInit(t, InitOptions{Dir: t.TempDir()})

	// The CA key of another CA.
	p := PathsIn(dir)
	p.CAKey = other.CAKey
	if _, err := Renew(RenewOptions{Paths: p, Now: fixedNow}); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("mismatched CA key: %v", err)
	}
	// A client certificate as the CA.
	p = PathsIn(dir)
	p.CACert = r.ClientCert
	if _, err := Renew(RenewOptions{Paths: p, Now: fixedNow}); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("leaf as CA: %v", err)
	}
	// An expired CA.
	if _, err := Renew(RenewOptions{Paths: PathsIn(dir), Now: func() time.Time { return t0.Add(CAValidity + time.Hour) }}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired CA: %v", err)
	}
	// No CA at all.
	if _, err := Renew(RenewOptions{Paths: PathsIn(t.TempDir()), Now: fixedNow}); err == nil || !strings.Contains(err.Error(), "ccotel certs init") {
		t.Errorf("missing CA: %v", err)
	}
	// Near the CA's end the client certificate stops with the CA.
	late := r.CA.NotAfter.Add(-24 * time.Hour)
	r2, err := Renew(RenewOptions{Paths: PathsIn(dir), Now: func() time.Time { return late }})
	if err != nil {
		t.Fatal(err)
	}
	if !r2.Client.NotAfter.Equal(r.CA.NotAfter) {
		t.Errorf("client NotAfter %v outlives CA %v", r2.Client.NotAfter, r.CA.NotAfter)
	}
}

func TestShow(t *testing.T) {
	r := mustInit(t, InitOptions{Dir: t.TempDir(), CommonName: "alice@mac"})
	i, err := Show(r.ClientCert, t0.Add(300*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if i.Subject != "CN=alice@mac,O=ccotel" || !strings.HasPrefix(i.Issuer, "CN=ccotel client CA (alice@mac),O=ccotel") {
		t.Errorf("subject %q issuer %q", i.Subject, i.Issuer)
	}
	if i.DaysLeft != 65 || i.Expired() || i.NeedsRenewal() || !i.ClientAuth || i.IsCA {
		t.Errorf("%+v", i)
	}
	s := i.String()
	for _, w := range []string{r.ClientCert, "client certificate", "CN=alice@mac,O=ccotel", "valid until 2027-12-01 10:00 UTC (65 days left)"} {
		if !strings.Contains(s, w) {
			t.Errorf("Show lacks %q:\n%s", w, s)
		}
	}
	if strings.Contains(s, "renew") {
		t.Errorf("Show asks for renewal 65 days ahead:\n%s", s)
	}

	// Within 30 days: renew.
	i, _ = Show(r.ClientCert, t0.Add(350*24*time.Hour))
	if i.DaysLeft != 15 || !i.NeedsRenewal() || !strings.Contains(i.String(), "ccotel certs renew") {
		t.Errorf("15 days left: %d %v\n%s", i.DaysLeft, i.NeedsRenewal(), i)
	}
	if !i.Renewable {
		t.Error("Init's certificate is not Renewable")
	}
	// The same certificate copied away from its CA: renew from the issuer.
	away := filepath.Join(t.TempDir(), "client.pem")
	b, _ := os.ReadFile(r.ClientCert)
	os.WriteFile(away, b, 0o644)
	i, _ = Show(away, t0.Add(350*24*time.Hour))
	if i.Renewable || strings.Contains(i.String(), "certs renew") || !strings.Contains(i.String(), "run `ccotel certs request` and send the CSR to your admin (the issuer: CN=ccotel client CA (alice@mac),O=ccotel)") {
		t.Errorf("a certificate without its CA:\n%s", i)
	}
	// Expired.
	i, _ = Show(r.ClientCert, t0.Add(368*24*time.Hour))
	if !i.Expired() || i.DaysLeft != -3 || !strings.Contains(i.String(), "EXPIRED on 2027-12-01 10:00 UTC (3 days ago)") {
		t.Errorf("expired: %d\n%s", i.DaysLeft, i)
	}
	// The CA.
	i, _ = Show(r.CACert, t0)
	if !i.IsCA || !i.SelfSigned || !strings.Contains(i.String(), "CA certificate (self-signed)") || strings.Contains(i.String(), "renew") {
		t.Errorf("CA:\n%s", i)
	}
	// Not a certificate.
	if _, err := Show(r.ClientKey, t0); err == nil || !strings.Contains(err.Error(), "no certificate found") {
		t.Errorf("Show on a key: %v", err)
	}
}

// TestShowOnOpensslCertificates makes certificates the way the seed
// article does (RSA 4096 CA, a CSR signed with openssl x509 -req, a
// combined cert+key file), plus a DER copy and a server-only certificate,
// and reads them with Show, and renews the openssl-made client certificate
// from the openssl-made CA.
func TestShowOnOpensslCertificates(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		otlptest.Unavailable(t, "openssl not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	// RSA 2048 instead of the article's 4096: same formats, a tenth of the time.
	run("genrsa", "-out", "client-ca.key", "2048")
	run("req", "-new", "-x509", "-days", "3650", "-key", "client-ca.key", "-out", "client-ca.crt", "-subj", "/CN=OTLP Client CA/O=homelab")
	run("genrsa", "-out", "mac-client.key", "2048")
	run("req", "-new", "-key", "mac-client.key", "-out", "mac-client.csr", "-subj", "/CN=heeho-mac/O=homelab")
	run("x509", "-req", "-days", "365", "-in", "mac-client.csr", "-CA", "client-ca.crt", "-CAkey", "client-ca.key", "-CAcreateserial", "-out", "mac-client.crt")
	run("x509", "-in", "mac-client.crt", "-outform", "der", "-out", "mac-client.der")
	crt, _ := os.ReadFile(filepath.Join(dir, "mac-client.crt"))
	key, _ := os.ReadFile(filepath.Join(dir, "mac-client.key"))
	if err := os.WriteFile(filepath.Join(dir, "mac-client.pem"), append(crt, key...), 0o600); err != nil {
		t.Fatal(err)
	}
	ext := filepath.Join(dir, "server.ext")
	os.WriteFile(ext, []byte("extendedKeyUsage = serverAuth\n"), 0o644)
	run("req", "-new", "-key", "mac-client.key", "-out", "server.csr", "-subj", "/CN=server")
	run("x509", "-req", "-days", "30", "-in", "server.csr", "-CA", "client-ca.crt", "-CAkey", "client-ca.key", "-CAcreateserial", "-extfile", ext, "-out", "server.crt")

	now := time.Now()
	for _, f := range []string{"mac-client.crt", "mac-client.der", "mac-client.pem"} {
		i, err := Show(filepath.Join(dir, f), now)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if i.Subject != "CN=heeho-mac,O=homelab" || i.Issuer != "CN=OTLP Client CA,O=homelab" {
			t.Errorf("%s: subject %q issuer %q", f, i.Subject, i.Issuer)
		}
		if i.DaysLeft != 364 && i.DaysLeft != 365 {
			t.Errorf("%s: %d days left", f, i.DaysLeft)
		}
		if !i.ClientAuth || i.IsCA || i.Chain != 1 {
			t.Errorf("%s: %+v", f, i)
		}
	}
	i, err := Show(filepath.Join(dir, "client-ca.crt"), now)
	if err != nil {
		t.Fatal(err)
	}
	if !i.IsCA || !i.SelfSigned || i.DaysLeft < 3648 {
		t.Errorf("CA: %+v", i)
	}
	i, _ = Show(filepath.Join(dir, "server.crt"), now)
	if i.ClientAuth || !strings.Contains(i.String(), "lacks clientAuth") || !i.NeedsRenewal() {
		t.Errorf("server-only certificate:\n%s", i)
	}

	// Renew works from the openssl-made CA (RSA, PKCS #8 or PKCS #1 key).
	p := Paths{CACert: filepath.Join(dir, "client-ca.crt"), CAKey: filepath.Join(dir, "client-ca.key"),
		ClientCert: filepath.Join(dir, "mac-client.crt"), ClientKey: filepath.Join(dir, "mac-client.key")}
	old, _ := ReadCertificate(p.ClientCert)
	r, err := Renew(RenewOptions{Paths: p})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Client.RawSubject, old.RawSubject) || r.Client.Subject.String() != "CN=heeho-mac,O=homelab" {
		t.Errorf("renewed subject %s", r.Client.Subject)
	}
	// openssl agrees the renewed certificate is a client certificate of that CA.
	run("verify", "-CAfile", "client-ca.crt", "-purpose", "sslclient", "mac-client.crt")
}

func TestParsePrivateKeyRefusesEncrypted(t *testing.T) {
	enc := []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
	if _, err := ParsePrivateKey(enc); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted key: %v", err)
	}
	if _, err := ParsePrivateKey([]byte("nothing")); err == nil {
		t.Error("no key: no error")
	}
}
