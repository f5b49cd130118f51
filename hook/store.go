package hook

import (
	"maps"
	"strings"
)

// Store is where sessions live between events: a head per session (the
// session's counters and the index of its open spans) and a record per
// open span (its attributes and events), so that an event decodes and
// rewrites only the head and the spans it touches, however many are
// open. A *state.Tx is one; Memory is another.
type Store interface {
	Session(id string) []byte
	PutSession(id string, b []byte) error
	// DeleteSession removes the head and every span record of a session.
	DeleteSession(id string) error
	Span(session string, span [8]byte) []byte
	PutSpan(session string, span [8]byte, b []byte) error
	DeleteSpan(session string, span [8]byte) error
}

// Memory is a Store kept in memory, for tests and for anything that
// applies events without a database. The zero value is ready to use.
type Memory struct {
	sessions map[string][]byte
	spans    map[string][]byte // key: session id + the 8-byte span ID
}

func (m *Memory) Session(id string) []byte { return m.sessions[id] }

func (m *Memory) PutSession(id string, b []byte) error {
	if m.sessions == nil {
		m.sessions = map[string][]byte{}
	}
	m.sessions[id] = b
	return nil
}

func (m *Memory) DeleteSession(id string) error {
	delete(m.sessions, id)
	maps.DeleteFunc(m.spans, func(k string, _ []byte) bool {
		return len(k) == len(id)+8 && strings.HasPrefix(k, id)
	})
	return nil
}

func (m *Memory) Span(session string, span [8]byte) []byte {
	return m.spans[session+string(span[:])]
}

func (m *Memory) PutSpan(session string, span [8]byte, b []byte) error {
	if m.spans == nil {
		m.spans = map[string][]byte{}
	}
	m.spans[session+string(span[:])] = b
	return nil
}

func (m *Memory) DeleteSpan(session string, span [8]byte) error {
	delete(m.spans, session+string(span[:]))
	return nil
}

// ForEachSession calls fn for every session head; fn must not change
// the sessions.
func (m *Memory) ForEachSession(fn func(id string, b []byte) error) error {
	for id, b := range m.sessions {
		if err := fn(id, b); err != nil {
			return err
		}
	}
	return nil
}

// Records is the number of span records held, all sessions: a body per
// open span and an index per session with open spans.
func (m *Memory) Records() int { return len(m.spans) }
