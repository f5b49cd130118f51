package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// TestFinisherDoesNotHoldDatabase: while the finisher reads a transcript
// (here: blocks, as on a FIFO), hooks can still open the store at once.
func TestFinisherDoesNotHoldDatabase(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	cfg := testConfig(t, c, p)
	spans := testSpans("slowfinish", 3)
	spans[1].Pending = json.RawMessage(`{"scope":"turn"}`)
	spans[1].ReadyAt = time.Now().Add(-time.Second)
	enqueue(t, cfg, spans)

	entered, release := make(chan struct{}), make(chan struct{})
	finisher := func(s *tracing.Span, now time.Time) (bool, time.Time) {
		close(entered)
		<-release
		s.Pending = nil
		return true, time.Time{}
	}
	done := make(chan error, 1)
	go func() {
		_, err := Flush(context.Background(), cfg.opts(FlushOptions{Finisher: finisher}))
		done <- err
	}()
	<-entered
	// A hook of another session: the default 2 s wait is what loses
	// events; it must not even need 200 ms.
	start := time.Now()
	st, err := state.Open(state.Options{Dir: cfg.StateDir, LockTimeout: 200 * time.Millisecond})
	if err != nil {
		close(release)
		<-done
		t.Fatalf("a hook could not open the store while the finisher ran: %v", err)
	}
	if err := st.Update(func(tx *state.Tx) error { return tx.Enqueue([]byte("x")) }); err != nil {
		t.Error(err)
	}
	st.Close()
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("hook waited %s for the store", d)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, _ := c.Received()
	if len(got) != 3 {
		t.Errorf("delivered %d spans, want 3", len(got))
	}
}

// refuseSpan makes c refuse any request that contains a span named name
// with the given answer, and pass the others through.
func refuseSpan(c *otlptest.Receiver, name string, refusals *atomic.Int32, answer func(w http.ResponseWriter)) {
	c.Wrap(func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if strings.Contains(string(b), name) {
				refusals.Add(1)
				answer(w)
				return
			}
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			inner.ServeHTTP(w, r)
		})
	})
}

func plain(status int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// TestFlushOneSpanCannotBlockOutbox: a span refused with a plain-text 400,
// a 403 (a WAF) or a 500 is isolated and dropped with the collector's
// message; the 20 spans queued after it arrive.
func TestFlushOneSpanCannotBlockOutbox(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		reason string
	}{
		{"400 plain", plain(400, "span name not allowed"), "span name not allowed"},
		{"403", plain(403, "blocked by policy"), "blocked by policy"},
		{"500", plain(500, "cannot store span"), "cannot store span"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := otlptest.MustPKI(t)
			c := otlptest.MustStart(t, p)
			var refusals atomic.Int32
			refuseSpan(c, "poison", &refusals, tc.answer)
			cfg := testConfig(t, c, p)
			cfg.Protocol, cfg.Compression = "http/json", "none"
			spans := testSpans("block"+tc.name, 21)
			spans[0].Name = "poison"
			enqueue(t, cfg, spans)
			res, _ := Flush(context.Background(), cfg.opts(FlushOptions{Retry: true, MinBackoff: time.Millisecond, GiveUp: 2 * time.Second}))
			if res.Sent != 20 || res.Rejected != 1 || res.Remaining != 0 || !strings.Contains(res.LastRejection, tc.reason) {
				t.Errorf("result %+v", res)
			}
			assertDelivered(t, c, spans[1:])
			cn := counters(t, cfg.StateDir)
			if cn.Rejected != 1 || !strings.Contains(cn.LastRejection, tc.reason) {
				t.Errorf("rejected %d, last rejection %q", cn.Rejected, cn.LastRejection)
			}
			if n := refusals.Load(); n > 12 {
				t.Errorf("%d refused requests to isolate one span", n)
			}
		})
	}
}

// TestFlushRefusingEverythingKeepsSpans: a 401/403/404 for every request
// is configuration, not poison: nothing is dropped.
func TestFlushRefusingEverythingKeepsSpans(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			p := otlptest.MustPKI(t)
			c := otlptest.MustStart(t, p)
			var refusals atomic.Int32
			c.Handle(func(w http.ResponseWriter) { refusals.Add(1); plain(status, "no")(w) })
			cfg := testConfig(t, c, p)
			spans := testSpans("all"+strconv.Itoa(status), 40)
			enqueue(t, cfg, spans)
			res, err := Flush(context.Background(), cfg.opts(FlushOptions{}))
			if err == nil || res.Rejected != 0 || res.Remaining != 40 {
				t.Fatalf("result %+v, %v", res, err)
			}
			if cn := counters(t, cfg.StateDir); cn.Queued != 40 || cn.Rejected != 0 || cn.NextAttempt.IsZero() { // a backoff window was recorded (compared with nothing: a loaded machine is slow)
				t.Errorf("counters %+v", cn)
			}
			if n := refusals.Load(); n > 12 {
				t.Errorf("%d requests before concluding configuration", n)
			}
			c.Handle(nil)
			if res, err := Flush(context.Background(), cfg.opts(FlushOptions{})); err != nil || res.Sent != 40 {
				t.Errorf("after the fix: %+v %v", res, err)
			}
			assertDelivered(t, c, spans)
		})
	}
}

// TestFlushNeverFollowsRedirects: a 302 to a page that answers 200 is not
// a delivery, and a 307 to plain http:// never receives the spans or the
// header secrets.
func TestFlushNeverFollowsRedirects(t *testing.T) {
	var leaked atomic.Int32
	plainSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
		w.WriteHeader(200)
	}))
	defer plainSrv.Close()
	for _, status := range []int{301, 302, 303, 307, 308} {
		p := otlptest.MustPKI(t)
		c := otlptest.MustStart(t, p)
		c.Handle(func(w http.ResponseWriter) {
			w.Header().Set("Location", plainSrv.URL+"/v1/traces")
			w.WriteHeader(status)
		})
		cfg := testConfig(t, c, p)
		cfg.Headers = map[string]string{"Authorization": "Bearer secret"}
		enqueue(t, cfg, testSpans("redirect", 5))
		res, err := Flush(context.Background(), cfg.opts(FlushOptions{}))
		var ee *tracing.ExportError
		if !errors.As(err, &ee) || ee.Kind != tracing.FailRedirect || res.Sent != 0 || res.Remaining != 5 {
			t.Errorf("%d: %+v %v", status, res, err)
		}
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the redirect target received %d requests", n)
	}
}

// TestFlushHTMLAnswerIsNotDelivery: a login page answering 200 keeps the
// spans queued.
func TestFlushHTMLAnswerIsNotDelivery(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	c.Handle(func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><title>Sign in</title></html>")
	})
	cfg := testConfig(t, c, p)
	enqueue(t, cfg, testSpans("html", 5))
	res, err := Flush(context.Background(), cfg.opts(FlushOptions{}))
	if err == nil || res.Sent != 0 || res.Remaining != 5 {
		t.Errorf("%+v %v", res, err)
	}
	if cn := counters(t, cfg.StateDir); cn.Exported != 0 || cn.Queued != 5 {
		t.Errorf("counters %+v", cn)
	}
}

// TestStartFlusherIgnoresRetryTimeFromAClockAhead: a NextAttempt an hour
// ahead (written while the clock ran ahead) does not keep hooks from
// starting a flusher; one within the backoff window does.
func TestStartFlusherIgnoresRetryTimeFromAClockAhead(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if started, err := StartFlusher(dir, now.Add(20*time.Second), now); started || err != nil {
		t.Errorf("within the backoff window: started %v, %v", started, err)
	}
	// The test's executable refuses to run: an error here means
	// StartFlusher tried to start one.
	if _, err := StartFlusher(dir, now.Add(time.Hour), now); err == nil || !strings.Contains(err.Error(), "no flusher executable") {
		t.Errorf("an hour ahead: StartFlusher did not try to start a flusher (%v)", err)
	}
}

// replacingExporter deletes and recreates the state directory during its
// first export (with one span queued in the new database), then accepts.
type replacingExporter struct {
	t     *testing.T
	dir   string
	fresh []*tracing.Span
	calls int
}

func (e *replacingExporter) Export(ctx context.Context, spans []*tracing.Span) error {
	e.calls++
	if e.calls == 1 {
		if err := os.RemoveAll(e.dir); err != nil {
			e.t.Error(err)
		}
		enqueue(e.t, &testCfg{StateDir: e.dir}, e.fresh)
	}
	return nil
}

func (e *replacingExporter) Close() error { return nil }

// TestFlusherStopsWhenDatabaseReplaced: the state directory deleted and
// recreated under a running flusher: it stops and leaves the new
// database alone (its span stays queued, nothing counted as exported).
func TestFlusherStopsWhenDatabaseReplaced(t *testing.T) {
	cfg := &testCfg{StateDir: t.TempDir()}
	enqueue(t, cfg, testSpans("old", 3))
	fresh := testSpans("new", 1)
	exp := &replacingExporter{t: t, dir: cfg.StateDir, fresh: fresh}
	o := cfg.opts(FlushOptions{Exporter: exp, Batch: 2})
	_, err := Flush(context.Background(), o)
	if !errors.Is(err, ErrDatabaseReplaced) {
		t.Errorf("Flush: %v, want ErrDatabaseReplaced", err)
	}
	cn := counters(t, cfg.StateDir)
	if cn.Queued != 1 || cn.Exported != 0 || cn.Enqueued != 1 {
		t.Errorf("the new database was touched: %+v", cn)
	}
	if exp.calls != 1 {
		t.Errorf("%d exports after the replacement", exp.calls-1)
	}
}
