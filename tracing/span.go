package tracing

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// TraceID and SpanID are W3C trace-context identifiers. They encode as
// lower-case hex in JSON, as OTLP/JSON requires.
type (
	TraceID [16]byte
	SpanID  [8]byte
)

func (t TraceID) String() string { return hex.EncodeToString(t[:]) }
func (s SpanID) String() string  { return hex.EncodeToString(s[:]) }
func (t TraceID) IsValid() bool  { return t != TraceID{} }
func (s SpanID) IsValid() bool   { return s != SpanID{} }

func (t TraceID) MarshalText() ([]byte, error) { return hexText(t[:]), nil }
func (s SpanID) MarshalText() ([]byte, error)  { return hexText(s[:]), nil }
func (t *TraceID) UnmarshalText(b []byte) error {
	return unhexText(t[:], b)
}
func (s *SpanID) UnmarshalText(b []byte) error { return unhexText(s[:], b) }

func hexText(b []byte) []byte {
	out := make([]byte, hex.EncodedLen(len(b)))
	hex.Encode(out, b)
	return out
}

func unhexText(dst, src []byte) error {
	if len(src) == 0 {
		clear(dst)
		return nil
	}
	if hex.DecodedLen(len(src)) != len(dst) {
		return errors.New("tracing: bad id length")
	}
	_, err := hex.Decode(dst, src)
	return err
}

// Kind is the OTLP span kind. ccotel's spans are internal except where noted.
type Kind int

const (
	KindUnspecified Kind = 0
	KindInternal    Kind = 1
	KindServer      Kind = 2
	KindClient      Kind = 3
)

// StatusCode is the OTLP status code: 0 unset, 1 ok, 2 error.
type StatusCode int

const (
	StatusUnset StatusCode = 0
	StatusOK    StatusCode = 1
	StatusError StatusCode = 2
)

// Attr is one attribute. Exactly one of the value fields is meaningful,
// chosen by Type: "string", "int", "float", "bool" or "strings".
type Attr struct {
	Key     string   `json:"k"`
	Type    string   `json:"t"`
	Str     string   `json:"s,omitempty"`
	Int     int64    `json:"i,omitempty"`
	Float   float64  `json:"f,omitempty"`
	Bool    bool     `json:"b,omitempty"`
	Strings []string `json:"a,omitempty"`
}

// String, Int, Float, Bool and Strings build attributes.
func String(k, v string) Attr            { return Attr{Key: k, Type: "string", Str: v} }
func Int(k string, v int64) Attr         { return Attr{Key: k, Type: "int", Int: v} }
func Float(k string, v float64) Attr     { return Attr{Key: k, Type: "float", Float: v} }
func Bool(k string, v bool) Attr         { return Attr{Key: k, Type: "bool", Bool: v} }
func Strings(k string, v ...string) Attr { return Attr{Key: k, Type: "strings", Strings: v} }

// Event is a span event (OTLP Span.Event).
type Event struct {
	Name  string    `json:"name"`
	Time  time.Time `json:"time"`
	Attrs []Attr    `json:"attrs,omitempty"`
}

// Link is a span link (OTLP Span.Link).
type Link struct {
	TraceID TraceID `json:"trace_id"`
	SpanID  SpanID  `json:"span_id"`
	Attrs   []Attr  `json:"attrs,omitempty"`
}

// Span is a finished span as it sits in the outbox: everything an exporter
// needs, with IDs and times fixed by whoever produced it. It is the only
// type shared by the producer (package hook) and the exporter (this
// package). The outbox stores it in a compact, versioned binary form
// (AppendBinary, spanbin.go), not JSON, which a hook process would pay
// encoding/json's reflection set-up for. Fields are only ever added: see
// spanbin.go for how the binary form takes them.
type Span struct {
	TraceID       TraceID    `json:"trace_id"`
	SpanID        SpanID     `json:"span_id"`
	ParentSpanID  SpanID     `json:"parent_span_id"`
	Name          string     `json:"name"`
	Kind          Kind       `json:"kind,omitempty"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	Attrs         []Attr     `json:"attrs,omitempty"`
	Events        []Event    `json:"events,omitempty"`
	Links         []Link     `json:"links,omitempty"`
	StatusCode    StatusCode `json:"status_code,omitempty"`
	StatusMessage string     `json:"status_message,omitempty"`
	DroppedEvents int        `json:"dropped_events,omitempty"`

	// Pending, when set, is work the flusher must finish before export
	// (reading token usage from a transcript). Its content belongs to the
	// Finisher given to Flush; tracing only carries it. ReadyAt is the
	// earliest time the Finisher should be asked.
	Pending json.RawMessage `json:"pending,omitempty"`
	ReadyAt time.Time       `json:"ready_at,omitzero"`
	// Extra are spans the Finisher derived from this one (the model
	// requests of a turn): they are stored with it until it is exported
	// and exported beside it, never on their own.
	Extra []*Span `json:"extra,omitempty"`
}

// Attr returns the attribute with key k, if present.
func (s *Span) Attr(k string) (Attr, bool) {
	for _, a := range s.Attrs {
		if a.Key == k {
			return a, true
		}
	}
	return Attr{}, false
}

// SetAttr replaces the attribute with a's key or appends it.
func (s *Span) SetAttr(a Attr) {
	for i := range s.Attrs {
		if s.Attrs[i].Key == a.Key {
			s.Attrs[i] = a
			return
		}
	}
	s.Attrs = append(s.Attrs, a)
}

// Marshal encodes s for the outbox, in its binary form (AppendBinary).
// It fails only for spans nested in Extra deeper than the form keeps.
func (s *Span) Marshal() ([]byte, error) {
	if s.tooDeep(0) {
		return nil, fmt.Errorf("tracing: span %s: extra spans nested more than %d deep", s.SpanID, maxSpanDepth)
	}
	return s.AppendBinary(make([]byte, 0, s.binarySize(0))), nil
}

// UnmarshalSpan decodes an outbox entry, in the binary form. An entry in
// any other form (no release wrote one) is an error, as a damaged one is:
// the flusher drops and counts it.
func UnmarshalSpan(b []byte) (*Span, error) {
	s, rest, err := DecodeSpanBinary(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the span", errSpanBinary, len(rest))
	}
	return s, nil
}

// Finisher completes a span's Pending work just before export. It returns
// done=false (and leaves s unchanged or partly updated) when the span is
// not ready yet; the flusher then asks again at or after retryAt.
// When done, the Finisher clears s.Pending; it may set s.Extra to spans
// to be exported with s.
type Finisher func(s *Span, now time.Time) (done bool, retryAt time.Time)
