package hook

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/binrec"
	"github.com/ccotel/ccotel/tracing"
)

// counting is a Store that counts the span records read and written.
type counting struct {
	Memory
	reads, writes, deletes int
}

func (c *counting) Span(session string, span [8]byte) []byte {
	c.reads++
	return c.Memory.Span(session, span)
}

func (c *counting) PutSpan(session string, span [8]byte, b []byte) error {
	c.writes++
	return c.Memory.PutSpan(session, span, b)
}

func (c *counting) DeleteSpan(session string, span [8]byte) error {
	c.deletes++
	return c.Memory.DeleteSpan(session, span)
}

// An event reads and writes the records of the spans it touches, not of
// every open span: with 300 tool calls open, ending one reads the index,
// its record and the top span's, writes only the index back and deletes
// its own.
func TestEventTouchesOnlyItsSpans(t *testing.T) {
	st := &counting{}
	s := &sim{t: t}
	apply := func(at int, payload string) []tracing.Span {
		t.Helper()
		e, err := DecodeBytes([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Apply(st, e, ms(at), s.opts)
		if err != nil || res.Reset != nil {
			t.Fatalf("%s: %v %v", payload, err, res.Reset)
		}
		return res.Spans
	}
	apply(0, ev("SessionStart", "source", "startup", "permission_mode", "default"))
	apply(1, ev("UserPromptSubmit", "prompt_id", "p", "permission_mode", "default"))
	const open = 300
	for i := range open {
		apply(2, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", fmt.Sprint("t", i), "permission_mode", "default"))
	}
	if st.Records() != open+3 {
		t.Fatalf("%d records, want %d (a body per open span and the index)", st.Records(), open+3)
	}
	st.reads, st.writes, st.deletes = 0, 0, 0
	out := apply(3, ev("PostToolUse", "tool_name", "Bash", "tool_use_id", "t7", "permission_mode", "default", "duration_ms", 1))
	if len(out) != 1 || out[0].Name != "execute_tool Bash" {
		t.Fatalf("ended %v", names(out))
	}
	if st.reads > 3 || st.writes != 1 || st.deletes != 1 {
		t.Errorf("PostToolUse with %d open: %d records read, %d written, %d deleted; want ≤ 3, 1, 1",
			open, st.reads, st.writes, st.deletes)
	}
	st.reads, st.writes, st.deletes = 0, 0, 0
	apply(4, ev("PreToolUse", "tool_name", "Read", "tool_use_id", "new", "permission_mode", "default"))
	if st.reads > 3 || st.writes != 2 || st.deletes != 0 {
		t.Errorf("PreToolUse with %d open: %d records read, %d written, %d deleted; want ≤ 3, 2, 0",
			open, st.reads, st.writes, st.deletes)
	}
	// The session's end ends them all and leaves no record behind.
	out = apply(5, ev("SessionEnd", "reason", "other"))
	if len(out) != open+2 || st.Records() != 0 {
		t.Errorf("SessionEnd ended %d spans (want %d), %d records left", len(out), open+2, st.Records())
	}
}

// A span whose record is gone (a damaged database) still ends, from what
// its head knows, and the loss is reported.
func TestMissingSpanRecord(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "source", "startup"))
	s.at(10, ev("UserPromptSubmit", "prompt_id", "p"))
	s.at(20, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "b"))
	s.st.DeleteSpan("s1", toolSpanID("s1", "b"))
	e, _ := DecodeBytes([]byte(ev("PostToolUse", "tool_name", "Bash", "tool_use_id", "b")))
	res, err := Apply(&s.st, e, ms(30), s.opts)
	if err != nil || res.Reset == nil || len(res.Spans) != 1 {
		t.Fatalf("spans %v, reset %v, err %v", names(res.Spans), res.Reset, err)
	}
	if sp := res.Spans[0]; sp.Name != "execute_tool Bash" || sp.SpanID != toolSpanID("s1", "b") || sp.ParentSpanID != turnSpanID("s1", "p") || !sp.Start.Equal(ms(20)) {
		t.Errorf("rebuilt span: %+v", sp)
	}
}

// The index round-trips every head field, and any truncation or flipped
// byte of it is an error, never a panic or a huge allocation.
func TestIndexCodec(t *testing.T) {
	in := []*openSpan{
		{Kind: kindRoot, Last: ms(5), Offset: -1, ID: tracing.SpanID{1}},
		{Kind: kindTool, Key: "toolu_1", Tool: "Agent", Agent: "a1", Bound: "ag", Perm: true, Last: ms(7), Offset: 12345,
			Owner: tracing.SpanID{1}, ID: tracing.SpanID{2}, Parent: tracing.SpanID{3}},
	}
	b := encodeIndex(in)
	out, err := decodeIndex(b)
	if err != nil || len(out) != len(in) {
		t.Fatalf("decode: %v, %d spans", err, len(out))
	}
	for i := range in {
		w, g := *in[i], *out[i]
		g.stored = false
		if !w.Last.Equal(g.Last) {
			t.Errorf("span %d: last %v, want %v", i, g.Last, w.Last)
		}
		w.Last, g.Last = time.Time{}, time.Time{}
		if fmt.Sprintf("%+v", w) != fmt.Sprintf("%+v", g) {
			t.Errorf("span %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	for n := range len(b) {
		if _, err := decodeIndex(b[:n]); err == nil {
			t.Errorf("truncated to %d of %d bytes: no error", n, len(b))
		}
	}
	// Damage the checksum vouches for (sealed after the change), so
	// that the parser meets it.
	raw, _ := binrec.Unseal(b)
	for i := range raw {
		c := bytes.Clone(raw)
		c[i] ^= 0xff
		decodeIndex(binrec.Seal(c)) // must not panic
	}
	if _, err := decodeIndex(binrec.Seal(append(bytes.Clone(raw), 0))); err == nil {
		t.Error("trailing byte: no error")
	}
	unknown := bytes.Clone(raw)
	unknown[1] = byte(len(indexKinds)) // the first span's kind
	if _, err := decodeIndex(binrec.Seal(unknown)); !errors.Is(err, binrec.ErrRecord) || errors.Is(err, binrec.ErrChecksum) {
		t.Errorf("unknown kind: %v, want a binrec.ErrRecord", err)
	}
	huge := binary.AppendUvarint(nil, 1<<40) // a count its bytes cannot hold
	if _, err := decodeIndex(binrec.Seal(append(huge, raw[1:]...))); !errors.Is(err, binrec.ErrRecord) || errors.Is(err, binrec.ErrChecksum) {
		t.Errorf("huge count: %v, want a binrec.ErrRecord", err)
	}
}
