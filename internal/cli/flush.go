package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// configFlags registers the flags that override configuration keys
// (shared by flush, status and doctor) and returns a function giving the
// values that were set, for config.LoadOptions.Flags.
func configFlags(fs *flag.FlagSet) func() map[string]string {
	keys := map[string]string{ // flag name → config key
		"config": "config", "endpoint": "endpoint", "client-cert": "client_cert",
		"client-key": "client_key", "ca": "ca", "state-dir": "state_dir", "protocol": "protocol",
	}
	help := map[string]string{
		"config":      "config file `path` (default $CCOTEL_CONFIG or ~/.config/ccotel/config.toml)",
		"endpoint":    "collector `URL` (a base URL gets /v1/traces)",
		"client-cert": "client certificate (PEM) `path`",
		"client-key":  "client private key (PEM) `path`",
		"ca":          "CA bundle (PEM) `path` for the collector's certificate",
		"state-dir":   "state `directory`",
		"protocol":    "http/protobuf or http/json",
	}
	vals := map[string]*string{}
	for name := range keys {
		vals[name] = fs.String(name, "", help[name])
	}
	return func() map[string]string {
		m := map[string]string{}
		fs.Visit(func(f *flag.Flag) {
			if key, ok := keys[f.Name]; ok {
				m[key] = *vals[f.Name]
			}
		})
		return m
	}
}

func runFlush(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("flush", flag.ContinueOnError)
	wait := fs.Bool("wait", false, "keep trying (with backoff) until the outbox is empty or --timeout passes")
	background := fs.Bool("background", false, "run as the detached background flusher (what hooks start; silent)")
	timeout := fs.Duration("timeout", 2*time.Minute, "with --wait, give up after this long")
	flags := configFlags(fs)
	if code, ok := parseFlags(fs, `Usage: ccotel flush [--wait] [--timeout 2m] [config flags]

Sends the spans queued in the outbox to the collector now, with progress,
running the same code as the background flusher that hooks start.
Without --wait it stops at the first failure; with --wait it retries with
backoff, and waits for spans whose token usage is not final yet.

Flags:
`, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ccotel flush: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *background {
		return flushBackground(flags())
	}

	cfg, err := config.Load(config.LoadOptions{Flags: flags()})
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitFailure
	}
	if cfg.Endpoint == "" {
		fmt.Fprintln(stderr, "ccotel flush: no collector endpoint is configured, so nothing is sent.\n  Set endpoint in "+config.ConfigFilePath(nil)+" (or CCOTEL_ENDPOINT); `ccotel doctor` explains.")
		return exitFailure
	}
	if cfg.Disabled {
		fmt.Fprintf(stderr, "ccotel flush: export is disabled (disabled, from %s)\n", cfg.Sources["disabled"])
		return exitFailure
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var lock *delivery.FlusherLock
	if *wait {
		ctx, stop = context.WithTimeout(ctx, *timeout)
		defer stop()
		lock, err = delivery.AcquireFlusherLock(cfg.StateDir)
		if errors.Is(err, delivery.ErrFlusherBusy) {
			fmt.Fprintf(stdout, "a background flusher (pid %d) is sending; waiting for it…\n", delivery.FlusherPID(cfg.StateDir))
			deadline, _ := ctx.Deadline()
			lock, err = delivery.WaitFlusherLock(cfg.StateDir, deadline)
		}
	} else {
		lock, err = delivery.AcquireFlusherLock(cfg.StateDir)
		if errors.Is(err, delivery.ErrFlusherBusy) {
			fmt.Fprintf(stdout, "a background flusher (pid %d) is already sending the queued spans; `ccotel flush --wait` waits for it, `ccotel status` shows progress\n", delivery.FlusherPID(cfg.StateDir))
			return exitOK
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ccotel flush: %v\n", err)
		return exitFailure
	}
	defer lock.Release()

	o := cfg.Flush()
	o.Progress, o.Lock, o.Retry, o.WaitPending = stdout, lock, *wait, *wait
	res, err := delivery.Flush(ctx, o)
	export := cfg.Export()
	shown := func(s string) string { return tracing.ServerText(s, &export) }
	switch {
	case res.Sent == 0 && res.Remaining == 0 && err == nil:
		fmt.Fprintln(stdout, "nothing to send: the outbox is empty")
	case err == nil:
		fmt.Fprintf(stdout, "done: sent %d spans", res.Sent)
		if res.Remaining > 0 {
			fmt.Fprintf(stdout, "; %d still queued (%d waiting for their token usage to be final)", res.Remaining, res.Pending)
		}
		fmt.Fprintln(stdout)
	}
	if res.Rejected > 0 {
		fmt.Fprintf(stdout, "%d spans were refused by the collector for good and dropped (the collector accepted the others); last reason: %s (each one is named in %s)\n",
			res.Rejected, shown(res.LastRejection), cfg.StateDir+"/ccotel.log")
	}
	if err != nil {
		fmt.Fprintf(stderr, "ccotel flush: sent %d spans, %d still queued: %s\n", res.Sent, res.Remaining, shown(err.Error()))
		fmt.Fprintln(stderr, "  `ccotel doctor` explains what is wrong and what to do.")
		return exitFailure
	}
	return exitOK
}

// flushBackground is `ccotel flush --background`, the detached child a
// hook starts with flusher.lock on descriptor 3. It prints nothing and
// always exits 0; diagnostics go to the state directory's log.
func flushBackground(flags map[string]string) (code int) {
	code = exitOK
	cfg, err := config.Load(config.LoadOptions{Flags: flags})
	if err != nil || cfg.Endpoint == "" || cfg.Disabled {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			state.Logf(cfg.StateDir, "flush: panic: %v", p)
		}
	}()
	lock, err := delivery.AdoptFlusherLock(cfg.StateDir, 3)
	if err != nil {
		if !errors.Is(err, delivery.ErrFlusherBusy) {
			state.Logf(cfg.StateDir, "flush: %v", err)
		}
		return
	}
	defer lock.Release()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	o := cfg.Flush()
	o.Linger, o.Gather, o.Lock, o.Retry, o.WaitPending = delivery.DefaultLinger, delivery.DefaultGather, lock, true, true
	res, err := delivery.Flush(ctx, o)
	if err != nil || res.Sent > 0 || res.Rejected > 0 {
		state.Logf(cfg.StateDir, "flush: sent %d, rejected %d, %d still queued, error: %v", res.Sent, res.Rejected, res.Remaining, err)
	}
	return
}
