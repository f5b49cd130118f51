package delivery

import (
	"bytes"
	"context"
	"path/filepath"
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
