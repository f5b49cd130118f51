package sink

import (
	"compress/gzip"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Receiver is an OTLP/HTTP trace receiver on 127.0.0.1 that requires a
// client certificate signed by its Certs' CA. It accepts POSTs on any path
// (so both a base URL and a /v1/traces URL work), and counts every span it
// decodes by span ID.
type Receiver struct {
	URL string // https://127.0.0.1:PORT (base URL, no path)

	srv *http.Server
	ln  net.Listener

	mu       sync.Mutex
	spans    map[string]int // hex span ID → times received
	names    map[string]string
	total    int
	requests int
	bad      int // requests that could not be decoded
	hold     chan struct{}
	status   int
	changed  chan struct{} // closed and replaced on every accepted request
}

// Start listens on a free loopback port and serves until Close.
func Start(c *Certs) (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{
		URL:     "https://" + ln.Addr().String(),
		ln:      ln,
		spans:   map[string]int{},
		names:   map[string]string{},
		changed: make(chan struct{}),
	}
	r.srv = &http.Server{
		Handler:           r,
		TLSConfig:         c.ServerTLS(),
		ReadHeaderTimeout: 10 * time.Second,
		// Handshake failures (a client without a good certificate) are
		// expected in tests; keep them off the harness's output.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go r.srv.ServeTLS(ln, "", "")
	return r, nil
}

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

// Stats is a snapshot of what the receiver has seen.
type Stats struct {
	Requests int // requests whose spans were counted
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
	return Stats{Requests: r.requests, Bad: r.bad, Total: r.total, Distinct: len(r.spans)}
}

// Count returns how many times the span with this hex ID arrived.
func (r *Receiver) Count(spanID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spans[spanID]
}

// Spans returns a copy of span ID → times received.
func (r *Receiver) Spans() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]int, len(r.spans))
	for k, v := range r.spans {
		m[k] = v
	}
	return m
}

// Name returns the name of the span with this hex ID ("" if never seen).
func (r *Receiver) Name(spanID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[spanID]
}

// WaitFor polls cond after every accepted request until it holds or the
// timeout passes; it reports whether cond held.
func (r *Receiver) WaitFor(timeout time.Duration, cond func(Stats) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		s := Stats{Requests: r.requests, Bad: r.bad, Total: r.total, Distinct: len(r.spans)}
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

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	r.mu.Lock()
	status := r.status
	r.mu.Unlock()
	if status != 0 {
		io.Copy(io.Discard, req.Body)
		http.Error(w, http.StatusText(status), status)
		return
	}
	msg, isJSON, err := decode(req)
	if err != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	r.mu.Lock()
	r.requests++
	for _, rs := range msg.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				id := hex.EncodeToString(sp.GetSpanId())
				r.spans[id]++
				r.names[id] = sp.GetName()
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

func decode(req *http.Request) (*coltracepb.ExportTraceServiceRequest, bool, error) {
	var body io.Reader = req.Body
	if strings.EqualFold(req.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, false, err
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, false, err
	}
	msg := &coltracepb.ExportTraceServiceRequest{}
	ct := req.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		return msg, true, protojson.Unmarshal(b, msg)
	case strings.HasPrefix(ct, "application/x-protobuf"), ct == "":
		return msg, false, proto.Unmarshal(b, msg)
	default:
		return nil, false, errors.New("unsupported content type " + ct)
	}
}
