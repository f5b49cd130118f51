package hook

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/ccotel/ccotel/internal/utf8cut"
)

// Event is one decoded hook payload: the fields ccotel uses, every one
// optional. Of the large values (tool_input, tool_response, tool_calls)
// it keeps the size, the first RawCap bytes, and their short top-level
// members, so a multi-megabyte payload is never held in memory.
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
	ToolName  string
	ToolUseID string
	// ToolInput and ToolResponse are the raw JSON values, or their first
	// RawCap bytes when larger; nil when absent. Their sizes are the full
	// lengths in bytes.
	ToolInput        json.RawMessage
	ToolResponse     json.RawMessage
	ToolInputSize    int64
	ToolResponseSize int64
	ToolBatchSize    int         // PostToolBatch: number of tool_calls
	ToolCalls        []BatchCall // PostToolBatch: the calls (at most maxBatchCalls)
	DurationMs       int64
	HasDuration      bool
	Error            string // PostToolUseFailure message; StopFailure error kind
	ErrorDetails     string // StopFailure
	IsInterrupt      bool
	// MCPServer and MCPServerSource are an MCP tool call's mcp_server
	// {name, source} (PreToolUse and its Post events, 2.1.328).
	MCPServer, MCPServerSource string

	// Subagents.
	AgentTranscriptPath string

	// Model switches (PreModelSwitch, PostModelSwitch) and the resume
	// fields of SessionStart (resume, fork); HasX says the field came.
	FromModel, ToModel, RequestedModel string
	ContextTokens                      int64
	HasContextTokens                   bool
	SecondsSinceLastResponse           int64
	HasSecondsSinceLastResponse        bool
	PromptCacheLikelyExpired           bool
	HasPromptCacheLikelyExpired        bool
	PromptCacheWarm                    bool
	HasPromptCacheWarm                 bool
	EstimatedCacheWriteUSD             float64
	HasEstimatedCacheWriteUSD          bool

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

	// ClaudePID is the CLAUDE_PID of the hook's environment (the Claude
	// Code process), set by the caller, or recorded ("_claude_pid"): the
	// events of one /clear share it.
	ClaudePID string

	// Size is the payload's length in bytes.
	Size int64

	// inputFields and responseFields are the top-level members of
	// tool_input and tool_response that are scalars or short strings (raw
	// JSON), e.g. "command", "file_path", "interrupted".
	inputFields, responseFields map[string][]byte

	// launchToolUseID is the Agent call that launched a subagent, read by
	// Prepare from the subagent's meta file on SubagentStart ("" unknown).
	launchToolUseID string

	// prepared: Prepare has done the event's file I/O.
	prepared bool
	// longSession: the session_id was longer than maxIdent (refused).
	longSession bool

	// transcriptSize is the size of TranscriptPath when the event was
	// recorded; set by Prepare (it is I/O, so the state machine gets it as
	// input). -1 = not known.
	transcriptSize int64
}

// ErrEmpty is returned by Decode for an empty (or all white space) input.
var ErrEmpty = errors.New("hook: empty input")

// Decode reads r to EOF, always, even when the payload is invalid, and
// decodes one hook payload as it reads, through a 64 KiB window: memory
// does not grow with the payload. On error the Event is still returned,
// with only Size (the bytes read) meaningful.
func Decode(r io.Reader) (*Event, error) { return decode(r, windowSize) }

func decode(r io.Reader, window int) (*Event, error) {
	s := &scanner{r: r, buf: make([]byte, window)}
	ev := &Event{transcriptSize: -1}
	err := s.object(ev.set, func(key string) bool {
		return key == "tool_input" || key == "tool_response" || key == "effort" || key == "mcp_server"
	})
	s.drain()
	ev.Size = s.count
	if err != nil {
		return &Event{Size: s.count, transcriptSize: -1}, err
	}
	return ev, nil
}

// DecodeBytes decodes one hook payload held in memory.
func DecodeBytes(b []byte) (*Event, error) { return Decode(bytes.NewReader(b)) }

// InputField returns a top-level string member of tool_input ("" if
// absent, longer than 16 KiB, or not a string).
func (ev *Event) InputField(k string) string {
	s, _ := rawString(ev.inputFields[k])
	return s
}

// set stores one top-level member. Values of the wrong type are ignored.
func (ev *Event) set(key string, v *rawValue) {
	raw := v.raw
	str := func(dst *string) {
		if len(raw) > 0 && raw[0] == '"' {
			if int64(len(raw)) < v.size { // a prefix: close it
				raw = append(raw[:len(raw):len(raw)], '"')
			}
			*dst = decodeString(raw)
		}
	}
	// Identifiers and enumerations are exported verbatim at every capture
	// level (span names, gen_ai.tool.name, ids): capped like everything else.
	ident := func(dst *string) {
		str(dst)
		*dst = capIdent(*dst)
	}
	switch key {
	case "hook_event_name":
		ident(&ev.Name)
	case "session_id":
		// Refused past maxIdent (a cut id would merge sessions that
		// differ after it): Record reports ErrLongSession.
		if str(&ev.SessionID); len(ev.SessionID) > maxIdent {
			ev.SessionID, ev.longSession = "", true
		}
	case "prompt_id":
		ident(&ev.PromptID)
	case "transcript_path":
		str(&ev.TranscriptPath)
	case "cwd":
		str(&ev.Cwd)
	case "permission_mode":
		ident(&ev.PermissionMode)
	case "agent_id":
		ident(&ev.AgentID)
	case "agent_type":
		ident(&ev.AgentType)
	case "effort":
		if s, ok := rawString(v.fields["level"]); ok {
			ev.Effort = capIdent(s)
		} else {
			ident(&ev.Effort)
		}
	case "source":
		ident(&ev.Source)
	case "model":
		ident(&ev.Model)
	case "reason":
		ident(&ev.Reason)
	case "prompt":
		str(&ev.Prompt)
	case "expansion_type":
		ident(&ev.ExpansionType)
	case "command_name":
		str(&ev.CommandName)
	case "command_source":
		ident(&ev.CommandSource)
	case "tool_name":
		ident(&ev.ToolName)
	case "tool_use_id":
		ident(&ev.ToolUseID)
	case "tool_input":
		if string(raw) != "null" {
			ev.ToolInput, ev.ToolInputSize, ev.inputFields = raw, v.size, v.fields
		}
	case "tool_response":
		if string(raw) != "null" {
			ev.ToolResponse, ev.ToolResponseSize, ev.responseFields = raw, v.size, v.fields
		}
	case "tool_calls":
		ev.ToolBatchSize, ev.ToolCalls = v.elems, v.calls
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
	case "from_model":
		ident(&ev.FromModel)
	case "to_model":
		ident(&ev.ToModel)
	case "requested_model":
		ident(&ev.RequestedModel)
	case "context_tokens":
		ev.ContextTokens, ev.HasContextTokens = rawInt(raw)
	case "seconds_since_last_response":
		ev.SecondsSinceLastResponse, ev.HasSecondsSinceLastResponse = rawInt(raw)
	case "prompt_cache_likely_expired":
		ev.PromptCacheLikelyExpired, ev.HasPromptCacheLikelyExpired = rawBool(raw)
	case "prompt_cache_warm":
		ev.PromptCacheWarm, ev.HasPromptCacheWarm = rawBool(raw)
	case "estimated_cache_write_usd":
		ev.EstimatedCacheWriteUSD, ev.HasEstimatedCacheWriteUSD = rawFloat(raw)
	case "trigger":
		ident(&ev.Trigger)
	case "notification_type":
		ident(&ev.NotificationType)
	case "load_reason":
		ident(&ev.LoadReason)
	case "memory_type":
		ident(&ev.MemoryType)
	case "action":
		ident(&ev.Action)
	case "mode":
		ident(&ev.Mode)
	case "task_id":
		ident(&ev.TaskID)
	case "event":
		ident(&ev.FileEvent)
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
	case "mcp_server":
		if s, ok := rawString(v.fields["name"]); ok {
			ev.MCPServer = capIdent(s)
		}
		if s, ok := rawString(v.fields["source"]); ok {
			ev.MCPServerSource = capIdent(s)
		}
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
	case "_claude_pid":
		ident(&ev.ClaudePID)
	case "_ts":
		var ts string
		str(&ts)
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			ev.Time = t
		}
	}
}

// maxIdent caps identifier and enumeration fields (tool and agent names,
// ids, sources, reasons): Claude Code's are far shorter, and a payload
// that is not must not put kilobytes into span names.
const maxIdent = 256

func capIdent(s string) string { return utf8cut.Prefix(s, maxIdent) }
