package tracing

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/ccotel/ccotel/internal/textsafe"
)

// ScopeName is the instrumentation scope of every span ccotel exports.
const ScopeName = "github.com/ccotel/ccotel"

// Exporter sends spans to opts.Endpoint over OTLP/HTTP: http/protobuf
// (AppendOTLPProto) or http/json (EncodeOTLPJSON), gzip or not, with the
// client certificate of opts. One Exporter keeps its connections open, so a
// flusher run pays for one TLS handshake, not one per batch. It never
// retries by itself: the flusher decides, from the *ExportError, when to
// try again. It is not safe for concurrent use.
//
// It speaks the OTLP/HTTP protocol itself rather than through the
// OpenTelemetry SDK's otlptracehttp, whose dependencies every hook process
// would pay for at start-up: docs/ARCHITECTURE.md ("Choices that were
// measured") says why, docs/PERFORMANCE.md has the figures.
// FuzzProtoMatchesSDK and FuzzJSONMatchesSDK check that the requests are
// the ones otlptracehttp sends for the same spans.
type Exporter struct {
	opts     *Options
	client   *http.Client
	tr       *http.Transport
	header   http.Header
	resource []Attr
	scope    Scope
	cert     bool // a client certificate is configured
	// secrets are what a server's answer must never carry into a
	// message: the configured header values, the endpoint's password.
	secrets []string

	buf []byte
	zw  *gzip.Writer
	zb  bytes.Buffer
}

// NewExporter builds an exporter for opts (opts.Version goes into the
// resource, the instrumentation scope and the User-Agent). logf is for
// diagnostics (nil drops them).
func NewExporter(opts *Options, logf func(format string, args ...any)) (*Exporter, error) {
	if opts.Endpoint == "" {
		return nil, &ExportError{Kind: FailConfig, Err: errors.New("no endpoint configured")}
	}
	tc, err := TLSConfig(opts)
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
		DisableCompression:    true,
	}
	h := http.Header{}
	for k, v := range opts.Headers {
		h.Set(k, v)
	}
	h.Set("User-Agent", "ccotel/"+opts.Version)
	if opts.Protocol == "http/json" {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "application/x-protobuf")
	}
	if opts.Compression == "gzip" {
		h.Set("Content-Encoding", "gzip")
	}
	return &Exporter{
		opts: opts,
		client: &http.Client{Transport: tr, Timeout: opts.timeout(),
			// Never follow a redirect: a 30x to a page that answers 200
			// would count lost spans as sent, and a 307 to http:// would
			// send the spans and the header secrets in clear text. The
			// 3xx is classified as FailRedirect; doctor says where it
			// points. (otlptracehttp and the collector's otlphttp
			// exporter follow redirects with Go's default client.)
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		tr:       tr,
		header:   h,
		resource: ResourceAttrs(opts),
		scope:    Scope{Name: ScopeName, Version: opts.Version},
		cert:     tc.GetClientCertificate != nil,
		secrets:  configSecrets(opts),
	}, nil
}

// Close releases the exporter's connections.
func (e *Exporter) Close() error {
	e.tr.CloseIdleConnections()
	return nil
}

// Export sends spans as one request. ctx bounds it; so does opts.Timeout.
// A nil error means the collector accepted all of them. A non-nil error
// is an *ExportError; for Kind == FailPartial the collector accepted the
// request but rejected some spans (re-sending them would not help).
func (e *Exporter) Export(ctx context.Context, spans []*Span) error {
	if len(spans) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.timeout())
	defer cancel()
	body, err := e.encode(spans)
	if err != nil {
		return &ExportError{Kind: FailOther, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.opts.Endpoint, bytes.NewReader(body))
	if err != nil {
		return &ExportError{Kind: FailConfig, Err: err}
	}
	req.Header = e.header.Clone()
	resp, err := e.client.Do(req)
	if err != nil {
		ee := &ExportError{Kind: transportKindHint(err, e.cert), Err: err}
		if _, h2 := http2Refusal(err.Error()); ee.Kind == FailOther && !h2 {
			// An error with no name of its own is most often the server
			// hanging up right after a TLS 1.3 handshake, a refused
			// client certificate whose alert lost the race with our
			// request; the transport words that differently each time
			// (a reset, EOF, "http2: client conn is closed", …). Ask the
			// server, with a bare handshake, why.
			if h := ProbeTLS(ctx, e.opts); h.Err != nil && h.Kind != FailOther {
				ee.Kind = h.Kind
				ee.Err = fmt.Errorf("%w (TLS check: %v)", err, h.Err)
			}
		}
		return fromServer(ee, e.secrets)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil && resp.StatusCode/100 == 2 {
		// Accepted; the rest of the answer (a partial success) is lost.
		return nil
	}
	if err := classify(resp.StatusCode, resp.Header, answer); err != nil {
		return fromServer(err.(*ExportError), e.secrets)
	}
	return nil
}

// configSecrets lists the configured values an answer may echo back (a
// proxy page showing the request's headers): each header value, and the
// endpoint's password with the Basic credential Go sends for it.
func configSecrets(opts *Options) []string {
	out := textsafe.HeaderSecrets(opts.Headers)
	if u, err := url.Parse(opts.Endpoint); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw, base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
		}
	}
	return out
}

// encode renders the request body, compressed if configured. The buffers
// are reused from one batch to the next.
func (e *Exporter) encode(spans []*Span) ([]byte, error) {
	if e.opts.Protocol == "http/json" {
		copied := false
		for i, s := range spans {
			if s.Kind != KindUnspecified {
				continue
			}
			if !copied { // the caller's slice stays as it was
				spans, copied = append([]*Span(nil), spans...), true
			}
			c := *s
			c.Kind = KindInternal // as AppendOTLPProto does
			spans[i] = &c
		}
		var jb bytes.Buffer
		if err := EncodeOTLPJSON(&jb, e.resource, e.scope, spans); err != nil {
			return nil, err
		}
		e.buf = append(e.buf[:0], jb.Bytes()...)
	} else {
		e.buf = AppendOTLPProto(e.buf[:0], e.resource, SchemaURL, e.scope, spans)
	}
	if e.opts.Compression != "gzip" {
		return e.buf, nil
	}
	e.zb.Reset()
	if e.zw == nil {
		e.zw, _ = gzip.NewWriterLevel(&e.zb, gzip.DefaultCompression)
	} else {
		e.zw.Reset(&e.zb)
	}
	if _, err := e.zw.Write(e.buf); err != nil {
		return nil, err
	}
	if err := e.zw.Close(); err != nil {
		return nil, err
	}
	return e.zb.Bytes(), nil
}
