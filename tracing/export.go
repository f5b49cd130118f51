package tracing

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// ScopeName is the instrumentation scope of every span ccotel exports.
const ScopeName = "github.com/ccotel/ccotel"

// Exporter sends spans to cfg.Endpoint over OTLP/HTTP (protobuf or JSON,
// gzip or not) with the client certificate of cfg. One Exporter keeps its
// connections open, so a flusher run pays for one TLS handshake, not one
// per batch. It never retries by itself: the flusher decides, from the
// *ExportError, when to try again.
type Exporter struct {
	cfg   *Config
	exp   *otlptrace.Exporter
	res   *resource.Resource
	scope instrumentation.Scope
	tr    *http.Transport
	cert  bool // a client certificate is configured
}

// NewExporter builds an exporter for cfg. version is ccotel's version (for
// the resource and the instrumentation scope). logf receives what the
// OpenTelemetry SDK would otherwise print on stderr (nil drops it).
func NewExporter(cfg *Config, version string, logf func(format string, args ...any)) (*Exporter, error) {
	if cfg.Endpoint == "" {
		return nil, &ExportError{Kind: FailConfig, Err: errors.New("no endpoint configured")}
	}
	quietSDK(logf)
	tc, err := TLSConfig(cfg)
	if err != nil {
		return nil, &ExportError{Kind: FailConfig, Err: err}
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	client := &http.Client{Transport: &recordingTransport{base: tr}, Timeout: cfg.Timeout}
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(cfg.Endpoint),
		otlptracehttp.WithHTTPClient(client),
		otlptracehttp.WithHeaders(cfg.Headers),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
		otlptracehttp.WithTimeout(cfg.Timeout),
		otlptracehttp.WithCompression(otlptracehttp.NoCompression),
	}
	if cfg.Headers == nil {
		opts = append(opts, otlptracehttp.WithHeaders(map[string]string{}))
	}
	if cfg.Compression == "gzip" {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	}
	if cfg.Protocol == "http/json" {
		opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, &ExportError{Kind: FailConfig, Err: err}
	}
	return &Exporter{
		cfg:   cfg,
		exp:   exp,
		res:   Resource(cfg, version),
		scope: instrumentation.Scope{Name: ScopeName, Version: version},
		tr:    tr,
		cert:  tc.GetClientCertificate != nil,
	}, nil
}

var quietOnce sync.Once

// quietSDK routes the SDK's global error handler and logger away from
// stderr, once per process: a flusher or hook must never print.
func quietSDK(logf func(string, ...any)) {
	quietOnce.Do(func() {
		otel.SetLogger(logr.Discard())
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			if logf != nil {
				logf("otel sdk: %v", err)
			}
		}))
	})
}

// Close releases the exporter's connections.
func (e *Exporter) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := e.exp.Shutdown(ctx)
	e.tr.CloseIdleConnections()
	return err
}

// Export sends spans as one request. ctx bounds it; so does cfg.Timeout.
// A nil error means the collector accepted all of them. A non-nil error
// is an *ExportError; for Kind == FailPartial the collector accepted the
// request but rejected some spans (re-sending them would not help).
func (e *Exporter) Export(ctx context.Context, spans []*Span) error {
	if len(spans) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	rec := &exchange{}
	ctx = context.WithValue(ctx, exchangeKey{}, rec)
	ctx = context.WithValue(ctx, clientCertKey{}, e.cert)
	err := e.exp.ExportSpans(ctx, e.snapshots(spans))
	err = classify(err, rec, ctx)
	var ee *ExportError
	if errors.As(err, &ee) && ee.Kind == FailOther && ee.Err != nil && isDroppedConnection(ee.Err) {
		// The server hung up: ask it, with a bare handshake, why.
		if h := ProbeTLS(ctx, e.cfg); h.Err != nil && h.Kind != FailOther {
			ee.Kind = h.Kind
			ee.Err = fmt.Errorf("%w (TLS check: %v)", ee.Err, h.Err)
		}
	}
	return err
}

func (e *Exporter) snapshots(spans []*Span) []sdktrace.ReadOnlySpan {
	ro := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, s := range spans {
		ro[i] = e.stub(s).Snapshot()
	}
	return ro
}

func (e *Exporter) stub(s *Span) tracetest.SpanStub {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID(s.TraceID), SpanID: trace.SpanID(s.SpanID), TraceFlags: trace.FlagsSampled,
	})
	var parent trace.SpanContext
	if s.ParentSpanID.IsValid() {
		parent = trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID(s.TraceID), SpanID: trace.SpanID(s.ParentSpanID), TraceFlags: trace.FlagsSampled,
		})
	}
	kind := trace.SpanKind(s.Kind)
	if kind == trace.SpanKindUnspecified {
		kind = trace.SpanKindInternal
	}
	st := tracetest.SpanStub{
		Name:                 s.Name,
		SpanContext:          sc,
		Parent:               parent,
		SpanKind:             kind,
		StartTime:            s.Start,
		EndTime:              s.End,
		Attributes:           toKeyValues(s.Attrs),
		DroppedEvents:        s.DroppedEvents,
		Resource:             e.res,
		InstrumentationScope: e.scope,
	}
	switch s.StatusCode {
	case StatusOK:
		st.Status = sdktrace.Status{Code: codes.Ok}
	case StatusError:
		st.Status = sdktrace.Status{Code: codes.Error, Description: s.StatusMessage}
	}
	for _, ev := range s.Events {
		st.Events = append(st.Events, sdktrace.Event{Name: ev.Name, Time: ev.Time, Attributes: toKeyValues(ev.Attrs)})
	}
	for _, l := range s.Links {
		st.Links = append(st.Links, sdktrace.Link{
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID(l.TraceID), SpanID: trace.SpanID(l.SpanID), TraceFlags: trace.FlagsSampled, Remote: true,
			}),
			Attributes: toKeyValues(l.Attrs),
		})
	}
	return st
}

func toKeyValues(as []Attr) []attribute.KeyValue {
	if len(as) == 0 {
		return nil
	}
	kv := make([]attribute.KeyValue, 0, len(as))
	for _, a := range as {
		switch a.Type {
		case "int":
			kv = append(kv, attribute.Int64(a.Key, a.Int))
		case "float":
			kv = append(kv, attribute.Float64(a.Key, a.Float))
		case "bool":
			kv = append(kv, attribute.Bool(a.Key, a.Bool))
		case "strings":
			kv = append(kv, attribute.StringSlice(a.Key, a.Strings))
		default:
			kv = append(kv, attribute.String(a.Key, a.Str))
		}
	}
	return kv
}

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

// Retryable reports whether sending the same spans later may succeed.
// Everything is, except a request the collector understood and refused
// (400 and most 4xx without a certificate problem, 413) and a partial
// success: re-sending those would be refused again.
func (e *ExportError) Retryable() bool {
	switch e.Kind {
	case FailRejected, FailTooLarge, FailPartial:
		return false
	}
	return true
}

// exchange records, for one Export, what the HTTP round trip saw: the
// SDK's errors carry the status only as text.
type exchange struct {
	mu     sync.Mutex
	status int
	body   []byte
	ctype  string
}

type exchangeKey struct{}

// recordingTransport keeps the status and the start of the body of each
// answer in the request's exchange, and hands the SDK an identical body.
type recordingTransport struct{ base http.RoundTripper }

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	rec, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if err != nil || rec == nil {
		return resp, err
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	rec.mu.Lock()
	rec.status, rec.body, rec.ctype = resp.StatusCode, b, resp.Header.Get("Content-Type")
	rec.mu.Unlock()
	return resp, nil
}

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

func classify(err error, rec *exchange, ctx context.Context) error {
	rec.mu.Lock()
	status, body, ctype := rec.status, rec.body, rec.ctype
	rec.mu.Unlock()

	if status >= 200 && status < 300 {
		if n, msg, ok := partialSuccess(body); ok {
			return &ExportError{Kind: FailPartial, Status: status, Rejected: n, Body: msg}
		}
		return nil // the SDK's error, if any, is about reading an answer we do not need
	}
	if err == nil && status == 0 {
		return nil
	}
	if status != 0 {
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
	return &ExportError{Kind: transportKind(err, ctx), Err: err}
}

func isOTLPContentType(ct string) bool {
	return strings.HasPrefix(ct, "application/x-protobuf") || strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "application/protobuf")
}

// transportKind classifies an error that came without an HTTP answer.
func transportKind(err error, ctx context.Context) FailureKind {
	return transportKindHint(err, hasClientCert(ctx))
}

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

// hasClientCert is a hint for classification only; see transportKind.
func hasClientCert(ctx context.Context) bool {
	v, _ := ctx.Value(clientCertKey{}).(bool)
	return v
}

type clientCertKey struct{}

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

// partialSuccess decodes an ExportTraceServiceResponse (protobuf or JSON)
// and reports a partial success in it.
func partialSuccess(body []byte) (rejected int64, msg string, ok bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return 0, "", false
	}
	var resp coltracepb.ExportTraceServiceResponse
	if body[0] == '{' {
		if protojson.Unmarshal(body, &resp) != nil {
			return 0, "", false
		}
	} else if proto.Unmarshal(body, &resp) != nil {
		return 0, "", false
	}
	ps := resp.GetPartialSuccess()
	if ps == nil || (ps.GetRejectedSpans() == 0 && ps.GetErrorMessage() == "") {
		return 0, "", false
	}
	return ps.GetRejectedSpans(), ps.GetErrorMessage(), true
}
