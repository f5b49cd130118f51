package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Reading certificates and keys as people have them: PEM or DER,
// chains, combined certificate-and-key files, openssl's key formats. The
// one place ccotel parses them (tracing and doctor use it too).

// ReadCertificates reads every certificate in a file: PEM (any number of
// CERTIFICATE blocks, other blocks such as a private key skipped) or a
// single DER certificate (openssl's -outform der).
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseCertificates(b)
}

// ParseCertificates is ReadCertificates on the file's bytes.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := b
	sawPEM := false
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		sawPEM = true
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bad certificate in PEM: %v", err)
		}
		out = append(out, c)
	}
	if len(out) > 0 {
		return out, nil
	}
	if !sawPEM {
		if c, err := x509.ParseCertificate(b); err == nil {
			return []*x509.Certificate{c}, nil
		}
	}
	return nil, errors.New(`no certificate found (want a PEM "-----BEGIN CERTIFICATE-----" block, or DER)`)
}

// ReadCertificate reads the first certificate of a file (the leaf, in a
// chain or a combined certificate-and-key file).
func ReadCertificate(path string) (*x509.Certificate, error) {
	cs, err := ReadCertificates(path)
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// ReadPrivateKey reads the first private key of a PEM file: PKCS #8
// ("PRIVATE KEY"), PKCS #1 ("RSA PRIVATE KEY", openssl genrsa's older
// format) or SEC 1 ("EC PRIVATE KEY"). Encrypted keys are refused.
func ReadPrivateKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePrivateKey(b)
}

// ParsePrivateKey is ReadPrivateKey on the file's bytes.
func ParsePrivateKey(b []byte) (crypto.Signer, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New(`no PEM private key found (want a "-----BEGIN PRIVATE KEY-----" block)`)
		}
		if !strings.HasSuffix(blk.Type, "PRIVATE KEY") {
			continue
		}
		if strings.Contains(blk.Type, "ENCRYPTED") || blk.Headers["Proc-Type"] != "" {
			return nil, errors.New("the key is encrypted with a passphrase, which ccotel cannot use (openssl pkey -in KEY -out KEY.pem decrypts it)")
		}
		var k any
		var err error
		switch blk.Type {
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(blk.Bytes)
		default:
			k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		}
		if err != nil {
			return nil, fmt.Errorf("cannot parse the %s block: %v", blk.Type, err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case *ecdsa.PrivateKey:
			return k, nil
		case ed25519.PrivateKey:
			return k, nil
		}
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
}

func samePublicKey(k crypto.Signer, pub crypto.PublicKey) bool {
	p, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && p.Equal(pub)
}

// UsableForClientAuth reports whether a TLS server accepts c as a client
// certificate as far as its purpose goes: an extended key usage that
// includes clientAuth (or any), or none at all (openssl x509 -req without
// extensions makes such certificates).
func UsableForClientAuth(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

// Day formats a certificate time the way ccotel prints them.
func Day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
