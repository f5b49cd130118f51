package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CSRFile is the certificate request Request writes beside the key.
const CSRFile = "client.csr"

// RequestOptions configure Request.
type RequestOptions struct {
	// Dir is where the key and the CSR go (the CLI's default:
	// ~/.config/ccotel). Required.
	Dir string
	// CommonName is the subject CN asked for (default "user@host"); the
	// admin may sign it under another.
	CommonName string
	// Force makes a new key even when one exists. The certificate in use
	// stops working until the new one is installed.
	Force bool
}

// RequestResult is what Request made.
type RequestResult struct {
	Key, CSR   string // paths
	NewKey     bool   // false: the CSR is for the key that was there
	Replaced   bool   // a key existed and Force replaced it
	CommonName string
	Text       string
}

// Request makes the developer's side of a certificate: a P-256 private
// key (client-key.pem, 0600) that never leaves the machine, and a PEM
// certificate signing request for it (client.csr) with subject CN
// o.CommonName and nothing else: no extensions, no alternative names.
//
// An existing key is kept and the CSR made for it (a renewal: the
// certificate in use goes on working until its successor is installed);
// only o.Force replaces it.
func Request(o RequestOptions) (*RequestResult, error) {
	if o.Dir == "" {
		return nil, errors.New("certs: no directory given")
	}
	r := &RequestResult{Key: filepath.Join(o.Dir, ClientKeyFile), CSR: filepath.Join(o.Dir, CSRFile), CommonName: o.CommonName}
	if r.CommonName == "" {
		r.CommonName = DefaultCommonName()
	}
	if err := mkdirPrivate(o.Dir); err != nil {
		return nil, err
	}
	key, err := requestKey(r, o.Force)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: r.CommonName, Organization: []string{Organization}},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("certs: making the certificate request: %w", err)
	}
	if err := writeFileAtomic(r.CSR, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644, true); err != nil {
		return nil, err
	}
	r.Text = requestText(r)
	return r, nil
}

// requestKey reads the key at r.Key, or makes and writes a new one when
// there is none or force says so.
func requestKey(r *RequestResult, force bool) (crypto.Signer, error) {
	_, err := os.Lstat(r.Key)
	exists := err == nil
	if exists && !force {
		key, err := ReadPrivateKey(r.Key)
		if err != nil {
			return nil, fmt.Errorf("certs: the key %s is there but unusable (%v); --force replaces it", r.Key, err)
		}
		return key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("certs: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := writeKey(r.Key, key, force); err != nil {
		return nil, err
	}
	r.NewKey, r.Replaced = true, exists
	return key, nil
}

func requestText(r *RequestResult) string {
	var b strings.Builder
	switch {
	case r.Replaced:
		fmt.Fprintf(&b, "Made a new private key (the old one is replaced: the certificate that went\nwith it stops working until the new one is installed):\n\n")
	case r.NewKey:
		b.WriteString("Made a private key and a certificate request for it:\n\n")
	default:
		b.WriteString("Made a certificate request for the private key you already have:\n\n")
	}
	fmt.Fprintf(&b, "  private key  %s (mode 0600): it never leaves this machine, send it to no one\n", r.Key)
	fmt.Fprintf(&b, "  request      %s\n               CN=%s,O=%s\n", r.CSR, r.CommonName, Organization)
	fmt.Fprintf(&b, "\nNext: send %s to your ccotel admin, who holds the team's\nclient CA (it holds no secret: mail or chat is fine). They run\n\n  ccotel certs sign %s\n\nand send back a certificate; install it with\n\n  ccotel certs install FILE\n", r.CSR, filepath.Base(r.CSR))
	return b.String()
}
