package hook

import (
	"encoding/binary"
	"path/filepath"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// /clear ends a session (SessionEnd reason=clear) and starts a new one
// with a new session id (SessionStart source=clear) in the same Claude
// Code process; nothing in the new session's payloads names the old one.
// The SessionEnd leaves a handoff record (the cleared session's id, trace
// and top span) under a key both events share: the Claude Code process
// (CLAUDE_PID, which reaches hooks), else the transcript directory (the
// project). The new root takes it, links to that top span and deletes it.
// One read on SessionStart source=clear, one write on SessionEnd
// reason=clear; nothing on other events.

const (
	sourceClear = "clear" // SessionStart source and SessionEnd reason of /clear
	// handoffTTL: a handoff older than this is not for this SessionStart
	// (Claude Code starts the new session at once).
	handoffTTL = time.Minute
)

// handoffKey is the Store session key of the handoff between the events
// of one /clear ("" when the event names neither process nor transcript).
func handoffKey(ev *Event) string {
	switch {
	case ev.ClaudePID != "":
		return "\x00clear/pid/" + capIdent(ev.ClaudePID)
	case ev.TranscriptPath != "":
		return "\x00clear/dir/" + filepath.Dir(ev.TranscriptPath)
	}
	return ""
}

// leaveHandoff records, at SessionEnd reason=clear, the session being
// cleared for the session /clear starts next.
func (m *machine) leaveHandoff(top *openSpan) {
	key := handoffKey(m.ev)
	if m.ev.Reason != sourceClear || key == "" {
		return
	}
	b := make([]byte, 0, 1+16+8+8+len(m.s.ID))
	b = append(b, handoffFormat)
	b = append(b, top.Span.TraceID[:]...)
	b = append(b, top.Span.SpanID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(m.t.UnixNano()))
	b = append(b, m.s.ID...)
	_ = m.st.PutSpan(key, indexKey, b) // a lost link is no reason to fail the event
}

const handoffFormat = 1

// takeHandoff links the root of a session that /clear started to the
// session it cleared.
func (m *machine) takeHandoff(root *openSpan) {
	ev := m.ev
	key := handoffKey(ev)
	if ev.Name != SessionStart || ev.Source != sourceClear || key == "" {
		return
	}
	b := m.st.Span(key, indexKey)
	if len(b) <= 1+16+8+8 || b[0] != handoffFormat {
		return
	}
	_ = m.st.DeleteSpan(key, indexKey)
	var l tracing.Link
	copy(l.TraceID[:], b[1:17])
	copy(l.SpanID[:], b[17:25])
	at := time.Unix(0, int64(binary.BigEndian.Uint64(b[25:33])))
	id := string(b[33:])
	if id == ev.SessionID || m.t.Sub(at) > handoffTTL || at.Sub(m.t) > handoffTTL {
		return
	}
	root.Span.Links = append(root.Span.Links, l)
	root.Span.SetAttr(tracing.String(semconv.SessionClearedID, capIdent(id)))
}
