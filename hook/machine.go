package hook

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// ErrNoSession is returned for an event without a session_id: there is no
// trace to put it in.
var ErrNoSession = errors.New("hook: event has no session_id")

// Result is what one event did to a session.
type Result struct {
	// Session is the session's new state. It is never nil after Apply
	// (an ended session leaves a small tombstone).
	Session []byte
	// Spans are the spans that ended with this event, children before
	// parents, ready for the outbox.
	Spans []tracing.Span
	// Late is set when the event was recognised as late or repeated (its
	// span had already been exported) and dropped.
	Late bool
	// Reset is set when the previous state could not be decoded and the
	// session started over (the IDs are derived, so the trace stays whole).
	Reset error
}

// Apply is the state machine: given a session's stored state (nil for an
// unknown session), one event and the time it happened, it returns the
// session's new state and the spans that finished. It does no I/O.
func Apply(prev []byte, ev *Event, now time.Time, opts Options) (Result, error) {
	if ev == nil || ev.SessionID == "" {
		return Result{}, ErrNoSession
	}
	s, err := decodeSession(prev)
	m := &machine{s: s, ev: ev, t: now.UTC(), opts: &opts}
	m.res.Reset = err
	m.apply()
	b, err := m.s.encode()
	if err != nil {
		return Result{}, err
	}
	m.res.Session = b
	m.res.Spans = m.out
	return m.res, nil
}

type machine struct {
	s    *session
	ev   *Event
	t    time.Time
	opts *Options
	out  []tracing.Span
	res  Result
}

func (m *machine) apply() {
	ev := m.ev
	if m.s == nil {
		m.newSession()
	} else if m.s.tombstone() {
		if ev.Name == "SessionEnd" || m.lateForTombstone() {
			m.late()
			return
		}
		m.newRun()
	} else if ev.Name == "SessionStart" {
		// The root is still open (clear, compact, or a resume without a
		// SessionEnd): note it on the root instead of opening a second one.
		top := m.top()
		m.addEvent(top, "SessionStart", m.eventAttrs())
		if ev.Model != "" {
			top.Span.SetAttr(tracing.String(semconv.GenAIRequestModel, ev.Model))
		}
		m.resumeAttrs(top)
	}
	if ev.Name == "SessionStart" && ev.Model != "" {
		m.s.Model = ev.Model
	}
	if m.s.Last.Before(m.t) {
		m.s.Last = m.t
	}
	if ev.TranscriptPath != "" {
		m.s.Transcript = ev.TranscriptPath
	}
	if ev.PermissionMode != "" {
		m.top().Span.SetAttr(tracing.String(semconv.SessionPermissionMode, ev.PermissionMode))
	}
	if ev.Cwd != "" && m.opts.details() {
		// The session's working directory: where it started.
		if _, ok := m.top().Span.Attr(semconv.SessionCwd); !ok {
			m.top().Span.SetAttr(tracing.String(semconv.SessionCwd, m.opts.clean(ev.Cwd)))
		}
	}

	switch ev.Name {
	case "SessionStart":
		// Handled above.
	case "SessionEnd":
		m.endSession()
	case "UserPromptSubmit":
		m.promptSubmit()
	case "Stop", "StopFailure":
		m.stop()
	case "PreToolUse":
		m.preTool()
	case "PostToolUse", "PostToolUseFailure", "PermissionDenied":
		m.postTool()
	case "PermissionRequest":
		m.permissionRequest()
	case "SubagentStart":
		m.subagentStart()
	case "SubagentStop":
		m.subagentStop()
	case "PostToolBatch":
		m.postToolBatch()
	case "PreModelSwitch", "PostModelSwitch":
		m.modelSwitch()
	case "PreCompact":
		m.preCompact()
	case "PostCompact":
		m.postCompact()
	default:
		m.addEvent(m.innermost(), eventName(ev.Name), m.eventAttrs())
	}
}

func eventName(n string) string {
	if n == "" {
		return semconv.Unknown
	}
	return n
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// capPlain bounds an uncaptured, low-risk value (an enumeration or a
// type name) that Claude Code should keep short anyway.
func capPlain(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// modelSwitch records PreModelSwitch / PostModelSwitch as a span event;
// after PostModelSwitch the new model is the request model of the turns
// that follow. (2.1.328 sends a PreModelSwitch per model it prices, the
// PostModelSwitch once, for the model it switched to.)
func (m *machine) modelSwitch() {
	ev := m.ev
	m.addEvent(m.innermost(), ev.Name, m.eventAttrs())
	if ev.Name == "PostModelSwitch" && ev.ToModel != "" {
		m.s.Model = ev.ToModel
	}
}
