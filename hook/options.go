package hook

import (
	"os"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/usage"
)

// Capture is a capture level: how much of a session's text its trace
// carries (the package doc, "Capture", says what each level adds). It is
// the one definition of the levels; the configuration resolves a
// Capture with ParseCapture.
//
// Capture is an alias of string while callers still hold the level as a
// plain string; it can become a defined type once they all use Capture.
type Capture string

// The capture levels, from least to most.
const (
	CaptureMetadata Capture = "metadata" // default: no text that identifies content
	CaptureDetails  Capture = "details"  // + commands, paths, URLs, patterns, descriptions, cwd
	CaptureContent  Capture = "content"  // + prompts, tool arguments and results, messages
)

// ParseCapture returns the capture level named s, in any letter case; ok
// is false when s names none.
func ParseCapture(s string) (c Capture, ok bool) {
	switch c := Capture(strings.ToLower(s)); c {
	case CaptureMetadata, CaptureDetails, CaptureContent:
		return c, true
	}
	return "", false
}

// Redactor removes secrets from a captured string and caps its length to
// max bytes. redact.Redactor implements it.
type Redactor interface {
	Clean(s string, max int) string
}

// Values of Options.TraceSplit.
const (
	TraceSplitSession = "session"
	TraceSplitTurn    = "turn"
)

// The state machine's defaults, declared here, where they are used: a
// zero Options field means its default, and internal/config resolves an
// unset key to the same constant.
const (
	DefaultCapture     = CaptureMetadata
	DefaultMaxAttrLen  = 4096
	DefaultIdleTimeout = 24 * time.Hour
	DefaultSettleDelay = 3 * time.Second
	DefaultTraceSplit  = TraceSplitSession
)

// Options steer the state machine. The zero value is usable: every zero
// field means its Default* constant.
type Options struct {
	// Capture is the capture level. Unknown values mean metadata.
	Capture Capture
	// MaxAttrLen caps every captured string attribute (bytes); 0 means
	// DefaultMaxAttrLen.
	MaxAttrLen int
	// Redactor cleans every captured string. When it is nil, nothing
	// beyond metadata is captured, whatever Capture says: text never
	// leaves unredacted.
	Redactor Redactor
	// IdleTimeout closes a session after this long without an event
	// (Sweep); 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Traceparent is the W3C TRACEPARENT of the hook's environment; when
	// valid, the root span links to it, or, with ParentFromTraceparent,
	// takes it as its parent and its trace ID (the trace ID is then not
	// derived from session_id).
	Traceparent           string
	ParentFromTraceparent bool
	// SettleDelay is how long after a span's end its token usage should be
	// read (the transcript lags the hooks); 0 means DefaultSettleDelay.
	SettleDelay time.Duration
	// TranscriptSize returns the size of a transcript file, read at
	// UserPromptSubmit and SessionStart as the byte offset where the turn's
	// (or run's) lines start. nil = os.Stat.
	TranscriptSize func(path string) (int64, bool)
	// TraceSplit is "session" (DefaultTraceSplit, also "": the whole
	// session is one trace) or "turn": each turn is a trace of its own (its ID derived from the
	// session id and the turn's key), a root linked to the session's top
	// span.
	TraceSplit string
	// Logf receives diagnostics (a reset session state, a late event);
	// nil discards them. The hook passes state.Logf.
	Logf func(format string, args ...any)
}

func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// MaxEventsPerSpan caps the span events kept on one span; more are counted
// in DroppedEvents.
const MaxEventsPerSpan = 128

// tombstoneTTL is how long a closed session's tombstone is kept: as long
// as Claude Code keeps the transcript a resume needs (cleanupPeriodDays,
// 30 by default). A resume after the tombstone is gone would export the
// derived root span ID a second time.
const tombstoneTTL = 30 * 24 * time.Hour

func (o *Options) level() int {
	if o.Redactor == nil {
		return 0
	}
	switch o.Capture {
	case CaptureDetails:
		return 1
	case CaptureContent:
		return 2
	}
	return 0
}

func (o *Options) details() bool { return o.level() >= 1 }
func (o *Options) content() bool { return o.level() >= 2 }

func (o *Options) maxLen() int {
	if o.MaxAttrLen > 0 {
		return o.MaxAttrLen
	}
	return DefaultMaxAttrLen
}

func (o *Options) idleTimeout() time.Duration {
	if o.IdleTimeout > 0 {
		return o.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (o *Options) settleDelay() time.Duration {
	if o.SettleDelay > 0 {
		return o.SettleDelay
	}
	return DefaultSettleDelay
}

// clean redacts and caps a captured string. The Redactor is responsible
// for cutting very long inputs before its scan (redact.Redactor does).
func (o *Options) clean(s string) string {
	return o.Redactor.Clean(s, o.maxLen())
}

func (o *Options) transcriptSize(path string) int64 {
	if o.TranscriptSize != nil {
		if n, ok := o.TranscriptSize(path); ok {
			return n
		}
		return 0
	}
	fi, err := os.Stat(path)
	if err != nil {
		// Not written yet: the turn's lines will start at the beginning.
		return 0
	}
	return fi.Size()
}

// launchToolUseID reads subagents/agent-<id>.meta.json beside the
// session's transcript and returns its toolUseId: the Agent call that
// launched the subagent ("" when the file is missing or says nothing).
func launchToolUseID(ev *Event) string {
	if ev.AgentID == "" || ev.TranscriptPath == "" || strings.ContainsAny(ev.AgentID, "/\\") {
		return ""
	}
	id, _ := usage.LaunchingCall(subagentTranscript(ev.TranscriptPath, ev.AgentID))
	return capIdent(id)
}
