package usage

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// What a scan does with each type of transcript line. Handling a new line
// type (or a new subtype of one) is a local change: its handler here and
// its row in lineTypes.

// lineType is how a scan treats the lines of one type.
type lineType struct {
	// handle records line e (the n-th of the file); stop ends the pass
	// (the turn or the run is over).
	handle func(sc *scan, e *entry, n int) (stop bool)
	// marker, when set, is what a line of this type holds outside any
	// string (inside one it reads \"type\"): a whole-session read (no
	// turn filter) decodes only the lines holding one of the markers. A
	// type without one is seen only by turn reads.
	marker []byte
	// beforeRun: the line is handled before the counted run starts too
	// (cost-state lines are what delimit runs).
	beforeRun bool
}

// lineTypes are the transcript's line types that a scan uses; other
// types are skipped. A whole-session read decodes a user line only when
// it holds a tool_result (what closes a tool's interval).
var lineTypes = map[string]lineType{
	"cost-state":  {handle: (*scan).costLine, marker: []byte(`"cost-state"`), beforeRun: true},
	"api-request": {handle: (*scan).apiRequestLine, marker: []byte(`"api-request"`)},
	"user":        {handle: (*scan).userLine, marker: []byte(`"tool_result"`)},
	"assistant":   {handle: (*scan).assistantLine, marker: []byte(`"assistant"`)},
	"system":      {handle: (*scan).systemLine, marker: []byte(`"subtype"`)},
}

// sessionMarkers are lineTypes' markers, and the interrupt's user line:
// an attempt it cuts short is no failure (attempt.go).
var sessionMarkers = append(markersOf(lineTypes), []byte(interruptText))

func markersOf(types map[string]lineType) [][]byte {
	names := slices.Sorted(maps.Keys(types))
	var markers [][]byte
	for _, name := range names {
		if m := types[name].marker; m != nil {
			markers = append(markers, m)
		}
	}
	return markers
}

// line decodes one complete line and hands it to its type's handler.
func (sc *scan) line(raw []byte, n int) (stop bool) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return false
	}
	if sc.opts.turn == nil && !hasAny(raw, sessionMarkers) {
		return false // skips decoding the other lines of a whole-session read
	}
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		sc.malformed++
		return false
	}
	lt := lineTypes[e.Type]
	if !sc.counting && !lt.beforeRun {
		return false
	}
	if !lt.beforeRun && sc.sessionID == "" {
		sc.sessionID = e.SessionID
	}
	if lt.handle == nil {
		return false
	}
	return lt.handle(sc, &e, n)
}

func hasAny(b []byte, subs [][]byte) bool {
	for _, s := range subs {
		if bytes.Contains(b, s) {
			return true
		}
	}
	return false
}

// costLine: Claude Code's running totals, written as a run ends. Before
// the counted run, it counts the ends of earlier runs; in it, it records
// the totals and, for a run's read, ends the pass.
func (sc *scan) costLine(e *entry, _ int) (stop bool) {
	cs := costOf(e)
	if !sc.counting {
		sc.runEnds++
		if sc.runEnds >= sc.opts.skipRuns {
			sc.counting = true
			sc.costPrev = &cs
		}
		return false
	}
	sc.costs = append(sc.costs, cs)
	if sc.opts.stopAtRunEnd {
		sc.runEnded, sc.finished = true, true
		return true
	}
	return false
}

// costOf is a cost-state line's totals.
func costOf(e *entry) costState {
	cs := costState{unknown: e.HasUnknownCost, byModel: map[string]modelUseV{}}
	if e.TotalCostUSD != nil {
		cs.total = *e.TotalCostUSD
	}
	for m, u := range e.ModelUsage {
		cs.byModel[m] = u
	}
	return cs
}

// apiRequestLine: when a request was sent (its chat span's start).
func (sc *scan) apiRequestLine(e *entry, _ int) (stop bool) {
	if sc.apiReqs == nil {
		sc.apiReqs = map[string]time.Time{}
	}
	if t := e.time(); e.ID != "" && !t.IsZero() {
		sc.apiReqs[e.ID] = t
		if sc.inTurn() {
			sc.attemptSent(e, t)
		}
	}
	return false
}

// inTurn reports whether the line being read belongs to the counted
// lines: any line of a whole-file read, a turn's lines in a turn's read.
func (sc *scan) inTurn() bool {
	t := sc.opts.turn
	return t == nil || (t.started || t.answered) && !t.other
}

// userLine: a prompt or tool results. Tool results close their tools'
// intervals; the line is what triggers the next request (its estimated
// start); a turn's read ends at the next turn's prompt.
func (sc *scan) userLine(e *entry, _ int) (stop bool) {
	sc.unanswered()
	if e.Message != nil {
		t := e.time()
		for _, id := range e.Message.Content.results {
			if iv := sc.tools[id]; iv != nil && iv.end.IsZero() {
				iv.end = t
			}
		}
	}
	turn := sc.opts.turn
	if turn == nil {
		sc.trigger = e.time()
		return false
	}
	_, done := turn.keep(e)
	if (turn.started || turn.answered) && !turn.other && !done {
		sc.trigger = e.time()
		if e.Message != nil {
			sc.noteUser(e)
		}
		if sc.turnStart < 0 {
			sc.turnStart = sc.lineStart
		}
	}
	if done {
		sc.ended, sc.finished = true, true
	}
	return done
}

// systemLine: in a turn's read, the markers Claude Code writes after the
// turn (stop-hook summary, turn duration); a failed attempt (api_error);
// a compaction (compact_boundary).
func (sc *scan) systemLine(e *entry, _ int) (stop bool) {
	if turn := sc.opts.turn; turn != nil && turn.answered &&
		(e.Subtype == "stop_hook_summary" || e.Subtype == "turn_duration") {
		sc.stopMarker = true
	}
	switch {
	case !sc.inTurn():
	case e.Subtype == "api_error":
		sc.attemptFailed(e)
	case e.Subtype == "compact_boundary":
		sc.compacted(e)
	}
	return false
}

// assistantLine: one line of an API response, counted unless a turn's
// read filters it out; another turn's line ends that read.
func (sc *scan) assistantLine(e *entry, n int) (stop bool) {
	if turn := sc.opts.turn; turn != nil {
		keep, done := turn.keep(e)
		if done {
			sc.ended, sc.finished = true, true
			return true
		}
		if !keep {
			return false
		}
		sc.noteAssistant(e)
	}
	sc.response(e, n)
	return false
}

// response records the request of assistant line e, its start (the
// api-request line's time, else the triggering line's), and the tools it
// called.
func (sc *scan) response(e *entry, n int) {
	r, ok := e.toRequest(n)
	if !ok {
		sc.malformed++
		return
	}
	if r == nil {
		return
	}
	t := e.time()
	r.end = t
	sc.answered(e, r)
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
