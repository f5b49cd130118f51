package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/state"
)

const hookUsage = `Usage: ccotel hook

The command Claude Code runs for every hook event (settings.json), with the
event's JSON on stdin. It records the event in the state directory, queues
the spans that finished and makes sure a background flusher sends them.

It never prints, and exits 0 whatever happens; diagnostics go to
<state dir>/ccotel.log. With no endpoint configured it does nothing.
Run 'ccotel doctor' to check the configuration.
`

// runHook is the hot path: read the event, one short transaction, maybe
// start the flusher, exit 0. Nothing is ever written to stdout or stderr
// (a hook's stdout can reach the model), and every failure, panics
// included, ends in the log file and exit code 0.
func runHook(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	now := time.Now() // the event's time: before any waiting
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			io.WriteString(stdout, hookUsage)
			return exitOK
		}
	}
	logDir := ""
	defer func() {
		if p := recover(); p != nil {
			// A bug is a lost event like any other: logged, and counted
			// where status and doctor look.
			dir := logDirOr(logDir)
			if logDir == "" {
				if cfg, _ := config.Load(config.LoadOptions{Getenv: os.LookupEnv}); cfg != nil && cfg.StateDir != "" {
					dir = cfg.StateDir
				}
			}
			state.NoteLostEvent(dir)
			state.Logf(dir, "hook: panic: %v", p)
		}
		code = exitOK
	}()

	// Read (and decode) all of stdin first, whatever comes next: Claude
	// Code's write must never hit a closed pipe.
	ev, decodeErr := hook.Decode(stdin)

	cfg, err := config.Load(config.LoadOptions{Getenv: os.LookupEnv})
	if err != nil {
		if cfg != nil {
			logDir = cfg.StateDir
		}
		state.Logf(logDirOr(logDir), "hook: configuration: %v", err)
		return exitOK
	}
	logDir = cfg.StateDir
	if cfg.Endpoint == "" || cfg.Disabled {
		return exitOK
	}
	if decodeErr != nil {
		state.Logf(cfg.StateDir, "hook: unreadable event (%d bytes): %v", ev.Size, decodeErr)
		return exitOK
	}
	opts := cfg.Hook()
	opts.Traceparent = os.Getenv("TRACEPARENT")
	if ev.ClaudePID == "" {
		ev.ClaudePID = os.Getenv("CLAUDE_PID") // links a /clear's new session to the one it cleared
	}
	// The event's file I/O (a stat, a meta file) before the database
	// lock, which other hooks of the session wait for.
	hook.Prepare(ev, opts)

	store, err := state.Open(cfg.Store())
	if err != nil {
		// Lock timeout, unwritable or full state directory: the event is
		// lost; count it where status and doctor will see it.
		state.NoteLostEvent(cfg.StateDir)
		state.Logf(cfg.StateDir, "hook: %s for session %s dropped: %v", ev.Name, ev.SessionID, err)
		return exitOK
	}
	var (
		queued   int
		counters state.Counters
	)
	err = store.Update(func(tx *state.Tx) error {
		var err error
		queued, err = hook.Record(tx, ev, now, opts)
		counters = tx.Counters()
		return err
	})
	store.Close()
	if err != nil {
		state.NoteLostEvent(cfg.StateDir)
		state.Logf(cfg.StateDir, "hook: %s for session %s not recorded: %v", ev.Name, ev.SessionID, err)
		return exitOK
	}
	if queued == 0 && counters.Queued == 0 {
		return exitOK
	}
	if cfg.Sync {
		ctx, cancel := context.WithTimeout(context.Background(), min(cfg.Timeout, syncDeadline))
		defer cancel()
		res, err := delivery.FlushNow(ctx, cfg.Flush())
		if errors.Is(err, delivery.ErrFlusherBusy) {
			return exitOK // the running flusher sends what this hook queued
		}
		if err != nil {
			state.Logf(cfg.StateDir, "hook: sync export: %v", err)
		}
		if res.Pending == 0 {
			return exitOK
		}
		// Spans whose token usage is not final yet (the transcript lags)
		// would wait for the next event, and the session's last spans
		// for ever: leave them to a background flusher.
	}
	if _, err := delivery.StartFlusher(cfg.StateDir, counters.NextAttempt, time.Now()); err != nil {
		state.Logf(cfg.StateDir, "hook: start flusher: %v", err)
	}
	return exitOK
}

// syncDeadline bounds the inline export of sync mode, whatever the export
// timeout: ccotel install gives each hook 5 s, and a hook that Claude Code
// has to cancel shows up in the user's session. What is not sent in time
// stays queued for the background flusher.
const syncDeadline = 3 * time.Second

// logDirOr is where the hook logs: the configured state directory, or
// when the configuration could not be resolved, the fallback one.
func logDirOr(dir string) string {
	if dir != "" {
		return dir
	}
	return config.FallbackStateDir()
}
