package certs

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The team CA: one client CA for a whole team, made once on the admin's
// machine (NewCA). Developers make their own keys and send certificate
// requests (Request); the admin signs them (Sign), keeps a ledger of what
// was issued (issued.jsonl), revokes (Revoke) and publishes a CRL beside
// the CA certificate. The CA key never leaves the admin's machine and no
// developer's key ever reaches it.
//
// Files in the CA directory (the CLI's default: ~/.config/ccotel/ca):
//
//	client-ca.pem      the CA certificate: the cluster's secret (ca.crt), nginx's ssl_client_certificate
//	client-ca-key.pem  its private key (0600): never leaves this directory
//	client-ca.crl      the CRL: the cluster's secret (ca.crl), nginx's ssl_crl
//	issued.jsonl       the ledger (0600): one line per certificate issued or revoked
//
// The names are Init's, so a CA made by `ccotel certs init` signs
// requests and revokes too.
const (
	CRLFile    = "client-ca.crl"
	LedgerFile = "issued.jsonl"
	// TeamCAName is the subject CN NewCA gives a CA unless told otherwise.
	TeamCAName = "ccotel team client CA"
	// CRLValidity is how far a new CRL's nextUpdate lies: nginx refuses
	// every client certificate once the CRL it holds has passed it, so
	// this is long, and `ccotel certs crl` (or any revoke) renews it.
	CRLValidity = 365 * 24 * time.Hour
	// CRLRenewBefore is when List warns that the CRL is due.
	CRLRenewBefore = 30 * 24 * time.Hour
)

// CAPaths are the files of a team CA.
type CAPaths struct {
	Dir, Cert, Key, CRL, Ledger string
}

// CAPathsIn returns the standard file names in dir.
func CAPathsIn(dir string) CAPaths {
	return CAPaths{Dir: dir, Cert: filepath.Join(dir, CACertFile), Key: filepath.Join(dir, CAKeyFile),
		CRL: filepath.Join(dir, CRLFile), Ledger: filepath.Join(dir, LedgerFile)}
}

// CAOptions configure NewCA.
type CAOptions struct {
	Dir        string // created 0700 if missing. Required.
	CommonName string // default TeamCAName
	Validity   time.Duration
	Force      bool // replace an existing CA (every certificate it issued stops working)
	Now        func() time.Time
}

// CAResult is what NewCA made.
type CAResult struct {
	CAPaths
	CA       *x509.Certificate
	CRLInfo  *CRLInfo
	Replaced []string
	Text     string
}

// NewCA makes a team client CA in o.Dir: a self-signed CA certificate that
// signs leaf certificates and CRLs only (path length 0), its key (0600),
// and an empty CRL, so nginx's ssl_crl and the secret's ca.crl can be set
// from the first day (a CRL turned on later must not find a CA without
// one). Without o.Force it writes nothing when any of these files exists.
func NewCA(o CAOptions) (*CAResult, error) {
	if o.Dir == "" {
		return nil, errors.New("certs: no directory given")
	}
	now := nowFunc(o.Now)().Truncate(time.Second)
	p := CAPathsIn(o.Dir)
	existing := existingFiles([]string{p.Key, p.Cert, p.CRL})
	if len(existing) > 0 && !o.Force {
		return nil, fmt.Errorf("certs: %s already exist; nothing was written. This is a CA already: "+
			"sign requests with `ccotel certs sign --ca-dir %s CSR`. "+
			"--force makes a new CA, and every certificate the old one issued stops working once the cluster trusts the new one",
			strings.Join(existing, ", "), shellQuote(o.Dir))
	}
	cn := o.CommonName
	if cn == "" {
		cn = TeamCAName
	}
	if err := mkdirPrivate(o.Dir); err != nil {
		return nil, err
	}
	ca, key, err := newCA(pkix.Name{CommonName: cn, Organization: []string{Organization}}, now, orDefault(o.Validity, CAValidity))
	if err != nil {
		return nil, err
	}
	if err := writeKey(p.Key, key, o.Force); err != nil {
		return nil, err
	}
	if err := writeCert(p.Cert, ca.Raw, o.Force); err != nil {
		return nil, err
	}
	if o.Force {
		// The old CA's ledger describes certificates the new CA never
		// issued: kept aside, not continued.
		if _, err := os.Lstat(p.Ledger); err == nil {
			aside := p.Ledger + ".replaced-" + now.UTC().Format("20060102T150405Z")
			if err := os.Rename(p.Ledger, aside); err != nil {
				return nil, fmt.Errorf("certs: %w", err)
			}
			existing = append(existing, p.Ledger+" (kept as "+filepath.Base(aside)+")")
		}
	}
	a := &authority{CAPaths: p, cert: ca, key: key}
	crl, err := a.writeCRL(nil, now, 0)
	if err != nil {
		return nil, err
	}
	r := &CAResult{CAPaths: p, CA: ca, CRLInfo: crl, Replaced: existing}
	r.Text = caText(r, now)
	return r, nil
}

// authority is a CA loaded to sign: its certificate and key, checked to
// belong together.
type authority struct {
	CAPaths
	cert *x509.Certificate
	key  crypto.Signer
}

// loadAuthority reads the CA certificate and key of p and checks that the
// certificate is a CA, valid at now, and that the key is its key.
func loadAuthority(p CAPaths, now time.Time) (*authority, error) {
	ca, err := ReadCertificate(p.Cert)
	if err != nil {
		return nil, fmt.Errorf("certs: CA certificate %s: %w (no CA here: `ccotel certs ca --dir %s` makes one)", p.Cert, err, shellQuote(p.Dir))
	}
	if !ca.IsCA {
		return nil, fmt.Errorf("certs: %s (%s) is not a CA certificate", p.Cert, ca.Subject)
	}
	if now.After(ca.NotAfter) {
		return nil, fmt.Errorf("certs: the CA %s (%s) expired on %s: make a new one (`ccotel certs ca --force`) and replace the cluster's secret", p.Cert, ca.Subject, Day(ca.NotAfter))
	}
	key, err := ReadPrivateKey(p.Key)
	if err != nil {
		return nil, fmt.Errorf("certs: CA key %s: %w (the CA key stays on the machine that made the CA: sign there)", p.Key, err)
	}
	if !samePublicKey(key, ca.PublicKey) {
		return nil, fmt.Errorf("certs: CA key %s does not belong to %s", p.Key, p.Cert)
	}
	return &authority{CAPaths: p, cert: ca, key: key}, nil
}

// openAuthority is loadAuthority on the CA in dir, with its ledger read.
func openAuthority(dir string, now time.Time) (*authority, []Issued, error) {
	a, err := loadAuthority(CAPathsIn(dir), now)
	if err != nil {
		return nil, nil, err
	}
	issued, err := ReadLedger(a.Ledger)
	if err != nil {
		return nil, nil, err
	}
	return a, issued, nil
}

// PublishCommand is the kubectl command that creates or updates the
// cluster's secret with the CA certificate (ca.crt) and its CRL (ca.crl),
// the two keys ingress-nginx's auth-tls-secret reads.
func PublishCommand(caCert, crl string) string {
	return fmt.Sprintf("kubectl create secret generic %s -n %s --from-file=%s=%s --from-file=%s=%s --dry-run=client -o yaml | kubectl apply -f -",
		SecretName, SecretNamespace, SecretKey, shellQuote(caCert), SecretCRLKey, shellQuote(crl))
}

// SecretCRLKey is the key of the CRL in the secret: ingress-nginx turns
// it into ssl_crl.
const SecretCRLKey = "ca.crl"

// NginxLines are the lines of a plain nginx server block that verify
// client certificates against the CA and its CRL.
func NginxLines(caCert, crl string) []string {
	return []string{
		"ssl_client_certificate " + caCert + ";",
		"ssl_verify_client      on;",
		"ssl_verify_depth       1;",
		"ssl_crl                " + crl + ";",
	}
}

func caText(r *CAResult, now time.Time) string {
	var b strings.Builder
	b.WriteString("Created the team's client CA:\n\n")
	if len(r.Replaced) > 0 {
		fmt.Fprintf(&b, "  (replaced %s)\n\n", strings.Join(r.Replaced, ", "))
	}
	ca := Describe(r.Cert, []*x509.Certificate{r.CA}, now)
	fmt.Fprintf(&b, "  CA certificate  %s\n                  %s, %s\n", r.Cert, ca.Subject, ca.Validity())
	fmt.Fprintf(&b, "  CA key          %s (mode 0600): it never leaves this machine\n", r.Key)
	fmt.Fprintf(&b, "  CRL             %s\n                  %s\n", r.CRL, r.CRLInfo.Summary())
	b.WriteString("\nOn the cluster, put the CA and its CRL where ingress-nginx looks for them:\n\n")
	fmt.Fprintf(&b, "  %s\n", PublishCommand(r.Cert, r.CRL))
	b.WriteString("\nand give the Ingress in front of the collector these annotations\n(examples/kubernetes/ingress.yaml has them):\n\n")
	for _, a := range annotationLines() {
		fmt.Fprintf(&b, "  %s\n", a)
	}
	b.WriteString("\nWith plain nginx instead, in the server block (then nginx -s reload):\n\n")
	for _, l := range NginxLines(r.Cert, r.CRL) {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	fmt.Fprintf(&b, "\nNext: each developer runs `ccotel certs request` and sends you the request\nit writes (client.csr); you sign it with\n\n  ccotel certs sign --ca-dir %s THEIR.csr\n\nand send back the certificate. `ccotel certs list` shows what was issued,\n`ccotel certs revoke` takes one back.\n", shellQuote(r.Dir))
	return b.String()
}
