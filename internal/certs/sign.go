package certs

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Signing requests: the admin's side of a certificate.
const (
	// SignValidity is how long a certificate from Sign lasts by default.
	SignValidity = 90 * 24 * time.Hour
	// MaxSignValidity is the longest Sign issues (the CA/Browser Forum's
	// 397 days, a bound people recognise).
	MaxSignValidity = 397 * 24 * time.Hour
)

// SignOptions configure Sign.
type SignOptions struct {
	CADir string // the CA's directory (CAPathsIn)
	CSR   string // path of the PEM (or DER) certificate request
	// CommonName replaces the CN the request asks for.
	CommonName string
	// Validity defaults to SignValidity; more than MaxSignValidity is
	// refused.
	Validity time.Duration
	// Out is where the certificate goes (default: <CN>.pem beside the
	// request). An existing file is replaced.
	Out string
	Now func() time.Time
}

// SignResult is what Sign issued.
type SignResult struct {
	Out    string
	Cert   *x509.Certificate
	CA     *x509.Certificate
	Issued Issued
	// Others are the CN's other certificates that are still valid.
	Others []Issued
	// Clamped: the validity asked for went past the CA's expiry and was
	// cut to it.
	Clamped bool
	Text    string
}

// Sign issues a client certificate for a certificate request: it checks
// the request's signature and refuses one asking for a CA, for certificate
// or CRL signing, for server use (serverAuth or any extended key usage but
// clientAuth, DNS or IP alternative names) or with a weak key. Nothing of
// the request but its public key and CN is copied: the certificate is
// Sign's own template (digital signature, clientAuth only, not a CA,
// subject CN=…,O=ccotel), valid for o.Validity but never past the CA. It
// is recorded in the ledger, then written (leaf, then the CA certificate)
// to o.Out.
func Sign(o SignOptions) (*SignResult, error) {
	now := nowFunc(o.Now)().Truncate(time.Second)
	validity := orDefault(o.Validity, SignValidity)
	if validity > MaxSignValidity {
		return nil, fmt.Errorf("certs: --days %d is more than the %d days a client certificate may last; renew instead (a new request and sign)", int(validity.Hours()/24), int(MaxSignValidity.Hours()/24))
	}
	csr, err := ReadCSR(o.CSR)
	if err != nil {
		return nil, err
	}
	if err := CheckCSR(csr); err != nil {
		return nil, fmt.Errorf("certs: %s: %w; nothing was signed", o.CSR, err)
	}
	cn := o.CommonName
	if cn == "" {
		cn = csr.Subject.CommonName
	}
	if cn == "" {
		return nil, fmt.Errorf("certs: %s asks for no CN; give the certificate's subject with --cn", o.CSR)
	}
	a, issued, err := openAuthority(o.CADir, now)
	if err != nil {
		return nil, err
	}
	r := &SignResult{CA: a.cert, Out: o.Out}
	if r.Out == "" {
		r.Out = filepath.Join(filepath.Dir(o.CSR), fileSafe(cn)+".pem")
	}
	if out, _ := filepath.Abs(r.Out); slices.ContainsFunc([]string{a.Cert, a.Key, a.CRL, a.Ledger, o.CSR}, func(f string) bool {
		abs, _ := filepath.Abs(f)
		return abs == out
	}) {
		return nil, fmt.Errorf("certs: --out %s would replace the CA's files or the request; name another file", r.Out)
	}
	tmpl := clientTemplate(pkix.Name{CommonName: cn, Organization: []string{Organization}}, now, validity)
	r.Clamped = tmpl.NotAfter.After(a.cert.NotAfter)
	if r.Clamped {
		tmpl.NotAfter = a.cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, csr.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("certs: signing %s: %w", o.CSR, err)
	}
	if r.Cert, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	r.Issued = Issued{Serial: SerialHex(r.Cert.SerialNumber), Subject: r.Cert.Subject.String(), CN: cn, NotAfter: r.Cert.NotAfter, IssuedAt: now}
	// The ledger first: a certificate that exists is on record.
	if err := appendLedger(a.Ledger, ledgerLine{Event: "issued", Serial: r.Issued.Serial, Subject: r.Issued.Subject, CN: cn, NotAfter: r.Issued.NotAfter, At: now}); err != nil {
		return nil, err
	}
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.cert.Raw})...)
	if err := writeFileAtomic(r.Out, chain, 0o644, true); err != nil {
		return nil, fmt.Errorf("%w (the certificate, serial %s, is in the ledger; sign again or revoke it)", err, r.Issued.Serial)
	}
	for _, i := range issued {
		if i.CN == cn && !i.Revoked() && now.Before(i.NotAfter) {
			r.Others = append(r.Others, i)
		}
	}
	r.Text = signText(r, o.CADir, now)
	return r, nil
}

// ReadCSR reads and parses a certificate request (PEM "CERTIFICATE
// REQUEST" or "NEW CERTIFICATE REQUEST", or DER).
func ReadCSR(path string) (*x509.CertificateRequest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	der := b
	if blk, _ := pem.Decode(b); blk != nil {
		if !strings.HasSuffix(blk.Type, "CERTIFICATE REQUEST") {
			return nil, fmt.Errorf("certs: %s holds a PEM %q block, not a certificate request (`ccotel certs request` makes one)", path, blk.Type)
		}
		der = blk.Bytes
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("certs: %s is not a certificate request: %v", path, err)
	}
	return csr, nil
}

// Extension OIDs CheckCSR reads from a request's extensionRequest.
var (
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidClientAuth       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
	oidServerAuth       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
)

// CheckCSR checks a request's signature and refuses what a client
// certificate must not be: a CA, a certificate or CRL signer, a server
// (serverAuth or any extended key usage but clientAuth; DNS or IP
// alternative names), or a weak key.
func CheckCSR(csr *x509.CertificateRequest) error {
	if err := csr.CheckSignature(); err != nil {
		return fmt.Errorf("its signature does not verify (%v): it was altered, or not made with the key it names", err)
	}
	if len(csr.DNSNames) > 0 || len(csr.IPAddresses) > 0 {
		return fmt.Errorf("it asks for server names (DNS %v, IP %v): a client certificate names a person, not a server", csr.DNSNames, csr.IPAddresses)
	}
	for _, e := range csr.Extensions {
		if err := checkRequestedExtension(e.Id, e.Value); err != nil {
			return err
		}
	}
	return checkKey(csr.PublicKey)
}

func checkRequestedExtension(id asn1.ObjectIdentifier, value []byte) error {
	switch {
	case id.Equal(oidBasicConstraints):
		var bc struct {
			IsCA       bool `asn1:"optional"`
			MaxPathLen int  `asn1:"optional,default:-1"`
		}
		if _, err := asn1.Unmarshal(value, &bc); err != nil {
			return fmt.Errorf("its basicConstraints cannot be read: %v", err)
		}
		if bc.IsCA {
			return errors.New("it asks to be a CA (basicConstraints CA:TRUE): ccotel signs client certificates only")
		}
	case id.Equal(oidKeyUsage):
		var bits asn1.BitString
		if _, err := asn1.Unmarshal(value, &bits); err != nil {
			return fmt.Errorf("its keyUsage cannot be read: %v", err)
		}
		if bits.At(5) == 1 || bits.At(6) == 1 { // keyCertSign, cRLSign
			return errors.New("it asks to sign certificates or CRLs (keyUsage keyCertSign/cRLSign): ccotel signs client certificates only")
		}
	case id.Equal(oidExtKeyUsage):
		var ekus []asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(value, &ekus); err != nil {
			return fmt.Errorf("its extendedKeyUsage cannot be read: %v", err)
		}
		for _, u := range ekus {
			switch {
			case u.Equal(oidServerAuth):
				return errors.New("it asks for server use (extendedKeyUsage serverAuth): a client certificate is for clientAuth only")
			case !u.Equal(oidClientAuth):
				return fmt.Errorf("it asks for extended key usage %v: a client certificate is for clientAuth only", u)
			}
		}
	}
	return nil
}

// checkKey refuses keys too weak or of a kind TLS clients do not use.
func checkKey(pub any) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return nil
	case ed25519.PublicKey:
		return nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("its RSA key has %d bits, fewer than 2048", k.N.BitLen())
		}
		return nil
	}
	return fmt.Errorf("its key is a %T, which ccotel does not sign", pub)
}

// fileSafe turns a CN into a file name: letters, digits and ".@_-" kept,
// anything else "_".
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".@_-", r) {
			return r
		}
		return '_'
	}, s)
}

func signText(r *SignResult, caDir string, now time.Time) string {
	var b strings.Builder
	info := Describe(r.Out, []*x509.Certificate{r.Cert}, now)
	b.WriteString("Signed a client certificate:\n\n")
	fmt.Fprintf(&b, "  certificate  %s (then the CA certificate)\n", r.Out)
	fmt.Fprintf(&b, "               %s, serial %s\n               %s\n", info.Subject, r.Issued.Serial, info.Validity())
	fmt.Fprintf(&b, "               issued by %s, for client authentication only\n", r.CA.Subject)
	if r.Clamped {
		fmt.Fprintf(&b, "               (cut to the CA's own expiry, %s)\n", Day(r.CA.NotAfter))
	}
	for _, o := range r.Others {
		fmt.Fprintf(&b, "\n  %s also holds serial %s, valid until %s; once the new one is\n  installed, `ccotel certs revoke --ca-dir %s %s` retires it.\n", o.CN, o.Serial, Day(o.NotAfter), shellQuote(caDir), o.Serial)
	}
	fmt.Fprintf(&b, "\nNext: send %s back to %s (it holds no secret). They run\n\n  ccotel certs install %s\n", r.Out, r.Issued.CN, filepath.Base(r.Out))
	return b.String()
}
