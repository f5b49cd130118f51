// Package certs owns ccotel's client certificates: the private client CA
// that an ingress (ingress-nginx's auth-tls-* annotations, or nginx's
// ssl_verify_client) trusts, and the client certificate signed by it that
// ccotel presents. It is the library behind `ccotel certs init|renew|show`,
// modelled on mkcert: one call makes everything, the files are named and
// explained, and the text says what to run on the cluster next.
//
// Files, in the directory the caller names (the CLI passes
// ~/.config/ccotel/):
//
//	client-ca.pem      the client CA certificate: goes into the cluster's secret
//	client-ca-key.pem  its private key: stays here, it issues what the ingress trusts
//	client.pem         ccotel's client certificate (client_cert in config.toml)
//	client-key.pem     its private key (client_key in config.toml)
//
// Keys are ECDSA P-256 in PKCS #8 PEM ("PRIVATE KEY"), mode 0600; a
// directory it creates is 0700. Every file is written to a temporary file
// in the same directory and renamed into place, so a reader never sees
// half a file, and nothing existing is replaced unless asked (Force).
//
// Show reads any certificate, not just these: the openssl-made ones of a
// hand-built setup and cert-manager-issued ones (tls.crt) alike.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names inside the certificate directory.
const (
	CACertFile     = "client-ca.pem"
	CAKeyFile      = "client-ca-key.pem"
	ClientCertFile = "client.pem"
	ClientKeyFile  = "client-key.pem"
)

// Defaults.
const (
	// CAValidity is how long a new client CA is valid.
	CAValidity = 10 * 365 * 24 * time.Hour
	// ClientValidity is how long a new client certificate is valid.
	ClientValidity = 365 * 24 * time.Hour
	// RenewBefore is when a client certificate is due for renewal: doctor
	// points at `ccotel certs renew` once it expires within this.
	RenewBefore = 30 * 24 * time.Hour
	// Organization is the O= of the certificates Init makes.
	Organization = "ccotel"
	// backdate covers a cluster whose clock runs a little behind.
	backdate = 5 * time.Minute
)

// Paths are the four files of a client identity.
type Paths struct {
	CACert     string // client CA certificate (PEM)
	CAKey      string // client CA private key (PEM)
	ClientCert string // client certificate (PEM)
	ClientKey  string // client private key (PEM)
}

// PathsIn returns the standard file names in dir.
func PathsIn(dir string) Paths {
	return Paths{
		CACert:     filepath.Join(dir, CACertFile),
		CAKey:      filepath.Join(dir, CAKeyFile),
		ClientCert: filepath.Join(dir, ClientCertFile),
		ClientKey:  filepath.Join(dir, ClientKeyFile),
	}
}

func (p Paths) all() []string { return []string{p.CAKey, p.CACert, p.ClientKey, p.ClientCert} }

// InitOptions configure Init.
type InitOptions struct {
	// Dir is where the files go (created 0700 if missing). Required.
	Dir string
	// CommonName is the client certificate's subject CN. Default: the
	// user and host name, "user@host".
	CommonName string
	// Force replaces existing files. Without it Init writes nothing when
	// any of the four files exists.
	Force bool
	// CAValidity and ClientValidity default to the package constants.
	CAValidity, ClientValidity time.Duration
	// Now is the issuing time (default time.Now).
	Now func() time.Time
}

// Result is what Init and Renew made.
type Result struct {
	Paths
	CA     *x509.Certificate
	Client *x509.Certificate
	// Replaced names the files that existed and were overwritten (Force).
	Replaced []string
	// Secret is the command that puts the CA into the cluster, for
	// ingress-nginx's auth-tls-secret.
	Secret string
	// Annotations are the Ingress annotations, one "key: value" line each,
	// as they appear in YAML.
	Annotations []string
	// Text is everything to print, ending with a newline: the files, then
	// the cluster-side steps.
	Text string
}

// The cluster side: the secret with the client CA and the annotations
// that make ingress-nginx verify client certificates against it.
const (
	SecretNamespace = "observability"
	SecretName      = "otel-client-ca"
	// SecretKey is the key inside the secret: ingress-nginx reads ca.crt.
	SecretKey = "ca.crt"

	AnnotationVerifyClient = "nginx.ingress.kubernetes.io/auth-tls-verify-client"
	AnnotationSecret       = "nginx.ingress.kubernetes.io/auth-tls-secret"
	AnnotationVerifyDepth  = "nginx.ingress.kubernetes.io/auth-tls-verify-depth"
)

// IngressAnnotations returns the three auth-tls annotations and their
// values (the strings YAML must hold: "on", "1").
func IngressAnnotations() map[string]string {
	return map[string]string{
		AnnotationVerifyClient: "on",
		AnnotationSecret:       SecretNamespace + "/" + SecretName,
		AnnotationVerifyDepth:  "1",
	}
}

// SecretCommand is the kubectl command that creates the secret holding
// caCert (the client CA certificate).
func SecretCommand(caCert string) string {
	return fmt.Sprintf("kubectl create secret generic %s -n %s --from-file=%s=%s",
		SecretName, SecretNamespace, SecretKey, shellQuote(caCert))
}

func annotationLines() []string {
	a := IngressAnnotations()
	return []string{
		AnnotationVerifyClient + `: "` + a[AnnotationVerifyClient] + `"`,
		AnnotationSecret + ": " + a[AnnotationSecret],
		AnnotationVerifyDepth + `: "` + a[AnnotationVerifyDepth] + `"`,
	}
}

// Init creates a client CA and a client certificate signed by it in
// o.Dir. The CA is self-signed, may sign leaf certificates only (path
// length 0) and CRLs; the client certificate is for client authentication
// (digital signature, extended key usage clientAuth) with subject CN
// o.CommonName, O=ccotel.
//
// Without o.Force it fails, writing nothing, when any of the four files
// exists: the error names them and says what to do.
func Init(o InitOptions) (*Result, error) {
	if o.Dir == "" {
		return nil, errors.New("certs: no directory given")
	}
	now := nowFunc(o.Now)().Truncate(time.Second) // certificates hold whole seconds
	cn := o.CommonName
	if cn == "" {
		cn = DefaultCommonName()
	}
	p := PathsIn(o.Dir)
	existing := existingFiles(p.all())
	if len(existing) > 0 && !o.Force {
		return nil, &ExistsError{Files: existing}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}

	ca, caKey, err := newCA(pkix.Name{CommonName: "ccotel client CA (" + cn + ")", Organization: []string{Organization}}, now, orDefault(o.CAValidity, CAValidity))
	if err != nil {
		return nil, err
	}
	client, clientKey, err := issueClient(ca, caKey, clientTemplate(pkix.Name{CommonName: cn, Organization: []string{Organization}}, now, orDefault(o.ClientValidity, ClientValidity)))
	if err != nil {
		return nil, err
	}

	if err := writeKey(p.CAKey, caKey, o.Force); err != nil {
		return nil, err
	}
	if err := writeCert(p.CACert, ca.Raw, o.Force); err != nil {
		return nil, err
	}
	if err := writeKey(p.ClientKey, clientKey, o.Force); err != nil {
		return nil, err
	}
	if err := writeCert(p.ClientCert, client.Raw, o.Force); err != nil {
		return nil, err
	}
	r := &Result{Paths: p, CA: ca, Client: client, Replaced: existing,
		Secret: SecretCommand(p.CACert), Annotations: annotationLines()}
	r.Text = initText(r, now)
	return r, nil
}

// askAdmin is the way to a new certificate on a machine without the CA
// that issued it, in Renew's refusal.
const askAdmin = "This machine does not hold the CA key that issues your certificates: " +
	"run `ccotel certs request` and send the CSR it writes to your admin, then `ccotel certs install` what comes back " +
	"(`ccotel certs init --force` makes a CA of your own instead: for one person alone)"

// RenewOptions configure Renew.
type RenewOptions struct {
	// Paths name the CA (certificate and key, which sign) and the client
	// certificate and key (read for the subject, then replaced). PathsIn
	// gives Init's; any PEM CA works, an openssl-made RSA one too.
	Paths
	// CommonName replaces the subject with CN=CommonName, O=ccotel.
	// Default: keep the current client certificate's subject (needed then).
	CommonName string
	// Validity defaults to ClientValidity.
	Validity time.Duration
	// Now is the issuing time (default time.Now).
	Now func() time.Time
}

// Renew issues a new client certificate, with a new key, from the CA in
// o.Paths, keeping the current certificate's subject (and its subject
// alternative names), and replaces the client certificate and key. The CA
// is read, never written. It refuses a CA that has expired or is not a
// CA, and a CA key that does not match the CA certificate.
func Renew(o RenewOptions) (*Result, error) {
	now := nowFunc(o.Now)().Truncate(time.Second) // certificates hold whole seconds
	p := o.Paths
	ca, err := ReadCertificate(p.CACert)
	if err != nil {
		return nil, fmt.Errorf("certs: client CA %s: %w. %s", p.CACert, err, askAdmin)
	}
	if !ca.IsCA {
		return nil, fmt.Errorf("certs: %s (%s) is not a CA certificate", p.CACert, ca.Subject)
	}
	if now.After(ca.NotAfter) {
		return nil, fmt.Errorf("certs: the client CA %s (%s) expired on %s: make a new one (`ccotel certs init --force`) and replace the cluster's secret", p.CACert, ca.Subject, Day(ca.NotAfter))
	}
	caKey, err := ReadPrivateKey(p.CAKey)
	if err != nil {
		return nil, fmt.Errorf("certs: client CA key %s: %w. %s", p.CAKey, err, askAdmin)
	}
	if !samePublicKey(caKey, ca.PublicKey) {
		return nil, fmt.Errorf("certs: client CA key %s does not belong to %s", p.CAKey, p.CACert)
	}

	var tmpl *x509.Certificate
	validity := orDefault(o.Validity, ClientValidity)
	if o.CommonName != "" {
		tmpl = clientTemplate(pkix.Name{CommonName: o.CommonName, Organization: []string{Organization}}, now, validity)
	} else {
		old, err := ReadCertificate(p.ClientCert)
		if err != nil {
			return nil, fmt.Errorf("certs: client certificate %s: %w (its subject is kept; give a common name instead)", p.ClientCert, err)
		}
		tmpl = clientTemplate(old.Subject, now, validity)
		tmpl.RawSubject = old.RawSubject // byte for byte, whatever made it
		tmpl.DNSNames, tmpl.EmailAddresses, tmpl.IPAddresses, tmpl.URIs = old.DNSNames, old.EmailAddresses, old.IPAddresses, old.URIs
	}
	client, clientKey, err := issueClient(ca, caKey, tmpl)
	if err != nil {
		return nil, err
	}
	replaced := existingFiles([]string{p.ClientKey, p.ClientCert})
	// Key first: a reader pairing the old certificate with the new key for
	// an instant fails loudly; the other order would be the same. Both are
	// renames, so neither is ever half-written.
	if err := writeKey(p.ClientKey, clientKey, true); err != nil {
		return nil, err
	}
	if err := writeCert(p.ClientCert, client.Raw, true); err != nil {
		return nil, err
	}
	r := &Result{Paths: p, CA: ca, Client: client, Replaced: replaced,
		Secret: SecretCommand(p.CACert), Annotations: annotationLines()}
	r.Text = renewText(r, now)
	return r, nil
}

// CheckRenewable says whether Renew can renew p.ClientCert from the CA in
// p: nil when the CA certificate and key are there, belong together, and
// signed the client certificate; otherwise an error saying which is not.
// doctor uses it to choose between "run ccotel certs renew" and "ask the
// certificate's issuer".
func CheckRenewable(p Paths) error {
	client, err := ReadCertificate(p.ClientCert)
	if err != nil {
		return fmt.Errorf("client certificate %s: %w", p.ClientCert, err)
	}
	ca, err := ReadCertificate(p.CACert)
	if err != nil {
		return fmt.Errorf("client CA %s: %w", p.CACert, err)
	}
	if err := client.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("%s was not issued by %s (%s)", p.ClientCert, p.CACert, ca.Subject)
	}
	key, err := ReadPrivateKey(p.CAKey)
	if err != nil {
		return fmt.Errorf("client CA key %s: %w", p.CAKey, err)
	}
	if !samePublicKey(key, ca.PublicKey) {
		return fmt.Errorf("client CA key %s does not belong to %s", p.CAKey, p.CACert)
	}
	return nil
}

// newCA makes a self-signed client CA that may sign leaf certificates
// only (path length 0) and CRLs, with a new P-256 key.
func newCA(subject pkix.Name, now time.Time, validity time.Duration) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               subject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: creating the client CA: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

func clientTemplate(subject pkix.Name, now time.Time, validity time.Duration) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               subject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

// issueClient makes a new P-256 key and signs tmpl for it with the CA.
// The certificate never outlives the CA.
func issueClient(ca *x509.Certificate, caKey crypto.Signer, tmpl *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: signing the client certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return c, key, nil
}

// DefaultCommonName is "user@host", the subject Init gives a client
// certificate unless told otherwise: who sent a trace, in the ingress's
// logs ($ssl_client_s_dn).
func DefaultCommonName() string {
	name := "ccotel"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
		if i := strings.LastIndexByte(name, '\\'); i >= 0 { // DOMAIN\user
			name = name[i+1:]
		}
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		name += "@" + strings.TrimSuffix(h, ".local")
	}
	return name
}

// ExistsError is Init's refusal to overwrite.
type ExistsError struct{ Files []string }

func (e *ExistsError) Error() string {
	next := "For a new client certificate from the same CA run `ccotel certs renew`"
	if !slices.ContainsFunc(e.Files, func(f string) bool { return filepath.Base(f) == CAKeyFile }) {
		next = "For a certificate from your team's CA run `ccotel certs request` and send the CSR to your admin"
	}
	return fmt.Sprintf("certs: %s already exist%s; nothing was written. "+
		"%s; to start over with a CA of your own (for one person alone; the cluster's secret must then be replaced) use --force",
		strings.Join(e.Files, ", "), map[bool]string{true: "s", false: ""}[len(e.Files) == 1], next)
}
