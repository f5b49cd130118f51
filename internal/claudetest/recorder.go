package claudetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// HookEvents are the 33 hook events Claude Code 2.1.328 accepts: the 31 of
// the hooks reference plus PreModelSwitch and PostModelSwitch.
var HookEvents = []string{
	"SessionStart", "Setup", "InstructionsLoaded", "UserPromptSubmit", "UserPromptExpansion",
	"MessageDisplay", "PreToolUse", "PermissionRequest", "PermissionDenied", "PostToolUse",
	"PostToolUseFailure", "PostToolBatch", "Notification", "SubagentStart", "SubagentStop",
	"TaskCreated", "TaskCompleted", "Stop", "StopFailure", "TeammateIdle", "ConfigChange",
	"CwdChanged", "DirectoryAdded", "FileChanged", "WorktreeCreate", "WorktreeRemove",
	"PreCompact", "PostCompact", "Elicitation", "ElicitationResult", "SessionEnd",
	"PreModelSwitch", "PostModelSwitch",
}

// EnvRecord switches a process of a test binary that imports this package
// into the hook recorder: when set to a file path, the package's init
// appends the hook payload read from stdin to that file and exits 0 before
// any test runs. [Sandbox.InstallRecorder] sets it for claude's hooks.
const EnvRecord = "CCOTEL_CLAUDETEST_RECORD"

func init() {
	path := os.Getenv(EnvRecord)
	if path == "" || os.Getenv(EnvMCP) != "" {
		return // not a hook; the MCP server inherits claude's environment
	}
	// A hook must never disturb the agent: print nothing, exit 0; a failure
	// to record shows up as a missing line in the test, with the reason
	// appended to path+".err".
	if err := record(path, os.Stdin, time.Now()); err != nil {
		if f, e := os.OpenFile(path+".err", os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); e == nil {
			fmt.Fprintf(f, "%s: %v\n", time.Now().Format(time.RFC3339Nano), err)
			f.Close()
		}
	}
	os.Exit(0)
}

// Event is one recorded hook invocation.
type Event struct {
	Received time.Time       `json:"received"` // when the hook process started
	Read     time.Time       `json:"read"`     // when it had read stdin to EOF
	PID      int             `json:"pid"`
	Payload  json.RawMessage `json:"payload"` // stdin, exactly as Claude Code sent it
}

// Name is the payload's hook_event_name.
func (e Event) Name() string {
	var p struct {
		Name string `json:"hook_event_name"`
	}
	_ = json.Unmarshal(e.Payload, &p)
	return p.Name
}

// Field decodes one top-level field of the payload into v; it reports
// whether the field was there.
func (e Event) Field(name string, v any) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(e.Payload, &m) != nil {
		return false
	}
	raw, ok := m[name]
	if !ok {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// String is the payload's string field name, "" if absent.
func (e Event) String(name string) string {
	var s string
	e.Field(name, &s)
	return s
}

func record(path string, in io.Reader, started time.Time) error {
	payload, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	ev := Event{Received: started, Read: time.Now(), PID: os.Getpid()}
	payload = bytes.TrimSpace(payload)
	if !json.Valid(payload) {
		// Keep it anyway, as a JSON string, so nothing is lost.
		payload, _ = json.Marshal(string(payload))
	}
	ev.Payload = payload
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	// One write with O_APPEND: parallel hooks of one tool batch append whole
	// lines. ReadEvents rejects a torn line, so a violation cannot go unseen.
	if _, err := f.Write(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// InstallRecorder writes the sandbox's settings.json with one command hook
// per event of HookEvents, running the current test binary (os.Executable)
// in recorder mode, and points Events at the output file. It replaces any
// settings.json there; use [RecorderHooks] to merge into your own.
func (sb *Sandbox) InstallRecorder() error {
	hooks, err := RecorderHooks()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(map[string]any{"hooks": hooks}, "", "  ")
	if err != nil {
		return err
	}
	sb.Events = sb.Root + "/events.jsonl"
	return os.WriteFile(sb.SettingsPath(), append(b, '\n'), 0o600)
}

// RecorderHooks is the settings.json "hooks" object that records every event
// of HookEvents with the current test binary. The binary finds its output
// file in $CCOTEL_CLAUDETEST_RECORD, which [Sandbox.Env] sets once Events is
// set. WorktreeCreate is included: a hook there replaces git's worktree
// creation, so a scenario that creates worktrees must drop it.
func RecorderHooks() (map[string]any, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	hooks := map[string]any{}
	for _, ev := range HookEvents {
		hooks[ev] = []any{map[string]any{
			"hooks": []any{map[string]any{"type": "command", "command": exe, "args": []string{"claudetest-hook"}, "timeout": 10}},
		}}
	}
	return hooks, nil
}

// ReadEvents reads a recorder file. A line that is not a recorded event is
// an error: it would mean two hooks' lines were interleaved.
func ReadEvents(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return out, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		out = append(out, ev)
	}
	if b, err := os.ReadFile(path + ".err"); err == nil && len(b) > 0 {
		return out, fmt.Errorf("recorder failed: %s", bytes.TrimSpace(b))
	}
	return out, sc.Err()
}

// waitEvent polls the recorder's file until it holds n events named name,
// or ctx ends; it reports whether they came.
func (sb *Sandbox) waitEvent(ctx context.Context, name string, n int) bool {
	for {
		if sb.countEvents(name) >= n {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// countEvents is how many events named name the recorder has written so far.
func (sb *Sandbox) countEvents(name string) int {
	if sb.Events == "" {
		return 0
	}
	evs, _ := ReadEvents(sb.Events)
	k := 0
	for _, e := range evs {
		if e.Name() == name {
			k++
		}
	}
	return k
}
