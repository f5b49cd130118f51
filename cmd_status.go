package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// statusReport is what `ccotel status` shows (and --json prints).
type statusReport struct {
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
	LostEvents      int64     `json:"lost_events"`
}

// sessionHead is the part of the hook package's session record that
// status reads: when it ended (a tombstone) and its last event.
type sessionHead struct {
	Ended time.Time `json:"ended"`
	Last  time.Time `json:"last"`
}

// readStatus gathers the report from the state directory, read-only.
func readStatus(cfg *tracing.Config) (*statusReport, error) {
	r := &statusReport{StateDir: cfg.StateDir, Endpoint: cfg.Endpoint}
	st, err := state.Open(state.Options{Dir: cfg.StateDir, ReadOnly: true, LockTimeout: 5 * time.Second})
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
		return tx.ForEachSession(func(id string, b []byte) error {
			var h sessionHead
			if json.Unmarshal(b, &h) != nil || h.Ended.IsZero() {
				r.SessionsOpen++
			} else {
				r.SessionsEnded++
			}
			if h.Last.After(r.LastEvent) {
				r.LastEvent = h.Last
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	r.FlusherPID = tracing.FlusherPID(cfg.StateDir)
	r.Rejected = tracing.RejectedSpans(cfg.StateDir)
	return r, nil
}

func runStatus(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	flags := configFlags(fs)
	if code, ok := parseFlags(fs, "Usage: ccotel status [--json] [config flags]\n\nShows open sessions, the outbox, the last export and whether a flusher runs.\n\nFlags:\n", args, stdout, stderr); !ok {
		return code
	}
	cfg, err := tracing.Load(tracing.LoadOptions{Flags: flags()})
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitFailure
	}
	r, err := readStatus(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "ccotel status: %s: %v\n", cfg.StateDir, err)
		return exitFailure
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r)
		return exitOK
	}
	now := time.Now()
	row := func(k, format string, args ...any) {
		fmt.Fprintf(stdout, "%-15s %s\n", k, fmt.Sprintf(format, args...))
	}
	row("state", "%s", r.StateDir)
	if r.Endpoint == "" {
		row("endpoint", "not configured: the hook records nothing (see `ccotel doctor`)")
	} else {
		row("endpoint", "%s (%s)", r.Endpoint, cfg.Sources["endpoint"])
	}
	sessions := fmt.Sprintf("%d open", r.SessionsOpen)
	if r.SessionsEnded > 0 {
		sessions += fmt.Sprintf(", %d ended (kept 30 days to recognise a resume)", r.SessionsEnded)
	}
	if !r.LastEvent.IsZero() {
		sessions += fmt.Sprintf("; last event %s", ago(now, r.LastEvent))
	}
	row("sessions", "%s", sessions)
	if r.Queued == 0 {
		row("queued", "0 spans")
	} else {
		row("queued", "%d spans (%s), oldest queued %s", r.Queued, humanBytes(r.QueuedBytes), ago(now, r.OldestQueued))
	}
	switch {
	case r.LastExport.IsZero():
		row("last export", "never")
	case r.LastExportOK:
		row("last export", "%s: ok", ago(now, r.LastExport))
	default:
		row("last export", "%s: failed (%d in a row): %s", ago(now, r.LastExport), r.Failures, r.LastExportError)
	}
	if r.NextAttempt.After(now) {
		row("next attempt", "not before %s (backing off after failures)", r.NextAttempt.Local().Format("15:04:05"))
	}
	if r.FlusherPID != 0 {
		row("flusher", "running (pid %d)", r.FlusherPID)
	} else {
		row("flusher", "not running")
	}
	row("totals", "%d spans queued ever, %d exported, %d dropped (outbox full), %d refused by the collector, %d hook events lost",
		r.Enqueued, r.Exported, r.Dropped, r.Rejected, r.LostEvents)
	if r.Dropped > 0 || r.LostEvents > 0 {
		fmt.Fprintf(stdout, "\nSome data was lost: see %s/ccotel.log for why.\n", r.StateDir)
	}
	return exitOK
}

// ago renders t relative to now: "12s ago", "3m ago", "2h ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days ago (%s)", int(d.Hours()/24), t.Local().Format("2006-01-02 15:04"))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
