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
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ccotel/ccotel/internal/textsafe"
	"github.com/ccotel/ccotel/internal/utf8cut"
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
	FailUnavailable                           // HTTP 429, 502, 503, 504: try again later
	FailRejected                              // any other 4xx or 5xx (400 with or without an OTLP body, 408, 500, 501 …)
	FailPartial                               // accepted, but some spans rejected
	FailWrongScheme                           // http:// to a TLS port or https:// to a plain one
	FailRedirect                              // HTTP 3xx: never followed (Location says where)
	FailNotOTLP                               // HTTP 2xx whose body is not an OTLP response (a login page)
)

var kindNames = map[FailureKind]string{
	FailOther: "error", FailConfig: "configuration", FailRefused: "connection refused",
	FailTimeout: "timeout", FailServerUntrusted: "server certificate not trusted",
	FailNoClientCert: "no client certificate sent", FailClientCertRejected: "client certificate rejected",
	FailNotFound: "wrong endpoint path (HTTP 404)", FailUnauthorized: "not authorized",
	FailTooLarge: "request too large (HTTP 413)", FailUnavailable: "collector unavailable",
	FailRejected: "rejected by the collector", FailPartial: "partially rejected",
	FailWrongScheme: "wrong scheme (http:// vs https://)",
	FailRedirect:    "redirected (not followed)", FailNotOTLP: "answer is not OTLP",
}

func (k FailureKind) String() string { return kindNames[k] }

// ExportError is what Export returns on failure.
type ExportError struct {
	Kind     FailureKind
	Status   int    // HTTP status, when an answer came
	Body     string // the start of the answer's body, for the log and doctor
	Rejected int64  // FailPartial: spans the collector rejected
	// Location is where a redirect points (FailRedirect), userinfo
	// masked.
	Location string
	// RetryAfter is the collector's Retry-After (seconds or HTTP date),
	// 0 if none; the retry policy caps it.
	RetryAfter time.Duration
	Err        error
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
	if e.Location != "" {
		fmt.Fprintf(&b, " to %s", e.Location)
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
// The header gives the Content-Type, Location and Retry-After.
//
// A 2xx is a success only when it looks like an OTLP answer: an empty
// body, an OTLP content type whose body decodes as an
// ExportTraceServiceResponse, or another non-HTML body (the SDK's
// otlptracehttp accepts any 2xx; ccotel refuses the HTML page a login
// proxy answers with, which would otherwise count lost spans as sent).
func classify(status int, h http.Header, body []byte) error {
	ctype := h.Get("Content-Type")
	if status >= 200 && status < 300 {
		if !looksOTLP(ctype, body) {
			return &ExportError{Kind: FailNotOTLP, Status: status, Body: bodySnippet(body),
				Err: fmt.Errorf("the answer is %s, not an OTLP response", describeType(ctype))}
		}
		if n, msg, ok := partialSuccess(ctype, body); ok {
			return &ExportError{Kind: FailPartial, Status: status, Rejected: n, Body: bodySnippet([]byte(msg))}
		}
		return nil
	}
	e := &ExportError{Status: status, Body: bodySnippet(body)}
	if status >= 300 && status < 400 {
		e.Kind = FailRedirect
		e.Location = RedactURL(h.Get("Location"))
		if e.Location == "" {
			e.Location = "(no Location)"
		}
		return e
	}
	if status == 429 || status == 502 || status == 503 || status == 504 {
		e.RetryAfter = parseRetryAfter(h.Get("Retry-After"), time.Now())
	}
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
	case status == 429 || status == 502 || status == 503 || status == 504:
		// The only retryable answers (OTLP specification, "Failures").
		e.Kind = FailUnavailable
	default:
		// Any other 4xx or 5xx: not retryable. Whether the spans or the
		// configuration are to blame is for the retry policy to find out
		// (delivery/policy.go).
		e.Kind = FailRejected
	}
	if s := otlpStatusMessage(ctype, body); s != "" {
		e.Body = s
	}
	return e
}

// looksOTLP reports whether a 2xx answer's body can be an OTLP
// ExportTraceServiceResponse.
func looksOTLP(ctype string, body []byte) bool {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return true
	}
	switch {
	case strings.HasPrefix(ctype, "text/html"), strings.HasPrefix(ctype, "application/xhtml"), trimmed[0] == '<':
		return false
	case strings.HasPrefix(ctype, "application/json"):
		return json.Valid(trimmed) && trimmed[0] == '{'
	case strings.HasPrefix(ctype, "application/x-protobuf"), strings.HasPrefix(ctype, "application/protobuf"):
		_, _, err := parsePartialSuccess(body)
		return err == nil
	}
	return true
}

func describeType(ctype string) string {
	if ctype == "" {
		return "a body without Content-Type"
	}
	return ctype
}

// otlpStatusMessage is the message of an OTLP error answer (a
// google.rpc.Status as JSON), or "".
func otlpStatusMessage(ctype string, body []byte) string {
	if !strings.HasPrefix(ctype, "application/json") {
		return ""
	}
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &st) != nil {
		return ""
	}
	return bodySnippet([]byte(st.Message))
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date; 0 when absent, unreadable or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// RedactURL returns u with the password of its userinfo masked
// (url.URL.Redacted: http://alice:xxxxx@host/), for everything that
// shows an endpoint or a redirect target. A string that does not parse is
// returned with everything before an '@' masked.
func RedactURL(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil {
		if i := strings.LastIndex(u, "@"); i >= 0 {
			return "xxxxx" + u[i:]
		}
		return u
	}
	return p.Redacted()
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
	if k, ok := http2Refusal(msg); ok {
		return k
	}
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

// http2Refusal classifies an HTTP/2 GOAWAY or RST_STREAM by its error
// code (net/http words them "server sent GOAWAY and closed the
// connection; LastStreamID=1, ErrCode=ENHANCE_YOUR_CALM, …" and "stream
// error: stream ID 1; REFUSED_STREAM; …"). The server is talking HTTP/2
// to us, so the TLS side (certificates) is fine. ENHANCE_YOUR_CALM (rate
// limiting), REFUSED_STREAM, NO_ERROR (a graceful shutdown) and
// INTERNAL_ERROR mean try again later; any other code is an error with no
// name of its own (still retried, never sent to the TLS probe).
func http2Refusal(msg string) (FailureKind, bool) {
	var code string
	switch {
	case strings.Contains(msg, "server sent GOAWAY"):
		_, code, _ = strings.Cut(msg, "ErrCode=")
	case strings.Contains(msg, "stream error: stream ID"):
		_, code, _ = strings.Cut(msg, "; ")
	default:
		return 0, false
	}
	if i := strings.IndexAny(code, ",; "); i >= 0 {
		code = code[:i]
	}
	switch code {
	case "ENHANCE_YOUR_CALM", "REFUSED_STREAM", "NO_ERROR", "INTERNAL_ERROR":
		return FailUnavailable, true
	}
	return FailOther, true
}

// isDroppedConnection reports errors that mean "the server hung up" on a
// TLS ClientHello: what a plain-HTTP server does with one.
func isDroppedConnection(err error) bool {
	msg := err.Error()
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(msg, "use of closed network connection") ||
		strings.Contains(msg, "transport connection broken") ||
		strings.Contains(msg, "client conn could not be established") || // http2, a handshake refused mid-way
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
	return strings.Join(strings.Fields(s), " ")
}

// maxBody bounds ExportError.Body, after fromServer has cleaned it.
const maxBody = 300

// fromServer is where text a server sent (an answer's body, a redirect's
// Location, a status or partial-success message, a transport error that
// quotes the server) enters ccotel's errors, and so the log, the stored
// last error, status, doctor and flush. It strips what could drive a
// terminal (textsafe.Clean: a 503 page could clear the screen and print a
// green "all spans delivered") and masks secrets, the configured header
// values a proxy may echo back, before the body is cut to maxBody (so no
// part of a secret survives the cut).
func fromServer(ee *ExportError, secrets []string) *ExportError {
	text := func(s string) string { return cleanText(s, secrets) }
	ee.Body = text(ee.Body)
	if len(ee.Body) > maxBody {
		ee.Body = utf8cut.Prefix(ee.Body, maxBody) + "…"
	}
	ee.Location = text(ee.Location)
	if ee.Err != nil {
		if raw := ee.Err.Error(); text(raw) != raw {
			ee.Err = &cleanedError{msg: text(raw), err: ee.Err}
		}
	}
	return ee
}

func cleanText(s string, secrets []string) string {
	s = textsafe.Clean(s)
	if strings.ContainsAny(s, "\n\t") {
		// One line: a message is a row of status or a line of the log,
		// and a newline could fake the next row.
		s = strings.Join(strings.Fields(s), " ")
	}
	return textsafe.Mask(s, secrets)
}

// ServerText cleans text that came from a server earlier (a last error
// stored by an older version, a certificate's names) as fromServer does,
// for printing: status, doctor and flush pass what they show through it.
func ServerText(s string, opts *Options) string {
	return cleanText(s, configSecrets(opts))
}

// cleanedError is an error whose text fromServer cleaned; errors.Is and
// errors.As still see the original.
type cleanedError struct {
	msg string
	err error
}

func (e *cleanedError) Error() string { return e.msg }
func (e *cleanedError) Unwrap() error { return e.err }

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
