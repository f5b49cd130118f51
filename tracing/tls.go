package tracing

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/ccotel/ccotel/internal/certs"
)

// TLSConfig builds the client side of mutual TLS for opts: TLS 1.2 at
// least, the system roots plus opts.CA for the server, and the client
// certificate pair when configured. The server is always verified unless
// the config file says insecure_skip_verify = true.
//
// It reads the certificate files, so it runs in the flusher (and doctor),
// never on the hook's hot path. Its errors name the files and the setting
// they came from, never their content.
func TLSConfig(opts *Options) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: opts.InsecureSkipVerify, //nolint:gosec // explicit opt-in, doctor warns
	}
	if opts.CA != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		for _, path := range []string{opts.CA, opts.CAAlso} {
			if path == "" {
				continue
			}
			list, err := certs.ReadCertificates(path)
			if err != nil {
				return nil, fmt.Errorf("ca %s (from %s): %w", path, opts.Sources["ca"], err)
			}
			for _, c := range list {
				pool.AddCert(c)
			}
		}
		tc.RootCAs = pool
	}
	switch {
	case opts.ClientCert == "" && opts.ClientKey == "":
		// No client certificate: fine for a collector that does not ask.
	case opts.ClientKey == "":
		return nil, fmt.Errorf("client_cert %s (from %s) is set but client_key is not: set both, or neither", opts.ClientCert, opts.Sources["client_cert"])
	case opts.ClientCert == "":
		return nil, fmt.Errorf("client_key %s (from %s) is set but client_cert is not: set both, or neither", opts.ClientKey, opts.Sources["client_key"])
	default:
		pair, err := LoadClientPair(opts.ClientCert, opts.ClientKey)
		if err != nil {
			return nil, err
		}
		// Always send the certificate when asked. (With Certificates, Go
		// sends nothing when the server's list of acceptable CAs does not
		// name the issuer, and the failure would read "no certificate".)
		tc.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if seen, ok := cri.Context().Value(certRequestKey{}).(*certRequest); ok {
				seen.record(cri)
			}
			return &pair, nil
		}
	}
	return tc, nil
}

// certRequest records what a server asked for in its CertificateRequest
// (the probe passes one in the handshake's context).
type certRequest struct {
	asked         bool
	acceptableCAs [][]byte
}

type certRequestKey struct{}

func (r *certRequest) record(cri *tls.CertificateRequestInfo) {
	r.asked = true
	r.acceptableCAs = cri.AcceptableCAs
}

// Handshake is what a direct TLS handshake with the endpoint's host saw.
type Handshake struct {
	Addr          string              // host:port
	Version       string              // "TLS 1.3"
	ServerChain   []*x509.Certificate // as presented by the server
	CertRequested bool                // the server asked for a client certificate
	CertSent      bool                // … and ccotel had one to send
	AcceptableCAs []string            // the issuers the server said it accepts
	AcceptableRaw [][]byte            // … as DER names
	Kind          FailureKind         // when Err != nil
	Err           error
}

// ProbeTLS dials the endpoint's host, completes a TLS handshake with opts's
// TLS settings, and then waits briefly: a server that verifies client
// certificates after a TLS 1.3 handshake sends its refusal (an alert) on
// the first read. It sends no HTTP request. doctor uses it to say exactly
// what failed; Export uses it to explain a connection the server dropped.
func ProbeTLS(ctx context.Context, opts *Options) *Handshake {
	h := &Handshake{}
	u, err := url.Parse(opts.Endpoint)
	if err != nil || u.Host == "" {
		h.Kind, h.Err = FailConfig, fmt.Errorf("bad endpoint %q", opts.Endpoint)
		return h
	}
	h.Addr = u.Host
	if u.Port() == "" {
		h.Addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	if u.Scheme == "http" {
		// Plain HTTP by request. Only check the server is not a TLS one.
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: opts.timeout()}, Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // detection only, nothing is sent
		conn, err := d.DialContext(ctx, "tcp", h.Addr)
		if err == nil || strings.Contains(err.Error(), "remote error: tls:") {
			if conn != nil {
				conn.Close()
			}
			h.Kind, h.Err = FailWrongScheme, errors.New("the endpoint says http:// but the server speaks TLS: use https://")
			return h
		}
		var re tls.RecordHeaderError
		if !errors.As(err, &re) && !isDroppedConnection(err) {
			h.Kind, h.Err = transportKindHint(err, false), err
			return h
		}
		h.Version = "none (plain HTTP)"
		return h
	}
	tc, err := TLSConfig(opts)
	if err != nil {
		h.Kind, h.Err = FailConfig, err
		return h
	}
	tc.ServerName = u.Hostname()
	req := &certRequest{}
	hasCert := tc.GetClientCertificate != nil
	if !hasCert {
		tc.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			req.record(cri)
			return &tls.Certificate{}, nil
		}
	}
	dctx := context.WithValue(ctx, certRequestKey{}, req)
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: opts.timeout()}, Config: tc}
	began := time.Now()
	conn, err := d.DialContext(dctx, "tcp", h.Addr)
	took := time.Since(began)
	h.CertRequested, h.CertSent = req.asked, req.asked && hasCert
	h.AcceptableRaw = req.acceptableCAs
	for _, dn := range req.acceptableCAs {
		var name pkix.RDNSequence
		if _, err := asn1.Unmarshal(dn, &name); err == nil {
			h.AcceptableCAs = append(h.AcceptableCAs, name.String())
		}
	}
	if err != nil {
		h.Err = err
		h.Kind = transportKindHint(err, hasCert)
		var verr *tls.CertificateVerificationError
		if errors.As(err, &verr) {
			h.ServerChain = verr.UnverifiedCertificates
		}
		return h
	}
	defer conn.Close()
	tconn := conn.(*tls.Conn)
	st := tconn.ConnectionState()
	h.Version = tls.VersionName(st.Version)
	h.ServerChain = st.PeerCertificates
	if !h.CertRequested {
		// The server never asked for a certificate: whatever it does
		// next (hang up on a connection that sends no request, say) is
		// no refusal of one.
		return h
	}
	// Wait for a post-handshake refusal: it comes about one round trip
	// after our last handshake message, so a few handshake times is
	// plenty.
	wait := min(max(4*took, 250*time.Millisecond), 2*time.Second)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = time.Until(dl)
	}
	tconn.SetReadDeadline(time.Now().Add(wait))
	_, err = tconn.Read(make([]byte, 1))
	var ne net.Error
	switch {
	case err == nil, errors.As(err, &ne) && ne.Timeout():
		// Silence: the server accepted us and waits for a request.
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		h.Err = fmt.Errorf("the server closed the connection right after the TLS handshake: %w", err)
		h.Kind = FailClientCertRejected
		if !hasCert {
			h.Kind = FailNoClientCert
		}
	default:
		h.Err = err
		h.Kind = transportKindHint(err, hasCert)
	}
	return h
}

// ErrKeyMismatch means the client key is not the certificate's key.
var ErrKeyMismatch = errors.New("the private key does not match the certificate's public key")

// LoadClientPair reads a PEM certificate (chain) and its PEM private key.
func LoadClientPair(certPath, keyPath string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("client certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("client key: %w", err)
	}
	if _, err := certs.ParseCertificates(certPEM); err != nil {
		return tls.Certificate{}, fmt.Errorf("client certificate %s: %w", certPath, err)
	}
	if !hasKeyBlock(keyPEM) {
		return tls.Certificate{}, fmt.Errorf("client key %s: no PEM private key found (want a \"-----BEGIN PRIVATE KEY-----\" block)", keyPath)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		if isMismatch(err) {
			return tls.Certificate{}, fmt.Errorf("client key %s and certificate %s: %w", keyPath, certPath, ErrKeyMismatch)
		}
		// tls.X509KeyPair's messages name no secret; keep them.
		return tls.Certificate{}, fmt.Errorf("client key %s / certificate %s: %v", keyPath, certPath, err)
	}
	return pair, nil
}

// hasKeyBlock reports whether b holds a private key block anywhere: a
// combined file has the certificate first.
func hasKeyBlock(b []byte) bool {
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			return false
		}
		if isKeyBlock(blk.Type) {
			return true
		}
	}
}

func isKeyBlock(t string) bool {
	return t == "PRIVATE KEY" || t == "RSA PRIVATE KEY" || t == "EC PRIVATE KEY"
}

func isMismatch(err error) bool {
	s := err.Error()
	return s == "tls: private key does not match public key" ||
		s == "tls: private key type does not match public key type"
}
