package importer

import (
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// Options steer an import.
type Options struct {
	// Hook are the state machine's options, as the hook has them.
	Hook hook.Options
	// Store is where the spans are queued and the sessions recorded.
	Store state.Options
	// Known, when set, names sessions to skip besides those Store knows
	// (a dry run queues into a scratch store and asks the real one).
	Known func(id string) bool
	// Since skips sessions whose last line is older (zero: none).
	Since time.Time
	// Settled skips transcripts modified less than this long ago: a
	// session still running would be imported half (0: none).
	Settled time.Duration
	// Now is the time of the import (zero: time.Now).
	Now func() time.Time
	// Progress, when set, is called after each session.
	Progress func(Progress)
	// Wait is called while the outbox has no room for the next session
	// (an import fills at most half of it): it lets the flusher send
	// (starts it, sleeps), and returns false to give up, deferring the
	// rest to a later import. nil gives up at once.
	Wait func() bool
	// Logf receives diagnostics (nil: dropped).
	Logf func(format string, args ...any)
}

// Progress is how far an import is.
type Progress struct {
	Done, Total      int
	Bytes, TotalSize int64
	Spans            int
	Elapsed          time.Duration
}

// Summary is what an import did.
type Summary struct {
	Found    int // session transcripts found
	Imported int // sessions queued
	Seen     int // skipped: the state knows them (exported live, or imported before)
	Old      int // skipped: older than Since
	Active   int // skipped: modified less than Settled ago
	Empty    int // skipped: no prompt in them
	Failed   int // skipped: unreadable
	Deferred int // not imported: the outbox stayed full (a later import takes them)
	Spans    int // spans queued
	Late     int // events the state machine dropped as late
	Stats
	// NextAttempt is the outbox's backoff (for starting the flusher).
	NextAttempt time.Time
	Elapsed     time.Duration
}

// Run imports sessions: each one's transcripts become the hook events
// they imply, applied by the hook's own state machine in memory (no
// lock held), and the spans that come out are queued with the session's
// final state (a tombstone) in one short transaction per batch, unless
// the state already knows the session.
func Run(sessions []Session, o Options) (Summary, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	start := now()
	known, err := KnownSessions(o.Store)
	if err != nil {
		return Summary{}, err
	}
	r := &run{o: o, sum: Summary{Found: len(sessions)}, known: known}
	var total int64
	for _, s := range sessions {
		total += s.Size
	}
	p := r.start(sessions, start)
	n := 0
	for out := range p.out {
		n++
		r.collect(out)
		if err == nil && !r.full && (r.pending >= commitSpans || len(r.batch) >= commitSessions) {
			if err = r.commitOrWait(); r.full || err != nil {
				close(p.quit)
			}
		}
		if o.Progress != nil {
			o.Progress(Progress{Done: n, Total: len(sessions), Bytes: r.sum.Bytes, TotalSize: total, Spans: r.sum.Spans + r.pending, Elapsed: now().Sub(start)})
		}
	}
	if err == nil && !r.full {
		err = r.commitOrWait()
	}
	if r.full {
		r.sum.Deferred += len(r.batch) + len(sessions) - p.fed
	}
	r.sum.Elapsed = now().Sub(start)
	return r.sum, err
}

// pipeline reads and applies sessions on up to maxWorkers goroutines.
type pipeline struct {
	out  chan outcome  // one per session handed out; closed after the last
	quit chan struct{} // closed: hand out no more sessions
	fed  int           // sessions handed out (read once out is closed)
}

func (r *run) start(sessions []Session, now time.Time) *pipeline {
	p := &pipeline{out: make(chan outcome), quit: make(chan struct{})}
	work := make(chan Session)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), maxWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				p.out <- r.prepare(s, now)
			}
		}()
	}
	go func() {
		defer close(work)
		for _, s := range sessions {
			select {
			case work <- s:
				p.fed++
			case <-p.quit:
				return
			}
		}
	}()
	go func() { wg.Wait(); close(p.out) }()
	return p
}

// maxWorkers bounds the sessions read at once (and so the memory held).
const maxWorkers = 4

// A batch is committed once it holds this many spans or sessions.
const (
	commitSpans    = 4096
	commitSessions = 256
)

type run struct {
	o       Options
	full    bool // the outbox stayed full: the rest is deferred
	sum     Summary
	known   map[string]bool
	batch   []imported
	pending int
}

// imported is a session ready to be queued.
type imported struct {
	id    string
	head  []byte
	spans [][]byte // marshalled (tracing.Span.Marshal), ready for the outbox
	size  int64
}

func (r *run) logf(format string, args ...any) {
	if r.o.Logf != nil {
		r.o.Logf(format, args...)
	}
}

// outcome is what preparing one session gave.
type outcome struct {
	skip  *int // the Summary counter of why it was skipped, nil if imported
	im    imported
	stats Stats
	late  int
}

// prepare reads one session and applies its events in memory; it only
// reads r.
func (r *run) prepare(s Session, now time.Time) outcome {
	sum := &r.sum
	switch {
	case r.known[s.ID] || r.o.Known != nil && r.o.Known(s.ID):
		return outcome{skip: &sum.Seen}
	case !r.o.Since.IsZero() && s.ModTime.Before(r.o.Since):
		return outcome{skip: &sum.Old}
	case r.o.Settled > 0 && now.Sub(s.ModTime) < r.o.Settled:
		return outcome{skip: &sum.Active}
	}
	events, stats, err := Events(s)
	if err != nil {
		r.logf("%s: %v", s.Path, err)
		return outcome{skip: &sum.Failed, stats: stats}
	}
	if !hasPrompt(events) {
		return outcome{skip: &sum.Empty, stats: stats}
	}
	if last := events[len(events)-1].t; !r.o.Since.IsZero() && last.Before(r.o.Since) {
		return outcome{skip: &sum.Old, stats: stats}
	}
	im, late, err := apply(s.ID, events, r.o.Hook)
	if err != nil {
		r.logf("%s: %v", s.Path, err)
		return outcome{skip: &sum.Failed, stats: stats, late: late}
	}
	return outcome{im: im, stats: stats, late: late}
}

// collect counts an outcome and batches an imported session.
func (r *run) collect(o outcome) {
	r.sum.add(o.stats)
	r.sum.Late += o.late
	if o.skip != nil {
		*o.skip++
		return
	}
	r.batch = append(r.batch, o.im)
	r.pending += len(o.im.spans)
}

func hasPrompt(events []event) bool {
	for i := range events {
		if events[i].p.Name == hook.UserPromptSubmit {
			return true
		}
	}
	return false
}

// Events reads a session's transcripts (the main one and its subagents')
// and returns the hook events they imply, in the order they happened.
func Events(s Session) ([]event, Stats, error) {
	main := &parser{session: s.ID, path: s.Path}
	if err := main.read(s.Path); err != nil {
		return nil, main.stats, err
	}
	stats := main.stats
	streams := [][]event{main.events}
	for _, path := range subagents(s.Path) {
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "agent-"), ".jsonl")
		typ := agentType(path)
		if typ == "" {
			typ = main.agentTypes[id]
		}
		p := &parser{session: s.ID, path: s.Path, agentID: id, agentType: typ, agentPath: path}
		if err := p.read(path); err != nil {
			continue // a subagent's file that vanished: the rest still stands
		}
		stats.add(p.stats)
		streams = append(streams, p.events)
	}
	return merge(streams), stats, nil
}

// agentType reads agentType from a subagent's meta file.
func agentType(path string) string {
	f, _, err := usage.OpenTranscript(strings.TrimSuffix(path, ".jsonl") + ".meta.json")
	if err != nil {
		return ""
	}
	defer f.Close()
	var m struct {
		AgentType string `json:"agentType"`
	}
	if json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&m) != nil {
		return ""
	}
	return m.AgentType
}

// merge interleaves the streams by time, each stream's order kept (on a
// tie the earlier stream first: the main transcript). The session's last
// SessionEnd moves after every subagent's last event.
func merge(streams [][]event) []event {
	if len(streams) == 1 {
		return streams[0]
	}
	n := 0
	var last time.Time
	for _, s := range streams {
		n += len(s)
		for i := range s {
			if s[i].t.After(last) {
				last = s[i].t
			}
		}
	}
	if m := streams[0]; len(m) > 0 && m[len(m)-1].p.Name == hook.SessionEnd {
		m[len(m)-1].t = last
	}
	out := make([]event, 0, n)
	pos := make([]int, len(streams))
	for len(out) < n {
		best := -1
		for i, s := range streams {
			if pos[i] < len(s) && (best < 0 || s[pos[i]].t.Before(streams[best][pos[best]].t)) {
				best = i
			}
		}
		out = append(out, streams[best][pos[best]])
		pos[best]++
	}
	return out
}

// apply runs the events through the hook's state machine on a store in
// memory and returns the spans that ended (marked as timed by the
// transcript) and the session's final state.
func apply(id string, events []event, opts hook.Options) (imported, int, error) {
	var mem hook.Memory
	var spans []tracing.Span
	im := imported{id: id}
	late := 0
	for i := range events {
		e := &events[i]
		if e.drop {
			continue
		}
		b, err := json.Marshal(&e.p)
		if err != nil {
			return im, late, err
		}
		ev, err := hook.DecodeBytes(b)
		if err != nil {
			return im, late, err
		}
		off := e.offset
		opts.TranscriptSize = func(string) (int64, bool) { return off, true }
		hook.Prepare(ev, opts)
		res, err := hook.Apply(&mem, ev, e.t, opts)
		if err != nil {
			return im, late, err
		}
		if res.Late {
			late++
		}
		spans = append(spans, res.Spans...)
	}
	im.spans = make([][]byte, 0, len(spans))
	for i := range spans {
		spans[i].SetAttr(tracing.String(semconv.Timing, semconv.TimingTranscript))
		b, err := spans[i].Marshal()
		if err != nil {
			return im, late, err
		}
		im.spans = append(im.spans, b)
		im.size += int64(len(b))
	}
	im.head = mem.Session(id)
	if im.head == nil {
		return im, late, errors.New("no session state after the import")
	}
	return im, late, nil
}
