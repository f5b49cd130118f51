package hook

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ccotel/ccotel/tracing"
)

// session is the per-session head kept in the Store between hook
// processes: counters, the heads of the open spans (their bodies are
// records of their own) and the IDs of recently closed spans. When the
// session ends it becomes a tombstone (no open spans, Ended set, the
// closed IDs kept) so a later resume knows the root was exported; Sweep
// removes tombstones after tombstoneTTL.
type session struct {
	ID         string
	Trace      tracing.TraceID
	Run        int       // 0 = the root run; n = the n-th resume
	Ended      time.Time // set: a tombstone
	Last       time.Time // time of the last event
	Transcript string
	// Spans are the heads of the open spans, Spans[0] the top span (root
	// or run) while open; they are stored in the index (index.go).
	Spans      []*openSpan
	Totals     totals
	TurnSeq    int
	CompactSeq int
	Seq        int // for keys of tools and agents without an id
	LastPrompt string
	// Model is the model the session runs on, as SessionStart or the last
	// PostModelSwitch said: the request model of the spans that follow.
	Model string
	// Background are the background subagents that ended and whose task
	// notification has not come yet (its turn links to their span).
	Background []bgAgent
	// Launched are background Agent calls that returned (async_launched)
	// before their subagent's SubagentStart came: the hooks of one tool
	// round run concurrently, so the start can lose the race.
	Launched []launched
	// Closed is a ring of the IDs of recently closed spans (8 bytes each),
	// so a late or repeated end event is recognised and dropped instead of
	// exporting a second span under the same ID.
	Closed     []byte
	ClosedNext int
}

// totals are the counters of one run, exported on its top span.
type totals struct {
	Turns       int
	ToolCalls   int
	ToolErrors  int
	Subagents   int
	Compactions int
	Late        int
	Notices     int // task-notification turns (not in Turns)
}

// bgAgent is an ended background subagent: its key and its span.
type bgAgent struct {
	Key   string
	Trace tracing.TraceID
	Span  tracing.SpanID
}

// launched is an ended Agent call and the subagent it launched (the
// agentId of its async_launched response, or its tool_use_id as the meta
// file names it).
type launched struct {
	Agent string
	Call  string
	Span  tracing.SpanID
}

// maxBackground bounds Session.Background and Session.Launched.
const maxBackground = 32

// Span kinds in the session blob.
const (
	kindRoot    = "root"
	kindRun     = "run"
	kindTurn    = "turn"
	kindTool    = "tool"
	kindAgent   = "agent"
	kindCompact = "compact"
)

// openSpan is a span that has started and not ended. What lookups and
// the walk up to the top span need (kind, key, ids, owner, last time) is
// its head, stored in the session's head; the rest (the span itself, its
// events) is its body, a record of its own in the Store, loaded on first
// use (machine.load) and written back only when it changed.
type openSpan struct {
	Kind  string
	Key   string    // tool_use_id, agent_id or prompt id
	Tool  string    // tool_name
	Agent string    // tools: the agent_id they ran under
	Bound string    // Agent/Task tools: the subagent they launched
	Perm  bool      // tools: a PermissionRequest was seen
	Last  time.Time // latest event in this span's subtree
	// Offset is the transcript size when a turn or run started (-1 unknown).
	Offset int64
	// Owner, when set, is the open span whose end ends this one, in place
	// of its parent: a background subagent outlives the Agent call that
	// launched it (still its parent in the trace) and ends with the run.
	Owner tracing.SpanID
	// ID and Parent are the body's Span.SpanID and Span.ParentSpanID as
	// of the last save; once the body is loaded, it is the truth (id,
	// parent).
	ID     tracing.SpanID
	Parent tracing.SpanID

	*spanBody // nil until loaded

	stored bool   // the body has a record in the Store
	raw    []byte // the record as loaded, to skip rewriting it unchanged
}

// spanBody is the part of an open span kept in a record of its own.
type spanBody struct {
	// Desc is an Agent/Task call's captured description (details).
	Desc string
	// Events are the span's events as a JSON array (tracing.Event), and
	// NEvents their number; decoded only when the span ends.
	Events  json.RawMessage
	NEvents int
	Span    tracing.Span
}

func (o *openSpan) id() tracing.SpanID {
	if o.spanBody != nil {
		return o.Span.SpanID
	}
	return o.ID
}

func (o *openSpan) parent() tracing.SpanID {
	if o.spanBody != nil {
		return o.Span.ParentSpanID
	}
	return o.Parent
}

// owner is the span whose end ends o: Owner if set, else its parent.
func (o *openSpan) owner() tracing.SpanID {
	if o.Owner.IsValid() {
		return o.Owner
	}
	return o.parent()
}

const closedRingLen = 512 // span IDs remembered, open or ended (tombstone)

func (s *session) tombstone() bool { return !s.Ended.IsZero() }

// decodeSession reads a session's head and span index from st (nil for
// an unknown session); its spans' bodies stay in st until used.
func decodeSession(st Store, id string) (*session, error) {
	b := st.Session(id)
	s, err := decodeHead(b)
	if err != nil || s == nil {
		return nil, err
	}
	if s.ID != id {
		// Its records would be looked up, and written, under another id.
		return nil, fmt.Errorf("session state: head of %q stored under %q", s.ID, id)
	}
	if !s.tombstone() {
		if s.Spans, err = decodeIndex(st.Span(id, indexKey)); err != nil {
			return nil, err
		}
	}
	if !s.tombstone() && (len(s.Spans) == 0 || s.Spans[0] == nil ||
		(s.Spans[0].Kind != kindRoot && s.Spans[0].Kind != kindRun)) {
		return nil, fmt.Errorf("session state: no top span")
	}
	for _, o := range s.Spans {
		if o == nil {
			return nil, fmt.Errorf("session state: null span")
		}
	}
	return s, nil
}

// closedRecently reports whether a span with this ID ended recently.
func (s *session) closedRecently(id tracing.SpanID) bool {
	for i := 0; i+8 <= len(s.Closed); i += 8 {
		if tracing.SpanID(s.Closed[i:i+8]) == id {
			return true
		}
	}
	return false
}

func (s *session) rememberClosed(id tracing.SpanID) {
	if len(s.Closed) < closedRingLen*8 {
		s.Closed = append(s.Closed, id[:]...)
		return
	}
	if s.ClosedNext < 0 || s.ClosedNext >= closedRingLen {
		s.ClosedNext = 0
	}
	copy(s.Closed[s.ClosedNext*8:], id[:])
	s.ClosedNext = (s.ClosedNext + 1) % closedRingLen
}

// OpenSpans returns how many spans a stored session has open (0 for a
// tombstone or unreadable state). Replay reports them.
func OpenSpans(st Store, id string) int {
	s, err := decodeSession(st, id)
	if err != nil || s == nil {
		return 0
	}
	return len(s.Spans)
}
