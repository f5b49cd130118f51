package render

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

func TestWriteTree(t *testing.T) {
	spans := sampleSpans()
	orphan := &tracing.Span{TraceID: spans[0].TraceID, SpanID: tracing.SpanID{7}, ParentSpanID: tracing.SpanID{8}, Name: "orphan",
		Start: spans[0].Start.Add(time.Millisecond), End: spans[0].Start.Add(time.Millisecond + 500*time.Microsecond)}
	var buf bytes.Buffer
	if err := Tree(&buf, append(spans, orphan)); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"+0s       invoke_agent claude-code  1m30s  INCOMPLETE  turns=1099511627776 $0.0123  [4 events]\n" +
		"+2.000s   └─ execute_tool Bash  1.204s  ERROR tool_error\n" +
		"+1ms      orphan  500µs  (parent 0800000000000000)\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1500 * time.Nanosecond: "1µs", 850 * time.Microsecond: "850µs", 12 * time.Millisecond: "12ms", 1204 * time.Millisecond: "1.204s",
		62 * time.Second: "1m02s", 65 * time.Minute: "1h05m", -2 * time.Millisecond: "-2ms",
	} {
		if got := Duration(d); got != want {
			t.Errorf("%v: %s, want %s", d, got, want)
		}
	}
}

// sampleSpans is a session root and one failed tool call under it.
func sampleSpans() []*tracing.Span {
	t0 := time.Date(2026, 8, 1, 10, 0, 0, 123456789, time.UTC)
	root := &tracing.Span{
		TraceID: tracing.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  tracing.SpanID{0xa, 0xb, 0xc, 0xd, 1, 2, 3, 4},
		Name:    "invoke_agent claude-code",
		Kind:    tracing.KindInternal,
		Start:   t0,
		End:     t0.Add(90 * time.Second),
		Attrs: []tracing.Attr{
			tracing.String("gen_ai.operation.name", "invoke_agent"),
			tracing.Int("claude_code.session.turns", 1<<40),
			tracing.Float("claude_code.cost.usd", 0.0123),
			tracing.Float("nan", math.NaN()),
			tracing.Bool("claude_code.incomplete", true),
			tracing.Strings("claude_code.models", "a", "b"),
		},
		Events:        []tracing.Event{{Name: "SessionStart", Time: t0.Add(time.Second), Attrs: []tracing.Attr{tracing.String("claude_code.source", "clear")}}},
		DroppedEvents: 3,
		Links:         []tracing.Link{{TraceID: tracing.TraceID{0xff, 1}, SpanID: tracing.SpanID{0xee, 2}}},
	}
	tool := &tracing.Span{
		TraceID:       root.TraceID,
		SpanID:        tracing.SpanID{9, 9, 9, 9, 9, 9, 9, 9},
		ParentSpanID:  root.SpanID,
		Name:          "execute_tool Bash",
		Kind:          tracing.KindInternal,
		Start:         t0.Add(2 * time.Second),
		End:           t0.Add(3*time.Second + 204*time.Millisecond),
		StatusCode:    tracing.StatusError,
		StatusMessage: "Exit code 1 <&>",
		Attrs:         []tracing.Attr{tracing.String("error.type", "tool_error")},
	}
	return []*tracing.Span{root, tool}
}

// The time breakdown of a turn: model, tools less their permission wait,
// permission, the rest; in percent of the three parts.
func TestTreeBreakdown(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	turn := &tracing.Span{SpanID: tracing.SpanID{1}, Name: "turn", Start: t0, End: t0.Add(10 * time.Second), Attrs: []tracing.Attr{
		tracing.Int(semconv.TurnModelMs, 6000), tracing.Int(semconv.TurnToolMs, 3000), tracing.Int(semconv.TurnOtherMs, 1000)}}
	tool := &tracing.Span{SpanID: tracing.SpanID{2}, ParentSpanID: turn.SpanID, Name: "execute_tool Bash", Start: t0.Add(time.Second), End: t0.Add(4 * time.Second),
		Attrs: []tracing.Attr{tracing.Int(semconv.ToolPermissionWaitMs, 1000)}}
	var b strings.Builder
	if err := Tree(&b, []*tracing.Span{turn, tool}); err != nil {
		t.Fatal(err)
	}
	if want := "[model 60% · tools 20% · permission 10% · other 10%]"; !strings.Contains(b.String(), want) {
		t.Errorf("tree:\n%s\nwant %s", b.String(), want)
	}
}
