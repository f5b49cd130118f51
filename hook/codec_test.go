package hook

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/binrec"
	"github.com/ccotel/ccotel/tracing"
)

func fullHead() *session {
	at := time.Date(2026, 8, 1, 10, 0, 0, 123456789, time.UTC)
	return &session{
		ID: "sess-1", Trace: TraceID("sess-1"), Run: 2,
		Ended: at.Add(time.Hour), Last: at, Transcript: "/home/u/.claude/projects/p/s.jsonl",
		Totals:  totals{Turns: 3, ToolCalls: 40, ToolErrors: 2, Subagents: 1, Compactions: 1, Late: 5, Notices: 1},
		TurnSeq: 3, CompactSeq: 1, Seq: 7, LastPrompt: "p-3", Model: "claude-opus-5-5",
		Background: []bgAgent{{Key: "a1", Trace: TraceID("x"), Span: tracing.SpanID{1, 2, 3}}},
		Launched:   []launched{{Agent: "a2", Call: "toolu_1", Span: tracing.SpanID{4}}, {Call: "toolu_2"}},
		Closed:     []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, ClosedNext: 1,
	}
}

// inUTC is s with its times in UTC (a record keeps the instant, not the
// zone), for comparing with DeepEqual.
func inUTC(s *session) *session {
	c := *s
	c.Last, c.Ended = c.Last.UTC(), c.Ended.UTC()
	return &c
}

// The binary head gives back every field; an empty head too.
func TestHeadRoundTrip(t *testing.T) {
	for _, s := range []*session{fullHead(), {ID: "x"}} {
		b, err := s.encode()
		if err != nil {
			t.Fatal(err)
		}
		if b[0] == '{' {
			t.Fatal("the head is still JSON")
		}
		got, err := decodeHead(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(inUTC(got), s) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, s)
		}
		last, ended, ok := HeadTimes(b)
		if !ok || !last.Equal(s.Last) || !ended.Equal(s.Ended) {
			t.Fatalf("HeadTimes = %v %v %v", last, ended, ok)
		}
	}
}

// A head or span record in any form but the current binary one (such as
// the JSON of development versions before it; no release wrote one) is
// damage: decoding it is an error, and the state machine takes the path
// of any unreadable record: the session starts over, or the span is
// rebuilt from its head, with Result.Reset set.
func TestOtherFormsAreDamage(t *testing.T) {
	jsonHead, err := json.Marshal(fullHead())
	if err != nil {
		t.Fatal(err)
	}
	if s, err := decodeHead(jsonHead); err == nil {
		t.Fatalf("JSON head decoded: %+v", s)
	}
	if _, _, ok := HeadTimes(jsonHead); ok {
		t.Fatal("HeadTimes read a JSON head")
	}
	jsonBody, err := json.Marshal(testBody())
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeBody(jsonBody, &spanBody{}); err == nil {
		t.Fatal("JSON span record decoded")
	}

	e, _ := DecodeBytes([]byte(ev("UserPromptSubmit", "prompt_id", "p")))
	var st Memory
	st.PutSession("s1", []byte(`{"v":2,"id":"s1","last":"2026-08-01T10:00:00Z"}`))
	res, err := Apply(&st, e, t0, Options{})
	if err != nil || res.Reset == nil || OpenSpans(&st, "s1") != 2 {
		t.Fatalf("JSON head: reset %v, err %v, %d open spans (want the new root and turn)", res.Reset, err, OpenSpans(&st, "s1"))
	}

	// The index and head read, the top span's record is JSON: it is
	// rebuilt from its head and the session goes on.
	st.PutSpan("s1", RootSpanID("s1"), jsonBody)
	e, _ = DecodeBytes([]byte(ev("SessionEnd")))
	res, err = Apply(&st, e, t0.Add(time.Second), Options{})
	if err != nil || res.Reset == nil || len(res.Spans) != 2 {
		t.Fatalf("JSON span record: reset %v, err %v, %d spans ended (want turn and root)", res.Reset, err, len(res.Spans))
	}
}

func testBody() *spanBody {
	at := time.Date(2026, 8, 1, 10, 0, 0, 5, time.UTC)
	return &spanBody{
		Desc: "look around", Events: json.RawMessage(`[{"name":"permission_request","time":"2026-08-01T10:00:00Z"}]`), NEvents: 1,
		Span: tracing.Span{
			TraceID: TraceID("s"), SpanID: tracing.SpanID{9}, ParentSpanID: tracing.SpanID{8},
			Name: "execute_tool Bash", Kind: tracing.KindInternal, Start: at,
			Attrs: []tracing.Attr{tracing.String("gen_ai.tool.name", "Bash"), tracing.Int("n", 3), tracing.Bool("b", true)},
		},
	}
}

func sameBody(t *testing.T, got, want *spanBody) {
	t.Helper()
	if got.Desc != want.Desc || string(got.Events) != string(want.Events) || got.NEvents != want.NEvents {
		t.Fatalf("body:\n got %+v\nwant %+v", got, want)
	}
	g, w := got.Span, want.Span
	if !g.Start.Equal(w.Start) || !g.End.Equal(w.End) {
		t.Fatalf("span times: got %v–%v, want %v–%v", g.Start, g.End, w.Start, w.End)
	}
	g.Start, g.End, w.Start, w.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("span:\n got %+v\nwant %+v", g, w)
	}
}

func TestBodyRoundTrip(t *testing.T) {
	for _, want := range []*spanBody{testBody(), {}} {
		b := encodeBody(want)
		if b[0] == '{' {
			t.Fatal("the span record is still JSON")
		}
		var got spanBody
		if err := decodeBody(b, &got); err != nil {
			t.Fatal(err)
		}
		sameBody(t, &got, want)
	}
}

// A damaged record is an error, never a panic or a silently wrong head:
// every truncation of a valid record, and random bytes.
func TestDamagedRecords(t *testing.T) {
	head, _ := fullHead().encode()
	body := encodeBody(testBody())
	for n := range len(head) {
		if _, err := decodeHead(head[:n]); err == nil && n > 0 {
			t.Fatalf("head cut at %d of %d bytes decoded", n, len(head))
		}
	}
	for n := range len(body) {
		if err := decodeBody(body[:n], &spanBody{}); err == nil {
			t.Fatalf("span record cut at %d of %d bytes decoded", n, len(body))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, 1+r.IntN(80))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		if r.IntN(2) == 0 {
			b[0] = headMarker
		}
		// Sealed, so that the parser, not the checksum, meets them.
		decodeHead(binrec.Seal(bytes.Clone(b)))
		HeadTimes(binrec.Seal(bytes.Clone(b)))
		b[0] = bodyMarker
		decodeBody(binrec.Seal(b), &spanBody{})
	}
}

// Every record is sealed: any one flipped bit of a head, a span record
// or an index is found (it used to be read as a different, valid record:
// a session id "done" read as "dkne").
func TestFlippedBitIsDamage(t *testing.T) {
	head, _ := fullHead().encode()
	body := encodeBody(testBody())
	index := encodeIndex([]*openSpan{{Kind: kindRoot, Key: "done", ID: tracing.SpanID{1}}, {Kind: kindTool, Key: "t", Owner: tracing.SpanID{1}, ID: tracing.SpanID{2}}})
	decoders := map[string]struct {
		rec    []byte
		decode func([]byte) error
	}{
		"head":  {head, func(b []byte) error { _, err := decodeHead(b); return err }},
		"body":  {body, func(b []byte) error { return decodeBody(b, &spanBody{}) }},
		"index": {index, func(b []byte) error { _, err := decodeIndex(b); return err }},
		"times": {head, func(b []byte) error {
			if _, _, ok := HeadTimes(b); !ok {
				return binrec.ErrChecksum
			}
			return nil
		}},
	}
	for name, d := range decoders {
		if err := d.decode(d.rec); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range len(d.rec) * 8 {
			c := bytes.Clone(d.rec)
			c[i/8] ^= 1 << (i % 8)
			if err := d.decode(c); !errors.Is(err, binrec.ErrRecord) {
				t.Fatalf("%s: bit %d flipped: %v, want damage", name, i, err)
			}
		}
	}
}
