package importer

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// tline is what the importer reads of a transcript line.
type tline struct {
	Type             string          `json:"type"`
	Subtype          string          `json:"subtype"`
	Timestamp        string          `json:"timestamp"`
	PromptID         string          `json:"promptId"`
	PromptSource     string          `json:"promptSource"`
	IsMeta           bool            `json:"isMeta"`
	IsCompactSummary bool            `json:"isCompactSummary"`
	IsSidechain      bool            `json:"isSidechain"`
	Cwd              string          `json:"cwd"`
	PermissionMode   string          `json:"permissionMode"`
	IsAPIError       bool            `json:"isApiErrorMessage"`
	Error            json.RawMessage `json:"error"`
	Message          *tmessage       `json:"message"`
	ToolUseResult    json.RawMessage `json:"toolUseResult"`
	// PermissionDecision is a tool result's permission outcome: "reject"
	// for a denied call; reasonType "classifier" when auto mode's
	// classifier denied it (Claude Code sends PermissionDenied then).
	PermissionDecision *struct {
		Decision   string `json:"decision"`
		ReasonType string `json:"reasonType"`
	} `json:"permissionDecision"`
	CompactMetadata *struct {
		Trigger    string `json:"trigger"`
		DurationMs int64  `json:"durationMs"`
	} `json:"compactMetadata"`
}

type tmessage struct {
	ID      string          `json:"id"`
	Content json.RawMessage `json:"content"`
}

// block is one element of a message's content.
type block struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	IsError   bool            `json:"is_error"`
	Content   json.RawMessage `json:"content"`
	Text      string          `json:"text"`
}

// typeKey and eventTypes: a line whose "type" member (at any depth) is
// none of eventTypes implies no event, and is not decoded (only its time
// is read, see quickTime). One pass over the line.
var (
	typeKey    = []byte(`"type":"`)
	eventTypes = [][]byte{[]byte(`user"`), []byte(`assistant"`), []byte(`system"`), []byte(`cost-state"`)}
)

func hasMarker(b []byte) bool {
	for {
		i := bytes.Index(b, typeKey)
		if i < 0 {
			return false
		}
		b = b[i+len(typeKey):]
		for _, t := range eventTypes {
			if bytes.HasPrefix(b, t) {
				return true
			}
		}
	}
}

var (
	tsKey      = []byte(`"timestamp":"`)
	snapshotTy = []byte(`"type":"file-history-snapshot"`)
)

// quickTime is the time of a line that is not decoded: its first
// "timestamp" member (zero when none parses). A file-history-snapshot
// line has none of its own (its snapshot's is when the files were
// looked at: in the TUI, after the prompt's line that follows it), so
// it has no time.
func quickTime(b []byte) time.Time {
	if bytes.HasPrefix(b, []byte(`{`)) && bytes.HasPrefix(b[1:], snapshotTy) {
		return time.Time{}
	}
	i := bytes.Index(b, tsKey)
	if i < 0 {
		return time.Time{}
	}
	b = b[i+len(tsKey):]
	j := bytes.IndexByte(b, '"')
	if j < 0 || j > 40 {
		return time.Time{}
	}
	return parseTime(string(b[:j]))
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// content decodes a message's content: its text (a string, or the text
// blocks joined) and its blocks. ok is false when it is neither.
func content(raw json.RawMessage) (text string, blocks []block, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", nil, true
	}
	if raw[0] == '"' {
		return text, nil, json.Unmarshal(raw, &text) == nil
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return "", nil, false
	}
	var sb strings.Builder
	for _, b := range blocks {
		if b.Type == "text" {
			sb.WriteString(b.Text)
		}
	}
	return sb.String(), blocks, true
}

// resultText is a tool_result's content as text.
func resultText(raw json.RawMessage) string {
	t, _, _ := content(raw)
	return t
}

// denial is how Claude Code reported a tool result's permission denial:
// "" when it was not denied, "classifier" when auto mode's classifier
// denied the call (PermissionDenied), "request" otherwise (PermissionRequest
// and no Post event: nobody approved it).
func (l *tline) denial() string {
	switch d := l.PermissionDecision; {
	case d == nil || d.Decision != "reject":
		return ""
	case d.ReasonType == "classifier":
		return "classifier"
	default:
		return "request"
	}
}

// errorKind is an API error line's error: a string, or an object's type;
// "unknown" without one.
func errorKind(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return s
	}
	var o struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Type != "" {
		return o.Type
	}
	return "unknown"
}
