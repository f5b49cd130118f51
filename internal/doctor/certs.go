package doctor

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/certs"
	"github.com/ccotel/ccotel/internal/config"
)

// checkFiles inspects the client certificate, key and CA. It reports
// whether they look usable.
func (d *Diagnosis) checkFiles(cfg *config.Config, o Options) bool {
	const sec = "Certificates"
	ok := true
	now := o.Now()
	switch {
	case cfg.ClientCert == "" && cfg.ClientKey == "":
		if strings.HasPrefix(cfg.Endpoint, "https://") {
			d.add(sec, Info, "no client certificate configured (fine if the collector does not ask for one)", "")
		}
	case cfg.ClientKey == "":
		d.add(sec, Fail, fmt.Sprintf("client_cert is set (%s, from %s) but client_key is not", cfg.ClientCert, cfg.Sources["client_cert"]),
			"set client_key to the certificate's private key (PEM), or remove client_cert")
		ok = false
	case cfg.ClientCert == "":
		d.add(sec, Fail, fmt.Sprintf("client_key is set (%s, from %s) but client_cert is not", cfg.ClientKey, cfg.Sources["client_key"]),
			"set client_cert to the certificate (PEM) that goes with the key, or remove client_key")
		ok = false
	}

	var leaf *x509.Certificate
	if cfg.ClientCert != "" {
		list, err := certs.ReadCertificates(cfg.ClientCert)
		if err != nil {
			d.add(sec, Fail, fmt.Sprintf("client certificate %s (from %s): %v", cfg.ClientCert, cfg.Sources["client_cert"], describeFileErr(err)),
				"check client_cert points at a readable PEM certificate")
			ok = false
		} else {
			leaf = list[0]
			sev, msg, fix := certValidity(leaf, now, o.ExpiryWarning)
			if sev != OK && !now.Before(leaf.NotBefore) {
				fix = renewFix(cfg.ClientCert, leaf, now)
			}
			d.add(sec, sev, fmt.Sprintf("client certificate %s: %s, issued by %s, %s", cfg.ClientCert, name(leaf.Subject.String()), name(leaf.Issuer.String()), msg), fix)
			if sev == Fail {
				ok = false
			}
			if !certs.UsableForClientAuth(leaf) {
				d.add(sec, Fail, fmt.Sprintf("client certificate %s is not meant for client authentication (its extended key usage lacks clientAuth): servers refuse it", cfg.ClientCert),
					"ask for a client certificate (extendedKeyUsage = clientAuth)")
				ok = false
			}
		}
	}
	if cfg.ClientKey != "" {
		if !d.checkKey(cfg, leaf) {
			ok = false
		}
	}
	for _, path := range []string{cfg.CA, cfg.CAAlso} {
		if path != "" && !d.checkCA(path, cfg, now, o) {
			ok = false
		}
	}
	return ok
}

// checkCA inspects a CA bundle. A big bundle (a system or corporate one)
// is summarised, and its expired roots are normal; a small one is listed.
func (d *Diagnosis) checkCA(path string, cfg *config.Config, now time.Time, o Options) bool {
	const sec = "Certificates"
	list, err := certs.ReadCertificates(path)
	if err != nil {
		d.add(sec, Fail, fmt.Sprintf("CA %s (from %s): %v", path, cfg.Sources["ca"], describeFileErr(err)),
			"check ca points at a readable PEM file with the CA certificate(s) that issued the collector's certificate")
		return false
	}
	valid := 0
	var names, notes []string
	worst := OK
	for _, c := range list {
		names = append(names, name(c.Subject.String()))
		sev, msg, _ := certValidity(c, now, o.ExpiryWarning)
		if sev != Fail {
			valid++
		}
		if sev > OK {
			worst = max(worst, sev)
			notes = append(notes, name(c.Subject.String())+" "+msg)
		}
	}
	msg := fmt.Sprintf("CA %s (from %s): ", path, cfg.Sources["ca"])
	if len(list) > 3 {
		msg += fmt.Sprintf("a bundle of %d certificates, %d of them valid now", len(list), valid)
		worst = OK
	} else {
		msg += strings.Join(names, "; ")
		if len(notes) > 0 {
			msg += " (" + strings.Join(notes, "; ") + ")"
		}
	}
	fix := ""
	if valid == 0 {
		worst, fix = Fail, "get the current CA certificate from the collector's operator"
	} else if worst == Fail {
		worst = Warn
	}
	d.add(sec, worst, msg, fix)
	return valid > 0
}

func (d *Diagnosis) checkKey(cfg *config.Config, leaf *x509.Certificate) bool {
	const sec = "Certificates"
	b, err := os.ReadFile(cfg.ClientKey)
	if err != nil {
		d.add(sec, Fail, fmt.Sprintf("client key %s (from %s): %v", cfg.ClientKey, cfg.Sources["client_key"], describeFileErr(err)),
			"check client_key points at a readable PEM private key")
		return false
	}
	key, err := certs.ParsePrivateKey(b)
	if err != nil {
		d.add(sec, Fail, fmt.Sprintf("client key %s: %v", cfg.ClientKey, err),
			"client_key must be the PEM private key (\"-----BEGIN PRIVATE KEY-----\", or an RSA/EC key block), unencrypted")
		return false
	}
	msg := fmt.Sprintf("client key %s: %s", cfg.ClientKey, keyKind(key))
	ok := true
	sev := OK
	fix := ""
	if leaf != nil {
		if pub, isPub := key.Public().(interface{ Equal(crypto.PublicKey) bool }); isPub && pub.Equal(leaf.PublicKey) {
			msg += ", matches the certificate"
		} else {
			d.add(sec, Fail, fmt.Sprintf("client key %s does not belong to the certificate %s: its public key is different", cfg.ClientKey, cfg.ClientCert),
				"use the key that was generated with this certificate's request (or the certificate issued for this key)")
			return false
		}
	}
	if fi, err := os.Stat(cfg.ClientKey); err == nil {
		perm := fi.Mode().Perm()
		msg += fmt.Sprintf(", mode %04o", perm)
		if perm&0o077 != 0 {
			sev = Warn
			msg += " (readable by group or others)"
			fix = "chmod 600 " + cfg.ClientKey
		}
	}
	d.add(sec, sev, msg, fix)
	return ok
}

// keyKind names a private key's algorithm and size for doctor's report.
func keyKind(k crypto.Signer) string {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case *ecdsa.PrivateKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PrivateKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", k)
}

// renewFix is what to do about a client certificate that expired or
// expires soon: `ccotel certs renew` when this machine holds the CA that
// issued it (ccotel certs init made it), else a new request to the admin
// who holds the team's CA (certs request, sign, install).
func renewFix(path string, leaf *x509.Certificate, now time.Time) string {
	if info, err := certs.Show(path, now); err == nil && info.Renewable {
		return "run `ccotel certs renew`: it issues a new client certificate from the same CA, the ingress keeps accepting it"
	}
	return fmt.Sprintf("run `ccotel certs request` and send the CSR it writes to your admin (the issuer: %s); install what comes back with `ccotel certs install FILE`", name(leaf.Issuer.String()))
}
