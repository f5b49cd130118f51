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
// (the Agent call that launched it). It runs once per event; Record calls
// it for callers that did not.
func Prepare(ev *Event, opts Options) {
	if ev == nil || ev.prepared {
		return
	}
	ev.prepared = true
	if ev.transcriptSize < 0 && ev.TranscriptPath != "" &&
		(ev.Name == "UserPromptSubmit" || ev.Name == "SessionStart") {
		ev.transcriptSize = opts.transcriptSize(ev.TranscriptPath)
	}
	if ev.Name == "SubagentStart" && ev.launchToolUseID == "" {
		ev.launchToolUseID = launchToolUseID(ev)
	}
}

// Record applies one event to its session inside tx: it reads the
// session's state, runs Apply, stores the new state and appends every
// finished span to the outbox. It returns the number of spans queued.
// It does no I/O besides tx once Prepare has run.
func Record(tx *state.Tx, ev *Event, now time.Time, opts Options) (queued int, err error) {
	if ev == nil || ev.SessionID == "" {
		return 0, ErrNoSession
	}
	Prepare(ev, opts)
	res, err := Apply(tx.Session(ev.SessionID), ev, now, opts)
	if err != nil {
		return 0, err
	}
	if res.Reset != nil {
		// The IDs are derived, so the trace stays whole.
		opts.logf("hook: session %s: unreadable state, starting over: %v", ev.SessionID, res.Reset)
	}
	if res.Late {
		opts.logf("hook: session %s: late %s dropped (its span was already exported)", ev.SessionID, ev.Name)
	}
	if err := tx.PutSession(ev.SessionID, res.Session); err != nil {
		return 0, err
	}
	return enqueue(tx, res.Spans)
}

func enqueue(tx *state.Tx, spans []tracing.Span) (int, error) {
	n := 0
	for i := range spans {
		b, err := spans[i].Marshal()
		if err != nil {
			return n, err
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
// reason idle_timeout) and deletes tombstones older than 30 days. It
// returns the number of spans queued. The flusher calls it.
func Sweep(tx *state.Tx, now time.Time, opts Options) (int, error) {
	type change struct {
		id   string
		blob []byte // nil: delete
		out  []tracing.Span
	}
	var changes []change
	err := tx.ForEachSession(func(id string, b []byte) error {
		blob, spans, del, ok := sweepOne(b, now, opts)
		if del {
			changes = append(changes, change{id: id})
		} else if ok {
			changes = append(changes, change{id: id, blob: blob, out: spans})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, c := range changes {
		if c.blob == nil {
			if err := tx.DeleteSession(c.id); err != nil {
				return queued, err
			}
			continue
		}
		if err := tx.PutSession(c.id, c.blob); err != nil {
			return queued, err
		}
		n, err := enqueue(tx, c.out)
		queued += n
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// sweepOne decides one session's fate: del for an old tombstone or
// unreadable state; ok with a new blob and spans for an idle session.
func sweepOne(b []byte, now time.Time, opts Options) (blob []byte, spans []tracing.Span, del, ok bool) {
	s, err := decodeSession(b)
	if err != nil || s == nil {
		return nil, nil, true, false
	}
	if s.tombstone() {
		return nil, nil, now.Sub(s.Ended) > tombstoneTTL, false
	}
	if now.Sub(s.Last) <= opts.idleTimeout() {
		return nil, nil, false, false
	}
	m := &machine{s: s, ev: &Event{SessionID: s.ID}, t: s.Last, opts: &opts}
	m.end(m.top(), s.Last, semconv.IncompleteIdleTimeout, semconv.IncompleteIdleTimeout)
	m.toTombstone()
	blob, err = s.encode()
	if err != nil {
		return nil, nil, false, false
	}
	return blob, m.out, false, true
}
