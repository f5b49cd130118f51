package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// InstallOptions configure Install.
type InstallOptions struct {
	// Dir holds the key Request made (client-key.pem); the certificate
	// goes beside it as client.pem. Required.
	Dir string
	// File is the signed certificate the admin sent (Sign's output: the
	// certificate, then the CA's).
	File string
	// Issuer, when set, is the client CA certificate the certificate must
	// come from; without it, a CA certificate in File is checked.
	Issuer string
	Now    func() time.Time
}

// InstallResult is what Install installed.
type InstallResult struct {
	Cert, Key string // client.pem and client-key.pem
	Leaf      *x509.Certificate
	// Issuer is the CA that was checked to have signed Leaf; nil when
	// neither File nor InstallOptions.Issuer held one.
	Issuer *x509.Certificate
	// Previous is the certificate replaced, if any.
	Previous *x509.Certificate
	Text     string
}

// Install puts a signed certificate in place as client.pem beside the key
// Request made, after checking that it is for that key, a client
// certificate (clientAuth, not a CA), valid now, and issued by the CA
// (o.Issuer, or the CA certificate Sign appends). It writes only the
// certificate itself; the caller points the config file at the pair.
func Install(o InstallOptions) (*InstallResult, error) {
	if o.Dir == "" || o.File == "" {
		return nil, errors.New("certs: no directory or certificate file given")
	}
	now := nowFunc(o.Now)()
	list, err := ReadCertificates(o.File)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", o.File, err)
	}
	r := &InstallResult{Cert: filepath.Join(o.Dir, ClientCertFile), Key: filepath.Join(o.Dir, ClientKeyFile), Leaf: list[0]}
	if err := checkInstall(r, list, o, now); err != nil {
		return nil, err
	}
	if prev, err := ReadCertificate(r.Cert); err == nil {
		r.Previous = prev
	}
	if err := writeFileAtomic(r.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Leaf.Raw}), 0o644, true); err != nil {
		return nil, err
	}
	r.Text = installText(r, now)
	return r, nil
}

// checkInstall refuses a certificate Install must not put in place.
func checkInstall(r *InstallResult, list []*x509.Certificate, o InstallOptions, now time.Time) error {
	leaf, what := r.Leaf, fmt.Sprintf("%s (%s)", o.File, nameOrEmpty(r.Leaf.Subject.String()))
	key, err := ReadPrivateKey(r.Key)
	if err != nil {
		return fmt.Errorf("certs: your key %s: %w (run `ccotel certs request` first; the certificate must be signed from its CSR)", r.Key, err)
	}
	if !samePublicKey(key, leaf.PublicKey) {
		return fmt.Errorf("certs: %s is not for your key %s: it was signed from another request. Send %s (from `ccotel certs request`) and install what comes back", what, r.Key, filepath.Join(o.Dir, CSRFile))
	}
	if leaf.IsCA || !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return fmt.Errorf("certs: %s is not a client certificate (extended key usage clientAuth, not a CA); ask for one signed with `ccotel certs sign`", what)
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("certs: %s is not valid before %s: is this machine's clock right?", what, Day(leaf.NotBefore))
	}
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("certs: %s expired on %s: run `ccotel certs request` and send the CSR to your admin for a new one", what, Day(leaf.NotAfter))
	}
	issuers := list[1:]
	if o.Issuer != "" {
		if issuers, err = ReadCertificates(o.Issuer); err != nil {
			return fmt.Errorf("certs: issuer %s: %w", o.Issuer, err)
		}
	}
	for _, ca := range issuers {
		if ca.IsCA && leaf.CheckSignatureFrom(ca) == nil {
			r.Issuer = ca
			return nil
		}
	}
	if len(issuers) > 0 {
		return fmt.Errorf("certs: %s was not issued by %s: it comes from another CA (%s), which the ingress does not trust", what, nameOrEmpty(issuers[0].Subject.String()), nameOrEmpty(leaf.Issuer.String()))
	}
	return nil
}

func installText(r *InstallResult, now time.Time) string {
	var b strings.Builder
	info := Describe(r.Cert, []*x509.Certificate{r.Leaf}, now)
	b.WriteString("Installed your client certificate:\n\n")
	fmt.Fprintf(&b, "  certificate  %s\n               %s, %s\n", r.Cert, info.Subject, info.Validity())
	if r.Issuer != nil {
		fmt.Fprintf(&b, "               issued by %s (checked)\n", r.Issuer.Subject)
	} else {
		fmt.Fprintf(&b, "               issued by %s (not checked: the file holds no CA certificate)\n", info.Issuer)
	}
	fmt.Fprintf(&b, "  key          %s (yours, matches)\n", r.Key)
	if r.Previous != nil {
		fmt.Fprintf(&b, "  replaced     %s, %s\n", nameOrEmpty(r.Previous.Subject.String()), Describe(r.Cert, []*x509.Certificate{r.Previous}, now).Validity())
	}
	fmt.Fprintf(&b, "\nBefore %s, run `ccotel certs request` again and send the CSR to your admin.\n", Day(r.Leaf.NotAfter.Add(-RenewBefore)))
	return b.String()
}
