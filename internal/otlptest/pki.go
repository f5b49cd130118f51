// Package otlptest is ccotel's one test collector and one test PKI, used
// by the unit tests, the binary-level end-to-end tests and the benchmark
// harness (go run ./bench) alike: a loopback OTLP/HTTP trace receiver
// that requires and verifies client certificates and records every span it
// decodes (protobuf or JSON, gzip or not), with the certificates it needs
// generated at run time.
//
// Nothing here is for production: keys are ECDSA P-256, written 0600 into
// a directory the caller owns (a temp dir).
package otlptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a private certificate authority, its certificate at Path (PEM).
type CA struct {
	Dir  string
	Path string
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	Pool *x509.CertPool // holds Cert
}

var serial atomic.Int64

// NewCA creates a CA named name and writes its certificate into dir.
func NewCA(dir, name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	base := strings.ReplaceAll(name, " ", "-")
	ca := &CA{Dir: dir, Path: filepath.Join(dir, base+".pem"), Cert: cert, Key: key, Pool: x509.NewCertPool()}
	ca.Pool.AddCert(cert)
	return ca, writePEM(ca.Path, "CERTIFICATE", der, 0o644)
}

// Leaf shapes a certificate Issue signs. The zero value is a client
// certificate valid from an hour ago for 90 days.
type Leaf struct {
	Server    bool // serverAuth for 127.0.0.1, ::1 and localhost, instead of clientAuth
	NotBefore time.Time
	NotAfter  time.Time
}

// Issue signs a leaf certificate for cn and writes <cn>.pem and
// <cn>-key.pem (0600) into the CA's directory. A CA without a Cert
// (SelfSigned) signs the certificate with its own key.
func (ca *CA) Issue(cn string, o Leaf) (certPath, keyPath string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(90 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if o.Server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	parent, signer := ca.Cert, any(ca.Key)
	if ca.Cert == nil {
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	base := strings.ReplaceAll(cn, " ", "-")
	certPath = filepath.Join(ca.Dir, base+".pem")
	keyPath = filepath.Join(ca.Dir, base+"-key.pem")
	if err := writePEM(certPath, "CERTIFICATE", der, 0o644); err != nil {
		return "", "", err
	}
	return certPath, keyPath, writePEM(keyPath, "PRIVATE KEY", keyDER, 0o600)
}

// SelfSigned writes a client certificate signed by its own key into dir.
func SelfSigned(dir, cn string) (certPath, keyPath string, err error) {
	return (&CA{Dir: dir}).Issue(cn, Leaf{})
}

// PKI is the usual mTLS setup: a server CA (the client trusts it), a
// client CA (the collector trusts it), the collector's certificate and a
// good client certificate.
type PKI struct {
	Dir                   string
	ServerCA, ClientCA    *CA
	ServerCert, ServerKey string
	ClientCert, ClientKey string

	server tls.Certificate
}

// NewPKI generates a PKI into dir.
func NewPKI(dir string) (*PKI, error) {
	p := &PKI{Dir: dir}
	var err error
	if p.ServerCA, err = NewCA(dir, "test server CA"); err != nil {
		return nil, err
	}
	if p.ClientCA, err = NewCA(dir, "test client CA"); err != nil {
		return nil, err
	}
	if p.ServerCert, p.ServerKey, err = p.ServerCA.Issue("127.0.0.1", Leaf{Server: true, NotAfter: time.Now().Add(24 * time.Hour)}); err != nil {
		return nil, err
	}
	if p.ClientCert, p.ClientKey, err = p.ClientCA.Issue("dev laptop", Leaf{}); err != nil {
		return nil, err
	}
	if p.server, err = tls.LoadX509KeyPair(p.ServerCert, p.ServerKey); err != nil {
		return nil, err
	}
	return p, nil
}

// ServerTLS is the collector's TLS configuration: TLS 1.2+, the server
// certificate, client certificates required and verified against the
// client CA.
func (p *PKI) ServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{p.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.ClientCA.Pool,
	}
}

// MustPKI is NewPKI in t's temporary directory; it fails t on error.
func MustPKI(t testing.TB) *PKI {
	t.Helper()
	p, err := NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// MustCA is NewCA in t's temporary directory; it fails t on error.
func MustCA(t testing.TB, name string) *CA {
	t.Helper()
	ca, err := NewCA(t.TempDir(), name)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// MustIssue is Issue; it fails t on error.
func (ca *CA) MustIssue(t testing.TB, cn string, o Leaf) (certPath, keyPath string) {
	t.Helper()
	c, k, err := ca.Issue(cn, o)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

// MustSelfSigned is SelfSigned in t's temporary directory.
func MustSelfSigned(t testing.TB, cn string) (certPath, keyPath string) {
	t.Helper()
	c, k, err := SelfSigned(t.TempDir(), cn)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, b, mode); err != nil {
		return fmt.Errorf("otlptest: write %s: %w", path, err)
	}
	return nil
}
