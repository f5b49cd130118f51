package hook

import (
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// Prepare does the little file I/O an event needs, so that callers can do
// it before they open the database and hold its lock for the transaction
// alone: one stat of the transcript on UserPromptSubmit and SessionStart
// (the byte offset where the turn's token usage will be read from), and on
// SubagentStart one non-blocking read of the subagent's small meta file
// (the Agent call that launched it): EventTable's PreLock. It runs once
// per event; Record calls it for callers that did not.
func Prepare(ev *Event, opts Options) {
	if ev == nil || ev.prepared {
		return
	}
	ev.prepared = true
	switch specOf(ev.Name).PreLock {
	case PreLockTranscriptSize:
		if ev.transcriptSize < 0 && ev.TranscriptPath != "" {
			ev.transcriptSize = opts.transcriptSize(ev.TranscriptPath)
		}
	case PreLockLaunchCall:
		if ev.launchToolUseID == "" {
			ev.launchToolUseID = launchToolUseID(ev)
		}
	}
}

// Record applies one event to its session inside tx (Apply, with the
// transaction as the Store) and appends every finished span to the
// outbox. It returns the number of spans queued. It does no I/O besides
// tx once Prepare has run.
func Record(tx *state.Tx, ev *Event, now time.Time, opts Options) (queued int, err error) {
	if ev != nil && ev.longSession {
		return 0, ErrLongSession
	}
	if ev == nil || ev.SessionID == "" {
		return 0, ErrNoSession
	}
	Prepare(ev, opts)
	res, err := Apply(tx, ev, now, opts)
	if err != nil {
		return 0, err
	}
	if res.Reset != nil {
		// The IDs are derived, so the trace stays whole.
		opts.logf("hook: session %s: unreadable state, starting over: %v", ev.SessionID, res.Reset)
		if err := tx.AddReset(); err != nil {
			return 0, err
		}
	}
	if res.Late {
		opts.logf("hook: session %s: late %s dropped (its span was already exported)", ev.SessionID, ev.Name)
	}
	return enqueue(tx, res.Spans, &opts)
}

// enqueue appends spans to the outbox. A span that cannot be encoded (a
// damaged record it was rebuilt from) is left out, logged and counted
// as damage: it must not cost the event, or the session, the others.
func enqueue(tx *state.Tx, spans []tracing.Span, opts *Options) (int, error) {
	n := 0
	for i := range spans {
		b, err := spans[i].Marshal()
		if err != nil {
			opts.logf("hook: span %s (%s) dropped as damaged: %v", spans[i].SpanID, spans[i].Name, err)
			if err := tx.AddDamaged(1); err != nil {
				return n, err
			}
			continue
		}
		if err := tx.Enqueue(b); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Sweep closes every session idle for longer than opts.IdleTimeout (its
// open spans end at the session's last event, marked incomplete with
// reason idle_timeout) and deletes tombstones older than 30 days and
// unreadable heads. It returns the number of spans queued. The flusher
// calls it. Each session is closed on its own: its spans are queued
// first, its tombstone written after, and a session that cannot be
// closed is logged and deleted, costing the other sessions nothing.
func Sweep(tx *state.Tx, now time.Time, opts Options) (int, error) {
	queued := 0
	err := sweep(tx, now, opts, func(spans []tracing.Span) error {
		n, err := enqueue(tx, spans, &opts)
		queued += n
		return err
	})
	return queued, err
}

// sweepStore is a Store that lists its sessions.
type sweepStore interface {
	Store
	ForEachSession(func(id string, b []byte) error) error
}

// sweep is Sweep on any sweepStore; emit takes each idle session's spans
// before its tombstone is written. Only an error of st itself ends it.
func sweep(st sweepStore, now time.Time, opts Options, emit func([]tracing.Span) error) error {
	var idle, gone []string
	err := st.ForEachSession(func(id string, b []byte) error {
		switch s, err := decodeHead(b); {
		case err != nil || s == nil:
			gone = append(gone, id)
		case s.tombstone():
			if now.Sub(s.Ended) > tombstoneTTL {
				gone = append(gone, id)
			}
		case now.Sub(s.Last) > opts.idleTimeout():
			idle = append(idle, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range gone {
		if err := st.DeleteSession(id); err != nil {
			return err
		}
	}
	for _, id := range idle {
		if err := closeIdle(st, id, opts, emit); err != nil {
			opts.logf("sweep: session %s could not be closed, its state deleted: %v", id, err)
			if err := st.DeleteSession(id); err != nil {
				return err
			}
		}
	}
	return nil
}

// closeIdle ends an idle session's open spans at its last event, hands
// them to emit, then leaves a tombstone.
func closeIdle(st Store, id string, opts Options, emit func([]tracing.Span) error) error {
	s, err := decodeSession(st, id)
	if err != nil {
		// The head read but its span index did not: nothing to end.
		return st.DeleteSession(id)
	}
	if s == nil || s.tombstone() {
		return nil
	}
	m := &machine{st: st, s: s, ev: &Event{SessionID: s.ID}, t: s.Last, opts: &opts, indexed: true}
	m.end(m.top(), s.Last, semconv.IncompleteIdleTimeout, semconv.IncompleteIdleTimeout)
	m.toTombstone()
	if err := emit(m.out); err != nil {
		return err
	}
	return m.save()
}
