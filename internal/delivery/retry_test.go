package delivery

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// downExporter fails as an unreachable collector does (kind), until
// clk passes upAt; then it accepts.
type downExporter struct {
	clk   *fakeClock
	upAt  time.Time
	kind  tracing.FailureKind
	calls int
	sent  int
}

func (e *downExporter) Export(ctx context.Context, spans []*tracing.Span) error {
	e.calls++
	if e.upAt.IsZero() || e.clk.Now().Before(e.upAt) {
		return &tracing.ExportError{Kind: e.kind, Status: map[tracing.FailureKind]int{tracing.FailUnavailable: 503}[e.kind]}
	}
	e.sent += len(spans)
	return nil
}

func (e *downExporter) Close() error { return nil }

// An idle laptop: its spans are queued, the collector is unreachable for
// three hours (connection refused, timeouts, 503), and no hook event
// comes. The flusher keeps trying, backing off up to DefaultMaxBackoff
// with jitter, and delivers within DefaultMaxBackoff of the collector's
// return: it does not give up after 2 minutes and wait for the next event.
func TestFlusherKeepsTryingWhileCollectorIsDown(t *testing.T) {
	for _, kind := range []tracing.FailureKind{tracing.FailRefused, tracing.FailTimeout, tracing.FailUnavailable, tracing.FailOther} {
		t.Run(kind.String(), func(t *testing.T) {
			cfg := &testCfg{StateDir: t.TempDir()}
			spans := testSpans("idle", 5)
			enqueue(t, cfg, spans)
			clk := newFakeClock()
			outage := 3 * time.Hour
			exp := &downExporter{clk: clk, upAt: clk.Now().Add(outage), kind: kind}
			start := clk.Now()
			res, err := Flush(context.Background(), clk.opts(cfg.opts(FlushOptions{Exporter: exp, Retry: true})))
			if err != nil || res.Sent != 5 || res.Remaining != 0 {
				t.Fatalf("after a %v outage: %+v %v", outage, res, err)
			}
			if drain := clk.Now().Sub(start) - outage; drain > DefaultMaxBackoff {
				t.Errorf("delivered %v after the collector came back, want within %v", drain, DefaultMaxBackoff)
			}
			checkBackoffs(t, clk.waits)
			// About one attempt per 3 minutes (backoffs of 2-4 min), not
			// a request storm.
			if exp.calls > 80 || exp.calls < 40 {
				t.Errorf("%d attempts in a %v outage, want 40-80", exp.calls, outage)
			}
		})
	}
}

// checkBackoffs: every wait is at most DefaultMaxBackoff, and once the
// backoff reached the cap every wait is at least half of it (jitter).
func checkBackoffs(t *testing.T, waits []time.Duration) {
	t.Helper()
	capped := false
	for i, d := range waits {
		if d > DefaultMaxBackoff {
			t.Fatalf("wait %d: %v, more than the %v cap", i, d, DefaultMaxBackoff)
		}
		if capped && d < DefaultMaxBackoff/2 && d > time.Second {
			t.Fatalf("wait %d: %v after the backoff reached its cap", i, d)
		}
		capped = capped || d >= DefaultMaxBackoff/2
	}
}

// The flusher stops after RetryFor (default 24 h) of an unreachable
// collector, with the spans queued and the next attempt recorded.
func TestFlusherGivesUpAfterRetryFor(t *testing.T) {
	for _, retryFor := range []time.Duration{0, 90 * time.Minute} {
		cfg := &testCfg{StateDir: t.TempDir()}
		enqueue(t, cfg, testSpans("forever", 3))
		clk := newFakeClock()
		exp := &downExporter{clk: clk, kind: tracing.FailRefused}
		res, err := Flush(context.Background(), clk.opts(cfg.opts(FlushOptions{Exporter: exp, Retry: true, RetryFor: retryFor})))
		var ee *tracing.ExportError
		if !errors.As(err, &ee) || ee.Kind != tracing.FailRefused || res.Remaining != 3 {
			t.Fatalf("RetryFor %v: %+v %v", retryFor, res, err)
		}
		want := retryFor
		if want == 0 {
			want = DefaultRetryFor
		}
		if s := clk.slept(); s < want || s > want+DefaultMaxBackoff {
			t.Errorf("RetryFor %v: gave up after %v of backoff", retryFor, s)
		}
		if cn := counters(t, cfg.StateDir); cn.Queued != 3 || !cn.NextAttempt.After(clk.Now()) {
			t.Errorf("RetryFor %v: counters after giving up %+v", retryFor, cn)
		}
	}
}

// A refusal that retrying does not fix (the server refuses the client
// certificate, a TLS failure, a login page) still stops after GiveUp
// (2 min), long before RetryFor, so that doctor and status report it.
func TestFlusherStopsOnPermanentRefusal(t *testing.T) {
	for _, kind := range []tracing.FailureKind{tracing.FailClientCertRejected, tracing.FailServerUntrusted, tracing.FailNotOTLP} {
		cfg := &testCfg{StateDir: t.TempDir()}
		enqueue(t, cfg, testSpans("badcert", 3))
		clk := newFakeClock()
		exp := &downExporter{clk: clk, kind: kind}
		res, err := Flush(context.Background(), clk.opts(cfg.opts(FlushOptions{Exporter: exp, Retry: true})))
		if err == nil || res.Remaining != 3 {
			t.Fatalf("%v: %+v %v", kind, res, err)
		}
		if s := clk.slept(); s < defaultGiveUp || s > defaultGiveUp+DefaultMaxBackoff {
			t.Errorf("%v: stopped after %v, want about %v", kind, s, defaultGiveUp)
		}
	}
}

// While it backs off, the flusher holds flusher.lock (a hook starts no
// second flusher) but not the database: a hook opens it at once, and the
// failed attempt and the next one are already recorded for status.
func TestWaitingFlusherHoldsOnlyItsLock(t *testing.T) {
	cfg := &testCfg{StateDir: t.TempDir()}
	enqueue(t, cfg, testSpans("waiting", 3))
	lock, err := AcquireFlusherLock(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	clk := newFakeClock()
	exp := &downExporter{clk: clk, kind: tracing.FailRefused}
	exp.upAt = clk.Now().Add(time.Hour)
	checked := 0
	clk.onWait = func(n int, d time.Duration) {
		if d < time.Minute || checked > 0 {
			return
		}
		checked = n
		st, err := state.Open(state.Options{Dir: cfg.StateDir, LockTimeout: 100 * time.Millisecond})
		if err != nil {
			t.Errorf("a hook could not open the database while the flusher waited: %v", err)
			return
		}
		var c state.Counters
		st.View(func(tx *state.Tx) error { c = tx.Counters(); return nil })
		st.Close()
		if c.Failures != n || c.NextAttempt.Before(clk.Now().Add(d)) {
			t.Errorf("while waiting (wait %d, %v): failures %d, next attempt %v; want %d and the end of this wait", n, d, c.Failures, c.NextAttempt, n)
		}
		if started, err := StartFlusher(cfg.StateDir, c.NextAttempt, c.NextAttempt); started || err != nil {
			t.Errorf("a hook started a second flusher while one waited: %v %v", started, err)
		}
	}
	res, err := Flush(context.Background(), clk.opts(cfg.opts(FlushOptions{Exporter: exp, Retry: true, Lock: lock})))
	if err != nil || res.Sent != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	if checked == 0 {
		t.Fatal("the flusher never waited a minute or more")
	}
}
