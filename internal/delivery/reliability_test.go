package delivery

import (
	"context"
	"encoding/json"
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
