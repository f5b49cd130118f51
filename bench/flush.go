package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// benchFlush queues b.spans tool spans straight into the outbox (through
// the state package, as hooks would have) and times `ccotel flush --wait`
// delivering them to the mTLS receiver.
func (b *bench) benchFlush() error {
	fmt.Println()
	fmt.Printf("### 5. Flusher throughput: %d queued spans, `ccotel flush --wait`, loopback mTLS receiver\n", b.spans)
	fmt.Println()
	dir := b.stateDir("flush")
	ids, bytesQueued, err := queueSpans(dir, b.spans)
	if err != nil {
		return err
	}
	before := b.rec.Stats()
	r := b.ccotelCmd(dir, "flush", "--wait").run(nil)
	after := b.rec.Stats()
	missing := b.missing(ids)
	sent := b.spans - missing
	rate := float64(sent) / r.Wall.Seconds()
	fmt.Println("| spans queued | outbox bytes | `flush --wait` wall | CPU | exit | requests | spans delivered | dups | spans/s |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	fmt.Printf("| %d | %d | %s | %s | %d | %d | %d | %d | **%.0f** |\n", b.spans, bytesQueued, ms(r.Wall), ms(r.CPU), r.Code,
		after.Requests-before.Requests, sent, b.dupsOf(ids), rate)
	if !r.ok() {
		fmt.Printf("\nflush failed: %s\n", r)
	} else if last := lastLine(r.Stdout + r.Stderr); last != "" {
		fmt.Printf("\nflush's last progress line: `%s`\n", last)
	}
	b.verdict("flusher ≥ 5 000 spans/s over loopback mTLS", fmt.Sprintf("%.0f spans/s (%d spans in %s)", rate, sent, ms(r.Wall)), r.ok() && missing == 0 && rate >= 5000)
	return nil
}

// queueSpans enqueues n realistic tool spans of one session.
func queueSpans(dir string, n int) (ids []string, size int, err error) {
	st, err := state.Open(state.Options{Dir: dir, LockTimeout: 10 * time.Second})
	if err != nil {
		return nil, 0, err
	}
	defer st.Close()
	sid := uuid()
	h := sha256.Sum256([]byte("ccotel/trace/" + sid))
	var trace tracing.TraceID
	copy(trace[:], h[:16])
	r := sha256.Sum256([]byte("ccotel/root/" + sid))
	var root tracing.SpanID
	copy(root[:], r[:8])
	t0 := time.Now().Add(-time.Hour)
	const perTx = 1000
	for done := 0; done < n; {
		err := st.Update(func(tx *state.Tx) error {
			for k := 0; k < perTx && done < n; k, done = k+1, done+1 {
				id := toolUseID("flush", done)
				sp := h2span(toolSpanID(sid, id))
				start := t0.Add(time.Duration(done) * 150 * time.Millisecond)
				s := tracing.Span{
					TraceID: trace, SpanID: sp, ParentSpanID: root,
					Name: "execute_tool Bash", Kind: tracing.KindInternal,
					Start: start, End: start.Add(4187 * time.Millisecond),
					Attrs: []tracing.Attr{
						tracing.String("gen_ai.operation.name", "execute_tool"),
						tracing.String("gen_ai.tool.name", "Bash"),
						tracing.String("gen_ai.tool.call.id", id),
						tracing.String("gen_ai.conversation.id", sid),
						tracing.Int("claude_code.tool.duration_ms", 4187),
						tracing.Int("claude_code.tool.permission_wait_ms", 12),
						tracing.Int("claude_code.tool.input_size", 118),
						tracing.Int("claude_code.tool.output_size", 240),
					},
				}
				b, err := s.Marshal()
				if err != nil {
					return err
				}
				size += len(b)
				if err := tx.Enqueue(b); err != nil {
					return err
				}
				ids = append(ids, sp.String())
			}
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	return ids, size, nil
}

func h2span(hexID string) tracing.SpanID {
	var s tracing.SpanID
	hex.Decode(s[:], []byte(hexID))
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
