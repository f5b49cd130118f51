package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"
)

// benchConcurrent starts many hook processes at once for one session and
// checks that all exit 0 silently, how long they take, and that every
// span reaches the receiver through the background flusher alone.
func (b *bench) benchConcurrent() error {
	fmt.Println()
	fmt.Printf("### 4. %d `ccotel hook` processes started at once for one session\n", b.procs)
	fmt.Println()
	fmt.Println("| round | processes | all exit 0, silent | p50 | p99 | max | spans delivered (background flusher) |")
	fmt.Println("|---|---|---|---|---|---|---|")

	// Round 1: the PreToolUse events ran one by one beforehand; the
	// PostToolUse events of a parallel batch arrive at once.
	dir := b.stateDir("concurrent-post")
	h := b.hook(dir)
	s := newSession(b.tmp)
	if err := startSession(h, s); err != nil {
		return err
	}
	var ids []string
	var posts [][]byte
	for i := range b.procs {
		id := toolUseID("conc", i)
		ids = append(ids, toolSpanID(s.ID, id))
		if r := h.run(s.PreToolUse(id)); !r.silentOK() {
			return fmt.Errorf("PreToolUse: %s", r)
		}
		posts = append(posts, s.PostToolUse(id, smallStdout))
	}
	waitFlusherGone(dir, 30*time.Second)
	res := startAtOnce(h, [][][]byte{posts})
	b.reportConcurrent(fmt.Sprintf("%d PostToolUse (Pre done before)", b.procs), res, ids, true)

	// Round 2: each of the processes' slots runs a PreToolUse then its
	// PostToolUse, all slots at once: 2× the processes contend.
	dir = b.stateDir("concurrent-pairs")
	h = b.hook(dir)
	s = newSession(b.tmp)
	if err := startSession(h, s); err != nil {
		return err
	}
	ids = nil
	var pres [][]byte
	posts = nil
	for i := range b.procs {
		id := toolUseID("pair", i)
		ids = append(ids, toolSpanID(s.ID, id))
		pres = append(pres, s.PreToolUse(id))
		posts = append(posts, s.PostToolUse(id, smallStdout))
	}
	waitFlusherGone(dir, 30*time.Second)
	res = startAtOnce(h, [][][]byte{pres, posts})
	b.reportConcurrent(fmt.Sprintf("%d Pre+Post pairs (%d processes, 2× the target's; not a verdict)", b.procs, 2*b.procs), res, ids, false)
	return nil
}

// startAtOnce starts len(steps[0]) goroutines that wait on one barrier,
// then each runs steps[0][i], steps[1][i], … in order, one process each.
func startAtOnce(p proc, steps [][][]byte) []result {
	n := len(steps[0])
	out := make([]result, n*len(steps))
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			for k, st := range steps {
				ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
				var o, e bytes.Buffer
				c := p.cmd(ctx, st[i], &o, &e)
				start := time.Now()
				if err := c.Start(); err != nil {
					out[k*n+i] = result{Err: err, Code: -1}
					cancel()
					continue
				}
				err := c.Wait()
				out[k*n+i] = finish(c, start, err, &o, &e)
				cancel()
			}
		}()
	}
	ready.Wait()
	close(gate)
	done.Wait()
	return out
}

func (b *bench) reportConcurrent(round string, res []result, ids []string, verdict bool) {
	s := &series{runs: res}
	bad := s.failures()
	missing := b.waitDelivered(ids, 30*time.Second)
	p99 := quantile(s.walls(), 0.99)
	fmt.Printf("| %s | %d | %s | %s | %s | %s | %d/%d, %d dups |\n", round, len(res), yesNo(bad == 0, fmt.Sprintf("no: %d failed", bad)),
		ms(quantile(s.walls(), 0.5)), ms(p99), ms(quantile(s.walls(), 1)), len(ids)-missing, len(ids), b.dupsOf(ids))
	if f := s.firstFailure(); f != "" {
		fmt.Println("\nfirst failing run:", f)
	}
	if verdict {
		b.verdict(fmt.Sprintf("%d hooks at once: all exit 0, every span arrives, p99 ≤ 1 s", len(res)),
			fmt.Sprintf("%d failed, %d/%d spans, p99 %s", bad, len(ids)-missing, len(ids), ms(p99)),
			bad == 0 && missing == 0 && p99 <= time.Second)
	}
}

func yesNo(ok bool, no string) string {
	if ok {
		return "yes"
	}
	return no
}
