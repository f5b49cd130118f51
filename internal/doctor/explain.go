package doctor

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/certs"
	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/tracing"
)

// certValidity says whether c is valid at now.
func certValidity(c *x509.Certificate, now time.Time, warn time.Duration) (Severity, string, string) {
	switch {
	case now.Before(c.NotBefore):
		return Fail, fmt.Sprintf("NOT YET VALID: valid from %s (is this machine's clock right? it says %s)", certs.Day(c.NotBefore), certs.Day(now)),
			"wait until it becomes valid, or fix the clock"
	case now.After(c.NotAfter):
		return Fail, fmt.Sprintf("EXPIRED on %s (%d days ago)", certs.Day(c.NotAfter), int(now.Sub(c.NotAfter).Hours()/24)),
			fmt.Sprintf("get a new certificate from its issuer (%s) and point the config at it", name(c.Issuer.String()))
	}
	left := c.NotAfter.Sub(now)
	msg := fmt.Sprintf("valid until %s (%d days left)", certs.Day(c.NotAfter), int(left.Hours()/24))
	if left < warn {
		return Warn, msg, "renew it soon"
	}
	return OK, msg, ""
}

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

func handshakeSummary(h *tracing.Handshake, cfg *config.Config) string {
	if h.Version == "none (plain HTTP)" {
		return fmt.Sprintf("%s answers plain HTTP (no TLS)", h.Addr)
	}
	msg := fmt.Sprintf("%s handshake with %s", h.Version, h.Addr)
	if len(h.ServerChain) > 0 {
		s := h.ServerChain[0]
		msg += fmt.Sprintf("; server certificate %s, issued by %s, valid until %s", name(s.Subject.String()), name(s.Issuer.String()), certs.Day(s.NotAfter))
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
func (d *Diagnosis) explain(sec string, cfg *config.Config, kind tracing.FailureKind, err error, h *tracing.Handshake) {
	u, _ := url.Parse(cfg.Endpoint)
	host := ""
	if u != nil {
		host = u.Host
	}
	var ee *tracing.ExportError
	errors.As(err, &ee)
	said := ""
	if ee != nil && ee.Status != 0 {
		said = fmt.Sprintf("HTTP %d", ee.Status)
		if ee.Body != "" {
			said += fmt.Sprintf(" %q", ee.Body)
		}
	}
	switch kind {
	case tracing.FailRefused:
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			d.add(sec, Fail, fmt.Sprintf("cannot resolve %s: %v", u.Hostname(), dnsErr.Err),
				"check the host name in endpoint (and your DNS/VPN)")
			return
		}
		d.add(sec, Fail, fmt.Sprintf("nothing accepts connections at %s (connection refused or unreachable)", host),
			"check the endpoint's host and port (OTLP/HTTP is usually 4318, or 443 behind an ingress) and that the collector or ingress is up; queued spans are kept and sent when it is")
	case tracing.FailTimeout:
		d.add(sec, Fail, fmt.Sprintf("no answer from %s within %s (timeout)", host, cfg.Timeout),
			"check firewalls, VPN and proxies between here and the collector; a slow collector may need timeout = \"30s\"")
	case tracing.FailServerUntrusted:
		d.add(sec, Fail, "the collector's certificate is not trusted: "+untrustedDetail(err, h, cfg), untrustedFix(err, h, cfg))
	case tracing.FailNoClientCert:
		msg := fmt.Sprintf("%s requires a client certificate and ccotel sent none", host)
		if said != "" {
			msg += " (the server answered " + said + ")"
		}
		if cfg.ClientCert == "" {
			d.add(sec, Fail, msg, "set client_cert and client_key (PEM files) in "+configFileHint(cfg)+"; the certificate must be issued by the CA the collector's ingress trusts (ssl_client_certificate / auth-tls-secret)")
		} else {
			d.add(sec, Fail, msg+", although one is configured", "check client_cert and client_key; `ccotel doctor` lists problems with them above")
		}
	case tracing.FailClientCertRejected:
		msg := fmt.Sprintf("%s refused the client certificate", host)
		if said != "" {
			msg += " (the server answered " + said + ")"
		} else if err != nil {
			msg += " (" + tlsAlert(err) + ")"
		}
		d.add(sec, Fail, msg+clientRejectReason(cfg, h),
			"get a client certificate issued by the CA the collector's ingress trusts (nginx: ssl_client_certificate; ingress-nginx: auth-tls-secret), not expired, and with its chain no deeper than ssl_verify_depth")
	case tracing.FailWrongScheme:
		if strings.HasPrefix(cfg.Endpoint, "http://") {
			d.add(sec, Fail, fmt.Sprintf("%s speaks TLS but the endpoint says http://", host), "use https:// in endpoint")
		} else {
			d.add(sec, Fail, fmt.Sprintf("%s does not speak TLS (it answered plain HTTP) but the endpoint says https://", host),
				"use the collector's TLS port (the ingress), or http:// if the collector is local and plain text is intended")
		}
	case tracing.FailNotFound:
		fix := "OTLP/HTTP receivers take traces at /v1/traces; give the base URL (e.g. https://collector.example.com:4318) and ccotel appends /v1/traces"
		if strings.Count(cfg.Endpoint, config.TracesPath) > 1 {
			fix = "the path has /v1/traces twice: OTEL_EXPORTER_OTLP_ENDPOINT is a base URL; use the base URL or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
		}
		d.add(sec, Fail, fmt.Sprintf("the collector answered 404 Not Found for %s: wrong path", u.Path), fix)
	case tracing.FailUnauthorized:
		d.add(sec, Fail, fmt.Sprintf("the collector refused the request: %s (not authorized)", said),
			"the collector or its ingress wants credentials: set them in [headers] (for example Authorization = \"Bearer …\") or CCOTEL_HEADERS")
	case tracing.FailTooLarge:
		d.add(sec, Fail, "the collector refused even a one-span request as too large (HTTP 413)",
			"raise the ingress's body size limit (nginx: client_max_body_size)")
	case tracing.FailUnavailable:
		if said == "" {
			said = err.Error() // an HTTP/2 GOAWAY (ENHANCE_YOUR_CALM: rate limited)
		}
		d.add(sec, Fail, fmt.Sprintf("the collector is not available: %s", said),
			"the ingress answers but the collector behind it is down or overloaded; spans stay queued and are sent when it recovers")
	case tracing.FailRejected:
		d.add(sec, Fail, fmt.Sprintf("the collector refused the data: %s", said),
			"the collector could not accept the span; check its logs and that the endpoint is an OTLP/HTTP traces receiver")
	case tracing.FailPartial:
		d.add(sec, Warn, fmt.Sprintf("the collector accepted the request but rejected %d span(s): %s", ee.Rejected, ee.Body), "check the collector's logs")
	case tracing.FailRedirect:
		loc := ee.Location
		msg := fmt.Sprintf("%s answered HTTP %d, a redirect to %s; ccotel does not follow redirects (spans could be counted as sent to a page that is not a collector, and header secrets sent elsewhere)", host, ee.Status, loc)
		fix := "set endpoint to the collector's own OTLP/HTTP URL, the one that answers POST /v1/traces directly"
		if target, perr := url.Parse(loc); perr == nil && target.Host != "" {
			switch {
			case u != nil && u.Scheme == "https" && target.Scheme == "http":
				fix = "the redirect goes to plain http://, which would send the spans and the header secrets in clear text; fix the ingress, or set endpoint to the collector's https:// URL"
			case ee.Status == 307 || ee.Status == 308 || ee.Status == 301:
				fix = fmt.Sprintf("if %s is the collector, set endpoint = %q", target.Host, target.Scheme+"://"+target.Host)
			default:
				fix = "a 302/303 usually means a login (SSO) proxy in front of the collector: ccotel authenticates with its client certificate or [headers], not a browser login; ask for a machine endpoint, or set endpoint to the collector itself"
			}
		}
		d.add(sec, Fail, msg, fix)
	case tracing.FailNotOTLP:
		d.add(sec, Fail, fmt.Sprintf("%s answered HTTP %d but the answer is not an OTLP response (%v): %q", host, ee.Status, ee.Err, ee.Body),
			"a proxy or login page answers instead of the collector; spans stay queued. Set endpoint to the collector's OTLP/HTTP receiver")
	case tracing.FailConfig:
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
func clientRejectReason(cfg *config.Config, h *tracing.Handshake) string {
	list, err := certs.ReadCertificates(cfg.ClientCert)
	if err != nil || len(list) == 0 {
		return ""
	}
	c := list[0]
	now := time.Now()
	switch {
	case now.After(c.NotAfter):
		return fmt.Sprintf(": ours EXPIRED on %s", certs.Day(c.NotAfter))
	case now.Before(c.NotBefore):
		return fmt.Sprintf(": ours is not valid before %s", certs.Day(c.NotBefore))
	}
	if bytes.Equal(c.RawIssuer, c.RawSubject) {
		return ": ours is self-signed"
	}
	if h != nil && len(h.AcceptableRaw) > 0 && !slices.ContainsFunc(h.AcceptableRaw, func(dn []byte) bool { return bytes.Equal(dn, c.RawIssuer) }) {
		return fmt.Sprintf(": ours is issued by %s, and the server accepts certificates issued by %s", name(c.Issuer.String()), strings.Join(h.AcceptableCAs, "; "))
	}
	if bytes.Equal(c.RawIssuer, c.RawSubject) {
		return ": ours is self-signed"
	}
	return fmt.Sprintf(": ours is %s, issued by %s", name(c.Subject.String()), name(c.Issuer.String()))
}

func untrustedDetail(err error, h *tracing.Handshake, cfg *config.Config) string {
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
		return fmt.Sprintf("it has expired or is not yet valid (%s, valid %s to %s)", name(invalidErr.Cert.Subject.String()), certs.Day(invalidErr.Cert.NotBefore), certs.Day(invalidErr.Cert.NotAfter))
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

func untrustedFix(err error, h *tracing.Handshake, cfg *config.Config) string {
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
