package hook

import (
	"reflect"
	"runtime"
	"strings"
)

// The hook events Claude Code 2.1.328 accepts (hook_event_name): the 31 of
// its hooks reference plus PreModelSwitch and PostModelSwitch. Code names
// an event by these constants, never by a string literal.
const (
	SessionStart        = "SessionStart"
	Setup               = "Setup"
	InstructionsLoaded  = "InstructionsLoaded"
	UserPromptSubmit    = "UserPromptSubmit"
	UserPromptExpansion = "UserPromptExpansion"
	MessageDisplay      = "MessageDisplay"
	PreToolUse          = "PreToolUse"
	PermissionRequest   = "PermissionRequest"
	PermissionDenied    = "PermissionDenied"
	PostToolUse         = "PostToolUse"
	PostToolUseFailure  = "PostToolUseFailure"
	PostToolBatch       = "PostToolBatch"
	SubagentStart       = "SubagentStart"
	SubagentStop        = "SubagentStop"
	TaskCreated         = "TaskCreated"
	TaskCompleted       = "TaskCompleted"
	TeammateIdle        = "TeammateIdle"
	Notification        = "Notification"
	Elicitation         = "Elicitation"
	ElicitationResult   = "ElicitationResult"
	PreCompact          = "PreCompact"
	PostCompact         = "PostCompact"
	CwdChanged          = "CwdChanged"
	ConfigChange        = "ConfigChange"
	DirectoryAdded      = "DirectoryAdded"
	FileChanged         = "FileChanged"
	WorktreeCreate      = "WorktreeCreate"
	WorktreeRemove      = "WorktreeRemove"
	PreModelSwitch      = "PreModelSwitch"
	PostModelSwitch     = "PostModelSwitch"
	Stop                = "Stop"
	StopFailure         = "StopFailure"
	SessionEnd          = "SessionEnd"
)

// Restart says what an event does to a session that has ended (a
// tombstone): start its next run, or be dropped as late.
type Restart uint8

const (
	// RestartNever: the event belongs to the run that ended (a late
	// notification, an end of a span already exported): late.
	RestartNever Restart = iota
	// RestartAlways: a sign of the agent working again opens run n+1.
	RestartAlways
	// RestartNewTool: run n+1, unless the tool call the event ends was
	// already exported (then late).
	RestartNewTool
	// RestartNewSubagent: run n+1, unless the subagent the event ends was
	// already exported (then late).
	RestartNewSubagent
)

func (r Restart) String() string {
	return [...]string{"no", "yes", "unless its tool call was exported", "unless its subagent was exported"}[r]
}

// PreLock is the file I/O an event needs before its transaction (Prepare),
// so that the database lock is held for the transaction alone.
type PreLock uint8

const (
	PreLockNone PreLock = iota
	// PreLockTranscriptSize: one stat of the transcript, the byte offset
	// where the turn's (or the run's) token usage will be read from.
	PreLockTranscriptSize
	// PreLockLaunchCall: one non-blocking read of the subagent's meta
	// file, the Agent call that launched it.
	PreLockLaunchCall
)

func (p PreLock) String() string {
	return [...]string{"-", "transcript size", "subagent meta file"}[p]
}

// An EventSpec is one row of EventTable: everything ccotel knows about one
// hook event.
type EventSpec struct {
	Name string
	// handle is the state machine's handler; nil records the event as a
	// span event on the innermost open span.
	handle  func(*machine)
	Restart Restart
	PreLock PreLock
	// Matcher and Timeout (seconds) are the settings.json entry that
	// install writes: "*" on tool events, whose matcher filters on the
	// tool name. Timeout 0: install does not wire the event.
	Matcher string
	Timeout int
	// NotWired says why install does not wire the event ("" when it does).
	// Handled all the same if a user wires it by hand.
	NotWired string
}

// Wired reports whether install registers ccotel for the event.
func (e EventSpec) Wired() bool { return e.Timeout > 0 }

// Handler names what the state machine does with the event.
func (e EventSpec) Handler() string {
	if e.handle == nil {
		return "span event on the innermost span"
	}
	n := runtime.FuncForPC(reflect.ValueOf(e.handle).Pointer()).Name()
	return "machine." + n[strings.LastIndexByte(n, '.')+1:]
}

// EventTable is every hook event ccotel knows, in the order install
// writes the wired ones. The state machine's dispatch (Apply), the restart
// of an ended session, the file I/O of Prepare, install's settings.json
// entries (internal/settings) and the documented lists (README.md,
// doc.go; checked by TestEventTable) all come from it. An event not in the
// table is a span event that never restarts a session.
//
//   - All wired events are synchronous: the hook takes milliseconds and
//     queues spans for a detached flusher, and running it synchronously
//     keeps the events of one session in order (an async PreToolUse could
//     race its PostToolUse). InstructionsLoaded is always run in the
//     background by Claude Code.
//   - PermissionRequest is wired: its time is the permission wait of the
//     tool span. The hook prints nothing, so it never makes a decision.
//   - The timeout bounds a stuck hook (a hook waits at most ~2 s for the
//     database). SessionEnd gets 10 s, which also raises Claude Code's
//     shared 1.5 s SessionEnd budget.
//   - PostToolBatch is the only report of a tool call Claude Code rejected
//     at input validation (no Pre, no Post event): one more hook process
//     per tool round, about a PostToolUse's cost (docs/PERFORMANCE.md,
//     "Figures behind choices in the code"). PreModelSwitch, PostModelSwitch and DirectoryAdded are rare
//     (span events, the model of the turns that follow).
var EventTable = []EventSpec{
	{Name: SessionStart, handle: (*machine).sessionStart, Restart: RestartAlways, PreLock: PreLockTranscriptSize, Timeout: 5},
	{Name: Setup, NotWired: "fires only under --init-only, -p --init or -p --maintenance, outside a session's work"},
	{Name: InstructionsLoaded, Timeout: 5},
	{Name: UserPromptSubmit, handle: (*machine).promptSubmit, Restart: RestartAlways, PreLock: PreLockTranscriptSize, Timeout: 5},
	{Name: UserPromptExpansion, NotWired: "no span needs it; one more hook process per slash command"},
	{Name: MessageDisplay, NotWired: "every batch of assistant text would wait for it"},
	{Name: PreToolUse, handle: (*machine).preTool, Restart: RestartAlways, Matcher: "*", Timeout: 5},
	{Name: PermissionRequest, handle: (*machine).permissionRequest, Matcher: "*", Timeout: 5},
	{Name: PermissionDenied, handle: (*machine).postTool, Restart: RestartNewTool, Matcher: "*", Timeout: 5},
	{Name: PostToolUse, handle: (*machine).postTool, Restart: RestartNewTool, Matcher: "*", Timeout: 5},
	{Name: PostToolUseFailure, handle: (*machine).postTool, Restart: RestartNewTool, Matcher: "*", Timeout: 5},
	{Name: PostToolBatch, handle: (*machine).postToolBatch, Timeout: 5},
	{Name: SubagentStart, handle: (*machine).subagentStart, Restart: RestartAlways, PreLock: PreLockLaunchCall, Timeout: 5},
	{Name: SubagentStop, handle: (*machine).subagentStop, Restart: RestartNewSubagent, Timeout: 5},
	{Name: TaskCreated, Timeout: 5},
	{Name: TaskCompleted, Timeout: 5},
	{Name: TeammateIdle, NotWired: "agent teams only; no span needs it"},
	{Name: Notification, Timeout: 5},
	{Name: Elicitation, NotWired: "no span needs it; a hook on it sits in the MCP server's dialog"},
	{Name: ElicitationResult, NotWired: "no span needs it; a hook on it sits in the MCP server's dialog"},
	{Name: PreCompact, handle: (*machine).preCompact, Restart: RestartAlways, Timeout: 5},
	{Name: PostCompact, handle: (*machine).postCompact, Timeout: 5},
	{Name: CwdChanged, Timeout: 5},
	{Name: ConfigChange, Timeout: 5},
	{Name: DirectoryAdded, Timeout: 5},
	{Name: FileChanged, NotWired: "its matcher is the literal names of the files to watch; ccotel watches none"},
	{Name: WorktreeCreate, NotWired: "Claude Code reads its hook's output as the worktree path"},
	{Name: WorktreeRemove, NotWired: "WorktreeCreate, its pair, cannot be wired"},
	{Name: PreModelSwitch, handle: (*machine).modelSwitch, Timeout: 5},
	{Name: PostModelSwitch, handle: (*machine).modelSwitch, Timeout: 5},
	{Name: Stop, handle: (*machine).stop, Timeout: 5},
	{Name: StopFailure, handle: (*machine).stop, Timeout: 5},
	{Name: SessionEnd, handle: (*machine).endSession, Timeout: 10},
}

// eventSpecs indexes EventTable by name.
var eventSpecs = func() map[string]*EventSpec {
	m := make(map[string]*EventSpec, len(EventTable))
	for i := range EventTable {
		m[EventTable[i].Name] = &EventTable[i]
	}
	return m
}()

// specOf returns the row of an event; the zero row (a span event, never a
// restart, no file I/O) for an event not in the table.
func specOf(name string) EventSpec {
	if e := eventSpecs[name]; e != nil {
		return *e
	}
	return EventSpec{Name: name}
}
