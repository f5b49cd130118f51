package otlptest

import (
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Receiver is an OTLP/HTTP trace receiver on 127.0.0.1 that requires a
// client certificate signed by its PKI's client CA (or, StartPlain, one
// that speaks plain HTTP). It accepts POSTs on
// /v1/traces (404 elsewhere) and keeps every span it decodes, by span ID,
// with the resource and scope they came with.
type Receiver struct {
	URL string // https://127.0.0.1:PORT (base URL, no path)

	srv *http.Server
	ln  net.Listener

	mu       sync.Mutex
	spans    map[string][]*tracepb.Span // hex span ID → every copy received
	resource map[string]string          // string attributes of the last resource seen
	scope    string                     // "name@version" of the last scope seen
	header   http.Header                // of the last request whose spans were counted
	total    int
	requests int
	json     int // of requests, OTLP/JSON
	gzip     int // of requests, gzip-compressed
	bad      int // requests that could not be decoded
	hold     chan struct{}
	status   int
	handler  func(http.ResponseWriter) // answers instead, when set
	wrapped  http.Handler              // Wrap's middleware around serve
	delay    time.Duration
	changed  chan struct{} // closed and replaced on every accepted request
}

// Start listens on a free loopback port and serves until Close.
func Start(p *PKI) (*Receiver, error) {
	if p == nil {
		return nil, errors.New("otlptest: Start needs a PKI (StartPlain serves plain HTTP)")
	}
	return start(p)
}

// StartPlain is a Receiver that speaks plain HTTP (URL http://…), no
// certificates: the peer behind a TLS-terminating proxy, as a collector
// behind nginx, or Tempo behind a collector.
func StartPlain() (*Receiver, error) { return start(nil) }

func start(p *PKI) (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{
		URL:      "https://" + ln.Addr().String(),
		ln:       ln,
		spans:    map[string][]*tracepb.Span{},
		resource: map[string]string{},
		changed:  make(chan struct{}),
	}
	r.srv = &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		// Handshake failures (a client without a good certificate) are
		// expected in tests; keep them off the harness's output.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	if p == nil {
		r.URL = "http://" + ln.Addr().String()
		go r.srv.Serve(ln)
		return r, nil
	}
	r.srv.TLSConfig = p.ServerTLS()
	go r.srv.ServeTLS(ln, "", "")
	return r, nil
}

// MustStart starts a Receiver for t, closed when t ends.
func MustStart(t testing.TB, p *PKI) *Receiver {
	t.Helper()
	r, err := Start(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// MustStartPlain is StartPlain for t, closed when t ends.
func MustStartPlain(t testing.TB) *Receiver {
	t.Helper()
	r, err := StartPlain()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Addr is the receiver's host:port.
func (r *Receiver) Addr() string { return r.ln.Addr().String() }

// TracesURL is the URL with the OTLP traces path.
func (r *Receiver) TracesURL() string { return r.URL + "/v1/traces" }

// Close stops the server and drops open connections.
func (r *Receiver) Close() error {
	r.Release()
	return r.srv.Close()
}

// Hold makes every following request block after its spans were counted,
// without answering, until Release or until the client goes away. It
// models a collector that accepted a batch but whose answer never reached
// the exporter (the at-least-once window).
func (r *Receiver) Hold() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold == nil {
		r.hold = make(chan struct{})
	}
}

// Release lets held requests (and all later ones) answer normally.
func (r *Receiver) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold != nil {
		close(r.hold)
		r.hold = nil
	}
}

// FailWith makes following requests answer with the HTTP status code
// without counting their spans (0 restores normal answers).
func (r *Receiver) FailWith(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}

// Handle makes following requests answer with h instead (nil restores
// normal answers); their bodies are read and dropped.
func (r *Receiver) Handle(h func(http.ResponseWriter)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handler = h
}

// Delay makes following requests wait d before they are handled (or
// until the client goes away).
func (r *Receiver) Delay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}

// Received returns span ID → every copy received, and the number of spans
// received in total.
func (r *Receiver) Received() (map[string][]*tracepb.Span, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string][]*tracepb.Span, len(r.spans))
	for k, v := range r.spans {
		m[k] = append([]*tracepb.Span(nil), v...)
	}
	return m, r.total
}

// Resource returns the string attributes of the resource last received.
func (r *Receiver) Resource() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]string, len(r.resource))
	for k, v := range r.resource {
		m[k] = v
	}
	return m
}

// Scope returns "name@version" of the instrumentation scope last received.
func (r *Receiver) Scope() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.scope
}

// Header returns the headers of the last request whose spans were
// counted (nil before the first), e.g. the X-Client-Subject nginx adds.
func (r *Receiver) Header() http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.header.Clone()
}

// Stats is a snapshot of what the receiver has seen.
type Stats struct {
	Requests int // requests whose spans were counted
	JSON     int // of which OTLP/JSON
	Gzip     int // of which gzip-compressed
	Bad      int // requests that could not be decoded
	Total    int // spans received, duplicates included
	Distinct int // distinct span IDs
}

// Dups is the number of spans received more than once (Total − Distinct).
func (s Stats) Dups() int { return s.Total - s.Distinct }

// Stats returns the counts so far.
func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats()
}

func (r *Receiver) stats() Stats {
	return Stats{Requests: r.requests, JSON: r.json, Gzip: r.gzip, Bad: r.bad, Total: r.total, Distinct: len(r.spans)}
}

// Count returns how many times the span with this hex ID arrived.
func (r *Receiver) Count(spanID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.spans[spanID])
}

// Spans returns a copy of span ID → times received.
func (r *Receiver) Spans() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]int, len(r.spans))
	for k, v := range r.spans {
		m[k] = len(v)
	}
	return m
}

// Name returns the name of the span with this hex ID ("" if never seen).
func (r *Receiver) Name(spanID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.spans[spanID]; len(c) > 0 {
		return c[0].GetName()
	}
	return ""
}

// WaitFor polls cond after every accepted request until it holds or the
// timeout passes; it reports whether cond held.
func (r *Receiver) WaitFor(timeout time.Duration, cond func(Stats) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		s := r.stats()
		ch := r.changed
		r.mu.Unlock()
		if cond(s) {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond(r.Stats())
		}
	}
}

// Wrap puts middleware in front of the receiver, e.g. one that refuses
// requests holding a given span and passes the others on to next.
func (r *Receiver) Wrap(mw func(next http.Handler) http.Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wrapped = mw(http.HandlerFunc(r.serve))
}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	h := r.wrapped
	r.mu.Unlock()
	if h != nil {
		h.ServeHTTP(w, req)
		return
	}
	r.serve(w, req)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	r.mu.Lock()
	status, handler, delay := r.status, r.handler, r.delay
	r.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
	}
	if handler != nil {
		io.Copy(io.Discard, req.Body)
		handler(w)
		return
	}
	if req.URL.Path != "/v1/traces" {
		http.NotFound(w, req)
		return
	}
	if status != 0 {
		io.Copy(io.Discard, req.Body)
		http.Error(w, http.StatusText(status), status)
		return
	}
	msg, isJSON, gz, err := decode(req)
	if err != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	r.mu.Lock()
	r.requests++
	r.header = req.Header.Clone()
	if isJSON {
		r.json++
	}
	if gz {
		r.gzip++
	}
	for _, rs := range msg.GetResourceSpans() {
		for _, kv := range rs.GetResource().GetAttributes() {
			r.resource[kv.GetKey()] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.GetScopeSpans() {
			r.scope = ss.GetScope().GetName() + "@" + ss.GetScope().GetVersion()
			for _, sp := range ss.GetSpans() {
				id := hex.EncodeToString(sp.GetSpanId())
				r.spans[id] = append(r.spans[id], sp)
				r.total++
			}
		}
	}
	close(r.changed)
	r.changed = make(chan struct{})
	hold := r.hold
	r.mu.Unlock()

	if hold != nil {
		select {
		case <-hold:
		case <-req.Context().Done():
			return
		}
	}
	if isJSON {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
		return
	}
	b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(b)
}

func decode(req *http.Request) (msg *coltracepb.ExportTraceServiceRequest, isJSON, gz bool, err error) {
	var body io.Reader = req.Body
	if gz = strings.EqualFold(req.Header.Get("Content-Encoding"), "gzip"); gz {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, false, gz, err
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, false, gz, err
	}
	msg = &coltracepb.ExportTraceServiceRequest{}
	ct := req.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		return msg, true, gz, UnmarshalOTLPJSON(b, msg)
	case strings.HasPrefix(ct, "application/x-protobuf"), ct == "":
		return msg, false, gz, proto.Unmarshal(b, msg)
	default:
		return nil, false, gz, errors.New("unsupported content type " + ct)
	}
}

// UnmarshalOTLPJSON decodes OTLP/JSON, whose trace and span IDs are hex
// (protojson alone expects base64 for bytes fields).
func UnmarshalOTLPJSON(b []byte, m proto.Message) error {
	return unmarshalOTLPJSON(b, m, protojson.UnmarshalOptions{})
}

func unmarshalOTLPJSON(b []byte, m proto.Message, o protojson.UnmarshalOptions) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, v := range t {
				if s, ok := v.(string); ok && (k == "traceId" || k == "spanId" || k == "parentSpanId") {
					if raw, err := hex.DecodeString(s); err == nil {
						t[k] = base64.StdEncoding.EncodeToString(raw)
					}
					continue
				}
				walk(v)
			}
		case []any:
			for _, v := range t {
				walk(v)
			}
		}
	}
	walk(v)
	b, _ = json.Marshal(v)
	return o.Unmarshal(b, m)
}
