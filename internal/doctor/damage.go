package doctor

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/state"
)

// writable fails when the hook cannot record events in the state
// directory (untrusted, read-only, full: a read-only home directory
// drops every event), naming why.
func writable(cfg *config.Config) []Finding {
	err := state.CheckWritable(cfg.StateDir)
	if err == nil {
		return nil
	}
	return []Finding{{Section: "Outbox", Severity: Fail,
		Message: fmt.Sprintf("the hook cannot record events in the state directory: %v; every hook event is dropped (counted, not recorded)", err),
		Fix:     "make " + cfg.StateDir + " writable by you (and only you), or set state_dir (CCOTEL_STATE_DIR) to a directory that is"}}
}

// damage warns of what damage cost: damaged records discarded, sessions
// started over, and databases moved aside with the spans queued in them.
func damage(cfg *config.Config, r *delivery.Status) []Finding {
	const sec = "Outbox"
	log := filepath.Join(cfg.StateDir, "ccotel.log")
	var out []Finding
	for _, a := range r.MovedAside {
		out = append(out, Finding{Section: sec, Severity: Warn,
			Message: "the state database was damaged: " + delivery.DescribeAside(a, time.Now()),
			Fix:     "check the disk (the file system, free space); " + log + " says what broke; once you no longer need it: rm " + a.Path})
	}
	if r.Damaged > 0 {
		out = append(out, Finding{Section: sec, Severity: Warn,
			Message: fmt.Sprintf("%d records in the state database were found damaged (a checksum that does not match, bytes that do not decode) and discarded", r.Damaged),
			Fix:     "check the disk; " + log + " names each one"})
	}
	if r.Resets > 0 {
		out = append(out, Finding{Section: sec, Severity: Warn,
			Message: fmt.Sprintf("%d hook events found their session's state damaged and started it over (the trace stays whole; spans open then may be incomplete)", r.Resets),
			Fix:     "check the disk; " + log + " names each session"})
	}
	return out
}
