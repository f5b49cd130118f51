package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// team is a team CA and one developer's directory, at t0.
type team struct {
	ca  *CAResult
	dev string // the developer's ~/.config/ccotel
}

func newTeam(t *testing.T) *team {
	t.Helper()
	dir := t.TempDir()
	ca, err := NewCA(CAOptions{Dir: filepath.Join(dir, "ca"), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return &team{ca: ca, dev: filepath.Join(dir, "dev")}
}

// request makes the developer's key and CSR.
func (tm *team) request(t *testing.T, cn string) *RequestResult {
	t.Helper()
	r, err := Request(RequestOptions{Dir: tm.dev, CommonName: cn})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (tm *team) sign(t *testing.T, csr string, o SignOptions) *SignResult {
	t.Helper()
	o.CADir, o.CSR = tm.ca.Dir, csr
	if o.Now == nil {
		o.Now = fixedNow
	}
	r, err := Sign(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestTeamCAFlow is the whole round: ca, request, sign, install, list,
// revoke, crl, with what each file must hold.
func TestTeamCAFlow(t *testing.T) {
	tm := newTeam(t)
	ca := tm.ca
	if !ca.CA.IsCA || ca.CA.MaxPathLen != 0 || !ca.CA.MaxPathLenZero || ca.CA.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA: IsCA %v MaxPathLen %d KeyUsage %v", ca.CA.IsCA, ca.CA.MaxPathLen, ca.CA.KeyUsage)
	}
	if ca.CA.Subject.CommonName != TeamCAName {
		t.Errorf("CA subject %s", ca.CA.Subject)
	}
	if m := mode(t, ca.Key); m != 0o600 {
		t.Errorf("CA key mode %04o", m)
	}
	if m := mode(t, ca.Dir); m != 0o700 {
		t.Errorf("CA directory mode %04o", m)
	}
	crl := readCRL(t, ca.CRL, ca.CA)
	if len(crl.RevokedCertificateEntries) != 0 || crl.Number.Int64() != 1 || !crl.NextUpdate.Equal(t0.Add(CRLValidity)) {
		t.Errorf("the first CRL: %d revoked, number %v, next update %v", len(crl.RevokedCertificateEntries), crl.Number, crl.NextUpdate)
	}
	for _, w := range []string{PublishCommand(ca.Cert, ca.CRL), "--from-file=ca.crl=", "kubectl apply -f -",
		`nginx.ingress.kubernetes.io/auth-tls-verify-client: "on"`, "ssl_crl                " + ca.CRL + ";",
		"ssl_verify_client      on;", "ccotel certs request", "ccotel certs sign"} {
		if !strings.Contains(ca.Text, w) {
			t.Errorf("ca text lacks %q:\n%s", w, ca.Text)
		}
	}
	if _, err := NewCA(CAOptions{Dir: ca.Dir, Now: fixedNow}); err == nil || !strings.Contains(err.Error(), "already exist") {
		t.Errorf("a second NewCA: %v, want a refusal", err)
	}

	req := tm.request(t, "bob@corp")
	if m := mode(t, req.Key); m != 0o600 {
		t.Errorf("developer key mode %04o", m)
	}
	for _, w := range []string{req.CSR, "never leaves this machine", "ccotel certs sign client.csr", "ccotel certs install"} {
		if !strings.Contains(req.Text, w) {
			t.Errorf("request text lacks %q:\n%s", w, req.Text)
		}
	}
	csr, err := ReadCSR(req.CSR)
	if err != nil || csr.Subject.CommonName != "bob@corp" || len(csr.Extensions) != 0 {
		t.Fatalf("CSR %v: %v", csr.Subject, err)
	}

	s := tm.sign(t, req.CSR, SignOptions{})
	c := s.Cert
	roots := x509.NewCertPool()
	roots.AddCert(ca.CA)
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("signed certificate does not verify for client auth: %v", err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("signed certificate verifies for server auth")
	}
	if c.IsCA || c.KeyUsage != x509.KeyUsageDigitalSignature || len(c.DNSNames)+len(c.IPAddresses) != 0 {
		t.Errorf("signed certificate: IsCA %v KeyUsage %v SANs %v %v", c.IsCA, c.KeyUsage, c.DNSNames, c.IPAddresses)
	}
	if !c.NotAfter.Equal(t0.Add(SignValidity)) || c.Subject.String() != "CN=bob@corp,O=ccotel" {
		t.Errorf("signed certificate: %s until %v", c.Subject, c.NotAfter)
	}
	if s.Out != filepath.Join(tm.dev, "bob@corp.pem") {
		t.Errorf("default output %s", s.Out)
	}
	if m := mode(t, ca.Ledger); m != 0o600 {
		t.Errorf("ledger mode %04o", m)
	}
	led, err := ReadLedger(ca.Ledger)
	if err != nil || len(led) != 1 || led[0].Serial != SerialHex(c.SerialNumber) || led[0].CN != "bob@corp" ||
		!led[0].NotAfter.Equal(c.NotAfter) || !led[0].IssuedAt.Equal(t0) || led[0].Revoked() {
		t.Fatalf("ledger after sign: %+v %v", led, err)
	}

	in, err := Install(InstallOptions{Dir: tm.dev, File: s.Out, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if in.Issuer == nil || !in.Issuer.Equal(ca.CA) {
		t.Error("Install did not check the issuer Sign appended")
	}
	if installed, _ := ReadCertificates(in.Cert); len(installed) != 1 || !installed[0].Equal(c) {
		t.Errorf("client.pem holds %d certificates, want the signed one alone", len(installed))
	}
	if !strings.Contains(in.Text, "CN=bob@corp,O=ccotel") || !strings.Contains(in.Text, "(checked)") {
		t.Errorf("install text:\n%s", in.Text)
	}

	l, err := List(ca.Dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	if out := l.String(); !strings.Contains(out, led[0].Serial) || !strings.Contains(out, "valid") || !strings.Contains(out, "CRL number 1, 0 revoked") {
		t.Errorf("list:\n%s", out)
	}

	later := func() time.Time { return t0.Add(time.Hour) }
	rv, err := Revoke(RevokeOptions{CADir: ca.Dir, Which: strings.ToLower(led[0].Serial), Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if len(rv.Revoked) != 1 || !strings.Contains(rv.Text, "kubectl create secret generic otel-client-ca") || !strings.Contains(rv.Text, "nginx -s reload") {
		t.Errorf("revoke: %d revoked\n%s", len(rv.Revoked), rv.Text)
	}
	crl = readCRL(t, ca.CRL, ca.CA)
	if crl.Number.Int64() != 2 || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(c.SerialNumber) != 0 {
		t.Errorf("CRL after revoke: number %v, entries %v", crl.Number, crl.RevokedCertificateEntries)
	}
	if l, _ = List(ca.Dir, later()); !strings.Contains(l.String(), "revoked 2026-12-01 11:00 UTC") {
		t.Errorf("list after revoke:\n%s", l)
	}

	// certs crl: the same list, a new number and a later next update.
	rc, err := RefreshCRL(RevokeOptions{CADir: ca.Dir, Now: func() time.Time { return t0.Add(300 * 24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	crl = readCRL(t, ca.CRL, ca.CA)
	if crl.Number.Int64() != 3 || len(crl.RevokedCertificateEntries) != 1 || !crl.NextUpdate.Equal(t0.Add(300*24*time.Hour+CRLValidity)) {
		t.Errorf("refreshed CRL: number %v entries %d next %v", crl.Number, len(crl.RevokedCertificateEntries), crl.NextUpdate)
	}
	if !strings.Contains(rc.Text, "next update") {
		t.Errorf("crl text:\n%s", rc.Text)
	}
}

func readCRL(t *testing.T, path string, ca *x509.Certificate) *x509.RevocationList {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if blk, _ := pem.Decode(b); blk == nil || blk.Type != "X509 CRL" {
		t.Fatalf("%s is not a PEM X509 CRL", path)
	}
	crl, err := ParseCRL(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(ca); err != nil {
		t.Fatalf("CRL not signed by the CA: %v", err)
	}
	return crl
}

// writeCSR writes a request for key made from tmpl.
func writeCSR(t *testing.T, dir, name string, key crypto.Signer, tmpl *x509.CertificateRequest) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name, "CERTIFICATE REQUEST", der)
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func ext(t *testing.T, id asn1.ObjectIdentifier, v any) pkix.Extension {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: id, Value: b}
}

// TestSignRefuses: what a client certificate must not be is refused,
// nothing is signed and the ledger stays empty.
func TestSignRefuses(t *testing.T) {
	tm := newTeam(t)
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	subj := pkix.Name{CommonName: "mallory@corp"}
	good := writeCSR(t, dir, "good.csr", key, &x509.CertificateRequest{Subject: subj})
	tampered := func() string {
		b, _ := os.ReadFile(good)
		blk, _ := pem.Decode(b)
		der := append([]byte(nil), blk.Bytes...)
		i := strings.Index(string(der), "mallory")
		der[i] = 'M' // the subject changes; the signature no longer covers it
		return writePEM(t, dir, "tampered.csr", "CERTIFICATE REQUEST", der)
	}()
	cases := []struct {
		name, csr string
		o         SignOptions
		want      string
	}{
		{"CA:true", writeCSR(t, dir, "ca.csr", key, &x509.CertificateRequest{Subject: subj,
			ExtraExtensions: []pkix.Extension{ext(t, oidBasicConstraints, struct{ IsCA bool }{true})}}), SignOptions{}, "basicConstraints CA:TRUE"},
		{"serverAuth", writeCSR(t, dir, "server.csr", key, &x509.CertificateRequest{Subject: subj,
			ExtraExtensions: []pkix.Extension{ext(t, oidExtKeyUsage, []asn1.ObjectIdentifier{oidClientAuth, oidServerAuth})}}), SignOptions{}, "serverAuth"},
		{"codeSigning", writeCSR(t, dir, "code.csr", key, &x509.CertificateRequest{Subject: subj,
			ExtraExtensions: []pkix.Extension{ext(t, oidExtKeyUsage, []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 3}})}}), SignOptions{}, "clientAuth only"},
		{"keyCertSign", writeCSR(t, dir, "signer.csr", key, &x509.CertificateRequest{Subject: subj,
			ExtraExtensions: []pkix.Extension{ext(t, oidKeyUsage, asn1.BitString{Bytes: []byte{0x04}, BitLength: 6})}}), SignOptions{}, "keyCertSign"},
		{"DNS SAN", writeCSR(t, dir, "dns.csr", key, &x509.CertificateRequest{Subject: subj, DNSNames: []string{"otel.example.com"}}), SignOptions{}, "server names"},
		{"IP SAN", writeCSR(t, dir, "ip.csr", key, &x509.CertificateRequest{Subject: subj, IPAddresses: []net.IP{net.IPv4(10, 0, 0, 1)}}), SignOptions{}, "server names"},
		{"bad signature", tampered, SignOptions{}, "signature does not verify"},
		{"weak RSA", writeCSR(t, dir, "weak.csr", weak, &x509.CertificateRequest{Subject: subj}), SignOptions{}, "1024 bits"},
		{"no CN", writeCSR(t, dir, "nocn.csr", key, &x509.CertificateRequest{}), SignOptions{}, "--cn"},
		{"too long", good, SignOptions{Validity: 398 * 24 * time.Hour}, "more than the 397 days"},
		{"not a CSR", tm.ca.Cert, SignOptions{}, "not a certificate request"},
		{"out over the CA", good, SignOptions{Out: tm.ca.Cert}, "would replace the CA's files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.CADir, o.CSR, o.Now = tm.ca.Dir, c.csr, fixedNow
			if o.Out == "" {
				o.Out = filepath.Join(dir, "out.pem")
			}
			_, err := Sign(o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Sign: %v, want an error with %q", err, c.want)
			}
			if c, err := ReadCertificate(o.Out); err == nil && !c.IsCA {
				t.Error("a refused request left a certificate")
			}
		})
	}
	if led, _ := ReadLedger(tm.ca.Ledger); len(led) != 0 {
		t.Errorf("the ledger holds %d certificates after refusals", len(led))
	}
	// --cn names the subject instead of the request; 397 days is allowed.
	s := tm.sign(t, good, SignOptions{CommonName: "mallory@corp.example", Validity: MaxSignValidity})
	if s.Cert.Subject.CommonName != "mallory@corp.example" || !s.Cert.NotAfter.Equal(t0.Add(MaxSignValidity)) {
		t.Errorf("--cn and 397 days: %s until %v", s.Cert.Subject, s.Cert.NotAfter)
	}
}

// TestSignNeedsTheCAKey: without the CA key (a laptop), sign says where
// signing happens.
func TestSignNeedsTheCAKey(t *testing.T) {
	tm := newTeam(t)
	req := tm.request(t, "bob@corp")
	os.Remove(tm.ca.Key)
	_, err := Sign(SignOptions{CADir: tm.ca.Dir, CSR: req.CSR, Now: fixedNow})
	if err == nil || !strings.Contains(err.Error(), tm.ca.Key) {
		t.Fatalf("Sign without the CA key: %v", err)
	}
}

// TestRequestKeepsTheKey: a second request (a renewal) is for the same
// key, which stays in place; only Force makes a new one.
func TestRequestKeepsTheKey(t *testing.T) {
	tm := newTeam(t)
	first := tm.request(t, "bob@corp")
	k1, _ := os.ReadFile(first.Key)
	second := tm.request(t, "bob@corp")
	k2, _ := os.ReadFile(second.Key)
	if second.NewKey || string(k1) != string(k2) || !strings.Contains(second.Text, "key you already have") {
		t.Errorf("a second request replaced the key (new %v)\n%s", second.NewKey, second.Text)
	}
	forced, err := Request(RequestOptions{Dir: tm.dev, CommonName: "bob@corp", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	k3, _ := os.ReadFile(forced.Key)
	if !forced.Replaced || string(k3) == string(k1) || mode(t, forced.Key) != 0o600 {
		t.Errorf("Force: replaced %v, key changed %v", forced.Replaced, string(k3) != string(k1))
	}
	csr, _ := ReadCSR(forced.CSR)
	key, _ := ReadPrivateKey(forced.Key)
	if !samePublicKey(key, csr.PublicKey) {
		t.Error("the CSR is not for the new key")
	}
}

// TestInstallRefuses: a certificate for another key, expired, not yet
// valid, from another CA, or not for client auth is refused and nothing
// is written.
func TestInstallRefuses(t *testing.T) {
	tm := newTeam(t)
	req := tm.request(t, "bob@corp")
	good := tm.sign(t, req.CSR, SignOptions{Out: filepath.Join(t.TempDir(), "bob.pem")})

	// Someone else's request, signed by the same CA.
	other := &team{ca: tm.ca, dev: filepath.Join(t.TempDir(), "alice")}
	alice := other.sign(t, other.request(t, "alice@corp").CSR, SignOptions{})
	// The same key's certificate from another CA.
	stranger := newTeam(t)
	foreign := stranger.sign(t, req.CSR, SignOptions{Out: filepath.Join(t.TempDir(), "foreign.pem")})
	// A server certificate for bob's key from the team CA, made by hand.
	a, err := loadAuthority(tm.ca.CAPaths, t0)
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := ReadCSR(req.CSR)
	srv := clientTemplate(pkix.Name{CommonName: "bob@corp"}, t0, 24*time.Hour)
	srv.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	der, err := x509.CreateCertificate(rand.Reader, srv, a.cert, csr.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	server := writePEM(t, t.TempDir(), "server.pem", "CERTIFICATE", der)

	cases := []struct {
		name, file, issuer string
		now                time.Time
		want               string
	}{
		{"another key", alice.Out, "", t0, "is not for your key"},
		{"expired", good.Out, "", t0.Add(SignValidity + time.Hour), "expired on"},
		{"not yet valid", good.Out, "", t0.Add(-time.Hour), "not valid before"},
		{"another CA", foreign.Out, tm.ca.Cert, t0, "was not issued by CN=ccotel team client CA"},
		{"server use", server, "", t0, "not a client certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			_, err := Install(InstallOptions{Dir: tm.dev, File: c.file, Issuer: c.issuer, Now: func() time.Time { return now }})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Install: %v, want an error with %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(tm.dev, ClientCertFile)); err == nil {
				t.Error("a refused certificate was installed")
			}
		})
	}
	// The team's certificate passes --issuer the team CA.
	if _, err := Install(InstallOptions{Dir: tm.dev, File: good.Out, Issuer: tm.ca.Cert, Now: fixedNow}); err != nil {
		t.Errorf("the team's certificate with --issuer the team CA: %v", err)
	}
}

// TestRevoke: by CN every certificate of it, by serial one; an unknown
// name is an error; revoking again adds nothing to the ledger.
func TestRevoke(t *testing.T) {
	tm := newTeam(t)
	req := tm.request(t, "bob@corp")
	s1 := tm.sign(t, req.CSR, SignOptions{Out: filepath.Join(t.TempDir(), "1.pem")})
	s2 := tm.sign(t, req.CSR, SignOptions{Out: filepath.Join(t.TempDir(), "2.pem")})
	if len(s2.Others) != 1 || s2.Others[0].Serial != s1.Issued.Serial || !strings.Contains(s2.Text, "also holds serial "+s1.Issued.Serial) {
		t.Errorf("second certificate for bob: others %v\n%s", s2.Others, s2.Text)
	}
	if _, err := Revoke(RevokeOptions{CADir: tm.ca.Dir, Which: "carol@corp", Now: fixedNow}); err == nil || !strings.Contains(err.Error(), "certs list") {
		t.Errorf("revoking an unknown CN: %v", err)
	}
	// openssl's form of the serial: colon-separated hex.
	colons := strings.Join(splitEvery(s1.Issued.Serial, 2), ":")
	if r, err := Revoke(RevokeOptions{CADir: tm.ca.Dir, Which: colons, Now: fixedNow}); err != nil || len(r.Revoked) != 1 || r.Revoked[0].Serial != s1.Issued.Serial {
		t.Fatalf("revoke %s: %v", colons, err)
	}
	r, err := Revoke(RevokeOptions{CADir: tm.ca.Dir, Which: "bob@corp", Now: fixedNow})
	if err != nil || len(r.Revoked) != 1 || r.Revoked[0].Serial != s2.Issued.Serial || r.CRL.Revoked != 2 {
		t.Fatalf("revoke bob@corp: %+v %v", r, err)
	}
	before, _ := os.ReadFile(tm.ca.Ledger)
	r, err = Revoke(RevokeOptions{CADir: tm.ca.Dir, Which: "bob@corp", Now: fixedNow})
	after, _ := os.ReadFile(tm.ca.Ledger)
	if err != nil || len(r.Revoked) != 0 || string(before) != string(after) || !strings.Contains(r.Text, "revoked already") {
		t.Errorf("revoking again: %v, ledger changed %v\n%s", err, string(before) != string(after), r.Text)
	}
	// A new CA (--force) starts a new ledger; the old one is kept aside.
	again, err := NewCA(CAOptions{Dir: tm.ca.Dir, Force: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if led, _ := ReadLedger(tm.ca.Ledger); len(led) != 0 || !strings.Contains(again.Text, "kept as issued.jsonl.replaced-") {
		t.Errorf("after ca --force: ledger holds %d, text:\n%s", len(led), again.Text)
	}
	if old, _ := filepath.Glob(tm.ca.Ledger + ".replaced-*"); len(old) != 1 {
		t.Errorf("the old ledger was not kept aside: %v", old)
	}
	// A CRL never outlives its CA.
	short, err := NewCA(CAOptions{Dir: t.TempDir(), Validity: 10 * 24 * time.Hour, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if !short.CRLInfo.NextUpdate.Equal(short.CA.NotAfter) {
		t.Errorf("CRL next update %v after the CA's expiry %v", short.CRLInfo.NextUpdate, short.CA.NotAfter)
	}
}

func splitEvery(s string, n int) []string {
	if len(s)%n != 0 {
		s = "0" + s
	}
	var out []string
	for i := 0; i < len(s); i += n {
		out = append(out, s[i:i+n])
	}
	return out
}

// TestNoLoop: on a laptop without the CA, renew points at a request to
// the admin, and init's refusal does too; with the CA key there, init's
// refusal points at renew.
func TestNoLoop(t *testing.T) {
	tm := newTeam(t)
	req := tm.request(t, "bob@corp")
	s := tm.sign(t, req.CSR, SignOptions{})
	if _, err := Install(InstallOptions{Dir: tm.dev, File: s.Out, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	_, err := Renew(RenewOptions{Paths: PathsIn(tm.dev), Now: fixedNow})
	if err == nil || !strings.Contains(err.Error(), "run `ccotel certs request` and send the CSR") {
		t.Errorf("renew without the CA: %v", err)
	}
	_, err = Init(InitOptions{Dir: tm.dev, Now: fixedNow})
	if err == nil || !strings.Contains(err.Error(), "ccotel certs request") || strings.Contains(err.Error(), "certs renew") {
		t.Errorf("init over a team certificate: %v", err)
	}
	one := mustInit(t, InitOptions{Dir: t.TempDir(), CommonName: "solo@mac"})
	_, err = Init(InitOptions{Dir: filepath.Dir(one.CAKey), Now: fixedNow})
	if err == nil || !strings.Contains(err.Error(), "ccotel certs renew") {
		t.Errorf("init over init's files: %v", err)
	}
	// A CA made by init signs requests too.
	if _, err := Sign(SignOptions{CADir: filepath.Dir(one.CAKey), CSR: req.CSR, Out: filepath.Join(t.TempDir(), "x.pem"), Now: fixedNow}); err != nil {
		t.Errorf("signing with init's CA: %v", err)
	}
}
