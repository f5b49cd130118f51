package binrec

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// Every single flipped bit of a sealed record, trailer included, is
// found; the record round-trips.
func TestSeal(t *testing.T) {
	rec := AppendString(AppendTime(nil, time.Unix(1e9, 5)), "done")
	sealed := Seal(bytes.Clone(rec))
	if got, err := Unseal(sealed); err != nil || !bytes.Equal(got, rec) {
		t.Fatalf("Unseal: %q, %v", got, err)
	}
	for i := range len(sealed) * 8 {
		c := bytes.Clone(sealed)
		c[i/8] ^= 1 << (i % 8)
		if _, err := Unseal(c); !errors.Is(err, ErrChecksum) {
			t.Fatalf("bit %d flipped: %v, want ErrChecksum", i, err)
		}
	}
	for n := range SealLen {
		if _, err := Unseal(sealed[:n]); err == nil {
			t.Errorf("%d bytes: no error", n)
		}
	}
}

// BenchmarkSeal is the checksum's cost on a record of a hook's size (a
// PostToolUse seals and checks about 3 KB: head, index, span record,
// outbox entry, counters).
func BenchmarkSeal(b *testing.B) {
	rec := bytes.Repeat([]byte("ccotel record "), 1024/14)
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if _, err := Unseal(Seal(rec[:len(rec):len(rec)])); err != nil {
			b.Fatal(err)
		}
	}
}
