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
	V          int             `json:"v"`
	ID         string          `json:"id"`
	Trace      tracing.TraceID `json:"trace"`
	Run        int             `json:"run,omitempty"`  // 0 = the root run; n = the n-th resume
	Ended      time.Time       `json:"ended,omitzero"` // set: a tombstone
	Last       time.Time       `json:"last"`           // time of the last event
	Transcript string          `json:"transcript,omitempty"`
	// Spans are the heads of the open spans, Spans[0] the top span (root
	// or run) while open; they are stored in the index (index.go).
	Spans      []*openSpan `json:"-"`
	Totals     totals      `json:"totals"`
	TurnSeq    int         `json:"turn_seq,omitempty"`
	CompactSeq int         `json:"compact_seq,omitempty"`
	Seq        int         `json:"seq,omitempty"` // for keys of tools and agents without an id
	LastPrompt string      `json:"last_prompt,omitempty"`
	// Model is the model the session runs on, as SessionStart or the last
	// PostModelSwitch said: the request model of the spans that follow.
	Model string `json:"model,omitempty"`
	// Background are the background subagents that ended and whose task
	// notification has not come yet (its turn links to their span).
	Background []bgAgent `json:"bg,omitempty"`
	// Launched are background Agent calls that returned (async_launched)
	// before their subagent's SubagentStart came: the hooks of one tool
	// round run concurrently, so the start can lose the race.
	Launched []launched `json:"launched,omitempty"`
	// Closed is a ring of the IDs of recently closed spans (8 bytes each),
	// so a late or repeated end event is recognised and dropped instead of
	// exporting a second span under the same ID.
	Closed     []byte `json:"closed,omitempty"`
	ClosedNext int    `json:"closed_next,omitempty"`
}

// totals are the counters of one run, exported on its top span.
type totals struct {
	Turns       int `json:"turns,omitempty"`
	ToolCalls   int `json:"tools,omitempty"`
	ToolErrors  int `json:"tool_errors,omitempty"`
	Subagents   int `json:"subagents,omitempty"`
	Compactions int `json:"compactions,omitempty"`
	Late        int `json:"late,omitempty"`
	Notices     int `json:"notices,omitempty"` // task-notification turns (not in Turns)
}

// bgAgent is an ended background subagent: its key and its span.
type bgAgent struct {
	Key   string          `json:"key"`
	Trace tracing.TraceID `json:"trace"`
	Span  tracing.SpanID  `json:"span"`
}

// launched is an ended Agent call and the subagent it launched (the
// agentId of its async_launched response, or its tool_use_id as the meta
// file names it).
type launched struct {
	Agent string         `json:"agent,omitempty"`
	Call  string         `json:"call"`
	Span  tracing.SpanID `json:"span"`
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
	Kind  string    `json:"kind"`
	Key   string    `json:"key,omitempty"`   // tool_use_id, agent_id or prompt id
	Tool  string    `json:"tool,omitempty"`  // tool_name
	Agent string    `json:"agent,omitempty"` // tools: the agent_id they ran under
	Bound string    `json:"bound,omitempty"` // Agent/Task tools: the subagent they launched
	Perm  bool      `json:"perm,omitempty"`  // tools: a PermissionRequest was seen
	Last  time.Time `json:"last"`            // latest event in this span's subtree
	// Offset is the transcript size when a turn or run started (-1 unknown).
	Offset int64 `json:"off,omitempty"`
	// Owner, when set, is the open span whose end ends this one, in place
	// of its parent: a background subagent outlives the Agent call that
	// launched it (still its parent in the trace) and ends with the run.
	Owner tracing.SpanID `json:"owner,omitzero"`
	// ID and Parent are the body's Span.SpanID and Span.ParentSpanID as
	// of the last save; once the body is loaded, it is the truth (id,
	// parent).
	ID     tracing.SpanID `json:"id"`
	Parent tracing.SpanID `json:"parent,omitzero"`

	*spanBody `json:"-"` // nil until loaded

	stored bool   // the body has a record in the Store
	raw    []byte // the record as loaded, to skip rewriting it unchanged
}

// spanBody is the part of an open span kept in a record of its own.
type spanBody struct {
	// Desc is an Agent/Task call's captured description (details).
	Desc string `json:"desc,omitempty"`
	// Events are the span's events as a JSON array (tracing.Event), and
	// NEvents their number; decoded only when the span ends.
	Events  json.RawMessage `json:"events,omitempty"`
	NEvents int             `json:"nevents,omitempty"`
	Span    tracing.Span    `json:"span"`
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

const (
	// sessionVersion 2 keeps span bodies in records of their own; a
	// version 1 head held them inline (decodeSession still reads it).
	sessionVersion = 2
	closedRingLen  = 512 // span IDs remembered, open or ended (tombstone)
)

func (s *session) tombstone() bool { return !s.Ended.IsZero() }

// decodeSession reads a session's head and span index from st (nil for
// an unknown session); its spans' bodies stay in st until used. A
// version 1 head, which held the spans inline, comes back with their
// bodies loaded (and saved as records on the next write).
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
	switch {
	case s.V == 1:
		if err := decodeV1(b, s); err != nil {
			return nil, err
		}
	case !s.tombstone():
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

// decodeV1 reads the open spans of a version 1 head, bodies inline.
func decodeV1(b []byte, s *session) error {
	type v1Span struct {
		openSpan
		spanBody
	}
	var v1 struct {
		Spans []*v1Span `json:"spans"`
	}
	if err := json.Unmarshal(b, &v1); err != nil {
		return fmt.Errorf("session state: %w", err)
	}
	s.Spans = s.Spans[:0]
	for _, v := range v1.Spans {
		if v == nil {
			s.Spans = append(s.Spans, nil)
			continue
		}
		o, body := v.openSpan, v.spanBody
		o.spanBody = &body
		s.Spans = append(s.Spans, &o)
	}
	return nil
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
