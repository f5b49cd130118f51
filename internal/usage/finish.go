package usage

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// Options configure the finisher.
type Options struct {
	// Prices overrides the built-in price table, by model id or prefix.
	Prices map[string]Price
	// MaxWait is how long after a span's end the finisher waits for its
	// transcript to settle before exporting what is there, marked
	// claude_code.usage.complete=false. Default 60s.
	MaxWait time.Duration
	// Quiet is how long a transcript must have gone unmodified to count
	// as settled when no line says the turn is over. Default 5s.
	Quiet time.Duration
	// NoWait treats transcripts as final at once (replay of recorded
	// sessions): no waiting, no completeness marker.
	NoWait bool
	// Logf receives diagnostics (nil: dropped).
	Logf func(format string, args ...any)
}

const (
	defaultMaxWait = 60 * time.Second
	defaultQuiet   = 5 * time.Second
)

// New returns a Finisher that completes spans whose Pending holds a Ref:
// it reads the transcript(s), and when the span's usage is final (see
// docs/TOKENS.md) sets the token, model and cost attributes and clears
// Pending. Until then it returns done=false with the time to ask again,
// never later than the span's end plus MaxWait.
//
// It never panics and never guesses: a missing or unreadable transcript,
// or a Ref it cannot decode, finishes the span without usage attributes
// and logs why.
func New(o Options) tracing.Finisher {
	if o.MaxWait <= 0 {
		o.MaxWait = defaultMaxWait
	}
	if o.Quiet <= 0 {
		o.Quiet = defaultQuiet
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	f := &finisher{opts: o, prices: NewPrices(o.Prices), scans: map[string]*scan{}}
	return f.finish
}

type finisher struct {
	opts   Options
	prices *Prices
	// scans keeps each transcript scan of a span that is not finished yet,
	// so that asking again reads only what was appended since (the
	// flusher asks until the transcript settles). Dropped when the span
	// is finished.
	scans map[string]*scan
}

// scan reads path as o says, going on from where the same scan stopped
// before when there is one.
func (f *finisher) scan(res *result, path string, o scanOpts) (*scan, error) {
	key := fmt.Sprintf("%s\x00%d\x00%d\x00%t", path, o.offset, o.skipRuns, o.stopAtRunEnd)
	if o.turn != nil {
		key += "\x00turn " + o.turn.promptID
	}
	res.keys = append(res.keys, key)
	if sc, ok := f.scans[key]; ok {
		if err := sc.resume(path, false); err != nil {
			delete(f.scans, key)
			return nil, err
		}
		return sc, nil
	}
	sc, err := scanWith(path, o)
	if err == nil {
		f.scans[key] = sc
	}
	return sc, err
}

func (f *finisher) finish(s *tracing.Span, now time.Time) (done bool, retryAt time.Time) {
	if len(s.Pending) == 0 {
		return true, time.Time{}
	}
	defer func() {
		if p := recover(); p != nil {
			f.opts.Logf("span %s: panic reading usage: %v", s.SpanID, p)
			s.Pending = nil
			done, retryAt = true, time.Time{}
		}
	}()
	var ref Ref
	if err := json.Unmarshal(s.Pending, &ref); err != nil {
		f.opts.Logf("span %s: undecodable usage reference: %v", s.SpanID, err)
		s.Pending = nil
		return true, time.Time{}
	}
	if !f.opts.NoWait && now.Before(s.ReadyAt) {
		return false, s.ReadyAt
	}
	if ref.Scope == "compact" {
		return f.finishCompact(s, &ref, now)
	}
	res, err := f.read(&ref, s)
	defer func() {
		if done && res != nil {
			for _, k := range res.keys {
				delete(f.scans, k)
			}
		}
	}()
	if err != nil {
		f.opts.Logf("span %s (%s %s): no usage: %v", s.SpanID, ref.Scope, ref.Path, err)
		s.Pending = nil
		return true, time.Time{}
	}
	settled, lastWrite := res.settled, res.lastWrite
	if !settled && !f.opts.NoWait && !lastWrite.IsZero() && now.Sub(lastWrite) >= f.opts.Quiet {
		settled = true
	}
	if !settled && !f.opts.NoWait {
		end := s.End
		if end.IsZero() {
			end = s.ReadyAt
		}
		deadline := end.Add(f.opts.MaxWait)
		if now.Before(deadline) {
			retry := deadline
			if q := lastWrite.Add(f.opts.Quiet); q.After(now) && q.Before(retry) {
				retry = q
			}
			if min := now.Add(250 * time.Millisecond); retry.Before(min) {
				retry = min
			}
			return false, retry
		}
		f.opts.Logf("span %s (%s %s): transcript not settled %s after the span ended; exporting usage marked incomplete",
			s.SpanID, ref.Scope, ref.Path, f.opts.MaxWait)
	}
	complete := settled || f.opts.NoWait
	if res.tooLong > 0 {
		f.opts.Logf("span %s (%s %s): skipped %d transcript line(s) over %d bytes; usage marked incomplete",
			s.SpanID, ref.Scope, ref.Path, res.tooLong, MaxLine)
		complete = false
	}
	if len(res.unreadable) > 0 {
		f.opts.Logf("span %s (%s %s): unreadable subagent transcript(s) %s; usage marked incomplete",
			s.SpanID, ref.Scope, ref.Path, strings.Join(res.unreadable, "; "))
		complete = false
	}
	if res.malformed > 0 {
		f.opts.Logf("span %s (%s %s): skipped %d malformed transcript line(s)", s.SpanID, ref.Scope, ref.Path, res.malformed)
	}
	if ref.Scope == "tool" {
		applyTool(s, &ref, res.main)
		s.Pending = nil
		return true, time.Time{}
	}
	if ref.Scope == "turn" {
		applyTurnEnd(s, &ref, res.main)
	}
	f.apply(s, &ref, res)
	if !complete {
		s.SetAttr(tracing.Bool(semconv.UsageComplete, false))
	}
	s.Pending = nil
	return true, time.Time{}
}

// result is the usage of one span, over one or more transcript files.
type result struct {
	reqs       []*request
	settled    bool      // every file's content says it is over
	lastWrite  time.Time // latest modification time of the files read
	malformed  int
	tooLong    int
	unreadable []string // subagent files that could not be read

	main *scan    // the scan of ref.Path
	keys []string // of the scans read (finisher.scans)
}

// read scans the files of ref and tallies its requests. s is the span
// being finished: a run's number (claude_code.session.run) says which run
// of the transcript is its own.
func (f *finisher) read(ref *Ref, s *tracing.Span) (*result, error) {
	if ref.Path == "" {
		return nil, fmt.Errorf("no transcript path")
	}
	if ref.Offset < 0 {
		return nil, fmt.Errorf("negative offset %d", ref.Offset)
	}
	res := &result{settled: true}
	merged := map[string]*request{}
	var order []string
	addScan := func(i int, sc *scan) {
		for _, k := range sc.order {
			r := sc.reqs[k]
			if strings.HasPrefix(k, "#") {
				// Ungroupable lines are distinct in every file.
				k += "@" + strconv.Itoa(i)
			}
			old, ok := merged[k]
			if !ok {
				merged[k] = r
				order = append(order, k)
			} else if r.output >= old.output {
				merged[k] = r
			}
		}
		for _, r := range sc.foldedReqs { // sums: one per file, never merged
			k := r.key + "@" + strconv.Itoa(i)
			merged[k] = r
			order = append(order, k)
		}
		if sc.modTime.After(res.lastWrite) {
			res.lastWrite = sc.modTime
		}
		res.malformed += sc.malformed
		res.tooLong += sc.tooLong
	}

	switch ref.Scope {
	case "turn", "tool":
		sc, err := f.scan(res, ref.Path, scanOpts{offset: ref.Offset, turn: &turnFilter{promptID: ref.PromptID}})
		if err != nil {
			return nil, err
		}
		addScan(0, sc)
		res.main = sc
		res.settled = sc.ended || (!sc.partialTail && (sc.stopMarker || sc.terminal()))
		if sc.ev != nil && !sc.ev.interruptAt.IsZero() {
			res.settled = true // an interrupt line ends the turn
		}
		if ref.Scope == "tool" {
			res.settled = sc.toolSettled(ref.ToolUseID)
		}
	case "agent":
		sc, err := f.scan(res, ref.Path, scanOpts{offset: ref.Offset})
		if err != nil {
			return nil, err
		}
		addScan(0, sc)
		res.main = sc
		res.settled = sc.terminal()
	case "session":
		// The root span is the session's first run; the N-th resume is
		// a run span with claude_code.session.run = N. Each counts its
		// own lines only: from its start offset (or, when that is not
		// known, from the end of the N-th earlier run) to the
		// cost-state line Claude Code writes when the run ends, however
		// much was written after it.
		o := scanOpts{offset: ref.Offset, stopAtRunEnd: true}
		run := int64(0)
		if a, ok := s.Attr(semconv.SessionRun); ok && a.Int > 0 {
			run = a.Int
		}
		if run > 0 && ref.Offset == 0 {
			o.skipRuns = int(run)
		}
		sc, err := f.scan(res, ref.Path, o)
		if err != nil {
			return nil, err
		}
		addScan(0, sc)
		res.main = sc
		res.settled = sc.runEnded || sc.terminal()
		dir := ref.SubagentDir
		if dir == "" {
			dir = filepath.Join(strings.TrimSuffix(ref.Path, ".jsonl"), "subagents")
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		sort.Strings(files)
		for i, p := range files {
			// A subagent belongs to the run whose Agent call launched
			// it (meta.json's toolUseId); without a meta file, to the
			// session's first run (the root), as before runs existed.
			if id, ok := LaunchingCall(p); ok {
				if _, mine := sc.tools[id]; !mine {
					continue
				}
			} else if run > 0 {
				continue
			}
			asc, err := f.scan(res, p, scanOpts{})
			if err != nil {
				// A subagent file that vanished or cannot be read:
				// the totals are short.
				res.unreadable = append(res.unreadable, fmt.Sprintf("%s: %v", filepath.Base(p), err))
				continue
			}
			addScan(i+1, asc)
			res.settled = res.settled && asc.terminal()
		}
	default:
		return nil, fmt.Errorf("unknown scope %q", ref.Scope)
	}
	for _, k := range order {
		res.reqs = append(res.reqs, merged[k])
	}
	return res, nil
}

// LaunchingCall reads the toolUseId of a subagent transcript's meta file
// (agent-<id>.meta.json beside agent-<id>.jsonl, Claude Code 2.1.328+):
// the Agent call that launched the subagent. Only a regular file is read,
// without blocking (the path comes from a hook payload). The hook uses it
// at SubagentStart to bind the subagent, the finisher to give a run its
// own subagents.
func LaunchingCall(path string) (string, bool) {
	f, _, err := openRegular(strings.TrimSuffix(path, ".jsonl") + ".meta.json")
	if err != nil {
		return "", false
	}
	defer f.Close()
	var m struct {
		ToolUseID string `json:"toolUseId"`
	}
	if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&m); err != nil || m.ToolUseID == "" {
		return "", false
	}
	return m.ToolUseID, true
}

// roundUSD rounds to a billionth of a dollar, below the price of a single
// token (the cheapest is 3·10⁻⁸ $), so sums print without float noise.
func roundUSD(x float64) float64 { return math.Round(x*1e9) / 1e9 }
