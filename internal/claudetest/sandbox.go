package claudetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Sandbox is a throw-away HOME and working directory for one Claude Code
// session (and its resumes). Everything Claude Code writes goes below Root.
type Sandbox struct {
	Root string // holds home/, work/ and tmp/
	Home string // $HOME: .claude/settings.json, .claude/projects/…
	Cwd  string // the working directory claude runs in
	Tmp  string // $TMPDIR

	// Events is the recorder's output file, once InstallRecorder was called.
	Events string
}

// NewSandbox creates home/, work/ and tmp/ under root (which must exist, e.g.
// t.TempDir()). Paths are resolved through symlinks, so that they equal what
// Claude Code reports (on macOS /var is /private/var).
func NewSandbox(root string) (*Sandbox, error) {
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	sb := &Sandbox{Root: root, Home: filepath.Join(root, "home"), Cwd: filepath.Join(root, "work"), Tmp: filepath.Join(root, "tmp")}
	for _, d := range []string{sb.Home, sb.Cwd, sb.Tmp, filepath.Join(sb.Home, ".claude")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	return sb, nil
}

// SettingsPath is the user settings file of the sandbox, the one
// `ccotel install --settings` would edit.
func (sb *Sandbox) SettingsPath() string { return filepath.Join(sb.Home, ".claude", "settings.json") }

// RunOptions is one `claude -p` invocation.
type RunOptions struct {
	CLI       string // the claude binary (RequireCLI)
	BaseURL   string // ANTHROPIC_BASE_URL, the scripted API
	Prompt    string
	SessionID string // --session-id, or --resume when Resume
	Resume    bool
	Model     string        // --model, if not ""
	Args      []string      // more arguments, after the others
	Env       []string      // more KEY=value, after the clean environment
	Timeout   time.Duration // default 60s; the process group is killed after it
	// Input, if not nil, replaces Prompt: claude reads stream-json messages
	// from stdin (--input-format stream-json), and Run writes them one at a
	// time, each after the previous one was answered: a user message by a
	// "result" message, a control_request by its control_response. Stdin is
	// closed after the last answer. See UserInput and ControlInput.
	Input []string
	// DebugFile, if set, is passed as --debug-file: Claude Code's own log of
	// every hook it ran and how long it took.
	DebugFile string
	// PermissionMode is --permission-mode; "" is bypassPermissions.
	PermissionMode string
	// Interrupt, if set, sends SIGINT to claude once the recorder has
	// recorded that many events of that name (the sandbox needs the
	// recorder), after a delay: Ctrl-C during a tool.
	Interrupt *Interrupt
}

// Interrupt is when a run is sent SIGINT.
type Interrupt struct {
	After string        // a hook event name, e.g. "PreToolUse"
	Count int           // the Count-th such event (0 or 1: the first)
	Delay time.Duration // after it was recorded
}

// Result is what one run produced.
type Result struct {
	Stdout   []byte            // the stream-json output, one JSON object a line
	Messages []json.RawMessage // Stdout's lines that parse as JSON
	Stderr   []byte
	ExitCode int // -1 if killed
	TimedOut bool
	Started  time.Time
	Duration time.Duration
	CPU      time.Duration // user + system time of the claude process itself
	// Transcript is the main session's JSONL file; Subagents its
	// subagents/agent-*.jsonl files, sorted. Either may be missing if the CLI
	// wrote none.
	Transcript string
	Subagents  []string
	// SessionID is the session the run wrote, from the stream-json init
	// message: a new id for --fork-session, else RunOptions.SessionID.
	SessionID string
	// Sessions are the sessions a TUI run started after SessionID, one per
	// /clear, in order.
	Sessions []string
}

// answer is a stdout message that answers one input line.
type answer struct {
	kind      string // "result" or "control_response"
	requestID string
}

func answerOf(line []byte) (answer, bool) {
	var m struct {
		Type     string `json:"type"`
		Response struct {
			RequestID string `json:"request_id"`
		} `json:"response"`
	}
	if json.Unmarshal(line, &m) != nil {
		return answer{}, false
	}
	switch m.Type {
	case "result":
		return answer{kind: "result"}, true
	case "control_response":
		return answer{kind: "control_response", requestID: m.Response.RequestID}, true
	}
	return answer{}, false
}

// feed writes the input lines to claude's stdin one at a time, each after
// the previous one was answered, and closes stdin after the last answer.
func feed(ctx context.Context, stdin io.WriteCloser, input []string, answers <-chan answer) {
	defer stdin.Close()
	for _, line := range input {
		var m struct {
			Type      string `json:"type"`
			RequestID string `json:"request_id"`
		}
		_ = json.Unmarshal([]byte(line), &m)
		if _, err := io.WriteString(stdin, strings.TrimSpace(line)+"\n"); err != nil {
			return
		}
		for waiting := true; waiting; {
			select {
			case a, ok := <-answers:
				if !ok {
					return
				}
				switch {
				case m.Type == "control_request":
					waiting = !(a.kind == "control_response" && a.requestID == m.RequestID)
				default:
					waiting = a.kind != "result"
				}
			case <-ctx.Done():
				return
			}
		}
	}
}

// UserInput is a stream-json user message with text content, for
// RunOptions.Input.
func UserInput(text string) string {
	b, _ := json.Marshal(map[string]any{
		"type":    "user",
		"message": map[string]any{"role": "user", "content": text},
	})
	return string(b)
}

// ControlInput is a stream-json control_request, for RunOptions.Input,
// e.g. ControlInput("1", map[string]any{"subtype": "set_model", "model": "haiku"}).
func ControlInput(requestID string, request map[string]any) string {
	b, _ := json.Marshal(map[string]any{"type": "control_request", "request_id": requestID, "request": request})
	return string(b)
}

// Env is the clean environment claude runs with: PATH, the sandbox's HOME
// and TMPDIR, a UTF-8 locale, the scripted API, and the switches that keep it
// on loopback. Nothing else of the caller's environment leaks in (no
// developer HOME, no ANTHROPIC_* or CLAUDE_* of the caller's own session).
func (sb *Sandbox) Env(baseURL string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	shell := "/bin/sh"
	if _, err := os.Stat("/bin/bash"); err == nil {
		shell = "/bin/bash"
	}
	env := []string{
		"PATH=" + path,
		"HOME=" + sb.Home,
		"USER=claudetest",
		"LOGNAME=claudetest",
		"SHELL=" + shell,
		"TMPDIR=" + sb.Tmp,
		"LANG=C.UTF-8",
		"TZ=UTC",
		"ANTHROPIC_BASE_URL=" + baseURL,
		"ANTHROPIC_API_KEY=test",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_TELEMETRY=1",
		"DISABLE_AUTOUPDATER=1",
		// bypassPermissions refuses to run as root unless the machine says it
		// is a sandbox (CI containers run as root). Set always, so that runs
		// as root and as a user see the same client.
		"IS_SANDBOX=1",
	}
	if sb.Events != "" {
		env = append(env, EnvRecord+"="+sb.Events)
	}
	return env
}

// sessionArgs are the arguments of a run that name its session (new or
// resumed), model and debug file, then o.Args; -p and the TUI share them.
func (o RunOptions) sessionArgs() []string {
	var args []string
	if o.Resume {
		args = append(args, "--resume", o.SessionID)
	} else {
		args = append(args, "--session-id", o.SessionID)
	}
	if o.Model != "" {
		args = append(args, "--model", o.Model)
	}
	if o.DebugFile != "" {
		args = append(args, "--debug-file", o.DebugFile)
	}
	args = append(args, o.Args...)
	return args
}

// Run runs `claude -p` in the sandbox and waits for it (and for its
// process group) to end, or kills the group after the timeout. An error is
// returned only when claude could not be started; a non-zero exit is in
// Result.ExitCode.
func (sb *Sandbox) Run(ctx context.Context, o RunOptions) (*Result, error) {
	if o.CLI == "" || o.BaseURL == "" || o.SessionID == "" {
		return nil, errors.New("claudetest: RunOptions needs CLI, BaseURL and SessionID")
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	args := []string{"-p"}
	if o.Input != nil {
		args = append(args, "--input-format", "stream-json")
	} else {
		args = append(args, o.Prompt)
	}
	mode := o.PermissionMode
	if mode == "" {
		mode = "bypassPermissions"
	}
	args = append(args, "--output-format", "stream-json", "--verbose", "--permission-mode", mode)
	args = append(args, o.sessionArgs()...)

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command(o.CLI, args...)
	cmd.Dir = sb.Cwd
	cmd.Env = append(sb.Env(o.BaseURL), o.Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stdin io.WriteCloser
	if o.Input != nil {
		if stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	// Own process group: the timeout kills claude and whatever it started
	// (Bash tool commands, hooks).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	res := &Result{Started: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("claudetest: start %s: %w", o.CLI, err)
	}
	// Read stdout line by line; answers (result, control_response) go to
	// the input driver.
	answers := make(chan answer, 64)
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(answers)
		br := bufio.NewReaderSize(stdoutPipe, 1<<20)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				res.Stdout = append(res.Stdout, line...)
				if a, ok := answerOf(line); ok {
					select {
					case answers <- a:
					default:
					}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	if stdin != nil {
		go feed(ctx, stdin, o.Input, answers)
	}
	if o.Interrupt != nil {
		go func() {
			if sb.waitEvent(ctx, o.Interrupt.After, max(o.Interrupt.Count, 1)) {
				sleep(ctx, o.Interrupt.Delay)
				_ = cmd.Process.Signal(syscall.SIGINT)
			}
		}()
	}
	done := make(chan error, 1)
	go func() {
		<-read // Wait must not close stdout before it was read to EOF
		done <- cmd.Wait()
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		res.TimedOut = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
	}
	// Hooks and tool commands left behind must not outlive the run.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	res.Duration = time.Since(res.Started)
	res.Stderr = stderr.Bytes()
	res.ExitCode = cmd.ProcessState.ExitCode()
	res.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return res, fmt.Errorf("claudetest: wait %s: %w", o.CLI, err)
	}
	for _, line := range bytes.Split(res.Stdout, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if json.Valid(line) && len(line) > 0 {
			res.Messages = append(res.Messages, json.RawMessage(line))
			if res.SessionID == "" {
				var m struct {
					Type      string `json:"type"`
					Subtype   string `json:"subtype"`
					SessionID string `json:"session_id"`
				}
				if json.Unmarshal(line, &m) == nil && m.Type == "system" && m.Subtype == "init" {
					res.SessionID = m.SessionID
				}
			}
		}
	}
	if res.SessionID == "" {
		res.SessionID = o.SessionID
	}
	res.Transcript, res.Subagents = sb.Transcripts(res.SessionID)
	return res, nil
}

// Transcripts finds the session's transcript below HOME/.claude/projects
// (the directory name is the cwd with every non-alphanumeric character
// turned into "-") and its subagents' transcripts, sorted.
func (sb *Sandbox) Transcripts(sessionID string) (main string, subagents []string) {
	projects := filepath.Join(sb.Home, ".claude", "projects")
	if m, _ := filepath.Glob(filepath.Join(projects, "*", sessionID+".jsonl")); len(m) > 0 {
		main = m[0]
	}
	subagents, _ = filepath.Glob(filepath.Join(projects, "*", sessionID, "subagents", "agent-*.jsonl"))
	sort.Strings(subagents)
	return main, subagents
}

// ResultText is the "result" field of the stream-json result message, the
// final answer of the run.
func (r *Result) ResultText() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		var m struct {
			Type   string `json:"type"`
			Result string `json:"result"`
		}
		if json.Unmarshal(r.Messages[i], &m) == nil && m.Type == "result" {
			return m.Result
		}
	}
	return ""
}

// String summarises a run for a test failure.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit %d after %s (timed out: %v)", r.ExitCode, r.Duration.Round(time.Millisecond), r.TimedOut)
	if s := strings.TrimSpace(string(r.Stderr)); s != "" {
		fmt.Fprintf(&b, "\nstderr: %s", s)
	}
	if n := len(r.Stdout); n > 0 {
		tail := r.Stdout
		if n > 4000 {
			tail = tail[n-4000:]
		}
		fmt.Fprintf(&b, "\nstdout (tail): %s", tail)
	}
	return b.String()
}
