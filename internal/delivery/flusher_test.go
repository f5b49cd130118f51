package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// enqueue puts spans into the outbox of cfg.StateDir as a hook would.
func enqueue(t testing.TB, cfg *testCfg, spans []*tracing.Span) {
	t.Helper()
	st, err := state.Open(state.Options{Dir: cfg.StateDir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(func(tx *state.Tx) error {
		for _, s := range spans {
			b, err := s.Marshal()
			if err != nil {
				return err
			}
			if err := tx.Enqueue(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func counters(t testing.TB, dir string) state.Counters {
	t.Helper()
	st, err := state.Open(state.Options{Dir: dir, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var c state.Counters
	st.View(func(tx *state.Tx) error { c = tx.Counters(); return nil })
	return c
}

// assertDelivered checks every span arrived exactly once and nothing else.
func assertDelivered(t *testing.T, c *otlptest.Receiver, spans []*tracing.Span) {
	t.Helper()
	got, total := c.Received()
	for _, s := range spans {
		if n := len(got[s.SpanID.String()]); n != 1 {
			t.Errorf("span %s %q arrived %d times", s.SpanID, s.Name, n)
		}
	}
	if total != len(spans) {
		t.Errorf("collector received %d spans, want %d", total, len(spans))
	}
}

func fastRetry(o FlushOptions) FlushOptions {
	o.MinBackoff, o.MaxBackoff = 20*time.Millisecond, 80*time.Millisecond
	return o
}

func TestFlushDelivers(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	for _, protocol := range []string{"http/protobuf", "http/json"} {
		cfg := testConfig(t, c, p)
		cfg.Protocol = protocol
		spans := testSpans("flush"+protocol, 1200) // three batches
		enqueue(t, cfg, spans)
		var progress strings.Builder
		res, err := Flush(context.Background(), cfg.opts(FlushOptions{Progress: &progress}))
		if err != nil {
			t.Fatalf("%s: %v", protocol, err)
		}
		if res.Sent != 1200 || res.Remaining != 0 || res.Rejected != 0 {
			t.Errorf("%s: result %+v", protocol, res)
		}
		if !strings.Contains(progress.String(), "sent 512/1200 spans") || !strings.Contains(progress.String(), "sent 1200/1200 spans") {
			t.Errorf("progress:\n%s", progress.String())
		}
		cn := counters(t, cfg.StateDir)
		if cn.Queued != 0 || cn.Exported != 1200 || !cn.LastExportOK || !cn.NextAttempt.IsZero() {
			t.Errorf("counters %+v", cn)
		}
	}
	reqs := c.Stats().Requests
	if reqs != 6 {
		t.Errorf("%d requests, want 6 (batches of 512)", reqs)
	}
	_, total := c.Received()
	if total != 2400 {
		t.Errorf("received %d spans", total)
	}
}

// TestFlushBadCertificatesKeepSpans: every rejected certificate leaves the
// spans queued, and a good one delivers them exactly once.
func TestFlushBadCertificatesKeepSpans(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	otherCA := otlptest.MustCA(t, "other CA")
	otherCert, otherKey := otherCA.MustIssue(t, "stranger", otlptest.Leaf{})
	selfCert, selfKey := otlptest.MustSelfSigned(t, "self")
	expCert, expKey := p.ClientCA.MustIssue(t, "expired", otlptest.Leaf{NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	_, wrongKey := p.ClientCA.MustIssue(t, "someone else", otlptest.Leaf{})

	cfg := testConfig(t, c, p)
	spans := testSpans("badcerts", 40)
	enqueue(t, cfg, spans)
	for _, tc := range []struct {
		name       string
		cert, key  string
		want       tracing.FailureKind
		configured bool
	}{
		{"no cert", "", "", tracing.FailNoClientCert, true},
		{"self-signed", selfCert, selfKey, tracing.FailClientCertRejected, true},
		{"other CA", otherCert, otherKey, tracing.FailClientCertRejected, true},
		{"expired", expCert, expKey, tracing.FailClientCertRejected, true},
		{"mismatched key", p.ClientCert, wrongKey, tracing.FailConfig, true},
	} {
		bad := *cfg
		bad.ClientCert, bad.ClientKey = tc.cert, tc.key
		res, err := Flush(context.Background(), bad.opts(FlushOptions{}))
		var ee *tracing.ExportError
		if !errors.As(err, &ee) || ee.Kind != tc.want {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if res.Sent != 0 || res.Remaining != 40 {
			t.Errorf("%s: result %+v", tc.name, res)
		}
		cn := counters(t, cfg.StateDir)
		if cn.Queued != 40 || cn.LastExportOK || cn.LastExportError == "" {
			t.Errorf("%s: counters %+v", tc.name, cn)
		}
	}
	if _, n := c.Received(); n != 0 {
		t.Fatalf("collector got %d spans from bad certificates", n)
	}
	res, err := Flush(context.Background(), cfg.opts(FlushOptions{}))
	if err != nil || res.Sent != 40 {
		t.Fatalf("good cert: %+v %v", res, err)
	}
	assertDelivered(t, c, spans)
}

// TestFlushOutage: the collector answers 503, then is down (refused),
// while spans are queued; once it is back every span arrives exactly once.
func TestFlushOutage(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	c.FailWith(503)
	cfg := testConfig(t, c, p)
	spans := testSpans("outage", 700)
	enqueue(t, cfg, spans)

	// 503: a flusher that gives up quickly leaves everything queued and
	// records the backoff window.
	res, err := Flush(context.Background(), newFakeClock().opts(cfg.opts(fastRetry(FlushOptions{Retry: true, GiveUp: 150 * time.Millisecond}))))
	var ee *tracing.ExportError
	if !errors.As(err, &ee) || ee.Kind != tracing.FailUnavailable || res.Remaining != 700 {
		t.Fatalf("503: %+v %v", res, err)
	}
	if cn := counters(t, cfg.StateDir); cn.NextAttempt.IsZero() || cn.Failures < 2 { // a backoff window was recorded
		t.Errorf("counters after giving up: %+v", cn)
	}

	// Down: nobody listens on the port.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	down := *cfg
	down.Endpoint = "https://" + addr + "/v1/traces"
	res, err = Flush(context.Background(), newFakeClock().opts(down.opts(fastRetry(FlushOptions{Retry: true, GiveUp: 100 * time.Millisecond}))))
	if !errors.As(err, &ee) || ee.Kind != tracing.FailRefused || res.Remaining != 700 {
		t.Fatalf("down: %+v %v", res, err)
	}

	// Up again, while a retrying flusher runs: it backs off, then
	// delivers.
	more := testSpans("outage-more", 30)
	clk := newFakeClock()
	clk.onWait = func(n int, d time.Duration) {
		if n == 3 { // in its third backoff
			enqueue(t, cfg, more) // a hook queues more meanwhile
			c.FailWith(0)
		}
	}
	fres, ferr := Flush(context.Background(), clk.opts(cfg.opts(fastRetry(FlushOptions{Retry: true}))))
	if ferr != nil || fres.Remaining != 0 {
		t.Fatalf("recovery: %+v %v", fres, ferr)
	}
	assertDelivered(t, c, append(spans, more...))
}

func TestFlushRejectedSpanIsDroppedNotBlocking(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	// A collector that refuses any request containing the poison span.
	var refusals atomic.Int32
	c.Wrap(func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if strings.Contains(string(b), "poison") {
				refusals.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				io.WriteString(w, `{"code":3,"message":"invalid span"}`)
				return
			}
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			inner.ServeHTTP(w, r)
		})
	})
	cfg := testConfig(t, c, p)
	cfg.Protocol, cfg.Compression = "http/json", "none"
	spans := testSpans("reject", 64)
	spans[40].Name = "poison"
	enqueue(t, cfg, spans)
	// And an entry that is not a span at all: damage, which the
	// collector never saw, not a refusal.
	st, _ := state.Open(state.Options{Dir: cfg.StateDir})
	st.Update(func(tx *state.Tx) error { return tx.Enqueue([]byte("not a span")) })
	st.Close()

	res, err := Flush(context.Background(), cfg.opts(FlushOptions{Retry: true, MinBackoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 63 || res.Rejected != 1 || res.Remaining != 0 {
		t.Errorf("result %+v", res)
	}
	good := append(append([]*tracing.Span{}, spans[:40]...), spans[41:]...)
	assertDelivered(t, c, good)
	if cn := counters(t, cfg.StateDir); cn.Rejected != 1 || cn.Damaged != 1 || cn.Exported != 63 || cn.LastRejection != "HTTP 400: invalid span" {
		t.Errorf("counters: rejected %d, damaged %d, exported %d, last rejection %q", cn.Rejected, cn.Damaged, cn.Exported, cn.LastRejection)
	}
	// Bisection: a handful of refused requests, not one per span.
	if n := refusals.Load(); n > 12 {
		t.Errorf("%d refused requests to isolate one span", n)
	}
}

func TestFlushFinisher(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	cfg := testConfig(t, c, p)
	spans := testSpans("pending", 3)
	now := time.Now()
	spans[1].Pending = json.RawMessage(`{"scope":"turn"}`)
	spans[1].ReadyAt = now.Add(-time.Second)
	spans[2].Pending = json.RawMessage(`{"scope":"session"}`)
	spans[2].ReadyAt = now.Add(time.Hour) // not ready
	enqueue(t, cfg, spans)

	var calls sync.Map
	finisher := func(s *tracing.Span, now time.Time) (bool, time.Time) {
		n, _ := calls.LoadOrStore(s.SpanID, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		s.SetAttr(tracing.Int("gen_ai.usage.output_tokens", 42))
		s.Pending = nil
		return true, time.Time{}
	}

	// The collector is down: the finished span is written back, so its
	// work is not redone on the next run.
	c.FailWith(503)
	if _, err := Flush(context.Background(), cfg.opts(FlushOptions{Finisher: finisher})); err == nil {
		t.Fatal("want an error while the collector is down")
	}
	c.FailWith(0)
	res, err := Flush(context.Background(), cfg.opts(FlushOptions{Finisher: finisher}))
	if err != nil || res.Sent != 2 || res.Remaining != 1 || res.Pending != 1 {
		t.Fatalf("result %+v %v", res, err)
	}
	if n, _ := calls.Load(spans[1].SpanID); n.(*atomic.Int32).Load() != 1 {
		t.Errorf("finisher ran %d times on the same span", n.(*atomic.Int32).Load())
	}
	if _, ok := calls.Load(spans[2].SpanID); ok {
		t.Error("finisher asked before ReadyAt")
	}
	got, _ := c.Received()
	attrs := got[spans[1].SpanID.String()][0].GetAttributes()
	found := false
	for _, a := range attrs {
		if a.GetKey() == "gen_ai.usage.output_tokens" && a.GetValue().GetIntValue() == 42 {
			found = true
		}
	}
	if !found {
		t.Errorf("finished attributes not exported: %v", attrs)
	}

	// Without a finisher, Pending is dropped and the span goes as it is.
	res, err = Flush(context.Background(), cfg.opts(FlushOptions{}))
	if err != nil || res.Sent != 1 || res.Remaining != 0 {
		t.Fatalf("no finisher: %+v %v", res, err)
	}
}

// TestFlushLingerNoStranding: spans queued while a background flusher
// lingers, and right at its end, are delivered by it.
func TestFlushLingerNoStranding(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	cfg := testConfig(t, c, p)
	lock, err := AcquireFlusherLock(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	first := testSpans("linger-1", 5)
	enqueue(t, cfg, first)
	second := testSpans("linger-2", 5)
	clk := newFakeClock()
	clk.onWait = func(n int, d time.Duration) {
		if n != 2 {
			return
		}
		// A hook during the linger: the lock is held, so it starts
		// nothing.
		enqueue(t, cfg, second)
		if started, err := StartFlusher(cfg.StateDir, time.Time{}, time.Now()); started || err != nil {
			t.Errorf("StartFlusher while a flusher runs: %v %v", started, err)
		}
	}
	const linger = 1500 * time.Millisecond
	res, err := Flush(context.Background(), clk.opts(cfg.opts(FlushOptions{Lock: lock, Linger: linger})))
	if err != nil || res.Sent != 10 || res.Remaining != 0 {
		t.Errorf("result %+v %v", res, err)
	}
	// Two looks into the linger after the first spans, then a whole
	// linger after the second.
	if s := clk.slept(); s < 2*lingerPoll+linger {
		t.Errorf("lingered %v in all, want at least %v", s, 2*lingerPoll+linger)
	}
	assertDelivered(t, c, append(first, second...))
	if FlusherPID(cfg.StateDir) != 0 {
		t.Error("lock file still names a flusher after release")
	}
}

// A background flusher that starts while the hooks of a parallel tool
// round are still queueing waits for the outbox to stop growing and
// sends the round in one request; without Gather it sends as it finds.
// The hooks queue perLook spans during each of the flusher's waits.
func TestFlushGathersARound(t *testing.T) {
	p := otlptest.MustPKI(t)
	run := func(gather time.Duration, perLook int) (requests int, progress string) {
		c := otlptest.MustStart(t, p)
		cfg := testConfig(t, c, p)
		all := testSpans(fmt.Sprint("gather", gather, perLook), 40)
		enqueue(t, cfg, all[:1])
		next := 1
		clk := newFakeClock()
		clk.onWait = func(n int, d time.Duration) {
			if next < len(all) {
				end := min(next+perLook, len(all))
				enqueue(t, cfg, all[next:end])
				next = end
			}
		}
		var out strings.Builder
		res, err := Flush(context.Background(), clk.opts(cfg.opts(FlushOptions{Gather: gather, Linger: 400 * time.Millisecond, Progress: &out})))
		if err != nil || res.Sent != len(all) || res.Remaining != 0 {
			t.Fatalf("gather %v: %+v %v", gather, res, err)
		}
		assertDelivered(t, c, all)
		return c.Stats().Requests, out.String()
	}
	// A round of 40 spans arriving 3 per look: one request with Gather,
	// one per look without.
	if n, _ := run(DefaultGather, 3); n != 1 {
		t.Errorf("%d requests with Gather, want the round in one", n)
	}
	if n, _ := run(0, 3); n != 14 {
		t.Errorf("%d requests without Gather, want 14 (1 + 39 spans, 3 per look)", n)
	}
	// One span per look: the outbox grows for longer than Gather, so the
	// flusher sends what arrived within Gather, then gathers the rest.
	n, progress := run(DefaultGather, 1)
	first := int(DefaultGather/gatherPoll) + 1
	if want := fmt.Sprintf("sent %d/%d spans\n", first, first); n != 2 || !strings.HasPrefix(progress, want) {
		t.Errorf("Gather %v, a span per %v look: %d requests, progress:\n%s\nwant 2, the first %q", DefaultGather, gatherPoll, n, progress, want)
	}
}

func init() {
	// A test must never start the test binary as a flusher.
	executable = func() (string, error) { return "", errors.New("no flusher executable in tests") }
}

func TestFlusherLock(t *testing.T) {
	dir := t.TempDir()
	l, err := AcquireFlusherLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireFlusherLock(dir); !errors.Is(err, ErrFlusherBusy) {
		t.Errorf("second acquire: %v", err)
	}
	if pid := FlusherPID(dir); pid != os.Getpid() {
		t.Errorf("FlusherPID = %d", pid)
	}
	// StartFlusher respects the backoff window before touching the lock.
	if started, err := StartFlusher(dir, time.Now().Add(time.Minute), time.Now()); started || err != nil {
		t.Errorf("StartFlusher in backoff: %v %v", started, err)
	}
	l.Release()
	l.Release()
	if FlusherPID(dir) != 0 {
		t.Error("pid left after release")
	}
	if !l.Reacquire() {
		t.Error("reacquire failed")
	}
	l.Release()
	// Adopting a descriptor that is not the lock file falls back to
	// taking the lock.
	f, _ := os.CreateTemp(dir, "x")
	defer f.Close()
	l2, err := AdoptFlusherLock(dir, f.Fd())
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
}

func TestFlushNow(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	cfg := testConfig(t, c, p)
	spans := testSpans("now", 10)
	enqueue(t, cfg, spans)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := FlushNow(ctx, cfg.opts(FlushOptions{}))
	if err != nil || res.Sent != 10 {
		t.Fatalf("%+v %v", res, err)
	}
	assertDelivered(t, c, spans)

	// With the collector failing, FlushNow returns at once and keeps the spans.
	c.FailWith(503)
	enqueue(t, cfg, testSpans("now-2", 3))
	start := time.Now()
	res, err = FlushNow(ctx, cfg.opts(FlushOptions{}))
	if err == nil || res.Remaining != 3 || time.Since(start) > 2*time.Second {
		t.Errorf("failing: %+v %v after %v", res, err, time.Since(start))
	}
}

// In sync mode the hook must not wait for a running flusher (it may hold
// flusher.lock for a minute while token usage settles): FlushNow returns
// at once, and the running flusher, which looks at the outbox again after
// releasing its lock, sends what the hook queued.
func TestFlushNowDoesNotWaitForARunningFlusher(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	cfg := testConfig(t, c, p)
	cfg.Timeout = 5 * time.Second
	held, err := AcquireFlusherLock(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	enqueue(t, cfg, testSpans("busy", 2))
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	start := time.Now()
	res, err := FlushNow(ctx, cfg.opts(FlushOptions{}))
	if !errors.Is(err, ErrFlusherBusy) || res.Sent != 0 {
		t.Errorf("FlushNow with the lock held: %+v, %v; want ErrFlusherBusy", res, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("FlushNow waited %v for the running flusher", d)
	}
}

// Sync mode's deadline is hard: with the database held by someone else,
// FlushNow gives up when its context does (plus a short grace for the
// final transaction), not after the flusher's usual 5 s waits.
func TestFlushNowDeadlineBoundsDatabaseWait(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	cfg := testConfig(t, c, p)
	enqueue(t, cfg, testSpans("held", 1))
	st, err := state.Open(state.Options{Dir: cfg.StateDir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// On the real clock (the wait is the database's lock), but short:
	// without the deadline the flusher waits 5 s for the database.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := FlushNow(ctx, cfg.opts(FlushOptions{})); err == nil {
		t.Error("FlushNow succeeded with the database held")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("FlushNow took %v with a 300 ms deadline", d)
	}
}

func BenchmarkFlush(b *testing.B) {
	p := otlptest.MustPKI(b)
	c := otlptest.MustStart(b, p)
	cfg := testConfig(b, c, p)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		enqueue(b, cfg, testSpans("bench"+strings.Repeat("x", i), 5000))
		b.StartTimer()
		res, err := Flush(context.Background(), cfg.opts(FlushOptions{}))
		if err != nil || res.Sent != 5000 {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(5000*b.N)/b.Elapsed().Seconds(), "spans/s")
}

// TestFlushNoStrandingPendingSpan: a hook that queues a span whose usage
// is not ready yet (a turn at Stop) just before the background flusher
// releases its lock finds the lock held and starts nothing; the flusher's
// last look must then wait for that span, not exit and leave it queued
// until some later hook (none comes after a session's last Stop).
func TestFlushNoStrandingPendingSpan(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	finisher := func(s *tracing.Span, now time.Time) (bool, time.Time) {
		if now.Before(s.ReadyAt) {
			return false, s.ReadyAt
		}
		s.Pending = nil
		return true, time.Time{}
	}
	// The span is queued at the n-th clock reading that happens while the
	// store is free, so that some n falls between the flusher's last look
	// and its release, whatever the order of the readings.
	for n := 1; n <= 8; n++ {
		cfg := testConfig(t, c, p)
		lock, err := AcquireFlusherLock(cfg.StateDir)
		if err != nil {
			t.Fatal(err)
		}
		late := testSpans(fmt.Sprintf("late-pending-%d", n), 1)[0]
		late.Pending = json.RawMessage(`{"scope":"turn"}`)
		calls, queued, hookStarted := 0, false, false
		clk := newFakeClock()
		now := func() time.Time {
			calls++
			if calls < n || queued {
				return clk.Now()
			}
			st, err := state.Open(state.Options{Dir: cfg.StateDir, LockTimeout: 10 * time.Millisecond})
			if err != nil {
				return clk.Now() // inside the flusher's transaction: next time
			}
			late.ReadyAt = clk.Now().Add(100 * time.Millisecond)
			b, _ := late.Marshal()
			if err := st.Update(func(tx *state.Tx) error { return tx.Enqueue(b) }); err != nil {
				t.Error(err)
			}
			st.Close()
			queued = true
			// What the hook does next: take the lock if it is free.
			if l, err := AcquireFlusherLock(cfg.StateDir); err == nil {
				hookStarted = true // it would start a flusher itself
				l.Release()
			}
			return clk.Now()
		}
		res, err := Flush(context.Background(), cfg.opts(FlushOptions{
			Finisher: finisher, Lock: lock, WaitPending: true, Retry: true, Now: now, Wait: clk.Wait,
		}))
		lock.Release()
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !queued || hookStarted {
			continue
		}
		if res.Remaining != 0 || res.Sent != 1 {
			t.Errorf("n=%d: a pending span queued while the lock was held was left behind: %+v", n, res)
		}
	}
}

// testCfg is what a test flusher needs: the exporter's options for the
// test collector and a state directory.
type testCfg struct {
	tracing.Options
	StateDir string
}

func testConfig(t testing.TB, c *otlptest.Receiver, p *otlptest.PKI) *testCfg {
	return &testCfg{
		Options: tracing.Options{
			Endpoint: c.TracesURL(), Protocol: "http/protobuf", Compression: "gzip", Timeout: 5 * time.Second,
			CA: p.ServerCA.Path, ClientCert: p.ClientCert, ClientKey: p.ClientKey,
			ServiceName: tracing.DefaultServiceName, Version: "test",
		},
		StateDir: t.TempDir(),
	}
}

// opts completes o with the store and export of c.
func (c *testCfg) opts(o FlushOptions) FlushOptions {
	o.Store = state.Options{Dir: c.StateDir, LockTimeout: 2 * time.Second}
	o.Export = c.Options
	return o
}

// testSpans is a session root and n-1 tool calls under it.
func testSpans(seed string, n int) []*tracing.Span {
	h := sha256.Sum256([]byte("trace/" + seed))
	var tid tracing.TraceID
	copy(tid[:], h[:16])
	spanID := func(i int) tracing.SpanID {
		h := sha256.Sum256([]byte(fmt.Sprintf("span/%s/%d", seed, i)))
		var s tracing.SpanID
		copy(s[:], h[:8])
		return s
	}
	root := spanID(0)
	spans := make([]*tracing.Span, n)
	for i := range spans {
		s := &tracing.Span{
			TraceID: tid, SpanID: spanID(i), Name: fmt.Sprintf("execute_tool Bash %d", i),
			Start: t0.Add(time.Duration(i) * time.Millisecond), End: t0.Add(time.Duration(i)*time.Millisecond + 1500*time.Microsecond),
			Attrs: []tracing.Attr{tracing.String("gen_ai.tool.name", "Bash"), tracing.Int("n", int64(i)), tracing.Bool("ok", true), tracing.Float("f", 0.5), tracing.Strings("models", "a", "b")},
		}
		if i > 0 {
			s.ParentSpanID = root
		} else {
			s.Name = "invoke_agent claude-code"
			s.End = t0.Add(time.Hour)
			s.Events = []tracing.Event{{Name: "Notification", Time: t0.Add(time.Second), Attrs: []tracing.Attr{tracing.String("kind", "idle")}}}
			s.Links = []tracing.Link{{TraceID: tracing.TraceID{1}, SpanID: tracing.SpanID{2}, Attrs: []tracing.Attr{tracing.String("l", "v")}}}
			s.StatusCode, s.StatusMessage = tracing.StatusError, "boom"
		}
		spans[i] = s
	}
	return spans
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
