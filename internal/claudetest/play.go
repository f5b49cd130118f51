package claudetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Scenario is one Claude Code session played against the scripted API: one
// or more `claude -p` runs of the same session id, the second and later
// ones with --resume.
type Scenario struct {
	Name string // also the folder name under testdata/claude/
	Doc  string // what the scenario shows, one sentence
	// Model is passed as --model to every run; "" leaves Claude Code's
	// default (claude-opus-5-5 in 2.1.328).
	Model string
	// SessionID is the session's id (a fixed UUID keeps testdata stable).
	SessionID string
	Runs      []Step
	// Files (path relative to the working directory → content) and Dirs
	// are created before the first run.
	Files map[string]string
	Dirs  []string
}

// Step is one `claude -p` run of a scenario.
type Step struct {
	// Pause is how long to wait after the previous run ended before this
	// one starts (a resume "several seconds later").
	Pause  time.Duration
	Prompt string
	Script Script
	Args   []string // more CLI arguments for this run
	// Input, if set, replaces Prompt with stream-json messages on stdin
	// (see RunOptions.Input). "$CWD" in an Input line or a tool_use input of
	// the Script is replaced by the sandbox's working directory.
	Input []string
	// TUI, if set, replaces Prompt: the run is the interactive TUI in tmux
	// (see [Sandbox.StartTUI]), driven by these actions, which should end
	// with [Exit] or [Exited].
	TUI []Action
	// PermissionMode is --permission-mode ("" is bypassPermissions under
	// -p and default in the TUI).
	PermissionMode string
	// MCP wires the test's stdio MCP server in with --mcp-config (see
	// [EnvMCP]).
	MCP bool
	// Interrupt sends SIGINT to `claude -p` (see RunOptions.Interrupt).
	Interrupt *Interrupt
}

// PlayOptions adjust how a scenario is played.
type PlayOptions struct {
	// Recorder installs the hook recorder (settings.json with all 33 events).
	Recorder bool
	// Setup runs after the sandbox exists and before the first run, e.g.
	// `ccotel install --settings <sb.SettingsPath()>`.
	Setup func(sb *Sandbox) error
	// Env is added to every run's environment.
	Env []string
	// Timeout of each run (default 60s).
	Timeout time.Duration
	// Pace overrides the server's pause between SSE events.
	Pace time.Duration
	// Debug writes Claude Code's --debug-file log of each run to
	// <root>/debug/run<N>.txt.
	Debug bool
}

// Play is a played scenario.
type Play struct {
	Scenario Scenario
	Sandbox  *Sandbox
	Runs     []*Result
	// Requests are all requests the scripted API received, over all runs;
	// RunOf[i] is the index of the run request i came in.
	Requests []Request
	RunOf    []int
	// Events are the recorded hook payloads (Recorder only), in the order
	// they were appended.
	Events    []Event
	Debug     []string // debug log paths per run (Debug only)
	Unused    []map[Kind]int
	Duration  time.Duration
	StartedAt time.Time
}

// PlayScenario runs every step of sc with the claude binary cli, in a
// sandbox below root, and returns what happened. The error is for failures
// of the harness itself (could not start claude, recorder lines torn); what
// claude did, including a non-zero exit, is in the Play for the caller to
// judge.
func PlayScenario(ctx context.Context, cli, root string, sc Scenario, o PlayOptions) (*Play, error) {
	if sc.SessionID == "" {
		return nil, fmt.Errorf("scenario %s: no SessionID", sc.Name)
	}
	sb, err := NewSandbox(root)
	if err != nil {
		return nil, err
	}
	p := &Play{Scenario: sc, Sandbox: sb, StartedAt: time.Now()}
	for _, d := range sc.Dirs {
		if err := os.MkdirAll(filepath.Join(sb.Cwd, d), 0o755); err != nil {
			return p, err
		}
	}
	for name, content := range sc.Files {
		if err := os.WriteFile(filepath.Join(sb.Cwd, name), []byte(content), 0o644); err != nil {
			return p, err
		}
	}
	if o.Recorder {
		if err := sb.InstallRecorder(); err != nil {
			return p, err
		}
	}
	if o.Setup != nil {
		if err := o.Setup(sb); err != nil {
			return p, fmt.Errorf("scenario %s: setup: %w", sc.Name, err)
		}
	}
	srv := NewServer(Script{})
	defer srv.Close()
	srv.Expand = func(s string) string { return strings.ReplaceAll(s, "$CWD", sb.Cwd) }
	if o.Pace > 0 {
		srv.Pace = o.Pace
	}
	for i, st := range sc.Runs {
		if i > 0 && st.Pause > 0 {
			select {
			case <-time.After(st.Pause):
			case <-ctx.Done():
				return p, ctx.Err()
			}
		}
		srv.SetScript(st.Script)
		before := len(srv.Requests())
		ro := RunOptions{
			CLI: cli, BaseURL: srv.URL(), Prompt: st.Prompt, SessionID: sc.SessionID,
			Resume: i > 0, Model: sc.Model, Args: st.Args, Env: o.Env, Timeout: o.Timeout,
			PermissionMode: st.PermissionMode, Interrupt: st.Interrupt,
		}
		if st.MCP {
			path, err := sb.WriteMCPConfig()
			if err != nil {
				return p, err
			}
			ro.Args = append([]string{"--mcp-config", path}, ro.Args...)
		}
		for _, line := range st.Input {
			ro.Input = append(ro.Input, strings.ReplaceAll(line, "$CWD", sb.Cwd))
		}
		if o.Debug {
			dir := filepath.Join(sb.Root, "debug")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return p, err
			}
			ro.DebugFile = filepath.Join(dir, fmt.Sprintf("run%d.txt", i+1))
			p.Debug = append(p.Debug, ro.DebugFile)
		}
		run := sb.Run
		if st.TUI != nil {
			requests := func() int { return len(srv.Requests()) - before }
			run = func(ctx context.Context, ro RunOptions) (*Result, error) { return sb.runTUI(ctx, ro, st.TUI, requests) }
		}
		res, err := run(ctx, ro)
		if res != nil {
			p.Runs = append(p.Runs, res)
		}
		reqs := srv.Requests()
		for range reqs[before:] {
			p.RunOf = append(p.RunOf, i)
		}
		p.Requests = reqs
		p.Unused = append(p.Unused, srv.Unanswered())
		if err != nil {
			return p, fmt.Errorf("scenario %s run %d: %w", sc.Name, i+1, err)
		}
	}
	p.Duration = time.Since(p.StartedAt)
	if o.Recorder {
		ev, err := ReadEvents(sb.Events)
		p.Events = ev
		if err != nil && !os.IsNotExist(err) {
			return p, fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
	}
	return p, nil
}
