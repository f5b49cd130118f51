package delivery

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
	"github.com/ccotel/ccotel/tracing"
	bolt "go.etcd.io/bbolt"
)

// A flipped bit in an outbox entry is found by its checksum: the entry
// is discarded and counted as damage, never delivered altered (a session
// id "done" once arrived as "dkne") nor counted as refused by the
// collector, which never saw it.
func TestDamagedOutboxEntryNotDelivered(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	cfg := testConfig(t, c, p)
	spans := testSpans("flip", 3)
	spans[1].Attrs = append(spans[1].Attrs, tracing.String("gen_ai.conversation.id", "done"))
	enqueue(t, cfg, spans)
	flipInOutbox(t, cfg.StateDir, 2, []byte("done"))

	res, err := Flush(context.Background(), cfg.opts(FlushOptions{Retry: true, MinBackoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 2 || res.Rejected != 0 || res.Remaining != 0 {
		t.Errorf("result %+v", res)
	}
	assertDelivered(t, c, []*tracing.Span{spans[0], spans[2]})
	if cn := counters(t, cfg.StateDir); cn.Damaged != 1 || cn.Rejected != 0 || cn.Exported != 2 || cn.Queued != 0 {
		t.Errorf("counters: damaged %d, rejected %d, exported %d, queued %d", cn.Damaged, cn.Rejected, cn.Exported, cn.Queued)
	}
}

// flipInOutbox flips one bit of what in the outbox entry with sequence
// number seq, as a damaged disk would.
func flipInOutbox(t *testing.T, dir string, seq uint64, what []byte) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "ccotel.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		ob := tx.Bucket([]byte("outbox"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, byte(seq)}
		v := bytes.Clone(ob.Get(k))
		i := bytes.Index(v, what)
		if i < 0 {
			t.Fatalf("entry %d holds no %q", seq, what)
		}
		v[i+1] ^= 0x04 // "done" → "dkne"
		return ob.Put(k, v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The batch bounds the spans of a request, chat spans (a finished span's
// Extra) included: a turn's 100 000 responses once went out as 100 002
// spans in one request.
func TestBatchCountsChatSpans(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	var mu sync.Mutex
	var perRequest []int
	c.Wrap(func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			perRequest = append(perRequest, strings.Count(string(b), `"spanId"`))
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
			inner.ServeHTTP(w, r)
		})
	})
	cfg := testConfig(t, c, p)
	cfg.Protocol, cfg.Compression = "http/json", "none"
	spans := testSpans("chatty", 5)
	for _, s := range spans {
		s.Pending, s.Links = []byte(`{}`), nil // a link names a "spanId" too
	}
	enqueue(t, cfg, spans)
	finisher := func(s *tracing.Span, _ time.Time) (bool, time.Time) {
		for i := range 300 {
			x := *s
			x.Pending, x.Extra, x.ParentSpanID = nil, nil, s.SpanID
			x.SpanID[0], x.SpanID[1] = byte(i), byte(i>>8)+1
			x.Name = "chat"
			s.Extra = append(s.Extra, &x)
		}
		return true, time.Time{}
	}
	res, err := Flush(context.Background(), cfg.opts(FlushOptions{Retry: true, Batch: 512, Finisher: finisher}))
	if err != nil || res.Remaining != 0 {
		t.Fatalf("flush: %+v %v", res, err)
	}
	total := 0
	for _, n := range perRequest {
		total += n
		if n > 512 {
			t.Errorf("a request of %d spans (batch 512): %v", n, perRequest)
		}
	}
	if st := c.Stats(); total != 5*301 || st.Dups() != 0 {
		t.Errorf("%d spans sent (%d dups), want %d", total, st.Dups(), 5*301)
	}
}
