package tracing

import (
	"bytes"
	"testing"
	"time"
)

func TestWriteTree(t *testing.T) {
	spans := sampleSpans()
	orphan := &Span{TraceID: spans[0].TraceID, SpanID: SpanID{7}, ParentSpanID: SpanID{8}, Name: "orphan",
		Start: spans[0].Start.Add(time.Millisecond), End: spans[0].Start.Add(time.Millisecond + 500*time.Microsecond)}
	var buf bytes.Buffer
	if err := WriteTree(&buf, append(spans, orphan)); err != nil {
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
		if got := FormatDuration(d); got != want {
			t.Errorf("%v: %s, want %s", d, got, want)
		}
	}
}
