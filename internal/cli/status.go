package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/render"
	"github.com/ccotel/ccotel/tracing"
)

func runStatus(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	flags := configFlags(fs)
	if code, ok := parseFlags(fs, "Usage: ccotel status [--json] [config flags]\n\nShows open sessions, the outbox, the last export and whether a flusher runs.\n\nFlags:\n", args, stdout, stderr); !ok {
		return code
	}
	cfg, err := config.Load(config.LoadOptions{Flags: flags()})
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitFailure
	}
	r, err := delivery.ReadStatus(cfg.StateDir, cfg.Endpoint)
	if err != nil {
		fmt.Fprintf(stderr, "ccotel status: %s: %v\n", cfg.StateDir, err)
		return exitFailure
	}
	export := cfg.Export()
	r.LastExportError = tracing.ServerText(r.LastExportError, &export)
	r.LastRejection = tracing.ServerText(r.LastRejection, &export)
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
		sessions += fmt.Sprintf("; last event %s", render.Ago(now, r.LastEvent))
	}
	row("sessions", "%s", sessions)
	if r.Queued == 0 {
		row("queued", "0 spans")
	} else {
		row("queued", "%d spans (%s), oldest queued %s", r.Queued, render.Bytes(r.QueuedBytes), render.Ago(now, r.OldestQueued))
	}
	switch {
	case r.LastExport.IsZero():
		row("last export", "never")
	case r.LastExportOK:
		row("last export", "%s: ok", render.Ago(now, r.LastExport))
	default:
		row("last export", "%s: failed (%d in a row): %s", render.Ago(now, r.LastExport), r.Failures, r.LastExportError)
	}
	if r.NextAttempt.After(now) {
		row("next attempt", "not before %s (backing off after failures)", r.NextAttempt.Local().Format("15:04:05"))
	}
	if r.FlusherPID != 0 {
		row("flusher", "running (pid %d)", r.FlusherPID)
	} else {
		row("flusher", "not running")
	}
	row("totals", "%d spans queued ever, %d exported, %d dropped (outbox full), %d refused by the collector, %d hook events lost, %d records damaged, %d sessions reset",
		r.Enqueued, r.Exported, r.Dropped, r.Rejected, r.LostEvents, r.Damaged, r.Resets)
	for _, a := range r.MovedAside {
		row("damaged db", "%s", delivery.DescribeAside(a, now))
	}
	if r.Rejected > 0 {
		reason := r.LastRejection
		if reason == "" {
			reason = "(no reason recorded)"
		}
		row("rejected", "%d spans refused by the collector for good and dropped; last %s: %s", r.Rejected, render.Ago(now, r.LastRejected), reason)
	}
	if r.Dropped > 0 || r.LostEvents > 0 || r.Rejected > 0 || r.Damaged > 0 || r.Resets > 0 || len(r.MovedAside) > 0 {
		fmt.Fprintf(stdout, "\nSome data was lost: see %s/ccotel.log for why.\n", r.StateDir)
	}
	return exitOK
}
