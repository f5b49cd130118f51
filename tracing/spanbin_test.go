package tracing

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/binrec"
)

// sameSpan reports whether two spans are the same struct, times compared
// with Equal (and IsZero), floats by their bits (NaN payloads, -0), and
// nil slices apart from empty ones.
func sameSpan(a, b *Span) bool { return sameValue(reflect.ValueOf(a), reflect.ValueOf(b)) }

var timeType = reflect.TypeFor[time.Time]()

func sameValue(a, b reflect.Value) bool {
	if a.Type() == timeType {
		ta, tb := a.Interface().(time.Time), b.Interface().(time.Time)
		return ta.Equal(tb) && ta.IsZero() == tb.IsZero()
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() {
			return false
		}
		fallthrough
	case reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}

// checkRoundTrip: s encodes, through Marshal and AppendBinary alike, to
// bytes that decode to s, with nothing left over.
func checkRoundTrip(t *testing.T, s *Span) {
	t.Helper()
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if b[0] == '{' {
		t.Fatal("binary form starts with '{'")
	}
	if n := s.binarySize(0); len(b) > n {
		t.Errorf("encoded %d bytes, size bound %d", len(b), n)
	}
	if !bytes.Equal(b, s.AppendBinary(nil)) {
		t.Error("Marshal and AppendBinary differ")
	}
	got, err := UnmarshalSpan(b)
	if err != nil {
		t.Fatalf("decode: %v\n% x", err, b)
	}
	if !sameSpan(got, s) {
		t.Errorf("round trip differs:\n got  %+v\n want %+v", got, s)
	}
}

var (
	t2026     = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)
	farPast   = time.Date(-4000, 2, 29, 1, 2, 3, 4, time.UTC)
	farFuture = time.Date(300000, 12, 31, 23, 59, 59, 999999999, time.FixedZone("X", 5*3600+1800))
)

// fullSpan sets every field of Span, Attr, Event and Link
// (TestFullSpanSetsEveryField keeps it so), with nested extra spans.
func fullSpan() *Span {
	all := Attr{Key: "all", Type: "strings", Str: "s", Int: -7, Float: 2.5, Bool: true, Strings: []string{"a", "", "ü"}}
	child := &Span{
		TraceID: TraceID{9}, SpanID: SpanID{10}, ParentSpanID: SpanID{2}, Name: "model request",
		Start: t2026, End: t2026.Add(time.Second),
		Attrs:  []Attr{Int("gen_ai.usage.input_tokens", 1234), Float("cost", 0.0125)},
		Extra:  []*Span{{Name: "grandchild", Start: farPast, ReadyAt: farFuture}},
		Events: []Event{},
	}
	return &Span{
		TraceID:      TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:       SpanID{0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8},
		ParentSpanID: SpanID{1, 1, 1, 1, 1, 1, 1, 1},
		Name:         "execute_tool Bash",
		Kind:         KindClient,
		Start:        t2026,
		End:          t2026.Add(1500 * time.Millisecond),
		Attrs: []Attr{
			String("gen_ai.tool.name", "Bash"), Int("n", math.MinInt64), Float("f", -1e-300), Bool("ok", true),
			Strings("argv", "ls", "-l"), all, {Key: "odd", Type: "map", Str: "x"}, {Key: "", Type: ""},
		},
		Events: []Event{
			{Name: "exception", Time: t2026.Add(time.Millisecond), Attrs: []Attr{String("exception.message", "boom")}},
			{Name: "no attrs"},
		},
		Links: []Link{
			{TraceID: TraceID{0xaa}, SpanID: SpanID{0xbb}, Attrs: []Attr{Bool("sampled", false)}},
			{TraceID: TraceID{0xcc}, SpanID: SpanID{0xdd}},
		},
		StatusCode:    StatusError,
		StatusMessage: "exit status 1",
		DroppedEvents: 3,
		Pending:       json.RawMessage(`{"scope":"turn","path":"/tmp/t.jsonl","offset":4096}`),
		ReadyAt:       t2026.Add(2 * time.Second),
		Extra:         []*Span{child, nil, {Name: "sibling"}},
	}
}

// A new field in Span, Attr, Event or Link must reach the codec:
// fullSpan sets every field, so the round trip covers it.
func TestFullSpanSetsEveryField(t *testing.T) {
	s := fullSpan()
	check := func(v reflect.Value) {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Errorf("fullSpan leaves %s.%s unset: set it, and encode it in spanbin.go", v.Type().Name(), v.Type().Field(i).Name)
			}
		}
	}
	check(reflect.ValueOf(*s))
	check(reflect.ValueOf(s.Attrs[5]))
	check(reflect.ValueOf(s.Events[0]))
	check(reflect.ValueOf(s.Links[0]))
}

func TestSpanBinaryRoundTrip(t *testing.T) {
	long := strings.Repeat("✓", 20000) // 60000 bytes: a three-byte length
	deep := &Span{Name: "depth 8"}
	for d := maxSpanDepth - 1; d >= 0; d-- {
		deep = &Span{Name: "depth", Extra: []*Span{deep}}
	}
	var floats []Attr
	for _, f := range []float64{math.NaN(), math.Float64frombits(0x7ff8dead_beef0001), math.Inf(1), math.Inf(-1),
		math.Copysign(0, -1), math.MaxFloat64, math.SmallestNonzeroFloat64, -math.MaxFloat64} {
		floats = append(floats, Float("f", f))
	}
	for _, tc := range []struct {
		name string
		s    *Span
	}{
		{"empty", &Span{}},
		{"full", fullSpan()},
		{"typical tool span", typicalSpan()},
		{"times", &Span{
			Start: time.Unix(0, 0), End: time.Unix(-1, 1), ReadyAt: time.Unix(1<<62, 999999999),
			Events: []Event{
				{Time: farPast}, {Time: farFuture}, {Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
				{Time: time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC)}, {Time: time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC)},
				{Time: time.Now()}, // a monotonic reading
				{Time: time.Unix(math.MinInt64/2, 0)},
			},
		}},
		{"the zero time's instant in another zone", &Span{Start: time.Time{}.In(time.FixedZone("Y", 3600))}},
		{"floats", &Span{Attrs: floats}},
		{"empty, not nil", &Span{
			Attrs: []Attr{}, Events: []Event{{Attrs: []Attr{}}}, Links: []Link{{Attrs: []Attr{}}},
			Pending: json.RawMessage{}, Extra: []*Span{},
		}},
		{"empty strings attr", &Span{Attrs: []Attr{Strings("a"), {Key: "b", Type: "strings", Strings: []string{}}}}},
		{"negative enums and counts", &Span{Kind: -1, StatusCode: -2, DroppedEvents: -3}},
		{"huge counts", &Span{Kind: math.MaxInt, StatusCode: math.MinInt, DroppedEvents: math.MaxInt}},
		{"long strings", &Span{Name: long, StatusMessage: long[:300], Attrs: []Attr{String(long, long), Strings("s", long, long)}}},
		{"nil extra spans", &Span{Extra: []*Span{nil, nil}}},
		{"extra at the deepest", deep},
		{"invalid UTF-8", &Span{Name: "\xff\xfe", Attrs: []Attr{String("\x80", "a\x00b")}}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkRoundTrip(t, tc.s) })
	}
}

// A span nested deeper than the form keeps is refused by Marshal (a cycle
// too); AppendBinary leaves the deepest Extra out and stops.
func TestSpanBinaryTooDeep(t *testing.T) {
	deep := &Span{Name: "depth 9"}
	for d := maxSpanDepth; d >= 0; d-- {
		deep = &Span{Name: "depth", Extra: []*Span{deep}}
	}
	if _, err := deep.Marshal(); err == nil {
		t.Error("too deep: no error")
	}
	got, rest, err := DecodeSpanBinary(deep.AppendBinary(nil))
	if err != nil || len(rest) != 0 {
		t.Fatal(err, rest)
	}
	x := got
	for range maxSpanDepth {
		x = x.Extra[0]
	}
	if x.Extra != nil {
		t.Errorf("depth %d kept its extra spans", maxSpanDepth)
	}

	cyc := &Span{Name: "cycle"}
	cyc.Extra = []*Span{cyc}
	if _, err := cyc.Marshal(); err == nil {
		t.Error("cycle: no error")
	}
	cyc.AppendBinary(nil) // terminates

	// Bytes that nest deeper are refused: encoded from depth -1, deep's
	// deepest span has depth 9 when decoded.
	if _, err := UnmarshalSpan(deep.appendBinary(nil, -1)); err == nil || !strings.Contains(err.Error(), "too deep") {
		t.Errorf("span nested %d deep: %v", maxSpanDepth+1, err)
	}
}

// The form embeds: DecodeSpanBinary returns what follows the span, and
// the span shares no memory with its input.
func TestSpanBinaryEmbedded(t *testing.T) {
	s := fullSpan()
	b := s.AppendBinary([]byte("head"))
	b = append(b, "tail"...)
	got, rest, err := DecodeSpanBinary(b[4:])
	if err != nil || string(rest) != "tail" {
		t.Fatalf("%v, rest %q", err, rest)
	}
	clear(b)
	if !sameSpan(got, s) {
		t.Errorf("decoded span changed with its input:\n got  %+v\n want %+v", got, s)
	}
	if _, err := UnmarshalSpan(append(s.AppendBinary(nil), 0)); err == nil {
		t.Error("UnmarshalSpan accepted a trailing byte")
	}
}

// Fields that a later version appends after the known ones are skipped.
func TestSpanBinaryLaterFields(t *testing.T) {
	s := fullSpan()
	enc := s.AppendBinary(nil)
	n, k := binary.Uvarint(enc[1:])
	body := append(enc[1+k:1+k+int(n):1+k+int(n)], 0xde, 0xad, 0xbe, 0xef)
	later := append(binary.AppendUvarint([]byte{spanFormat}, uint64(len(body))), body...)
	later = append(later, "rest"...)
	got, rest, err := DecodeSpanBinary(later)
	if err != nil || string(rest) != "rest" {
		t.Fatalf("%v, rest %q", err, rest)
	}
	if !sameSpan(got, s) {
		t.Errorf("got %+v", got)
	}
}

// An entry in any form but the binary one (such as the JSON of
// development versions before it; no release wrote one) does not decode:
// the flusher drops and counts it like any damaged entry.
func TestUnmarshalSpanOnlyBinary(t *testing.T) {
	b, err := json.Marshal(&Span{TraceID: TraceID{1}, SpanID: SpanID{2}, Name: "n", Start: t2026, End: t2026})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := UnmarshalSpan(b); err == nil {
		t.Fatalf("JSON entry decoded: %+v", s)
	}
}

// Every proper prefix of an encoding is an error, not a panic.
func TestSpanBinaryTruncated(t *testing.T) {
	for _, s := range []*Span{{}, fullSpan(), typicalSpan()} {
		b := s.AppendBinary(nil)
		for i := range len(b) {
			if got, rest, err := DecodeSpanBinary(b[:i]); err == nil {
				t.Fatalf("prefix of %d of %d bytes decoded: %+v, rest %d", i, len(b), got, len(rest))
			}
			if _, err := UnmarshalSpan(b[:i]); err == nil {
				t.Fatalf("UnmarshalSpan: prefix of %d of %d bytes decoded", i, len(b))
			}
		}
	}
}

// Garbage and corrupted encodings give errors or spans, never panics;
// whatever decodes encodes again to itself.
func TestSpanBinaryGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	decoded := 0
	try := func(b []byte) {
		t.Helper()
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("panic on % x: %v", b, p)
			}
		}()
		s, _, err := DecodeSpanBinary(b)
		if err != nil {
			if !errors.Is(err, errSpanBinary) {
				t.Fatalf("error %v does not wrap errSpanBinary", err)
			}
			return
		}
		decoded++
		if !s.tooDeep(0) {
			checkRoundTrip(t, s)
		}
	}
	// Absurd lengths and counts.
	try(nil)
	try([]byte{spanFormat})
	try(binary.AppendUvarint([]byte{spanFormat}, math.MaxUint64))
	try([]byte{spanFormat, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	for _, count := range []uint64{math.MaxUint64, 1 << 40, 1<<31 + 1, 1000} {
		body := make([]byte, 32)
		body = binrec.AppendString(body, "x")
		body = append(body, 0, 0, 0) // kind, start, end
		body = binary.AppendUvarint(body, count)
		body = append(body, make([]byte, 64)...)
		try(append(binary.AppendUvarint([]byte{spanFormat}, uint64(len(body))), body...))
	}
	for range 20000 {
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if len(b) > 0 {
			b[0] = spanFormat
		}
		try(b)
	}
	valid := [][]byte{fullSpan().AppendBinary(nil), typicalSpan().AppendBinary(nil)}
	for range 20000 {
		b := bytes.Clone(valid[rng.IntN(len(valid))])
		for range 1 + rng.IntN(4) {
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		}
		try(b)
	}
	if decoded < 1000 {
		t.Errorf("only %d corrupted encodings decoded: the re-encoding check hardly ran", decoded)
	}
}

// Marshal allocates once; decoding a span without events, links or extra
// spans allocates the span, its strings and its attributes.
func TestSpanBinaryAllocs(t *testing.T) {
	s := typicalSpan()
	if n := testing.AllocsPerRun(100, func() { s.Marshal() }); n != 1 {
		t.Errorf("Marshal: %v allocations", n)
	}
	b, _ := s.Marshal()
	if n := testing.AllocsPerRun(100, func() { UnmarshalSpan(b) }); n > 3 {
		t.Errorf("UnmarshalSpan: %v allocations", n)
	}
}

// typicalSpan is a tool span as package hook makes one.
func typicalSpan() *Span {
	return &Span{
		TraceID: TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c},
		SpanID:  SpanID{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31}, ParentSpanID: SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		Name: "execute_tool Bash", Kind: KindInternal,
		Start: t2026, End: t2026.Add(1234567 * time.Microsecond),
		Attrs: []Attr{
			String("gen_ai.operation.name", "execute_tool"),
			String("gen_ai.tool.name", "Bash"),
			String("gen_ai.tool.call.id", "toolu_01A09q90qw90lq917835lq9"),
			String("gen_ai.conversation.id", "6a2f1c3e-8d4b-4f7a-9e1c-2b3d4e5f6a7b"),
			String("gen_ai.tool.type", "function"),
			String("claude_code.tool.input.command", "go test ./tracing/... -run TestSpanBinary -count=1"),
			String("claude_code.tool.description", "Run the span codec tests"),
			Int("claude_code.tool.output.bytes", 18234),
			Bool("claude_code.tool.interrupted", false),
			String("claude_code.permission.decision", "allow"),
		},
		StatusCode: StatusOK,
	}
}

// BenchmarkSpanCodec: encoding and decoding a typical tool span, as JSON
// (the former storage format) and in the binary form. In a hook process
// JSON costs more than this shows: encoding/json's per-type caches, warm
// here after the first iteration, are built anew in every process.
func BenchmarkSpanCodec(b *testing.B) {
	s := typicalSpan()
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, err := json.Marshal(s)
			if err != nil {
				b.Fatal(err)
			}
			var got Span
			if err := json.Unmarshal(v, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, err := s.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := UnmarshalSpan(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
