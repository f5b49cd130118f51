package hook

import (
	"encoding/json"
	"errors"
	"io"
	"time"
)

// Event is one decoded hook payload: the fields ccotel uses, every one
// optional. Large values (tool_input, tool_response, tool_calls) are kept
// raw, as sub-slices of the buffer Decode read, so a multi-megabyte payload
// is never copied or fully parsed.
//
// A field of the wrong JSON type reads as absent rather than failing the
// event. Unknown fields are ignored.
type Event struct {
	Name string // hook_event_name

	// Common fields.
	SessionID      string
	PromptID       string
	TranscriptPath string
	Cwd            string
	PermissionMode string
	AgentID        string
	AgentType      string
	Effort         string // effort.level

	// SessionStart / SessionEnd.
	Source string // SessionStart, ConfigChange, DirectoryAdded
	Model  string
	Reason string // SessionEnd, PermissionDenied

	// UserPromptSubmit, UserPromptExpansion.
	Prompt        string
	ExpansionType string
	CommandName   string
	CommandSource string

	// Tool events.
	ToolName     string
	ToolUseID    string
	ToolInput    json.RawMessage // raw JSON, nil when absent
	ToolResponse json.RawMessage
	ToolCalls    json.RawMessage // PostToolBatch
	DurationMs   int64
	HasDuration  bool
	Error        string // PostToolUseFailure message; StopFailure error kind
	ErrorDetails string // StopFailure
	IsInterrupt  bool

	// Subagents.
	AgentTranscriptPath string

	// Low-risk enumerations that become span-event attributes.
	Trigger          string // PreCompact, PostCompact, Setup
	NotificationType string
	LoadReason       string
	MemoryType       string
	Action           string // ElicitationResult
	Mode             string // Elicitation*
	TaskID           string
	FileEvent        string // FileChanged "event"

	// Identifying text, captured only at the details level and above.
	FilePath      string // InstructionsLoaded, ConfigChange, FileChanged
	NewCwd        string // CwdChanged
	Directory     string // DirectoryAdded
	WorktreeName  string // WorktreeCreate "name"
	WorktreePath  string // WorktreeRemove
	MCPServerName string
	TeammateName  string

	// Free text, captured only at the content level.
	Message     string // Notification, Elicitation
	Title       string // Notification
	TaskSubject string

	// Time is the event time recorded with the payload ("_ts", RFC 3339),
	// used by replay; zero when absent or unparsable.
	Time time.Time

	// Traceparent is a recorded TRACEPARENT ("_traceparent"), used by
	// replay in place of the environment's.
	Traceparent string

	// Size is the payload's length in bytes.
	Size int

	// transcriptSize is the size of TranscriptPath when the event was
	// recorded; set by Record (it is I/O, so the state machine gets it as
	// input). -1 = not known.
	transcriptSize int64
}

// ErrEmpty is returned by Decode for an empty (or all white space) input.
var ErrEmpty = errors.New("hook: empty input")

// Decode reads r to EOF, always, and decodes one hook payload from it.
// The returned Event refers to the bytes read (no copy of large values).
func Decode(r io.Reader) (*Event, error) {
	b, err := ReadPayload(r)
	if err != nil {
		return nil, err
	}
	return DecodeBytes(b)
}

// DecodeBytes decodes one hook payload. The Event's raw fields alias b.
func DecodeBytes(b []byte) (*Event, error) {
	if skipSpace(b, 0) == len(b) {
		return nil, ErrEmpty
	}
	ev := &Event{Size: len(b), transcriptSize: -1}
	err := forEachMember(b, ev.set)
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// set stores one top-level member. Strings of the wrong type are ignored.
func (ev *Event) set(key string, raw []byte) {
	str := func(dst *string) {
		if s, ok := rawString(raw); ok {
			*dst = s
		}
	}
	switch key {
	case "hook_event_name":
		str(&ev.Name)
	case "session_id":
		str(&ev.SessionID)
	case "prompt_id":
		str(&ev.PromptID)
	case "transcript_path":
		str(&ev.TranscriptPath)
	case "cwd":
		str(&ev.Cwd)
	case "permission_mode":
		str(&ev.PermissionMode)
	case "agent_id":
		str(&ev.AgentID)
	case "agent_type":
		str(&ev.AgentType)
	case "effort":
		if s, ok := rawString(member(raw, "level")); ok {
			ev.Effort = s
		} else {
			str(&ev.Effort)
		}
	case "source":
		str(&ev.Source)
	case "model":
		str(&ev.Model)
	case "reason":
		str(&ev.Reason)
	case "prompt":
		str(&ev.Prompt)
	case "expansion_type":
		str(&ev.ExpansionType)
	case "command_name":
		str(&ev.CommandName)
	case "command_source":
		str(&ev.CommandSource)
	case "tool_name":
		str(&ev.ToolName)
	case "tool_use_id":
		str(&ev.ToolUseID)
	case "tool_input":
		ev.ToolInput = nonNull(raw)
	case "tool_response":
		ev.ToolResponse = nonNull(raw)
	case "tool_calls":
		ev.ToolCalls = nonNull(raw)
	case "duration_ms":
		ev.DurationMs, ev.HasDuration = rawInt(raw)
		if ev.DurationMs < 0 {
			ev.DurationMs, ev.HasDuration = 0, false
		}
	case "error":
		str(&ev.Error)
	case "error_details":
		str(&ev.ErrorDetails)
	case "is_interrupt":
		ev.IsInterrupt, _ = rawBool(raw)
	case "agent_transcript_path":
		str(&ev.AgentTranscriptPath)
	case "trigger":
		str(&ev.Trigger)
	case "notification_type":
		str(&ev.NotificationType)
	case "load_reason":
		str(&ev.LoadReason)
	case "memory_type":
		str(&ev.MemoryType)
	case "action":
		str(&ev.Action)
	case "mode":
		str(&ev.Mode)
	case "task_id":
		str(&ev.TaskID)
	case "event":
		str(&ev.FileEvent)
	case "file_path":
		str(&ev.FilePath)
	case "new_cwd":
		str(&ev.NewCwd)
	case "directory":
		str(&ev.Directory)
	case "name":
		str(&ev.WorktreeName)
	case "worktree_path":
		str(&ev.WorktreePath)
	case "mcp_server_name":
		str(&ev.MCPServerName)
	case "teammate_name":
		str(&ev.TeammateName)
	case "message":
		str(&ev.Message)
	case "title":
		str(&ev.Title)
	case "task_subject":
		str(&ev.TaskSubject)
	case "_traceparent":
		str(&ev.Traceparent)
	case "_ts":
		if s, ok := rawString(raw); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				ev.Time = t
			}
		}
	}
}

func nonNull(raw []byte) json.RawMessage {
	if string(raw) == "null" {
		return nil
	}
	return raw
}

// ReadPayload drains r to EOF. A typical payload fits the first 32 KiB
// buffer; a large one is read in chunks of up to 1 MiB and joined once, so
// a 5 MB payload costs two copies instead of io.ReadAll's many.
func ReadPayload(r io.Reader) ([]byte, error) {
	var (
		chunks [][]byte
		total  int
		size   = 32 << 10
	)
	buf := make([]byte, 0, size)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			if len(chunks) == 0 {
				return buf, err
			}
			out := make([]byte, 0, total+len(buf))
			for _, c := range chunks {
				out = append(out, c...)
			}
			return append(out, buf...), err
		}
		if len(buf) == cap(buf) {
			chunks = append(chunks, buf)
			total += len(buf)
			size = min(2*size, 1<<20)
			buf = make([]byte, 0, size)
		}
	}
}
