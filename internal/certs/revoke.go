package certs

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"
)

// Revocation: Revoke marks certificates revoked in the ledger and writes a
// new CRL; RefreshCRL writes it again with a later nextUpdate. The CRL is
// an X.509 v2 CRL in PEM ("X509 CRL"), signed by the CA: the form nginx's
// ssl_crl reads, and ingress-nginx's auth-tls-secret takes under ca.crl.

// CRLInfo describes a CRL file.
type CRLInfo struct {
	Path       string
	Number     *big.Int
	ThisUpdate time.Time
	NextUpdate time.Time
	Revoked    int // serial numbers listed
}

// Summary is one line: how many revoked and until when it is good.
func (c *CRLInfo) Summary() string {
	return fmt.Sprintf("CRL number %s, %d revoked, next update %s", c.Number, c.Revoked, Day(c.NextUpdate))
}

// ReadCRL reads a PEM (or DER) CRL.
func ReadCRL(path string) (*CRLInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	crl, err := ParseCRL(b)
	if err != nil {
		return nil, fmt.Errorf("certs: CRL %s: %w", path, err)
	}
	return &CRLInfo{Path: path, Number: crl.Number, ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate, Revoked: len(crl.RevokedCertificateEntries)}, nil
}

// ParseCRL parses a CRL in PEM ("X509 CRL") or DER.
func ParseCRL(b []byte) (*x509.RevocationList, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "X509 CRL" {
			return nil, fmt.Errorf("a PEM %q block, want \"X509 CRL\"", blk.Type)
		}
		b = blk.Bytes
	}
	return x509.ParseRevocationList(b)
}

// writeCRL signs a CRL listing the revoked certificates of issued and
// replaces the CRL file. Its number is one more than the current file's
// (1 for the first); nextUpdate is now + validity (default CRLValidity),
// never after the CA's own expiry.
func (a *authority) writeCRL(issued []Issued, now time.Time, validity time.Duration) (*CRLInfo, error) {
	number := big.NewInt(1)
	if old, err := ReadCRL(a.CRL); err == nil && old.Number != nil {
		number.Add(old.Number, big.NewInt(1))
	}
	tmpl := &x509.RevocationList{
		Number:     number,
		ThisUpdate: now.Add(-backdate),
		NextUpdate: now.Add(orDefault(validity, CRLValidity)),
	}
	if tmpl.NextUpdate.After(a.cert.NotAfter) {
		tmpl.NextUpdate = a.cert.NotAfter
	}
	for _, i := range issued {
		if !i.Revoked() {
			continue
		}
		n, ok := parseSerial(i.Serial)
		if !ok {
			return nil, fmt.Errorf("certs: ledger %s: bad serial %q", a.Ledger, i.Serial)
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: n, RevocationTime: i.RevokedAt})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, a.cert, a.key)
	if err != nil {
		return nil, fmt.Errorf("certs: signing the CRL: %w", err)
	}
	if err := writeFileAtomic(a.CRL, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644, true); err != nil {
		return nil, err
	}
	return &CRLInfo{Path: a.CRL, Number: number, ThisUpdate: tmpl.ThisUpdate, NextUpdate: tmpl.NextUpdate, Revoked: len(tmpl.RevokedCertificateEntries)}, nil
}

// RevokeOptions configure Revoke and RefreshCRL.
type RevokeOptions struct {
	CADir string
	// Which is a serial number (hex, colons allowed) or a subject CN:
	// a CN revokes every unrevoked certificate issued to it.
	Which string
	// CRLValidity defaults to CRLValidity.
	CRLValidity time.Duration
	Now         func() time.Time
}

// RevokeResult is what Revoke did.
type RevokeResult struct {
	CAPaths
	Revoked []Issued // the certificates revoked now
	CRL     *CRLInfo
	Text    string
}

// Revoke marks the certificates o.Which names revoked in the ledger and
// writes a new CRL signed by the CA. Naming a certificate already revoked
// only refreshes the CRL; naming none the ledger knows is an error.
func Revoke(o RevokeOptions) (*RevokeResult, error) {
	now := nowFunc(o.Now)().Truncate(time.Second)
	a, issued, err := openAuthority(o.CADir, now)
	if err != nil {
		return nil, err
	}
	matched := matchIssued(issued, o.Which)
	if len(matched) == 0 {
		return nil, fmt.Errorf("certs: no certificate with serial or CN %q in %s (`ccotel certs list --ca-dir %s` shows them)", o.Which, a.Ledger, shellQuote(a.Dir))
	}
	var lines []ledgerLine
	r := &RevokeResult{CAPaths: a.CAPaths}
	for _, i := range matched {
		if issued[i].Revoked() {
			continue
		}
		issued[i].RevokedAt = now
		r.Revoked = append(r.Revoked, issued[i])
		lines = append(lines, ledgerLine{Event: "revoked", Serial: issued[i].Serial, At: now})
	}
	if len(lines) > 0 {
		if err := appendLedger(a.Ledger, lines...); err != nil {
			return nil, err
		}
	}
	if r.CRL, err = a.writeCRL(issued, now, o.CRLValidity); err != nil {
		return nil, err
	}
	r.Text = revokeText(r, o.Which)
	return r, nil
}

// RefreshCRL writes the CRL again from the ledger, with a new number and
// nextUpdate: what to do before the current one's nextUpdate passes.
func RefreshCRL(o RevokeOptions) (*RevokeResult, error) {
	now := nowFunc(o.Now)().Truncate(time.Second)
	a, issued, err := openAuthority(o.CADir, now)
	if err != nil {
		return nil, err
	}
	r := &RevokeResult{CAPaths: a.CAPaths}
	if r.CRL, err = a.writeCRL(issued, now, o.CRLValidity); err != nil {
		return nil, err
	}
	r.Text = "Wrote the CRL again:\n\n" + publishText(r.CAPaths, r.CRL)
	return r, nil
}

// matchIssued returns the indexes of the certificates which names: its
// serial, or every certificate whose CN it is.
func matchIssued(issued []Issued, which string) []int {
	var out []int
	if n, ok := parseSerial(which); ok {
		for i, c := range issued {
			if m, ok := parseSerial(c.Serial); ok && m.Cmp(n) == 0 {
				out = append(out, i)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	for i, c := range issued {
		if c.CN == which {
			out = append(out, i)
		}
	}
	return out
}

func revokeText(r *RevokeResult, which string) string {
	var b strings.Builder
	if len(r.Revoked) == 0 {
		fmt.Fprintf(&b, "Every certificate %q names was revoked already; wrote the CRL again:\n\n", which)
	} else {
		b.WriteString("Revoked:\n\n")
		for _, i := range r.Revoked {
			fmt.Fprintf(&b, "  %s  %s  (was valid until %s)\n", i.Serial, i.Subject, Day(i.NotAfter))
		}
		b.WriteString("\n")
	}
	b.WriteString(publishText(r.CAPaths, r.CRL))
	return b.String()
}

// publishText names the CRL and says how to publish it: nothing is
// refused until the server holds the new CRL.
func publishText(p CAPaths, crl *CRLInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  CRL  %s\n       %s\n", crl.Path, crl.Summary())
	b.WriteString("\nThe ingress refuses the revoked certificates once it holds this CRL. Publish it:\n\n")
	fmt.Fprintf(&b, "  %s\n", PublishCommand(p.Cert, p.CRL))
	fmt.Fprintf(&b, "\n(ingress-nginx picks up the changed secret by itself). With plain nginx, copy\n%s to where ssl_crl points and run `nginx -s reload`.\n", p.CRL)
	fmt.Fprintf(&b, "\nnginx refuses every client certificate once the CRL's next update (%s)\nhas passed: run `ccotel certs crl --ca-dir %s` and publish it again before then.\n", Day(crl.NextUpdate), shellQuote(p.Dir))
	return b.String()
}
