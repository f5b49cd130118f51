package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/importer"
	"github.com/ccotel/ccotel/internal/render"
)

const importUsage = `Usage: ccotel import [--since 30d] [--dry-run [--tree | --stdout]] [config flags] [PATH...]

Turns past Claude Code sessions into traces, from the transcripts Claude
Code keeps (30 days by default), and queues them for the background
flusher, as if ccotel had been installed all along. PATH is a transcript
(<session id>.jsonl) or a directory searched for them; the default is
$CLAUDE_CONFIG_DIR/projects, else ~/.claude/projects.

The trace is the live hook's, with the same span IDs. A session the state
already knows (exported live, or imported before) is skipped, so
importing twice sends nothing the second time. Every imported span has
claude_code.timing=transcript: its times are the transcript's lines.

--since takes a Go duration or days (30d; 0: no bound). The state
remembers an ended session for 30 days after its end: a session older
than that, imported again, would be sent again. Transcripts modified within --settled are skipped (a session
still running); import them later.

Flags:
`

// runImport implements `ccotel import`. Exit codes: 0 done, 1 failure, 2
// usage.
func runImport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	since := fs.String("since", "30d", "import sessions active within this `duration` (e.g. 72h, 30d)")
	settled := fs.Duration("settled", 5*time.Minute, "skip transcripts modified less than this `duration` ago")
	dryRun := fs.Bool("dry-run", false, "print what would be sent (a tree) instead of queueing it")
	asTree := fs.Bool("tree", false, "with --dry-run: print the traces as a tree (the default)")
	asJSON := fs.Bool("stdout", false, "with --dry-run: print the spans as OTLP/JSON")
	flags := configFlags(fs)
	if code, ok := parseFlags(fs, importUsage, args, stdout, stderr); !ok {
		return code
	}
	window, err := parseDays(*since)
	if err != nil || window < 0 {
		fmt.Fprintf(stderr, "ccotel import: --since %q: want a duration such as 72h or 30d\n", *since)
		return exitUsage
	}
	if (*asTree || *asJSON) && !*dryRun || *asTree && *asJSON {
		fmt.Fprintln(stderr, "ccotel import: --tree and --stdout go with --dry-run, one of them")
		return exitUsage
	}
	cfg, err := config.Load(config.LoadOptions{Getenv: os.LookupEnv, Flags: flags()})
	if err != nil {
		fmt.Fprintf(stderr, "ccotel import: %v\n", err)
		return exitFailure
	}
	if cfg.Endpoint == "" && !*dryRun {
		fmt.Fprintln(stderr, "ccotel import: no endpoint configured: nothing could send the traces (see ccotel install, ccotel doctor); --dry-run shows them")
		return exitFailure
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{projectsDir()}
		if _, err := os.Stat(paths[0]); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "ccotel import: no Claude Code transcripts: %s does not exist (set CLAUDE_CONFIG_DIR, or name a PATH)\n", paths[0])
			return exitOK
		}
	}
	sessions, err := importer.Find(paths)
	if err != nil {
		fmt.Fprintf(stderr, "ccotel import: %v\n", err)
		return exitFailure
	}
	now := time.Now()
	o := importer.Options{Hook: cfg.Hook(), Store: cfg.Store(), Settled: *settled,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "ccotel import: "+format+"\n", args...) }}
	if window > 0 {
		o.Since = now.Add(-window)
	}
	if (window == 0 || window > stateMemory) && !*dryRun {
		fmt.Fprintln(stderr, "ccotel import: the state remembers a session for 30 days after its end: one older than that, imported again, would be sent again")
	}
	o.Store.LockTimeout = 10 * time.Second
	if isTerminal(stderr) {
		o.Progress = progressPrinter(stderr)
	}
	if *dryRun {
		return importDryRun(cfg, sessions, o, *asJSON, stdout, stderr)
	}
	o.Wait = outboxWait(cfg.StateDir, stderr)
	sum, err := importer.Run(sessions, o)
	if o.Progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	fmt.Fprintln(stdout, summaryLine(&sum))
	if sum.Deferred > 0 {
		fmt.Fprintf(stderr, "ccotel import: the outbox stayed full (is the collector reachable? ccotel status, ccotel doctor): %d sessions left for the next ccotel import\n", sum.Deferred)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ccotel import: %v\n", err)
		return exitFailure
	}
	if sum.Spans > 0 {
		if _, err := delivery.StartFlusher(cfg.StateDir, sum.NextAttempt, time.Now()); err != nil {
			fmt.Fprintf(stderr, "ccotel import: start flusher: %v (ccotel flush sends them)\n", err)
		}
	}
	return exitOK
}

// importDryRun imports into a scratch state directory (skipping what the
// real state knows) and prints what the flusher would send.
func importDryRun(cfg *config.Config, sessions []importer.Session, o importer.Options, asJSON bool, stdout, stderr io.Writer) int {
	known, err := importer.KnownSessions(o.Store)
	if err != nil {
		fmt.Fprintf(stderr, "ccotel import: state directory %s: %v\n", o.Store.Dir, err)
		return exitFailure
	}
	tmp, err := os.MkdirTemp("", "ccotel-import-")
	if err != nil {
		fmt.Fprintf(stderr, "ccotel import: %v\n", err)
		return exitFailure
	}
	defer os.RemoveAll(tmp)
	o.Known = func(id string) bool { return known[id] }
	o.Store.Dir, cfg.StateDir = tmp, tmp
	sum, err := importer.Run(sessions, o)
	if o.Progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		fmt.Fprintf(stderr, "ccotel import: %v\n", err)
		return exitFailure
	}
	spans, err := drainToMemory(cfg, stderr, "ccotel import")
	if err == nil {
		err = printTrace(stdout, cfg, spans, asJSON)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ccotel import: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stderr, "dry run: "+summaryLine(&sum))
	return exitOK
}

// outboxWait is the import's wait while the outbox is full: it starts
// the flusher and sleeps, and gives up once the outbox has not shrunk
// for outboxPatience.
func outboxWait(stateDir string, stderr io.Writer) func() bool {
	last, since := -1, time.Now()
	return func() bool {
		if _, err := delivery.StartFlusher(stateDir, time.Time{}, time.Now()); err != nil {
			fmt.Fprintf(stderr, "ccotel import: start flusher: %v\n", err)
		}
		time.Sleep(time.Second)
		queued := -1
		if st, err := delivery.ReadStatus(stateDir, ""); err == nil {
			queued = st.Queued
		}
		if last < 0 || queued < last {
			since = time.Now()
		}
		last = queued
		return time.Since(since) < outboxPatience
	}
}

// stateMemory is how long the state keeps an ended session's tombstone,
// what tells a second import that the session was sent (hook.Sweep).
const stateMemory = 30 * 24 * time.Hour

// outboxPatience is how long an import waits for a full outbox to shrink.
const outboxPatience = 2 * time.Minute

// projectsDir is where Claude Code keeps its transcripts.
func projectsDir() string {
	if d := os.Getenv("CLAUDE_CONFIG_DIR"); d != "" {
		return filepath.Join(d, "projects")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".claude", "projects")
}

// parseDays is time.ParseDuration that also takes whole days ("30d").
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		return time.Duration(n) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

func summaryLine(s *importer.Summary) string {
	line := fmt.Sprintf("imported %d of %d sessions (%s read), %d spans queued in %s; skipped: %d known to the state, %d older, %d still active, %d without a prompt, %d unreadable",
		s.Imported, s.Found, render.Bytes(s.Bytes), s.Spans, render.Duration(s.Elapsed), s.Seen, s.Old, s.Active, s.Empty, s.Failed)
	if s.Deferred > 0 {
		line += fmt.Sprintf("; %d deferred (the outbox was full)", s.Deferred)
	}
	if s.Damaged+s.TooLong > 0 {
		line += fmt.Sprintf("; %d damaged and %d over-long lines skipped", s.Damaged, s.TooLong)
	}
	return line
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressPrinter rewrites one status line, at most ten times a second.
func progressPrinter(w io.Writer) func(importer.Progress) {
	var last time.Time
	return func(p importer.Progress) {
		if p.Done < p.Total && time.Since(last) < 100*time.Millisecond {
			return
		}
		last = time.Now()
		fmt.Fprintf(w, "\r\033[Kimport: %d/%d sessions, %s of %s, %d spans, %s",
			p.Done, p.Total, render.Bytes(p.Bytes), render.Bytes(p.TotalSize), p.Spans, render.Duration(p.Elapsed))
	}
}
