package tracing

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// FailureKind says why an export failed, in the terms doctor and the
// flusher's backoff need.
type FailureKind int

const (
	FailOther              FailureKind = iota // anything else (kept queued, retried)
	FailConfig                                // the exporter could not be built (cert files, endpoint)
	FailRefused                               // connection refused, host unreachable, DNS
	FailTimeout                               // no answer within the deadline
	FailServerUntrusted                       // the server's certificate did not verify
	FailNoClientCert                          // the server wants a client certificate and none was sent
	FailClientCertRejected                    // the server refused our client certificate
	FailNotFound                              // HTTP 404: wrong path
	FailUnauthorized                          // HTTP 401/403
	FailTooLarge                              // HTTP 413
	FailUnavailable                           // HTTP 429, 502, 503, 504, other 5xx
	FailRejected                              // HTTP 400 and other 4xx: the collector refused the data
	FailPartial                               // accepted, but some spans rejected
	FailWrongScheme                           // http:// to a TLS port or https:// to a plain one
)

var kindNames = map[FailureKind]string{
	FailOther: "error", FailConfig: "configuration", FailRefused: "connection refused",
	FailTimeout: "timeout", FailServerUntrusted: "server certificate not trusted",
	FailNoClientCert: "no client certificate sent", FailClientCertRejected: "client certificate rejected",
	FailNotFound: "wrong endpoint path (HTTP 404)", FailUnauthorized: "not authorized",
	FailTooLarge: "request too large (HTTP 413)", FailUnavailable: "collector unavailable",
	FailRejected: "rejected by the collector", FailPartial: "partially rejected",
	FailWrongScheme: "wrong scheme (http:// vs https://)",
}

func (k FailureKind) String() string { return kindNames[k] }

// ExportError is what Export returns on failure.
type ExportError struct {
	Kind     FailureKind
	Status   int    // HTTP status, when an answer came
	Body     string // the start of the answer's body, for the log and doctor
	Rejected int64  // FailPartial: spans the collector rejected
	Err      error
}

func (e *ExportError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Kind == FailPartial {
		fmt.Fprintf(&b, ": %d spans rejected", e.Rejected)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Body != "" && e.Err == nil {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	return b.String()
}

func (e *ExportError) Unwrap() error { return e.Err }

// nginx answers HTTP 400 with these pages when ssl_verify_client is on.
const (
	nginxNoCert  = "No required SSL certificate was sent"
	nginxBadCert = "The SSL certificate error"
)

// Answers that mean the scheme is wrong: Go's and nginx's.
const (
	goPlainToTLS    = "Client sent an HTTP request to an HTTPS server"
	nginxPlainToTLS = "The plain HTTP request was sent to HTTPS port"
)

// classify turns an HTTP answer into nil (accepted) or an *ExportError.
func classify(status int, ctype string, body []byte) error {
	if status >= 200 && status < 300 {
		if n, msg, ok := partialSuccess(ctype, body); ok {
			return &ExportError{Kind: FailPartial, Status: status, Rejected: n, Body: msg}
		}
		return nil
	}
	e := &ExportError{Status: status, Body: bodySnippet(body)}
	switch {
	case status == 400 && bytes.Contains(body, []byte(nginxNoCert)):
		e.Kind = FailNoClientCert
	case status == 400 && bytes.Contains(body, []byte(nginxBadCert)):
		e.Kind = FailClientCertRejected
	case status == 400 && (bytes.Contains(body, []byte(goPlainToTLS)) || bytes.Contains(body, []byte(nginxPlainToTLS))):
		e.Kind = FailWrongScheme
	case status == 404:
		e.Kind = FailNotFound
	case status == 401 || status == 403:
		e.Kind = FailUnauthorized
	case status == 413:
		e.Kind = FailTooLarge
	case status == 408 || status == 429 || status >= 500:
		e.Kind = FailUnavailable
	case status == 400 && isOTLPContentType(ctype):
		// The collector decoded the request and refused the data:
		// sending it again will not help.
		e.Kind = FailRejected
	default:
		// Another 4xx, or a 400 page from a proxy: most likely
		// configuration; keep the spans.
		e.Kind = FailOther
	}
	return e
}

func isOTLPContentType(ct string) bool {
	return strings.HasPrefix(ct, "application/x-protobuf") || strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "application/protobuf")
}

// transportKindHint classifies an error that came without an HTTP answer.
func transportKindHint(err error, hasCert bool) FailureKind {
	var (
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		verifyErr  *tls.CertificateVerificationError
		recordErr  tls.RecordHeaderError
		netErr     net.Error
		dnsErr     *net.DNSError
	)
	msg := err.Error()
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return FailServerUntrusted
	case strings.Contains(msg, "remote error: tls: certificate required"):
		return FailNoClientCert
	case !hasCert && (strings.Contains(msg, "remote error: tls: handshake failure") || strings.Contains(msg, "remote error: tls: bad certificate")):
		return FailNoClientCert
	case strings.Contains(msg, "remote error: tls: bad certificate"),
		strings.Contains(msg, "remote error: tls: unknown certificate authority"),
		strings.Contains(msg, "remote error: tls: expired certificate"),
		strings.Contains(msg, "remote error: tls: unsupported certificate"),
		strings.Contains(msg, "remote error: tls: revoked certificate"),
		strings.Contains(msg, "remote error: tls: unknown certificate"),
		strings.Contains(msg, "remote error: tls: access denied"),
		strings.Contains(msg, "remote error: tls: decrypt error"):
		return FailClientCertRejected
	case errors.As(err, &recordErr), strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return FailWrongScheme
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.As(err, &dnsErr):
		return FailRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return FailTimeout
	}
	return FailOther
}

// isDroppedConnection reports errors that mean "the server hung up",
// which, right after a TLS 1.3 handshake, is often a refused client
// certificate whose alert was lost in the race with our request.
func isDroppedConnection(err error) bool {
	msg := err.Error()
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(msg, "use of closed network connection") ||
		strings.Contains(msg, "transport connection broken") ||
		strings.Contains(msg, "server closed idle connection")
}

func bodySnippet(b []byte) string {
	s := string(b)
	// nginx error pages are HTML; keep the <title>.
	if i := strings.Index(s, "<title>"); i >= 0 {
		if j := strings.Index(s[i:], "</title>"); j > 0 {
			s = s[i+len("<title>") : i+j]
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// partialSuccess reads the partial_success of an ExportTraceServiceResponse
// (protobuf or JSON).
func partialSuccess(ctype string, body []byte) (rejected int64, msg string, ok bool) {
	if len(body) == 0 {
		return 0, "", false
	}
	if strings.HasPrefix(ctype, "application/json") {
		var r struct {
			PartialSuccess *struct {
				RejectedSpans json.RawMessage `json:"rejectedSpans"`
				ErrorMessage  string          `json:"errorMessage"`
			} `json:"partialSuccess"`
		}
		if json.Unmarshal(body, &r) != nil || r.PartialSuccess == nil {
			return 0, "", false
		}
		n, _ := strconv.ParseInt(strings.Trim(string(r.PartialSuccess.RejectedSpans), `"`), 10, 64)
		rejected, msg = n, r.PartialSuccess.ErrorMessage
	} else {
		var err error
		if rejected, msg, err = parsePartialSuccess(body); err != nil {
			return 0, "", false
		}
	}
	return rejected, msg, rejected != 0 || msg != ""
}
