package delivery

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ccotel/ccotel/tracing"
)

// fakeClock is a flusher's clock that does not sleep: Wait runs onWait
// (what happens meanwhile: a hook queues spans, the collector comes back)
// and moves the clock forward by d at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
	// onWait, when set, runs at the start of the n-th wait (n from 1).
	onWait func(n int, d time.Duration)
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Wait(ctx context.Context, d time.Duration) {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	n, on := len(c.waits), c.onWait
	c.mu.Unlock()
	if on != nil {
		on(n, d)
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// slept is the time the flusher waited on this clock.
func (c *fakeClock) slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum time.Duration
	for _, d := range c.waits {
		sum += d
	}
	return sum
}

// opts makes o's flusher run on c.
func (c *fakeClock) opts(o FlushOptions) FlushOptions {
	o.Now, o.Wait = c.Now, c.Wait
	return o
}

// The real wait: d on the real clock, and no longer than ctx.
func TestWaitHonoursContext(t *testing.T) {
	start := time.Now()
	wait(context.Background(), 20*time.Millisecond)
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("wait(20ms) returned after %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	start = time.Now()
	wait(ctx, time.Hour)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("wait(1h) outlived its context by %v", d)
	}
}

// The flusher waits through FlushOptions.Wait only: on a fake clock a
// run that backs off and lingers takes no real time for its waits.
func TestFlushWaitsOnItsClock(t *testing.T) {
	dir := t.TempDir()
	cfg := &testCfg{StateDir: dir}
	enqueue(t, cfg, testSpans("clock", 2))
	clk := newFakeClock()
	exp := &failingExporter{fail: 3}
	start := time.Now()
	res, err := Flush(context.Background(), clk.opts(cfg.opts(FlushOptions{
		Exporter: exp, Retry: true, Linger: time.Minute, MinBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second,
	})))
	if err != nil || res.Sent != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	// Three backoffs of 5-10 s, then a minute of linger.
	if s := clk.slept(); s < time.Minute+15*time.Second {
		t.Errorf("slept %v on the fake clock, want the backoffs and the linger", s)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a run on the fake clock took %v of real time", d)
	}
}

// failingExporter fails its first fail exports as an outage would, then
// accepts.
type failingExporter struct{ fail, calls int }

func (e *failingExporter) Export(ctx context.Context, spans []*tracing.Span) error {
	e.calls++
	if e.calls <= e.fail {
		return &tracing.ExportError{Kind: tracing.FailUnavailable, Status: 503}
	}
	return nil
}

func (e *failingExporter) Close() error { return nil }
