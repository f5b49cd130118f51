package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/render"
)

// outbox reports the backlog and what was lost.
func outbox(cfg *config.Config) []Finding {
	const sec = "Outbox"
	out := writable(cfg)
	r, err := delivery.ReadStatus(cfg.StateDir, cfg.Endpoint)
	if err != nil {
		return append(out, Finding{Section: sec, Severity: Warn, Message: fmt.Sprintf("cannot read the state in %s: %v", cfg.StateDir, err)})
	}
	if fi, err := os.Stat(cfg.StateDir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		out = append(out, Finding{Section: sec, Severity: Warn,
			Message: fmt.Sprintf("the state directory %s is readable by others (mode %04o)", cfg.StateDir, fi.Mode().Perm()), Fix: "chmod 700 " + cfg.StateDir})
	}
	now := time.Now()
	msg := fmt.Sprintf("%d spans queued", r.Queued)
	sev, fix := OK, ""
	if r.Queued > 0 {
		msg += fmt.Sprintf(" (%s), the oldest since %s", render.Bytes(r.QueuedBytes), render.Ago(now, r.OldestQueued))
		if now.Sub(r.OldestQueued) > 10*time.Minute && !r.LastExportOK {
			sev, fix = Warn, "they are sent once the problems above are fixed: `ccotel flush --wait` sends them now"
		}
	}
	switch {
	case r.LastExport.IsZero():
		msg += "; nothing exported yet"
	case r.LastExportOK:
		msg += fmt.Sprintf("; last export %s: ok", render.Ago(now, r.LastExport))
	default:
		msg += fmt.Sprintf("; last export %s FAILED: %s", render.Ago(now, r.LastExport), r.LastExportError)
	}
	if r.FlusherPID != 0 {
		msg += fmt.Sprintf("; flusher running (pid %d)", r.FlusherPID)
	}
	out = append(out, Finding{Section: sec, Severity: sev, Message: msg, Fix: fix})
	if r.Dropped > 0 {
		out = append(out, Finding{Section: sec, Severity: Warn,
			Message: fmt.Sprintf("%d spans were dropped because the outbox was full (%d spans / %s)", r.Dropped, cfg.OutboxMaxSpans, render.Bytes(cfg.OutboxMaxBytes)),
			Fix:     "keep the collector reachable, or raise outbox_max_spans / outbox_max_bytes"})
	}
	if r.Rejected > 0 {
		out = append(out, Finding{Section: sec, Severity: Warn,
			Message: fmt.Sprintf("%d spans were refused by the collector for good and dropped (the collector accepted the others); last reason: %s", r.Rejected, orNone(r.LastRejection)),
			Fix:     "check the collector's (or its proxy's) rules for these spans; " + filepath.Join(cfg.StateDir, "ccotel.log") + " names each dropped span"})
	}
	if r.LostEvents > 0 {
		out = append(out, Finding{Section: sec, Severity: Warn,
			Message: fmt.Sprintf("%d hook events could not be recorded (database busy or unwritable)", r.LostEvents), Fix: "see " + filepath.Join(cfg.StateDir, "ccotel.log")})
	}
	return append(out, damage(cfg, r)...)
}

func orNone(s string) string {
	if s == "" {
		return "(none recorded)"
	}
	return s
}
