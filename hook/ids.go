package hook

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/tracing"
)

// IDs are derived, never random (docs/ARCHITECTURE.md, "Identity"): any
// process, with or without state, computes the same ones.

// TraceID returns the trace ID of a session: SHA-256("ccotel/trace/"+id)[:16].
func TraceID(sessionID string) tracing.TraceID {
	var t tracing.TraceID
	sum := sha256.Sum256([]byte("ccotel/trace/" + sessionID))
	copy(t[:], sum[:])
	if !t.IsValid() {
		t[len(t)-1] = 1
	}
	return t
}

// spanID hashes the parts, joined by "/", after the prefix "ccotel/<kind>/".
func spanID(kind string, parts ...string) tracing.SpanID {
	var s tracing.SpanID
	sum := sha256.Sum256([]byte("ccotel/" + kind + "/" + strings.Join(parts, "/")))
	copy(s[:], sum[:])
	if !s.IsValid() {
		s[len(s)-1] = 1
	}
	return s
}

// RootSpanID returns the session's root span ID.
func RootSpanID(sessionID string) tracing.SpanID { return spanID("root", sessionID) }

func runSpanID(sessionID string, n int) tracing.SpanID {
	return spanID("run", sessionID, strconv.Itoa(n))
}
func turnSpanID(sessionID, key string) tracing.SpanID { return spanID("turn", sessionID, key) }
func toolSpanID(sessionID, toolUseID string) tracing.SpanID {
	return spanID("tool", sessionID, toolUseID)
}
func agentSpanID(sessionID, agentID string) tracing.SpanID {
	return spanID("agent", sessionID, agentID)
}
func compactSpanID(sessionID string, n int) tracing.SpanID {
	return usage.CompactSpanID(sessionID, n) // the finisher puts the compaction's call under it
}

// parseTraceparent parses a W3C traceparent header value
// ("00-<32 hex>-<16 hex>-<2 hex>"). Unknown future versions are accepted
// as long as the first four fields have the version-00 shape.
func parseTraceparent(s string) (tracing.TraceID, tracing.SpanID, bool) {
	var t tracing.TraceID
	var p tracing.SpanID
	s = strings.TrimSpace(s)
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return t, p, false
	}
	ver := s[0:2]
	if ver == "ff" || !isLowerHex(ver) || (ver == "00" && len(s) != 55) || (len(s) > 55 && s[55] != '-') {
		return t, p, false
	}
	if !isLowerHex(s[3:35]) || !isLowerHex(s[36:52]) || !isLowerHex(s[53:55]) {
		return t, p, false
	}
	hex.Decode(t[:], []byte(s[3:35]))
	hex.Decode(p[:], []byte(s[36:52]))
	if !t.IsValid() || !p.IsValid() {
		return t, p, false
	}
	return t, p, true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// turnTraceID is the trace ID of a turn when trace_split = "turn":
// SHA-256("ccotel/trace/<session>/<run>/<turn key>")[:16].
func turnTraceID(sessionID string, run int, key string) tracing.TraceID {
	return TraceID(sessionID + "/" + strconv.Itoa(run) + "/" + key)
}
