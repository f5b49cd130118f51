package usage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// MaxLine is the longest transcript line read. Longer lines (a huge tool
// result, in practice) are skipped without being held in memory, counted,
// and make the span's usage "incomplete": ccotel cannot know what they held.
const MaxLine = 8 << 20

// request is one API response: the transcript line with the largest
// output_tokens among those sharing its (message.id, requestId).
type request struct {
	key        string
	model      string
	input      int64 // uncached input tokens
	output     int64
	cacheRead  int64
	cacheWrite int64 // all cache-creation tokens
	cache1h    int64 // of which written to the 1-hour cache
	webSearch  int64 // server-side web search requests
	stop       string
	longCtx    bool // above its model's long-context threshold (longContext)
	// offStandard: billed outside the standard tier (priority tier, fast
	// mode, data residency), which the price table does not model.
	offStandard bool

	// For the request's chat span:
	msgID, reqID string
	start        time.Time // the api-request line's time, or the triggering line's
	estimated    bool      // start is the triggering line's time
	end          time.Time // the response's last assistant line
	failed       bool      // an API error line, or a failed attempt
	errType      string
	noUsage      bool  // a failed request: no tokens to count
	status       int64 // a failed attempt's HTTP status (0: not known)
	resend       int64 // attempts before this one in its retry chain
	backoffMs    int64 // after a failed attempt: the wait before the next
	compact      *compactV
	// ccPriced: a compaction's call, priced ccCost by Claude Code's own
	// accounting (ledger.go).
	ccPriced bool
	ccCost   float64
	// folded is, for a sum of responses folded past maxRequests (see
	// scan.add), how many it holds; 0 for a single response.
	folded int
}

// scan is what one pass over one transcript file found.
type scan struct {
	reqs  map[string]*request
	order []string // keys in order of first appearance
	last  string   // key of the last assistant line read

	ended       bool // (turn) a later turn's prompt was found
	stopMarker  bool // (turn) a system line Claude Code writes after the turn (stop-hook summary, turn duration)
	partialTail bool // the file ends without a newline: a line is being written
	malformed   int  // complete lines that are not a JSON object we understand
	tooLong     int  // lines longer than MaxLine, skipped
	modTime     time.Time
	size        int64

	sessionID string
	apiReqs   map[string]time.Time // api-request id -> when it was sent
	trigger   time.Time            // the last user line (prompt, tool results) read
	tools     map[string]*interval // tool_use id -> from tool_use to tool_result
	toolIDs   []string             // tool_use ids in order
	costs     []costState          // cost-state lines read, in order
	costPrev  *costState           // the last cost-state before the counted lines
	runEnded  bool                 // a cost-state line ended the counted run
	ev        *evidence            // (turn) how its calls and the turn itself ended
	attempts  attempts             // API attempts and their failures (attempt.go)
	compacts  []compaction         // compact_boundary lines, in order
	lineStart int64                // where the line being handled starts in the file
	turnStart int64                // (turn) where the turn's first line starts; -1 before
	// foldedReqs are the responses folded out of reqs (see add), summed
	// per pricing class; foldedModel, the model time they took.
	foldedReqs  map[string]*request
	foldedModel time.Duration

	// Where the next pass goes on (see resume): the file read, the byte
	// after the last complete line consumed, the lines seen, the state of
	// the filters, and whether reading is over for good.
	file     os.FileInfo
	pos      int64
	lines    int
	opts     scanOpts
	counting bool
	runEnds  int
	finished bool
}

// maxRequests bounds the responses a scan keeps one by one: past it the
// oldest is folded into a sum per pricing class, so that a transcript of
// any number of responses is read in bounded memory (100 000 responses
// took the flusher to 699 MB). Its tokens, cost and count stay exact;
// it gets no chat span of its own. The lines of one response come
// together, so the oldest response is complete; were one of its lines
// to come back after the fold, it would count as a new response.
const maxRequests = 2 * maxChatSpans

// foldOldest folds the oldest response kept into foldedReqs.
func (sc *scan) foldOldest() {
	k := sc.order[0]
	sc.order = sc.order[1:]
	r := sc.reqs[k]
	delete(sc.reqs, k)
	if !r.start.IsZero() && r.end.After(r.start) {
		sc.foldedModel = addSat(sc.foldedModel, r.end.Sub(r.start))
	}
	class := fmt.Sprintf("%s\x00%t%t%t", r.model, r.longCtx, r.offStandard, r.noUsage)
	if sc.foldedReqs == nil {
		sc.foldedReqs = map[string]*request{}
	}
	f := sc.foldedReqs[class]
	if f == nil {
		f = &request{key: "#folded\x00" + class, model: r.model, longCtx: r.longCtx, offStandard: r.offStandard, noUsage: r.noUsage}
		sc.foldedReqs[class] = f
	}
	f.folded++
	f.input += r.input
	f.output += r.output
	f.cacheRead += r.cacheRead
	f.cacheWrite += r.cacheWrite
	f.cache1h += r.cache1h
	f.webSearch += r.webSearch
}

// interval is a span of time; end is zero while open.
type interval struct{ start, end time.Time }

// costState is a cost-state line: Claude Code's running totals for the
// session (they carry over a resume and a fork).
type costState struct {
	total   float64
	byModel map[string]modelUseV
	unknown bool // hasUnknownModelCost
}

// terminal reports whether the last response read ended its turn: Claude
// Code writes no further request for that agent until a new prompt.
func (sc *scan) terminal() bool {
	if sc.partialTail || sc.last == "" {
		return false
	}
	switch sc.reqs[sc.last].stop {
	case "end_turn", "stop_sequence", "max_tokens", "refusal", "model_context_window_exceeded":
		return true
	}
	return false
}

// add records one assistant line; for a key already seen, the line with the
// larger output_tokens wins, and on a tie the later one.
func (sc *scan) add(r *request) {
	if sc.reqs == nil {
		sc.reqs = map[string]*request{}
	}
	sc.last = r.key
	old, ok := sc.reqs[r.key]
	if !ok {
		if len(sc.order) >= maxRequests {
			sc.foldOldest()
		}
		sc.reqs[r.key] = r
		sc.order = append(sc.order, r.key)
		return
	}
	start, estimated, end := old.start, old.estimated, old.end
	if r.end.After(end) {
		end = r.end
	}
	if r.output >= old.output {
		if r.stop == "" {
			r.stop = old.stop
		}
		sc.reqs[r.key] = r
	} else if old.stop == "" {
		old.stop = r.stop
	}
	n := sc.reqs[r.key]
	n.start, n.estimated, n.end = start, estimated, end
}

// turnFilter selects the lines of one turn. Lines before the turn's prompt
// are skipped; the turn ends at the next prompt of another turn.
//
// With a prompt id (Claude Code 2.1.196+), user lines carry promptId: the
// turn starts at a line with its id and ends at a user line with another.
// Assistant lines may lack promptId; they belong to the turn in progress.
// Without prompt ids, the turn runs from the read offset to the second
// real prompt — or the first one, when a response came before it (the
// turn's own prompt line was written before the offset was taken).
type turnFilter struct {
	promptID string
	started  bool // inside the turn
	other    bool // inside another turn, before ours
	answered bool // an assistant line of the turn was read
}

// keep reports whether line e belongs to the turn; done means the turn
// is over and reading can stop.
func (f *turnFilter) keep(e *entry) (keep, done bool) {
	switch e.Type {
	case "user":
		pid := e.PromptID
		if f.promptID != "" && pid != "" {
			switch {
			case pid == f.promptID:
				f.started, f.other = true, false
			case f.started || f.answered:
				return false, true
			default:
				f.other = true
			}
			return false, false
		}
		if !e.isPrompt() {
			return false, false
		}
		if f.started || f.answered {
			return false, true
		}
		f.started, f.other = true, false
		return false, false
	case "assistant":
		if f.promptID != "" && e.PromptID != "" && e.PromptID != f.promptID {
			if f.started || f.answered {
				return false, true
			}
			f.other = true
			return false, false
		}
		if f.other {
			return false, false
		}
		f.answered = true
		return true, false
	}
	return false, false
}

// errMissing is returned for a transcript that does not exist.
var errMissing = errors.New("transcript not found")

// scanOpts select what a scan counts.
type scanOpts struct {
	offset int64
	// turn, when set, keeps only that turn's assistant lines and stops at
	// the next turn; otherwise every assistant line counts.
	turn *turnFilter
	// runs: for a session's run, the lines count from the point where
	// skipRuns cost-state lines (ends of earlier runs) have been passed,
	// and, with stopAtRunEnd, up to and including the next cost-state
	// line.
	skipRuns     int
	stopAtRunEnd bool
}

// scanFile reads path from offset: see scanOpts. It is scanWith with a
// turn filter or none.
func scanFile(path string, offset int64, turn *turnFilter) (*scan, error) {
	return scanWith(path, scanOpts{offset: offset, turn: turn})
}

// MaxPass bounds the bytes one scan reads: a transcript is read up to the
// size it had when the scan began, and never more than this in one pass.
// A scan that stops at the bound reports the span's usage incomplete.
var MaxPass int64 = 1 << 30

// scanWith reads path from o.offset: see scanOpts.
func scanWith(path string, o scanOpts) (*scan, error) {
	sc := newScan(o)
	return sc, sc.resume(path, true)
}

func newScan(o scanOpts) *scan {
	return &scan{opts: o, pos: o.offset, counting: o.skipRuns == 0, turnStart: -1}
}

// resume reads what was appended to the file since the last pass, and
// nothing it has read before: a span whose usage is asked for again (the
// transcript lags the hooks) costs only the new lines. A file that was
// replaced or truncated is read again from the start offset. first is the
// first pass of sc.
func (sc *scan) resume(path string, first bool) error {
	if sc.finished {
		return nil // the turn or run is over: later lines are not ours
	}
	f, fi, err := openRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	first, changed := sc.reopen(fi, first)
	if !changed {
		return nil // nothing new
	}
	p := pass{offset: sc.pos}
	if p.offset > fi.Size() {
		return errors.New("offset beyond the end of the transcript (file replaced or truncated?)")
	}
	if first && p.offset > 0 {
		if p.skipFirst, err = sc.startMidway(f, p.offset); err != nil {
			return err
		}
	}
	limit := fi.Size() - p.offset
	if limit > MaxPass {
		limit = MaxPass
		sc.tooLong++ // counted as a line not read: usage incomplete
	}
	p.lr = newLineReader(io.NewSectionReader(f, p.offset, limit))
	return sc.readLines(&p)
}

// reopen starts sc again from its start offset when the file was
// replaced or truncated (first: a first pass now), and reports whether
// there is anything new to read.
func (sc *scan) reopen(fi os.FileInfo, first bool) (_ bool, changed bool) {
	if !first && (!os.SameFile(fi, sc.file) || fi.Size() < sc.pos) {
		o := sc.opts
		if o.turn != nil {
			o.turn = &turnFilter{promptID: o.turn.promptID}
		}
		*sc = *newScan(o)
		first = true
	}
	if !first && fi.Size() == sc.size && fi.ModTime().Equal(sc.modTime) {
		return first, false
	}
	sc.file, sc.modTime, sc.size = fi, fi.ModTime(), fi.Size()
	return first, true
}

// startMidway prepares a first pass that starts at offset > 0: an offset
// taken while a line was being written points into that line, whose rest
// belongs to the line before the turn (skipFirst); and a run's read
// starts from the cost-state line of the run before.
func (sc *scan) startMidway(f *os.File, offset int64) (skipFirst bool, err error) {
	var b [1]byte
	if _, err := f.ReadAt(b[:], offset-1); err != nil {
		return false, err
	}
	if sc.opts.stopAtRunEnd {
		// The run's cost is Claude Code's running total at its end
		// less the total at the end of the run before.
		sc.costPrev = lastCostBefore(f, offset)
	}
	return b[0] != '\n', nil
}

// pass is one resume's reading of the file.
type pass struct {
	lr        *lineReader
	offset    int64 // where lr starts in the file
	skipFirst bool  // the first line is the rest of one begun before offset
}

// readLines hands each complete line to sc.line, keeping sc.pos after
// the last one consumed, until the end, a partial last line (read again
// once complete) or a handler that ends the pass.
func (sc *scan) readLines(p *pass) error {
	sc.partialTail = false
	for ; ; sc.lines++ {
		start := p.offset + p.lr.consumed
		line, tooLong, err := p.lr.next()
		if err == errPartial {
			sc.partialTail = true
			sc.pos = start // read the line again once it is complete
			return nil
		}
		if err == io.EOF {
			sc.pos = p.offset + p.lr.consumed
			return nil
		}
		if err != nil {
			return err
		}
		sc.pos = p.offset + p.lr.consumed
		sc.lineStart = start
		switch {
		case sc.lines == 0 && p.skipFirst:
		case tooLong:
			sc.tooLong++
		case sc.line(line, sc.lines):
			return nil
		}
	}
}

// lastCostBefore finds the last cost-state line in the MiB before offset
// (Claude Code writes it as a run ends, just before the next run's lines),
// or nil.
func lastCostBefore(f *os.File, offset int64) *costState {
	from := max(0, offset-1<<20)
	b := make([]byte, offset-from)
	if _, err := f.ReadAt(b, from); err != nil && err != io.EOF {
		return nil
	}
	i := bytes.LastIndex(b, []byte(`{"type":"cost-state"`))
	if i < 0 {
		return nil
	}
	line := b[i:]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	var e entry
	if json.Unmarshal(line, &e) != nil || e.TotalCostUSD == nil {
		return nil
	}
	cs := costOf(&e)
	return &cs
}

// costMarker starts every cost-state line Claude Code writes.
var costMarker = []byte(`{"type":"cost-state"`)

// runStart finds where the run holding byte anchor of path starts: just
// after the last cost-state line that begins before anchor (0: there is
// none, the first run). anchor < 0 stands for the last run that ended:
// the one the file's last cost-state line ends. ok is false when the
// file cannot be read or, for anchor < 0, no run has ended.
func runStart(path string, anchor int64) (int64, bool) {
	f, fi, err := openRegular(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	if anchor < 0 || anchor > fi.Size() {
		if anchor = lastCostLine(f, 0, fi.Size()); anchor < 0 {
			return 0, false
		}
	} else if lastCostLine(f, anchor, fi.Size()) < 0 {
		return 0, false // the run is not over: nothing before it is read
	}
	at := lastCostLine(f, 0, anchor)
	if at < 0 {
		return 0, true
	}
	lr := newLineReader(io.NewSectionReader(f, at, fi.Size()-at))
	if _, _, err := lr.next(); err != nil {
		return 0, false
	}
	return at + lr.consumed, true
}

// lastCostLine is where the last cost-state line that begins in
// [floor, end) starts, or -1.
func lastCostLine(f *os.File, floor, end int64) int64 {
	return lastMarker(f, costMarker, floor, end)
}

// lastMarker is where the last marker that begins in [floor, end) is, or
// -1; it reads backwards, a MiB at a time.
func lastMarker(f *os.File, marker []byte, floor, end int64) int64 {
	const chunk = 1 << 20
	for hi := end; hi > floor; hi -= chunk {
		lo := max(floor, hi-chunk)
		b := make([]byte, hi-lo+int64(len(marker))-1)
		n, err := f.ReadAt(b, lo)
		if err != nil && err != io.EOF {
			return -1
		}
		b = b[:n]
		for {
			i := bytes.LastIndex(b, marker)
			if i < 0 {
				break
			}
			if lo+int64(i) < hi {
				return lo + int64(i)
			}
			b = b[:i+len(marker)-1]
		}
	}
	return -1
}
