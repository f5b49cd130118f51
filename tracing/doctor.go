package tracing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Severity of a doctor finding.
type Severity int

const (
	OK Severity = iota
	Info
	Warn
	Fail
)

// Finding is one line of doctor's verdict: what was found and, when
// something is wrong, what to do next.
type Finding struct {
	Section  string // "Certificates", "Connection", "Export"
	Severity Severity
	Message  string
	Fix      string
}

// Diagnosis is doctor's report on the export side of the configuration.
type Diagnosis struct {
	Findings  []Finding
	Handshake *Handshake // nil when no handshake was tried
	TestSpan  *Span      // the span sent, when one was
}

// Failed reports whether any finding is a failure.
func (d *Diagnosis) Failed() bool {
	return slices.ContainsFunc(d.Findings, func(f Finding) bool { return f.Severity == Fail })
}

func (d *Diagnosis) add(section string, sev Severity, msg, fix string) {
	d.Findings = append(d.Findings, Finding{Section: section, Severity: sev, Message: msg, Fix: fix})
}

// DoctorOptions steer Diagnose.
type DoctorOptions struct {
	Version string
	Now     func() time.Time
	// ExpiryWarning: a certificate expiring within this is a warning
	// (default 14 days).
	ExpiryWarning time.Duration
	// Offline checks the configuration and files only: no handshake, no
	// test span.
	Offline bool
}

// Diagnose checks what the export needs: the certificate, key and CA files,
// a real TLS handshake with the endpoint's host, and one real test span
// (named "ccotel doctor", in a trace of its own). Each failure is named as
// precisely as the evidence allows, with what to do next.
func Diagnose(ctx context.Context, cfg *Config, o DoctorOptions) *Diagnosis {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ExpiryWarning <= 0 {
		o.ExpiryWarning = 14 * 24 * time.Hour
	}
	if o.Version == "" {
		o.Version = Version
	}
	d := &Diagnosis{}
	const sc, sn, se = "Configuration", "Connection", "Export"

	if cfg.Endpoint == "" {
		d.add(sc, Fail, "no collector endpoint is configured: the hook records nothing and exits",
			fmt.Sprintf("add endpoint = \"https://collector.example.com:4318\" to %s, or run `ccotel install --endpoint URL --client-cert FILE --client-key FILE --ca FILE`", configFileHint(cfg)))
	}
	if cfg.Disabled {
		d.add(sc, Warn, fmt.Sprintf("export is disabled (disabled = true, from %s): the hook records nothing", cfg.Sources["disabled"]),
			"remove it to turn ccotel back on")
	}
	if cfg.InsecureSkipVerify {
		d.add(sc, Warn, fmt.Sprintf("INSECURE: the collector's certificate is NOT verified (insecure_skip_verify = true in %s); anyone on the network path can read or forge your traces", cfg.ConfigFile),
			"remove insecure_skip_verify and set ca = the CA that issued the collector's certificate")
	}
	if strings.HasPrefix(cfg.Endpoint, "http://") {
		d.add(sc, Warn, "the endpoint is plain http://: traces and headers travel unencrypted and no client certificate is used",
			"use https:// unless the collector is on this machine")
	}
	for _, w := range cfg.Warnings {
		d.add(sc, Warn, w, "")
	}

	d.checkFiles(cfg, o)
	if cfg.Endpoint == "" || o.Offline {
		return d
	}

	// A real handshake.
	h := ProbeTLS(ctx, cfg)
	d.Handshake = h
	if h.Err == nil {
		d.add(sn, OK, handshakeSummary(h, cfg), "")
	} else {
		d.explain(sn, cfg, h.Kind, h.Err, h)
	}
	if h.Err != nil {
		// The test span would fail the same way.
		d.add(se, Info, "no test span sent: the connection must work first", "")
		return d
	}

	// A real test span.
	exp, err := NewExporter(cfg, o.Version, nil)
	if err != nil {
		d.add(se, Fail, fmt.Sprintf("cannot build the exporter: %v", err), "fix the configuration problems above")
		return d
	}
	defer exp.Close()
	s := doctorSpan(o.Now())
	d.TestSpan = s
	err = exp.Export(ctx, []*Span{s})
	var ee *ExportError
	switch {
	case err == nil:
		d.add(se, OK, fmt.Sprintf("test span %q accepted by %s (trace %s, span %s)", s.Name, cfg.Endpoint, s.TraceID, s.SpanID),
			"")
	case errors.As(err, &ee):
		d.explain(se, cfg, ee.Kind, err, h)
	default:
		d.add(se, Fail, err.Error(), "")
	}
	return d
}

// doctorSpan is the test span: its own random trace, one millisecond long.
func doctorSpan(now time.Time) *Span {
	s := &Span{Name: "ccotel doctor", Kind: KindInternal, Start: now.Add(-time.Millisecond), End: now}
	rand.Read(s.TraceID[:])
	rand.Read(s.SpanID[:])
	s.Attrs = []Attr{String("ccotel.doctor", "test span")}
	return s
}

func configFileHint(cfg *Config) string {
	if cfg.ConfigFile != "" {
		return cfg.ConfigFile
	}
	return "~/.config/ccotel/config.toml"
}

// checkFiles inspects the client certificate, key and CA. It reports
// whether they look usable.
func (d *Diagnosis) checkFiles(cfg *Config, o DoctorOptions) bool {
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
		certs, err := readCertificates(cfg.ClientCert)
		if err != nil {
			d.add(sec, Fail, fmt.Sprintf("client certificate %s (from %s): %v", cfg.ClientCert, cfg.Sources["client_cert"], describeFileErr(err)),
				"check client_cert points at a readable PEM certificate")
			ok = false
		} else {
			leaf = certs[0]
			sev, msg, fix := certValidity(leaf, now, o.ExpiryWarning)
			d.add(sec, sev, fmt.Sprintf("client certificate %s: %s, issued by %s, %s", cfg.ClientCert, name(leaf.Subject.String()), name(leaf.Issuer.String()), msg), fix)
			if sev == Fail {
				ok = false
			}
			if !usableForClientAuth(leaf) {
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
func (d *Diagnosis) checkCA(path string, cfg *Config, now time.Time, o DoctorOptions) bool {
	const sec = "Certificates"
	certs, err := readCertificates(path)
	if err != nil {
		d.add(sec, Fail, fmt.Sprintf("CA %s (from %s): %v", path, cfg.Sources["ca"], describeFileErr(err)),
			"check ca points at a readable PEM file with the CA certificate(s) that issued the collector's certificate")
		return false
	}
	valid := 0
	var names, notes []string
	worst := OK
	for _, c := range certs {
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
	if len(certs) > 3 {
		msg += fmt.Sprintf("a bundle of %d certificates, %d of them valid now", len(certs), valid)
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

func (d *Diagnosis) checkKey(cfg *Config, leaf *x509.Certificate) bool {
	const sec = "Certificates"
	b, err := os.ReadFile(cfg.ClientKey)
	if err != nil {
		d.add(sec, Fail, fmt.Sprintf("client key %s (from %s): %v", cfg.ClientKey, cfg.Sources["client_key"], describeFileErr(err)),
			"check client_key points at a readable PEM private key")
		return false
	}
	key, kind, err := parsePrivateKey(b)
	if err != nil {
		d.add(sec, Fail, fmt.Sprintf("client key %s: %v", cfg.ClientKey, err),
			"client_key must be the PEM private key (\"-----BEGIN PRIVATE KEY-----\", or an RSA/EC key block), unencrypted")
		return false
	}
	msg := fmt.Sprintf("client key %s: %s", cfg.ClientKey, kind)
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

func parsePrivateKey(b []byte) (crypto.Signer, string, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, "", errors.New("no PEM private key found")
		}
		if !strings.Contains(blk.Type, "PRIVATE KEY") {
			continue
		}
		if strings.Contains(blk.Type, "ENCRYPTED") {
			return nil, "", errors.New("the key is encrypted with a passphrase, which ccotel cannot use")
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
			return nil, "", fmt.Errorf("cannot parse the %s block: %v", blk.Type, err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, fmt.Sprintf("RSA %d bits", k.N.BitLen()), nil
		case *ecdsa.PrivateKey:
			return k, "ECDSA " + k.Curve.Params().Name, nil
		case ed25519.PrivateKey:
			return k, "Ed25519", nil
		}
		return nil, "", fmt.Errorf("unsupported key type %T", k)
	}
}

// certValidity says whether c is valid at now.
func certValidity(c *x509.Certificate, now time.Time, warn time.Duration) (Severity, string, string) {
	switch {
	case now.Before(c.NotBefore):
		return Fail, fmt.Sprintf("NOT YET VALID: valid from %s (is this machine's clock right? it says %s)", day(c.NotBefore), day(now)),
			"wait until it becomes valid, or fix the clock"
	case now.After(c.NotAfter):
		return Fail, fmt.Sprintf("EXPIRED on %s (%d days ago)", day(c.NotAfter), int(now.Sub(c.NotAfter).Hours()/24)),
			fmt.Sprintf("get a new certificate from its issuer (%s) and point the config at it", name(c.Issuer.String()))
	}
	left := c.NotAfter.Sub(now)
	msg := fmt.Sprintf("valid until %s (%d days left)", day(c.NotAfter), int(left.Hours()/24))
	if left < warn {
		return Warn, msg, "renew it soon"
	}
	return OK, msg, ""
}

func usableForClientAuth(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func name(dn string) string {
	if dn == "" {
		return "(empty name)"
	}
	return dn
}

func describeFileErr(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied (ccotel runs as you: can you read it?)"
	}
	return err.Error()
}

func handshakeSummary(h *Handshake, cfg *Config) string {
	if h.Version == "none (plain HTTP)" {
		return fmt.Sprintf("%s answers plain HTTP (no TLS)", h.Addr)
	}
	msg := fmt.Sprintf("%s handshake with %s", h.Version, h.Addr)
	if len(h.ServerChain) > 0 {
		s := h.ServerChain[0]
		msg += fmt.Sprintf("; server certificate %s, issued by %s, valid until %s", name(s.Subject.String()), name(s.Issuer.String()), day(s.NotAfter))
		if cfg.InsecureSkipVerify {
			msg += " (NOT verified)"
		} else {
			msg += ", verified"
		}
	}
	switch {
	case h.CertRequested && h.CertSent:
		msg += "; the server asked for a client certificate and accepted ours"
	case h.CertRequested:
		msg += "; the server asked for a client certificate (optional, it seems) and none was configured"
	case cfg.ClientCert != "":
		msg += "; the server did not ask for a client certificate (nginx asks only if ssl_verify_client is on)"
	}
	return msg
}

// explain turns a failure kind into a verdict and a next step.
func (d *Diagnosis) explain(sec string, cfg *Config, kind FailureKind, err error, h *Handshake) {
	u, _ := url.Parse(cfg.Endpoint)
	host := ""
	if u != nil {
		host = u.Host
	}
	var ee *ExportError
	errors.As(err, &ee)
	said := ""
	if ee != nil && ee.Status != 0 {
		said = fmt.Sprintf("HTTP %d", ee.Status)
		if ee.Body != "" {
			said += fmt.Sprintf(" %q", ee.Body)
		}
	}
	switch kind {
	case FailRefused:
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			d.add(sec, Fail, fmt.Sprintf("cannot resolve %s: %v", u.Hostname(), dnsErr.Err),
				"check the host name in endpoint (and your DNS/VPN)")
			return
		}
		d.add(sec, Fail, fmt.Sprintf("nothing accepts connections at %s (connection refused or unreachable)", host),
			"check the endpoint's host and port (OTLP/HTTP is usually 4318, or 443 behind an ingress) and that the collector or ingress is up; queued spans are kept and sent when it is")
	case FailTimeout:
		d.add(sec, Fail, fmt.Sprintf("no answer from %s within %s (timeout)", host, cfg.Timeout),
			"check firewalls, VPN and proxies between here and the collector; a slow collector may need timeout = \"30s\"")
	case FailServerUntrusted:
		d.add(sec, Fail, "the collector's certificate is not trusted: "+untrustedDetail(err, h, cfg), untrustedFix(err, h, cfg))
	case FailNoClientCert:
		msg := fmt.Sprintf("%s requires a client certificate and ccotel sent none", host)
		if said != "" {
			msg += " (the server answered " + said + ")"
		}
		if cfg.ClientCert == "" {
			d.add(sec, Fail, msg, "set client_cert and client_key (PEM files) in "+configFileHint(cfg)+"; the certificate must be issued by the CA the collector's ingress trusts (ssl_client_certificate / auth-tls-secret)")
		} else {
			d.add(sec, Fail, msg+", although one is configured", "check client_cert and client_key; `ccotel doctor` lists problems with them above")
		}
	case FailClientCertRejected:
		msg := fmt.Sprintf("%s refused the client certificate", host)
		if said != "" {
			msg += " (the server answered " + said + ")"
		} else if err != nil {
			msg += " (" + tlsAlert(err) + ")"
		}
		d.add(sec, Fail, msg+clientRejectReason(cfg, h),
			"get a client certificate issued by the CA the collector's ingress trusts (nginx: ssl_client_certificate; ingress-nginx: auth-tls-secret), not expired, and with its chain no deeper than ssl_verify_depth")
	case FailWrongScheme:
		if strings.HasPrefix(cfg.Endpoint, "http://") {
			d.add(sec, Fail, fmt.Sprintf("%s speaks TLS but the endpoint says http://", host), "use https:// in endpoint")
		} else {
			d.add(sec, Fail, fmt.Sprintf("%s does not speak TLS (it answered plain HTTP) but the endpoint says https://", host),
				"use the collector's TLS port (the ingress), or http:// if the collector is local and plain text is intended")
		}
	case FailNotFound:
		fix := "OTLP/HTTP receivers take traces at /v1/traces; give the base URL (e.g. https://collector.example.com:4318) and ccotel appends /v1/traces"
		if strings.Count(cfg.Endpoint, TracesPath) > 1 {
			fix = "the path has /v1/traces twice: OTEL_EXPORTER_OTLP_ENDPOINT is a base URL; use the base URL or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
		}
		d.add(sec, Fail, fmt.Sprintf("the collector answered 404 Not Found for %s: wrong path", u.Path), fix)
	case FailUnauthorized:
		d.add(sec, Fail, fmt.Sprintf("the collector refused the request: %s (not authorized)", said),
			"the collector or its ingress wants credentials: set them in [headers] (for example Authorization = \"Bearer …\") or CCOTEL_HEADERS")
	case FailTooLarge:
		d.add(sec, Fail, "the collector refused even a one-span request as too large (HTTP 413)",
			"raise the ingress's body size limit (nginx: client_max_body_size)")
	case FailUnavailable:
		d.add(sec, Fail, fmt.Sprintf("the collector is not available: %s", said),
			"the ingress answers but the collector behind it is down or overloaded; spans stay queued and are sent when it recovers")
	case FailRejected:
		d.add(sec, Fail, fmt.Sprintf("the collector refused the data: %s", said),
			"the collector could not accept the span; check its logs and that the endpoint is an OTLP/HTTP traces receiver")
	case FailPartial:
		d.add(sec, Warn, fmt.Sprintf("the collector accepted the request but rejected %d span(s): %s", ee.Rejected, ee.Body), "check the collector's logs")
	case FailConfig:
		d.add(sec, Fail, err.Error(), "fix the certificate problems listed above")
	default:
		msg := err.Error()
		if said != "" {
			msg = said
		}
		d.add(sec, Fail, "export failed: "+msg, "")
	}
}

func tlsAlert(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "remote error: "); i >= 0 {
		msg = msg[i:]
		if j := strings.IndexAny(msg, ")\n"); j > 0 {
			msg = msg[:j]
		}
		return "TLS alert: " + strings.TrimPrefix(msg, "remote error: ")
	}
	return msg
}

// clientRejectReason guesses why a client certificate was refused, from
// what is known locally.
func clientRejectReason(cfg *Config, h *Handshake) string {
	certs, err := readCertificates(cfg.ClientCert)
	if err != nil || len(certs) == 0 {
		return ""
	}
	c := certs[0]
	now := time.Now()
	switch {
	case now.After(c.NotAfter):
		return fmt.Sprintf(": ours EXPIRED on %s", day(c.NotAfter))
	case now.Before(c.NotBefore):
		return fmt.Sprintf(": ours is not valid before %s", day(c.NotBefore))
	}
	if bytes.Equal(c.RawIssuer, c.RawSubject) {
		return ": ours is self-signed"
	}
	if h != nil && len(h.acceptableRaw) > 0 && !slices.ContainsFunc(h.acceptableRaw, func(dn []byte) bool { return bytes.Equal(dn, c.RawIssuer) }) {
		return fmt.Sprintf(": ours is issued by %s, and the server accepts certificates issued by %s", name(c.Issuer.String()), strings.Join(h.AcceptableCAs, "; "))
	}
	if bytes.Equal(c.RawIssuer, c.RawSubject) {
		return ": ours is self-signed"
	}
	return fmt.Sprintf(": ours is %s, issued by %s", name(c.Subject.String()), name(c.Issuer.String()))
}

func untrustedDetail(err error, h *Handshake, cfg *Config) string {
	var (
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	var leaf *x509.Certificate
	if h != nil && len(h.ServerChain) > 0 {
		leaf = h.ServerChain[0]
	}
	switch {
	case errors.As(err, &hostErr):
		return fmt.Sprintf("it is for %s, not %q", certNames(hostErr.Certificate), hostErr.Host)
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired:
		return fmt.Sprintf("it has expired or is not yet valid (%s, valid %s to %s)", name(invalidErr.Cert.Subject.String()), day(invalidErr.Cert.NotBefore), day(invalidErr.Cert.NotAfter))
	case errors.As(err, &unknownCA):
		c := unknownCA.Cert
		if c == nil {
			c = leaf
		}
		where := "the system's CAs"
		if cfg.CA != "" {
			where = fmt.Sprintf("the system's CAs or %s (ca, from %s)", cfg.CA, cfg.Sources["ca"])
		}
		if c != nil {
			return fmt.Sprintf("%s is issued by %s, which is not in %s", name(c.Subject.String()), name(c.Issuer.String()), where)
		}
		return "it is issued by a CA that is not in " + where
	}
	return err.Error()
}

func untrustedFix(err error, h *Handshake, cfg *Config) string {
	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		return "use a host name the certificate names in endpoint, or ask the collector's operator for a certificate that names this one"
	}
	issuer := "the CA that issued the collector's certificate"
	if h != nil && len(h.ServerChain) > 0 {
		issuer = fmt.Sprintf("the CA certificate of %s", name(h.ServerChain[len(h.ServerChain)-1].Issuer.String()))
	}
	return fmt.Sprintf("set ca = a PEM file with %s (ask the collector's operator); never insecure_skip_verify", issuer)
}

func certNames(c *x509.Certificate) string {
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return name(c.Subject.String())
	}
	return strings.Join(names, ", ")
}
