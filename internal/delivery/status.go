package delivery

import (
	"fmt"
	"time"

	"github.com/ccotel/ccotel/internal/render"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// Status is the state of delivery: sessions, the outbox, the last
// export, the flusher and every counter of what was lost. `ccotel status`
// prints it (--json as is) and doctor judges it.
type Status struct {
	StateDir        string    `json:"state_dir"`
	Endpoint        string    `json:"endpoint"`
	SessionsOpen    int       `json:"sessions_open"`
	SessionsEnded   int       `json:"sessions_ended"`
	LastEvent       time.Time `json:"last_event,omitzero"`
	Queued          int       `json:"queued"`
	QueuedBytes     int64     `json:"queued_bytes"`
	OldestQueued    time.Time `json:"oldest_queued,omitzero"`
	LastExport      time.Time `json:"last_export,omitzero"`
	LastExportOK    bool      `json:"last_export_ok"`
	LastExportError string    `json:"last_export_error,omitempty"`
	NextAttempt     time.Time `json:"next_attempt,omitzero"`
	Failures        int       `json:"failures"`
	FlusherPID      int       `json:"flusher_pid,omitempty"`
	Enqueued        int64     `json:"enqueued"`
	Exported        int64     `json:"exported"`
	Dropped         int64     `json:"dropped"`
	Rejected        int64     `json:"rejected"`
	LastRejected    time.Time `json:"last_rejected,omitzero"`
	LastRejection   string    `json:"last_rejection,omitempty"`
	LostEvents      int64     `json:"lost_events"`
	// Damaged are records found damaged (checksum, decoding) and
	// discarded; Resets, sessions started over on damaged state.
	Damaged int64 `json:"damaged"`
	Resets  int64 `json:"sessions_reset"`
	// MovedAside are damaged databases moved aside: the spans queued in
	// them were not delivered.
	MovedAside []state.Aside `json:"moved_aside,omitempty"`
}

// ReadStatus gathers the report from the state directory, read-only;
// endpoint is only reported, its password masked.
func ReadStatus(stateDir, endpoint string) (*Status, error) {
	r := &Status{StateDir: stateDir, Endpoint: tracing.RedactURL(endpoint)}
	st, err := state.Open(state.Options{Dir: stateDir, ReadOnly: true, LockTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	err = st.View(func(tx *state.Tx) error {
		c := tx.Counters()
		r.Queued, r.QueuedBytes, r.OldestQueued = c.Queued, c.QueuedBytes, c.OldestQueued
		r.LastExport, r.LastExportOK, r.LastExportError = c.LastExport, c.LastExportOK, c.LastExportError
		r.NextAttempt, r.Failures = c.NextAttempt, c.Failures
		r.Enqueued, r.Exported, r.Dropped, r.LostEvents = c.Enqueued, c.Exported, c.Dropped, c.LostEvents
		r.Rejected, r.LastRejected, r.LastRejection = c.Rejected, c.LastRejected, c.LastRejection
		r.Damaged, r.Resets = c.Damaged, c.Resets
		return tx.ForEachSession(func(id string, b []byte) error {
			last, ended, ok := hook.HeadTimes(b)
			if !ok || ended.IsZero() {
				r.SessionsOpen++
			} else {
				r.SessionsEnded++
			}
			if last.After(r.LastEvent) {
				r.LastEvent = last
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	r.FlusherPID = FlusherPID(stateDir)
	r.MovedAside = state.MovedAside(stateDir)
	return r, nil
}

// DescribeAside says what a moved-aside database cost, for status and
// doctor: its file, size, when, and the spans it still held.
func DescribeAside(a state.Aside, now time.Time) string {
	held := "its queued spans could not be counted"
	if a.Queued >= 0 {
		held = fmt.Sprintf("%d spans were queued in it", a.Queued)
	}
	return fmt.Sprintf("%s (%s, moved aside %s): damaged, replaced by a fresh database; %s and were not delivered",
		a.Path, render.Bytes(a.Size), render.Ago(now, a.Moved), held)
}
