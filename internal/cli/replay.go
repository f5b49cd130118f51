package cli

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/redact"
	"github.com/ccotel/ccotel/internal/render"
	ccusage "github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

const replayUsage = `Usage: ccotel replay [--tree | --stdout] [--capture LEVEL] [--state-dir DIR] FILE...

Feeds recorded hook events through the same pipeline as 'ccotel hook' and
prints the resulting trace. FILE is JSON Lines, one hook payload per line
('-' reads stdin). Optional fields on a line:
  "_ts"           the event's time (RFC 3339); a line without it is 1 ms
                  after the previous one (the first: now)
  "_traceparent"  the TRACEPARENT the hook would have seen
A relative transcript_path or agent_transcript_path is resolved against the
file's directory. Token usage is read from the transcripts as they are now
(a turn is found by its prompt_id).

Spans still open at the end of the input are not printed: they stay open,
as the hook would leave them. Lines that are not valid events are skipped
with a warning. With --state-dir, the sessions continue from that
directory's state, and every span in its outbox is printed (none removed).

Flags:
`

// runReplay implements `ccotel replay`. Exit codes: 0 done, 1 a file could
// not be read or the state directory not used, 2 usage.
func runReplay(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	asTree := fs.Bool("tree", false, "print the trace as an indented tree (the default)")
	asJSON := fs.Bool("stdout", false, "print the spans as OTLP/JSON (an ExportTraceServiceRequest)")
	capture := fs.String("capture", "", "capture `level`: metadata, details or content (default: the configured one)")
	stateDir := fs.String("state-dir", "", "use (and keep) this state `directory` instead of a temporary one")
	if code, ok := parseFlags(fs, replayUsage, args, stdout, stderr); !ok {
		return code
	}
	if *asTree && *asJSON {
		fmt.Fprintln(stderr, "ccotel replay: --tree and --stdout exclude each other")
		return exitUsage
	}
	files := fs.Args()
	if len(files) == 0 {
		fmt.Fprintln(stderr, "ccotel replay: no input file (use - for stdin)")
		fs.Usage()
		return exitUsage
	}

	flags := map[string]string{}
	if *capture != "" {
		flags["capture"] = *capture
	}
	cfg, err := config.Load(config.LoadOptions{Getenv: os.LookupEnv, Flags: flags})
	if err != nil {
		if *capture != "" {
			fmt.Fprintf(stderr, "ccotel replay: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "ccotel replay: configuration ignored: %v\n", err)
		cfg = &config.Config{ServiceName: tracing.DefaultServiceName}
	}

	dir := *stateDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "ccotel-replay-")
		if err != nil {
			fmt.Fprintf(stderr, "ccotel replay: %v\n", err)
			return exitFailure
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	cfg.StateDir = dir
	store, err := state.Open(state.Options{Dir: dir, LockTimeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintf(stderr, "ccotel replay: state directory %s: %v\n", dir, err)
		return exitFailure
	}
	defer func() { store.Close() }()

	if _, err := redact.New(cfg.RedactPatterns); err != nil {
		fmt.Fprintf(stderr, "ccotel replay: %v (the built-in rules still apply)\n", err)
	}
	r := &replayer{store: store, opts: cfg.Hook(), stderr: stderr, envTraceparent: os.Getenv("TRACEPARENT")}
	r.opts.Logf = func(format string, args ...any) {
		fmt.Fprintf(stderr, "ccotel replay: %s: "+format+"\n", append([]any{r.where()}, args...)...)
	}
	// The recorded transcripts are complete: a turn is found by its
	// prompt_id from the start of the file, not by the file's size now.
	r.opts.TranscriptSize = func(string) (int64, bool) { return 0, true }
	for _, name := range files {
		if err := r.replayFile(name, stdin); err != nil {
			fmt.Fprintf(stderr, "ccotel replay: %v\n", err)
			return exitFailure
		}
	}

	open, err := r.openSpans()
	store.Close()
	if err != nil {
		fmt.Fprintf(stderr, "ccotel replay: %v\n", err)
		return exitFailure
	}
	// What the live path does next: the flusher finishes each span's
	// pending work (token usage, from the recorded transcripts, which are
	// complete) and exports it. Here the export is a collector in memory.
	spans, err := drainToMemory(cfg, stderr, "ccotel replay")
	if err != nil {
		fmt.Fprintf(stderr, "ccotel replay: %v\n", err)
		return exitFailure
	}
	err = printTrace(stdout, cfg, spans, *asJSON)
	if err == nil && !*asJSON && open > 0 {
		_, err = fmt.Fprintf(stdout, "(%d spans still open at the end of the input)\n", open)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ccotel replay: %v\n", err)
		return exitFailure
	}
	return exitOK
}

type replayer struct {
	store          *state.Store
	opts           hook.Options
	stderr         io.Writer
	envTraceparent string
	file           string
	line           int
	last           time.Time
}

func (r *replayer) where() string { return fmt.Sprintf("%s:%d", r.file, r.line) }

func (r *replayer) warnf(format string, args ...any) {
	fmt.Fprintf(r.stderr, "ccotel replay: %s: "+format+"\n", append([]any{r.where()}, args...)...)
}

func (r *replayer) replayFile(name string, stdin io.Reader) error {
	var in io.Reader
	base := "."
	if name == "-" {
		in = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
		base = filepath.Dir(name)
	}
	r.file, r.line = name, 0
	br := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			r.line++
			r.replayLine(line, base)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

func (r *replayer) replayLine(line []byte, base string) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	ev, err := hook.DecodeBytes(line)
	if err != nil {
		r.warnf("skipped: %v", err)
		return
	}
	t := ev.Time
	if t.IsZero() {
		if r.last.IsZero() {
			t = time.Now()
		} else {
			t = r.last.Add(time.Millisecond)
		}
	}
	r.last = t
	ev.TranscriptPath = resolve(base, ev.TranscriptPath)
	ev.AgentTranscriptPath = resolve(base, ev.AgentTranscriptPath)
	opts := r.opts
	opts.Traceparent = r.envTraceparent
	if ev.Traceparent != "" {
		opts.Traceparent = ev.Traceparent
	}
	hook.Prepare(ev, opts)
	err = r.store.Update(func(tx *state.Tx) error {
		_, err := hook.Record(tx, ev, t, opts)
		return err
	})
	if err != nil {
		r.warnf("skipped: %v", err)
	}
}

func resolve(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// openSpans counts the spans still open in the sessions.
func (r *replayer) openSpans() (open int, err error) {
	err = r.store.View(func(tx *state.Tx) error {
		return tx.ForEachSession(func(id string, _ []byte) error {
			open += hook.OpenSpans(tx, id)
			return nil
		})
	})
	return open, err
}

// collector is replay's exporter: it keeps what the flusher delivers.
type collector struct{ spans []*tracing.Span }

func (c *collector) Export(_ context.Context, spans []*tracing.Span) error {
	c.spans = append(c.spans, spans...)
	return nil
}

func (c *collector) Close() error { return nil }

// drainToMemory runs the flusher over cfg's state directory with an
// exporter in memory: every queued span's pending work done (token usage
// read from transcripts taken as final), nothing sent. It returns the
// spans in order of start. Replay and a dry-run import print them.
func drainToMemory(cfg *config.Config, stderr io.Writer, prefix string) ([]*tracing.Span, error) {
	var sink collector
	o := cfg.Flush()
	o.Store.LockTimeout = 10 * time.Second
	o.Exporter, o.WaitPending, o.Sweep = &sink, true, nil
	uo := cfg.Usage()
	uo.NoWait = true
	uo.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, prefix+": usage: "+format+"\n", args...) }
	o.Finisher = ccusage.New(uo)
	o.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, prefix+": "+format+"\n", args...) }
	if _, err := delivery.Flush(context.Background(), o); err != nil {
		return nil, err
	}
	spans := sink.spans
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].Start.Before(spans[j].Start) })
	return spans, nil
}

// printTrace prints spans as a tree, or as OTLP/JSON with the resource
// and scope the exporter would send.
func printTrace(w io.Writer, cfg *config.Config, spans []*tracing.Span, asJSON bool) error {
	if asJSON {
		eo := cfg.Export()
		return tracing.EncodeOTLPJSON(w, tracing.ResourceAttrs(&eo), tracing.Scope{Name: tracing.ScopeName, Version: eo.Version}, spans)
	}
	return render.Tree(w, spans)
}
