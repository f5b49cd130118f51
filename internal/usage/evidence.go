package usage

import (
	"bytes"
	"slices"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// Where no hook event tells how a tool call or a turn ended, the
// transcript does (Claude Code 2.1.328): Escape during a tool, or SIGINT
// to -p, fires no Post event and no Stop, but the call's tool_result is
// written (is_error, "The user doesn't want to proceed …") and then the
// line "[Request interrupted by user for tool use]"; Escape while the
// model streams writes "[Request interrupted by user]"; a call denied for
// lack of approval has permissionDecision.decision = "reject". The hook
// ends such spans at the last it knew of them and leaves a Ref with Until
// set; the finisher reads this evidence from the turn's lines and moves
// the end (never past Until) and the outcome.

// untilGrace is how far past Ref.Until evidence is still taken: SIGINT
// fires SessionEnd first, and Claude Code writes the interrupted call's
// tool_result and the interrupt line while it shuts down (seen 0.4–1.4 s
// after the SessionEnd hook began). Evidence for a turn ended by the next
// prompt comes before that prompt's line, so the grace changes nothing
// there.
const untilGrace = 10 * time.Second

// within reports whether evidence at t may end a span that started at
// from and that the hook knew over by until (zero: unbounded).
func within(t, from, until time.Time) bool {
	return !t.Before(from) && (until.IsZero() || !t.After(until.Add(untilGrace)))
}

// evidence is what a scan saw of its turn's ends.
type evidence struct {
	results map[string]*toolResult // tool_use_id -> its result line
	recent  []string               // results since the last assistant line
	// interruptAt is the time of the turn's interrupt line; lastAt that
	// of its last user or assistant line.
	interruptAt, lastAt time.Time
}

// toolResult is one call's tool_result as the transcript has it.
type toolResult struct {
	at          time.Time
	isError     bool
	denied      bool // permissionDecision reject
	interrupted bool // an interrupt line for tool use followed it
}

var interruptPrefix = []byte(`"[Request interrupted by user`)

// interruptMarker reports whether the JSON string b is an interrupt line's
// text, and whether it is the one for a tool use.
func interruptMarker(b []byte) (interrupt, forTool bool) {
	if !bytes.HasPrefix(b, interruptPrefix) {
		return false, false
	}
	return true, bytes.HasPrefix(b[len(interruptPrefix):], []byte(` for tool use`))
}

// markerText decodes a text block's text only as far as telling an
// interrupt line; the text itself is not kept.
type markerText struct{ interrupt, forTool bool }

func (m *markerText) UnmarshalJSON(b []byte) error {
	m.interrupt, m.forTool = interruptMarker(b)
	return nil
}

// noteUser records what user line e (of the turn being read) says of
// its ends.
func (sc *scan) noteUser(e *entry) {
	ev := sc.evidenceOf()
	t := e.time()
	ev.seen(t)
	c := &e.Message.Content
	for _, id := range c.results {
		r := &toolResult{at: t, isError: slices.Contains(c.failed, id)}
		r.denied = r.isError && e.PermissionDecision != nil && e.PermissionDecision.Decision == "reject"
		ev.results[id] = r
		ev.recent = append(ev.recent, id)
	}
	if !c.interrupt {
		return
	}
	ev.interruptAt = t
	if c.forTool {
		for _, id := range ev.recent {
			if r := ev.results[id]; r.isError && !r.denied {
				r.interrupted = true
			}
		}
	}
}

// noteAssistant records an assistant line of the turn being read.
func (sc *scan) noteAssistant(e *entry) {
	ev := sc.evidenceOf()
	ev.seen(e.time())
	ev.recent = ev.recent[:0]
}

func (sc *scan) evidenceOf() *evidence {
	if sc.ev == nil {
		sc.ev = &evidence{results: map[string]*toolResult{}}
	}
	return sc.ev
}

func (ev *evidence) seen(t time.Time) {
	if t.After(ev.lastAt) {
		ev.lastAt = t
	}
}

// toolSettled reports whether the scan has the outcome of call id, or
// knows it will not come (the turn is over).
func (sc *scan) toolSettled(id string) bool {
	if sc.ended || sc.stopMarker {
		return true
	}
	ev := sc.ev
	return ev != nil && (ev.results[id] != nil || !ev.interruptAt.IsZero())
}

// applyTool sets a tool span that ended without its Post event from its
// tool_result: the end (between its start and ref.Until, see within), and the status
// the model saw. Without a result it stays as the hook left it.
func applyTool(s *tracing.Span, ref *Ref, sc *scan) {
	if sc == nil || sc.ev == nil || sc.ev.results[ref.ToolUseID] == nil {
		return
	}
	r := sc.ev.results[ref.ToolUseID]
	if within(r.at, s.Start, ref.Until) {
		s.End = r.at
		s.SetAttr(tracing.String(semconv.ToolEndSource, semconv.ToolEndSourceResult))
	}
	errType := ""
	switch {
	case r.denied:
		errType = semconv.ErrorPermissionDenied
	case r.interrupted:
		errType = semconv.ErrorInterrupted
	case r.isError:
		if a, ok := s.Attr(semconv.ErrorType); ok {
			errType = a.Str // the hook's kind (interrupted, rejected)
		} else {
			errType = semconv.ErrorToolError
		}
	}
	if errType == "" {
		// The model got a result, not an error.
		s.StatusCode = tracing.StatusUnset
		s.StatusMessage = ""
		s.Attrs = slices.DeleteFunc(s.Attrs, func(a tracing.Attr) bool { return a.Key == semconv.ErrorType })
		return
	}
	s.StatusCode = tracing.StatusError
	s.SetAttr(tracing.String(semconv.ErrorType, errType))
}

// applyTurnEnd moves the end of a turn that got no Stop to the last
// evidence of it: its interrupt line, else its last line; never before
// the end the hook gave it (its last event) nor after ref.Until (see
// within). A turn
// whose last response ended it normally (its Stop was lost, not
// interrupted) is not marked interrupted.
func applyTurnEnd(s *tracing.Span, ref *Ref, sc *scan) {
	if ref.Until.IsZero() || sc == nil || sc.ev == nil {
		return
	}
	ev := sc.ev
	end, src := ev.interruptAt, semconv.TurnEndSourceMarker
	if end.IsZero() {
		end, src = ev.lastAt, semconv.TurnEndSourceLastLine
		if _, marked := s.Attr(semconv.TurnInterrupted); marked && (sc.stopMarker || sc.terminal()) {
			s.SetAttr(tracing.Bool(semconv.TurnInterrupted, false))
		}
	}
	if end.IsZero() || !within(end, s.End, ref.Until) {
		return
	}
	s.End = end
	s.SetAttr(tracing.String(semconv.TurnEndSource, src))
}
