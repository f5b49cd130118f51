package importer

import (
	"errors"

	"github.com/ccotel/ccotel/state"
)

// errFull: the outbox has no room for the next session of the batch.
var errFull = errors.New("outbox full")

// commitOrWait commits the batch; while the outbox has no room for it,
// it asks Options.Wait (the flusher sends meanwhile), and when that gives
// up it sets r.full: what is left is deferred to a later import.
func (r *run) commitOrWait() error {
	for {
		err := r.commit()
		if err != errFull {
			return err
		}
		if r.o.Wait == nil || !r.o.Wait() {
			r.full = true
			return nil
		}
	}
}

// commit queues the batch in one transaction: each session's spans and
// its final state, unless the state learnt of the session meanwhile (a
// live hook). An import fills at most half of the outbox (importShare),
// the rest is for live sessions; what does not fit stays in the batch
// (errFull).
func (r *run) commit() error {
	if len(r.batch) == 0 {
		return nil
	}
	st, err := state.Open(r.o.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	maxSpans, maxBytes := outboxCap(r.o.Store)
	next := 0
	err = st.Update(func(tx *state.Tx) error {
		c := tx.Counters()
		for next = 0; next < len(r.batch); next++ {
			im := &r.batch[next]
			if tx.Session(im.id) != nil {
				r.sum.Seen++
				continue
			}
			if c.Queued > 0 && (c.Queued+len(im.spans) > maxSpans || c.QueuedBytes+im.size > maxBytes) {
				break
			}
			if err := tx.PutSession(im.id, im.head); err != nil {
				return err
			}
			for _, b := range im.spans {
				if err := tx.Enqueue(b); err != nil {
					return err
				}
			}
			c.Queued, c.QueuedBytes = c.Queued+len(im.spans), c.QueuedBytes+im.size
			r.sum.Imported++
			r.sum.Spans += len(im.spans)
		}
		r.sum.NextAttempt = tx.Counters().NextAttempt
		return nil
	})
	if err != nil {
		return err
	}
	r.batch = append(r.batch[:0], r.batch[next:]...)
	r.pending = 0
	for _, im := range r.batch {
		r.pending += len(im.spans)
	}
	if len(r.batch) > 0 {
		return errFull
	}
	return nil
}

// importShare: an import fills at most 1/importShare of the outbox.
const importShare = 2

func outboxCap(o state.Options) (spans int, bytes int64) {
	spans, bytes = o.OutboxMaxSpans, o.OutboxMaxBytes
	if spans <= 0 {
		spans = state.DefaultOutboxMaxSpans
	}
	if bytes <= 0 {
		bytes = state.DefaultOutboxMaxBytes
	}
	return spans / importShare, bytes / importShare
}

// KnownSessions returns the sessions the state at o knows: open, or
// ended (a tombstone), whether exported live or imported.
func KnownSessions(o state.Options) (map[string]bool, error) {
	o.ReadOnly = true
	st, err := state.Open(o)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	known := map[string]bool{}
	err = st.View(func(tx *state.Tx) error {
		return tx.ForEachSession(func(id string, _ []byte) error {
			known[id] = true
			return nil
		})
	})
	return known, err
}
