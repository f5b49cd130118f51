package usage

import (
	"bytes"
	"encoding/json"
	"errors"
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
	longCtx    bool // input+cache > 200k tokens (long-context pricing)
	// offStandard: billed outside the standard tier (priority tier, fast
	// mode, data residency), which the price table does not model.
	offStandard bool

	// For the request's chat span:
	msgID, reqID string
	start        time.Time // the api-request line's time, or the triggering line's
	estimated    bool      // start is the triggering line's time
	end          time.Time // the response's last assistant line
	failed       bool      // an API error line
	errType      string
	noUsage      bool // a failed request: no tokens to count
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

// interval is a span of time; end is zero while open.
type interval struct{ start, end time.Time }

// costState is a cost-state line: Claude Code's running totals for the
// session (they carry over a resume and a fork).
type costState struct {
	total   float64
	byModel map[string]float64
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
	sc := &scan{opts: o, pos: o.offset, counting: o.skipRuns == 0}
	return sc, sc.resume(path, true)
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
	if !first && (!os.SameFile(fi, sc.file) || fi.Size() < sc.pos) {
		o := sc.opts
		if o.turn != nil {
			o.turn = &turnFilter{promptID: o.turn.promptID}
		}
		*sc = scan{opts: o, pos: o.offset, counting: o.skipRuns == 0}
		first = true
	}
	if !first && fi.Size() == sc.size && fi.ModTime().Equal(sc.modTime) {
		return nil // nothing new
	}
	sc.file, sc.modTime, sc.size = fi, fi.ModTime(), fi.Size()
	o := sc.opts
	offset := sc.pos
	if offset > fi.Size() {
		return errors.New("offset beyond the end of the transcript (file replaced or truncated?)")
	}
	// An offset taken while a line was being written points into that
	// line; its rest belongs to the line before the turn: skip it.
	skipFirst := false
	if first && offset > 0 {
		var b [1]byte
		if _, err := f.ReadAt(b[:], offset-1); err != nil {
			return err
		}
		skipFirst = b[0] != '\n'
		if o.stopAtRunEnd {
			// The run's cost is Claude Code's running total at its
			// end less the total at the end of the run before.
			sc.costPrev = lastCostBefore(f, offset)
		}
	}
	limit := fi.Size() - offset
	if limit > MaxPass {
		limit = MaxPass
		sc.tooLong++ // counted as a line not read: usage incomplete
	}
	lr := newLineReader(io.NewSectionReader(f, offset, limit))
	turn := o.turn
	sc.partialTail = false
	for ; ; sc.lines++ {
		start := offset + lr.consumed
		line, tooLong, err := lr.next()
		if err == errPartial {
			sc.partialTail = true
			sc.pos = start // read the line again once it is complete
			break
		}
		if err != nil {
			if err == io.EOF {
				sc.pos = offset + lr.consumed
				break
			}
			return err
		}
		sc.pos = offset + lr.consumed
		n := sc.lines
		if first && n == 0 && skipFirst {
			continue
		}
		if tooLong {
			sc.tooLong++
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if turn == nil && !bytes.Contains(line, quotedAssistant) && !bytes.Contains(line, quotedToolResult) &&
			!bytes.Contains(line, quotedAPIRequest) && !bytes.Contains(line, quotedCostState) {
			// Only these lines count here, and each has its token
			// outside any string (inside one it reads \"assistant\").
			// Skips decoding the other lines of a whole-session read.
			continue
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			sc.malformed++
			continue
		}
		if e.Type == "cost-state" {
			cs := costState{unknown: e.HasUnknownCost, byModel: map[string]float64{}}
			if e.TotalCostUSD != nil {
				cs.total = *e.TotalCostUSD
			}
			for m, u := range e.ModelUsage {
				cs.byModel[m] = u.CostUSD
			}
			if !sc.counting {
				sc.runEnds++
				if sc.runEnds >= o.skipRuns {
					sc.counting = true
					sc.costPrev = &cs
				}
				continue
			}
			sc.costs = append(sc.costs, cs)
			if o.stopAtRunEnd {
				sc.runEnded, sc.finished = true, true
				break
			}
			continue
		}
		if !sc.counting {
			continue
		}
		if sc.sessionID == "" {
			sc.sessionID = e.SessionID
		}
		if e.Type == "api-request" {
			if sc.apiReqs == nil {
				sc.apiReqs = map[string]time.Time{}
			}
			if t := e.time(); e.ID != "" && !t.IsZero() {
				sc.apiReqs[e.ID] = t
			}
			continue
		}
		if e.Type == "user" && e.Message != nil {
			t := e.time()
			for _, id := range e.Message.Content.results {
				if iv := sc.tools[id]; iv != nil && iv.end.IsZero() {
					iv.end = t
				}
			}
		}
		if turn != nil {
			if e.Type == "system" && turn.answered && (e.Subtype == "stop_hook_summary" || e.Subtype == "turn_duration") {
				sc.stopMarker = true
			}
			keep, done := turn.keep(&e)
			if e.Type == "user" && (turn.started || turn.answered) && !turn.other && !done {
				sc.trigger = e.time()
			}
			if done {
				sc.ended, sc.finished = true, true
				break
			}
			if !keep {
				continue
			}
		} else {
			if e.Type == "user" {
				sc.trigger = e.time()
			}
			if e.Type != "assistant" {
				continue
			}
		}
		r, ok := e.toRequest(n)
		if !ok {
			sc.malformed++
			continue
		}
		if r == nil {
			continue
		}
		t := e.time()
		r.end = t
		if at, ok := sc.apiReqs[e.RequestRef]; ok && e.RequestRef != "" {
			r.start = at
		} else {
			r.start, r.estimated = sc.trigger, true
			if r.start.IsZero() || r.start.After(t) {
				r.start = t
			}
		}
		sc.add(r)
		for _, id := range e.Message.Content.toolUses {
			if sc.tools == nil {
				sc.tools = map[string]*interval{}
			}
			if _, ok := sc.tools[id]; !ok && id != "" {
				sc.tools[id] = &interval{start: t}
				sc.toolIDs = append(sc.toolIDs, id)
			}
		}
	}
	return nil
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
	cs := &costState{total: *e.TotalCostUSD, unknown: e.HasUnknownCost, byModel: map[string]float64{}}
	for m, u := range e.ModelUsage {
		cs.byModel[m] = u.CostUSD
	}
	return cs
}
