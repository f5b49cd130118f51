package usage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
)

// writeManyResponses writes a turn of n tiny API responses.
func writeManyResponses(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "many.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, `{"type":"user","sessionId":"s","timestamp":"2026-07-29T08:20:01.000Z","message":{"role":"user","content":"go"},"promptId":"p-1"}`)
	for i := range n {
		stop := "tool_use"
		if i == n-1 {
			stop = "end_turn"
		}
		fmt.Fprintf(w, `{"type":"assistant","sessionId":"s","timestamp":"2026-07-29T08:20:02.%03dZ","requestId":"req_%d","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_%d","stop_reason":%q,"usage":{"input_tokens":1,"output_tokens":2}}}`+"\n", i%1000, i, i, stop)
	}
	w.Flush()
	f.Close()
	return path
}

// A turn with 100 000 API responses: every response is counted, but the
// span keeps at most maxChatSpans chat spans (the rest folded, counted
// in an attribute), and finishing it holds a bounded amount of memory
// (it took the flusher to 699 MB and sent 100 002 spans in one request).
func TestManyResponsesBounded(t *testing.T) {
	const n = 100_000
	path := writeManyResponses(t, n)
	s := span(Ref{Scope: "turn", Path: path, PromptID: "p-1"}, time.Now())
	fin := New(Options{NoWait: true})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() { // sample the live heap while the finisher runs
		var m runtime.MemStats
		var top uint64
		for {
			select {
			case <-stop:
				peak <- top
				return
			case <-time.After(2 * time.Millisecond):
				runtime.ReadMemStats(&m)
				top = max(top, m.HeapAlloc)
			}
		}
	}()
	done, _ := fin(s, s.ReadyAt)
	close(stop)
	top := <-peak
	runtime.GC()
	runtime.ReadMemStats(&after)
	if !done {
		t.Fatal("not done")
	}
	intAttr(t, s, semconv.UsageAPIRequests, n)
	intAttr(t, s, semconv.GenAIUsageOutputTokens, 2*n)
	if len(s.Extra) > maxChatSpans {
		t.Errorf("%d chat spans on one turn, want at most %d", len(s.Extra), maxChatSpans)
	}
	intAttr(t, s, semconv.UsageChatSpansFolded, int64(n-len(s.Extra)))
	kept := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("peak heap %.1f MB (from %.1f), kept %.1f MB after, %d chat spans", float64(top)/1e6, float64(before.HeapAlloc)/1e6, float64(kept)/1e6, len(s.Extra))
	if top-before.HeapAlloc > 32<<20 {
		t.Errorf("finishing the span took the heap to %.1f MB", float64(top)/1e6)
	}
	if kept > 8<<20 {
		t.Errorf("the finished span holds %.1f MB", float64(kept)/1e6)
	}
}
