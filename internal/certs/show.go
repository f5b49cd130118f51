package certs

import (
	"crypto/x509"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"
)

// Info describes a certificate file for a person: whose it is, who issued
// it, and how long it has left.
type Info struct {
	Path      string
	Cert      *x509.Certificate // the first (leaf) certificate in the file
	Chain     int               // certificates in the file
	Subject   string            // e.g. "CN=alice@mac,O=ccotel"
	Issuer    string
	NotBefore time.Time
	NotAfter  time.Time
	// Left is NotAfter minus the time Show was asked about; negative once
	// expired. DaysLeft is it in whole days, rounded down.
	Left     time.Duration
	DaysLeft int
	// NotYetValid: the time asked about is before NotBefore.
	NotYetValid bool
	IsCA        bool
	SelfSigned  bool
	// ClientAuth: usable as a client certificate (UsableForClientAuth).
	ClientAuth bool
	// Renewable: the client CA and its key lie beside the file under
	// Init's names and issued it, so `ccotel certs renew` can renew it
	// (CheckRenewable). Set by Show, not by Describe.
	Renewable bool
}

// Show reads the first certificate of a PEM or DER file and describes it
// as of now. Any X.509 certificate works: Init's and Renew's, openssl-made
// ones, a cert-manager-issued tls.crt (leaf first, then its chain).
func Show(path string, now time.Time) (*Info, error) {
	cs, err := ReadCertificates(path)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", path, err)
	}
	i := Describe(path, cs, now)
	if !i.IsCA {
		p := PathsIn(filepath.Dir(path))
		i.Renewable = CheckRenewable(Paths{CACert: p.CACert, CAKey: p.CAKey, ClientCert: path}) == nil
	}
	return i, nil
}

// Describe is Show on certificates already read (cs[0] is described).
func Describe(path string, cs []*x509.Certificate, now time.Time) *Info {
	c := cs[0]
	left := c.NotAfter.Sub(now)
	return &Info{
		Path:        path,
		Cert:        c,
		Chain:       len(cs),
		Subject:     nameOrEmpty(c.Subject.String()),
		Issuer:      nameOrEmpty(c.Issuer.String()),
		NotBefore:   c.NotBefore,
		NotAfter:    c.NotAfter,
		Left:        left,
		DaysLeft:    int(math.Floor(left.Hours() / 24)),
		NotYetValid: now.Before(c.NotBefore),
		IsCA:        c.IsCA,
		SelfSigned:  c.CheckSignatureFrom(c) == nil,
		ClientAuth:  UsableForClientAuth(c),
	}
}

// Expired reports whether the certificate had expired at the time asked
// about.
func (i *Info) Expired() bool { return i.Left < 0 }

// NeedsRenewal reports whether the certificate expires within RenewBefore
// (or has expired): the time for `ccotel certs renew`.
func (i *Info) NeedsRenewal() bool { return i.Left < RenewBefore }

// Validity is one line on the certificate's dates, e.g. "valid until
// 2027-12-02 10:00 UTC (364 days left)" or "EXPIRED on … (3 days ago)".
func (i *Info) Validity() string {
	switch {
	case i.NotYetValid:
		return fmt.Sprintf("NOT YET VALID: valid from %s (is this machine's clock right?)", Day(i.NotBefore))
	case i.Expired():
		ago := int(math.Floor(-i.Left.Hours() / 24))
		return fmt.Sprintf("EXPIRED on %s (%s ago)", Day(i.NotAfter), days(ago))
	}
	return fmt.Sprintf("valid until %s (%s left)", Day(i.NotAfter), days(i.DaysLeft))
}

// String is what `ccotel certs show` prints for the file, ending with a
// newline: subject, issuer, expiry and days left, and what to do when the
// certificate is due.
func (i *Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", i.Path)
	kind := "certificate"
	switch {
	case i.IsCA && i.SelfSigned:
		kind = "CA certificate (self-signed)"
	case i.IsCA:
		kind = "intermediate CA certificate"
	case i.ClientAuth:
		kind = "client certificate"
	}
	fmt.Fprintf(&b, "  %-9s %s\n", "kind:", kind)
	fmt.Fprintf(&b, "  %-9s %s\n", "subject:", i.Subject)
	fmt.Fprintf(&b, "  %-9s %s\n", "issuer:", i.Issuer)
	fmt.Fprintf(&b, "  %-9s %s\n", "expires:", i.Validity())
	if i.Chain > 1 {
		fmt.Fprintf(&b, "  %-9s %d more certificate(s) in the file (the chain)\n", "chain:", i.Chain-1)
	}
	if !i.IsCA && !i.ClientAuth {
		fmt.Fprintf(&b, "  warning:  its extended key usage lacks clientAuth: an ingress verifying client certificates refuses it\n")
	}
	switch {
	case i.IsCA || !i.NeedsRenewal():
	case i.Renewable:
		fmt.Fprintf(&b, "  next:     run `ccotel certs renew` for a new one from the same CA (the cluster needs no change)\n")
	default:
		fmt.Fprintf(&b, "  next:     run `ccotel certs request` and send the CSR to your admin (the issuer: %s), then `ccotel certs install` what comes back\n", i.Issuer)
	}
	return b.String()
}

func initText(r *Result, now time.Time) string {
	var b strings.Builder
	b.WriteString("Created a client CA and a client certificate signed by it:\n\n")
	if len(r.Replaced) > 0 {
		fmt.Fprintf(&b, "  (replaced %s)\n\n", strings.Join(r.Replaced, ", "))
	}
	writeFiles(&b, r, now, true)
	b.WriteString("\nOn the cluster, put the client CA where ingress-nginx looks for it:\n\n")
	fmt.Fprintf(&b, "  %s\n", r.Secret)
	b.WriteString("\nand give the Ingress in front of the collector these annotations\n(examples/kubernetes/ingress.yaml has them):\n\n")
	for _, a := range r.Annotations {
		fmt.Fprintf(&b, "  %s\n", a)
	}
	fmt.Fprintf(&b, "\nKeep %s to yourself: whoever has it can issue certificates the ingress accepts.\n", r.CAKey)
	return b.String()
}

func renewText(r *Result, now time.Time) string {
	var b strings.Builder
	b.WriteString("Issued a new client certificate (new key, same subject) from the same CA:\n\n")
	writeFiles(&b, r, now, false)
	b.WriteString("\nThe cluster needs no change: its secret holds the CA, which stays the same.\n")
	return b.String()
}

func writeFiles(b *strings.Builder, r *Result, now time.Time, withCA bool) {
	ca := Describe(r.CACert, []*x509.Certificate{r.CA}, now)
	cl := Describe(r.ClientCert, []*x509.Certificate{r.Client}, now)
	fmt.Fprintf(b, "  client CA           %s\n                      %s, %s\n", r.CACert, ca.Subject, ca.Validity())
	if withCA {
		fmt.Fprintf(b, "  client CA key       %s (mode 0600)\n", r.CAKey)
	}
	fmt.Fprintf(b, "  client certificate  %s\n                      %s, %s\n", r.ClientCert, cl.Subject, cl.Validity())
	fmt.Fprintf(b, "  client key          %s (mode 0600)\n", r.ClientKey)
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func nameOrEmpty(dn string) string {
	if dn == "" {
		return "(empty name)"
	}
	return dn
}
