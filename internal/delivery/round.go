package delivery

import (
	"time"

	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// One round of the flusher: apply what the last round decided, read the
// next batch, finish pending work (token usage) of what is ready.

// outcome is what a round changes in the store: applied at the start of
// the next round's transaction (one open per round, not two), or by final.
type outcome struct {
	remove    []uint64 // exported
	discard   []uint64 // damaged: a checksum that fails, bytes that do not decode
	keep      []item   // not exported: written back if their pending work was done
	reject    []uint64 // dropped as refused for good
	partial   int      // spans of an accepted request that the collector rejected
	reason    string   // the collector's message for reject/partial
	attempted bool     // an export was tried: record it
	err       error
	next      time.Time
}

// settle queues o's changes for the next transaction.
func (f *flusher) settle(o outcome) {
	p := &f.pending
	p.remove = append(p.remove, o.remove...)
	p.keep = append(p.keep, o.keep...)
	p.reject = append(p.reject, o.reject...)
	p.discard = append(p.discard, o.discard...)
	p.partial += o.partial
	if o.reason != "" {
		p.reason = o.reason
	}
	if o.attempted {
		p.attempted, p.err, p.next = true, o.err, o.next
	}
}

// apply writes the pending outcome in tx.
func (f *flusher) apply(tx *state.Tx) error {
	p := &f.pending
	for _, it := range p.keep {
		if !it.finished {
			continue
		}
		b, err := it.span.Marshal()
		if err != nil {
			return err
		}
		if err := tx.Replace(it.key, b); err != nil {
			return err
		}
	}
	if len(p.remove) > 0 {
		if err := tx.Remove(p.remove); err != nil {
			return err
		}
	}
	if len(p.discard) > 0 {
		if err := tx.Discard(p.discard); err != nil {
			return err
		}
	}
	if len(p.reject) > 0 || p.partial > 0 {
		if err := tx.Reject(p.reject, len(p.reject)+p.partial, f.o.Now(), p.reason); err != nil {
			return err
		}
	}
	if p.attempted {
		return tx.RecordExport(f.o.Now(), p.err, p.next)
	}
	return nil
}

// applied is called after the transaction that applied the pending
// outcome committed.
func (f *flusher) applied() {
	if n := len(f.pending.reject) + f.pending.partial; n > 0 {
		f.res.Rejected += n
		f.res.LastRejection = f.pending.reason
	}
	f.pending = outcome{}
}

// item is one outbox entry in a round.
type item struct {
	key      uint64
	span     *tracing.Span
	finished bool // Pending was cleared this round: write back if not exported
}

// round reads the oldest entries. ready holds up to f.retry.batch spans to
// export; waiting counts spans whose pending work is not ready, with the
// earliest time to ask again.
type round struct {
	ready   []item
	damaged []uint64 // entries damaged (checksum, decoding): discarded
	waiting int
	retryAt time.Time
	queued  int
}

// open opens the store for a round's transaction.
func (f *flusher) open() (*state.Store, error) {
	so := f.o.Store
	lt := so.LockTimeout
	if lt < 5*time.Second {
		lt = 5 * time.Second // the flusher can afford to wait for hooks
	}
	// Under a deadline (sync mode: a hook is waiting) the wait ends with
	// it, with a short grace so that the last transaction, which removes
	// what the collector accepted, can still run.
	if !f.deadline.IsZero() {
		lt = min(lt, max(time.Until(f.deadline), 250*time.Millisecond))
	}
	so.LockTimeout = lt
	st, err := state.Open(so)
	if err != nil {
		return nil, err
	}

	if now := f.o.Now(); now.Sub(f.lastSync) >= syncEvery {
		if err := st.Sync(); err != nil {
			f.o.Logf("sync: %v", err)
		}
		f.lastSync = now
	}
	return st, nil
}

// read applies the last round's outcome and reads the next batch in one
// transaction, closes the store, and only then finishes the spans'
// pending work: the finisher reads transcripts (large, slow, or not even
// regular files), and hooks must never wait for that. What it finished is
// written back by the next transaction (outcome.keep), unless exported.
func (f *flusher) read() (*round, error) {
	st, err := f.open()
	if err != nil {
		return nil, err
	}
	var entries []state.Entry
	r := &round{}
	if !f.swept && f.o.Sweep != nil {
		f.swept = true
		// A transaction of its own: a sweep that fails is rolled back
		// whole (no tombstone without its spans queued), and costs the
		// round nothing.
		err = st.Update(func(tx *state.Tx) error {
			if err := f.sameDatabase(tx); err != nil {
				return err
			}
			return f.o.Sweep(tx, f.o.Now())
		})
		if err != nil {
			f.o.Logf("sweep: %v", err)
		}
	}
	err = st.Update(func(tx *state.Tx) error {
		if err := f.sameDatabase(tx); err != nil {
			return err
		}
		if err := f.apply(tx); err != nil {
			return err
		}
		// Look past spans that are not ready yet, within reason.
		entries, err = tx.Peek(min(f.retry.batch*2, f.retry.batch+4096))
		r.queued = tx.Counters().Queued
		return err
	})
	st.Close()
	if err != nil {
		return nil, err
	}
	f.applied()
	f.take(r, entries)
	return r, nil
}

// take sorts the entries read into r: up to a batch of spans ready to
// export (their pending work finished now if it can be), the ones still
// waiting for it, and the damaged (counted as damage: the collector
// never saw them).
func (f *flusher) take(r *round, entries []state.Entry) {
	now := f.o.Now()
	spans := 0 // in r.ready, with the chat spans each carries (Extra)
	for _, e := range entries {
		if spans >= f.retry.batch {
			break
		}
		if e.Damaged {
			f.o.Logf("discarding damaged outbox entry %d (%d bytes): checksum mismatch", e.Key, len(e.Value))
			r.damaged = append(r.damaged, e.Key)
			continue
		}
		s, err := tracing.UnmarshalSpan(e.Value)
		if err != nil || !s.TraceID.IsValid() || !s.SpanID.IsValid() {
			f.o.Logf("discarding undecodable outbox entry %d (%d bytes): %v", e.Key, len(e.Value), err)
			r.damaged = append(r.damaged, e.Key)
			continue
		}
		if _, ok := f.retry.suspects[e.Key]; ok {
			continue // refused on its own: try the others first
		}
		it := item{key: e.Key, span: s}
		if len(s.Pending) > 0 {
			switch {
			case f.o.Finisher == nil:
				s.Pending, s.ReadyAt = nil, time.Time{}
				it.finished = true
			case now.Before(s.ReadyAt):
				r.wait(s.ReadyAt)
				continue
			default:
				done, retryAt := f.finish(s, now)
				if !done {
					r.wait(retryAt)
					continue
				}
				s.Pending, s.ReadyAt = nil, time.Time{}
				it.finished = true
			}
		}
		// The batch bounds the spans of a request, chat spans included
		// (a turn may carry hundreds): a span that would overflow it
		// waits for the next request, its finished usage written back.
		n := 1 + len(s.Extra)
		if len(r.ready) > 0 && spans+n > f.retry.batch {
			if it.finished {
				f.settle(outcome{keep: []item{it}})
			}
			break
		}
		spans += n
		r.ready = append(r.ready, it)
	}
}

func (f *flusher) finish(s *tracing.Span, now time.Time) (done bool, retryAt time.Time) {
	defer func() {
		if p := recover(); p != nil {
			f.o.Logf("finisher panicked on span %s: %v (exported without usage)", s.SpanID, p)
			done, retryAt = true, time.Time{}
		}
	}()
	return f.o.Finisher(s, now)
}

// gather reports whether to wait for more spans before sending r's: the
// batch is not full, the outbox grew since the last look (or this is the
// first), and Gather has not passed since the first look. It resets its
// state when the answer is no.
func (f *flusher) gather(r *round) bool {
	now, g := f.o.Now(), &f.idle
	if f.o.Gather > 0 && len(r.ready) < f.retry.batch && len(f.retry.suspects) == 0 &&
		(g.gatherSince.IsZero() || (r.queued > g.gathered && now.Sub(g.gatherSince) < f.o.Gather)) {
		if g.gatherSince.IsZero() {
			g.gatherSince = now
		}
		g.gathered = r.queued
		return true
	}
	g.gatherSince, g.gathered = time.Time{}, 0
	return false
}

// spansOf returns the spans of items to export: each one followed by the
// spans its Finisher derived from it (tracing.Span.Extra).
func spansOf(items []item) []*tracing.Span {
	spans := make([]*tracing.Span, 0, len(items))
	for _, it := range items {
		spans = append(spans, it.span)
		spans = append(spans, it.span.Extra...)
	}
	return spans
}

func (r *round) wait(at time.Time) {
	r.waiting++
	if r.retryAt.IsZero() || at.Before(r.retryAt) {
		r.retryAt = at
	}
}
