package state

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkHookTransaction is the hook's whole use of the store: Open,
// one Update that reads and rewrites a session and enqueues a span, Close.
func BenchmarkHookTransaction(b *testing.B) {
	for _, queued := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("queued=%d", queued), func(b *testing.B) {
			benchHook(b, queued)
		})
	}
}

func benchHook(b *testing.B, queued int) {
	opts := Options{Dir: b.TempDir()}
	span := bytes.Repeat([]byte("s"), 1500)
	session := bytes.Repeat([]byte("{}"), 1000)
	seed, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := seed.Update(func(tx *Tx) error {
		for i := 0; i < queued; i++ {
			if err := tx.Enqueue(span); err != nil {
				return err
			}
		}
		return tx.PutSession("session", session)
	}); err != nil {
		b.Fatal(err)
	}
	seed.Close()

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		err = s.Update(func(tx *Tx) error {
			old := tx.Session("session")
			if err := tx.PutSession("session", append([]byte(nil), old...)); err != nil {
				return err
			}
			if err := tx.Enqueue(span); err != nil {
				return err
			}
			_ = tx.Counters().NextAttempt
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
