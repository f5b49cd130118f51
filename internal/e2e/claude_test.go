package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/claudetest"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/otlptest"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// claudeRun is the time one scenario may take, all runs and the delivery
// together: generous, the machine CI runs on is shared and loaded.
const claudeRun = 4 * time.Minute

// playWithCCOTEL plays the scenario name of claudetest.Scenarios() with the
// real Claude Code CLI, with ccotel wired in by the real `ccotel install
// --settings <sandbox settings> --command <ccotel>` beside the hook
// recorder (so the Play holds every payload Claude Code sent), ccotel's
// CCOTEL_* environment pointing at a test collector of its own and a state
// directory of its own. It waits until the background flusher delivered
// every session (all ended, outbox empty, flusher gone) and returns the Play
// and the spans the collector received, by hex span ID (first copy).
//
// It skips (fails under CI=true) when the CLI is not installed, and fails
// the test when the scenario, the install or the delivery fails.
func playWithCCOTEL(t *testing.T, name string) (*claudetest.Play, map[string]*tracepb.Span) {
	t.Helper()
	return playWithEnv(t, name)
}

// playWithEnv is playWithCCOTEL with more CCOTEL_* settings for ccotel
// (e.g. CCOTEL_TRACE_SPLIT=turn).
func playWithEnv(t *testing.T, name string, extra ...string) (*claudetest.Play, map[string]*tracepb.Span) {
	t.Helper()
	cli := claudetest.RequireCLI(t)
	sc, ok := claudetest.ScenarioByName(name)
	if !ok {
		t.Fatalf("no scenario %q in claudetest.Scenarios()", name)
	}
	bin := ccotelBinary(t)
	pki := otlptest.MustPKI(t)
	rec := otlptest.MustStart(t, pki)
	stateDir := t.TempDir()
	env := []string{
		"CCOTEL_ENDPOINT=" + rec.URL,
		"CCOTEL_CLIENT_CERT=" + pki.ClientCert,
		"CCOTEL_CLIENT_KEY=" + pki.ClientKey,
		"CCOTEL_CA=" + pki.ServerCA.Path,
		"CCOTEL_STATE_DIR=" + stateDir,
		// No config file of the developer's or of the sandbox: only the
		// environment above configures ccotel.
		"CCOTEL_CONFIG=" + filepath.Join(stateDir, "no-config.toml"),
	}
	env = append(env, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), claudeRun)
	defer cancel()
	t.Cleanup(func() { stopFlusher(t, stateDir) })
	root := t.TempDir()
	t.Cleanup(func() { claudetest.KillTUI(root) }) // a TUI scenario's tmux, even if cut short
	play, err := claudetest.PlayScenario(ctx, cli, root, sc, claudetest.PlayOptions{
		Recorder: true,
		Setup: func(sb *claudetest.Sandbox) error {
			cmd := exec.CommandContext(ctx, bin, "install", "--settings", sb.SettingsPath(), "--command", bin)
			cmd.Env = append(cleanEnv(sb.Home), env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("ccotel install: %v\n%s", err, out)
			}
			return nil
		},
		Env:     env,
		Timeout: 2 * time.Minute,
	})
	if err != nil {
		t.Fatalf("scenario %s: %v", name, err)
	}
	for i, r := range play.Runs {
		if r.ExitCode != claudeExit[name] {
			t.Fatalf("scenario %s run %d: claude exited %d\n%s", name, i+1, r.ExitCode, r)
		}
	}
	if len(play.Events) == 0 {
		t.Fatalf("scenario %s: the recorder saw no hook event", name)
	}
	waitDelivered(t, ctx, stateDir, rec)
	got, _ := rec.Received()
	spans := make(map[string]*tracepb.Span, len(got))
	for id, copies := range got {
		spans[id] = copies[0]
	}
	return play, spans
}

// waitDelivered polls the state directory until every session ended, the
// outbox is empty, at least one span was exported and no flusher runs; then
// the collector holds everything ccotel will ever send for the scenario.
func waitDelivered(t *testing.T, ctx context.Context, stateDir string, rec *otlptest.Receiver) {
	t.Helper()
	var last *delivery.Status
	for {
		st, err := delivery.ReadStatus(stateDir, rec.URL)
		if err == nil {
			last = st
			if st.SessionsOpen == 0 && st.Queued == 0 && st.Exported > 0 && st.FlusherPID == 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ccotel did not deliver in time: status %+v (read error %v), collector %+v", last, err, rec.Stats())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// spanHex is a span's or trace's ID as hex.
func spanHex(b []byte) string { return hex.EncodeToString(b) }

// attr returns the attribute key of s as a string ("" when absent); ints
// and bools are formatted.
func attr(s interface {
	GetAttributes() []*commonpb.KeyValue
}, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() != key {
			continue
		}
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			return v.StringValue
		case *commonpb.AnyValue_IntValue:
			return fmt.Sprint(v.IntValue)
		case *commonpb.AnyValue_BoolValue:
			return fmt.Sprint(v.BoolValue)
		case *commonpb.AnyValue_DoubleValue:
			return fmt.Sprint(v.DoubleValue)
		default:
			return kv.GetValue().String()
		}
	}
	return ""
}

// hasAttr reports whether s carries key.
func hasAttr(s interface {
	GetAttributes() []*commonpb.KeyValue
}, key string) bool {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			return true
		}
	}
	return false
}

// byName returns the spans named name (or starting with name+" "), by start.
func byName(spans map[string]*tracepb.Span, name string) []*tracepb.Span {
	var out []*tracepb.Span
	for _, s := range spans {
		if s.GetName() == name || strings.HasPrefix(s.GetName(), name+" ") {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetStartTimeUnixNano() < out[j].GetStartTimeUnixNano() })
	return out
}

// claudeParallel is how many scenarios play at once
// ($CCOTEL_CLAUDETEST_PARALLEL, default 4).
func claudeParallel() int {
	if n, err := strconv.Atoi(os.Getenv("CCOTEL_CLAUDETEST_PARALLEL")); err == nil && n > 0 {
		return n
	}
	return 4
}

// claudeExit is a scenario's exit code, 0 unless listed: a request that
// failed for good ends `claude -p` with 1.
var claudeExit = map[string]int{"api-fail": 1}

// claudeScenarios are the scenarios of claudetest.Scenarios() that
// TestClaude plays, by name, every recorded scenario: the scenarios of
// issue 17 (the TUI, /compact manual and reactive, /clear, API retries and
// a final failure, the interrupts, MCP, the denials, the long session)
// with the first ones; TestClaudeScenarioList keeps the list honest.
var claudeScenarios = []string{
	"one-tool", "three-tools", "tool-errors", "usage-per-block",
	"subagent-foreground", "subagent-background",
	"resume", "fork", "default-model", "model-haiku", "model-switch", "directory-added",
	"permission-denied", "permission-auto", "interrupt-tool", "interrupt-stream", "sigint-tool", "ctrl-c", "mcp", "tui",
	"compact-manual", "compact-auto", "api-retry", "api-fail", "long-session",
}

// TestClaudeScenarioList: every listed scenario exists.
func TestClaudeScenarioList(t *testing.T) {
	for _, name := range claudeScenarios {
		if _, ok := claudetest.ScenarioByName(name); !ok {
			t.Errorf("claudeScenarios lists %q, which claudetest.Scenarios() does not have", name)
		}
	}
}

// TestClaude plays every scenario of claudeScenarios with the real
// Claude Code CLI and ccotel installed, and checks the exported trace
// against what the real client did (the hook payloads it sent, the
// tool_use blocks the scripted API declared, the meta files it wrote).
func TestClaude(t *testing.T) {
	claudetest.RequireCLI(t)
	if testing.Short() {
		t.Skip("plays the real Claude Code CLI")
	}
	ccotelBinary(t) // build once, before the parallel subtests
	sem := make(chan struct{}, claudeParallel())
	t.Run("scenario", func(t *testing.T) {
		for _, name := range claudeScenarios {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				sem <- struct{}{}
				defer func() { <-sem }()
				play, spans := playWithCCOTEL(t, name)
				c := &claudeCheck{t: t, play: play, spans: spans}
				c.run()
				t.Logf("scenario %s: %d spans, checks held: %s", name, len(spans), strings.Join(c.held, ", "))
				for _, n := range c.notes {
					t.Logf("scenario %s: %s", name, n)
				}
			})
		}
	})
}

// TestClaudeTraceSplit plays the background-subagent scenario with
// trace_split = "turn": each turn is a trace of its own, a root linked to
// the session's span, its tools and subagent in its trace, and the task
// notification's link crosses into the launching turn's trace.
func TestClaudeTraceSplit(t *testing.T) {
	claudetest.RequireCLI(t)
	if testing.Short() {
		t.Skip("plays the real Claude Code CLI")
	}
	play, spans := playWithEnv(t, "subagent-background", "CCOTEL_TRACE_SPLIT=turn")
	c := &claudeCheck{t: t, play: play, spans: spans}
	c.hold("gen_ai.conversation.id on every span", c.conversationID)
	c.hold("one execute_tool span per tool_use id", c.toolSpans)
	c.hold("turns = typed prompts", c.turns)
	c.hold("task-notification turn marked and linked", c.taskNotifications)
	tops := c.tops()
	if len(tops) != 1 {
		t.Fatalf("%d session spans", len(tops))
	}
	top := tops[0]
	turns := byName(spans, "turn")
	c.hold("each turn its own trace, linked to the session span", func() bool {
		ok := len(turns) == 2 && spanHex(turns[0].GetTraceId()) != spanHex(turns[1].GetTraceId())
		for _, turn := range turns {
			linked := false
			for _, l := range turn.GetLinks() {
				if spanHex(l.GetSpanId()) == spanHex(top.GetSpanId()) && spanHex(l.GetTraceId()) == spanHex(top.GetTraceId()) {
					linked = true
				}
			}
			if len(turn.GetParentSpanId()) != 0 || !linked || spanHex(turn.GetTraceId()) == spanHex(top.GetTraceId()) {
				ok = c.errorf("turn %s: trace %x parent %x links %v; session trace %x", attr(turn, "claude_code.prompt.id"), turn.GetTraceId(), turn.GetParentSpanId(), turn.GetLinks(), top.GetTraceId())
			}
		}
		return ok
	})
	c.hold("tools and subagent in their turn's trace", func() bool {
		ok := true
		for _, s := range spans {
			if s == top || s.GetName() == "turn" {
				continue
			}
			// Walk up to the turn.
			p := s
			for p != nil && p.GetName() != "turn" {
				p = spans[spanHex(p.GetParentSpanId())]
			}
			if p == nil || spanHex(p.GetTraceId()) != spanHex(s.GetTraceId()) {
				ok = c.errorf("%s: not in its turn's trace", s.GetName())
			}
		}
		return ok
	})
	t.Logf("scenario subagent-background, trace_split=turn: %d spans, checks held: %s", len(spans), strings.Join(c.held, ", "))
}

// claudeCheck checks one played scenario's trace.
type claudeCheck struct {
	t     *testing.T
	play  *claudetest.Play
	spans map[string]*tracepb.Span
	held  []string // names of the checks that ran and held
	notes []string // figures of the checks, for the log
	tt    *transcriptTruth
}

// hold records check name as held unless the test failed while it ran.
func (c *claudeCheck) hold(name string, check func() bool) {
	c.t.Helper()
	if check() {
		c.held = append(c.held, name)
	}
}

func (c *claudeCheck) errorf(format string, args ...any) bool {
	c.t.Helper()
	c.t.Errorf(format, args...)
	return false
}

func (c *claudeCheck) events(name string) []claudetest.Event {
	var out []claudetest.Event
	for _, e := range c.play.Events {
		if e.Name() == name {
			out = append(out, e)
		}
	}
	return out
}

// tops are the session root and run spans.
func (c *claudeCheck) tops() []*tracepb.Span { return byName(c.spans, "invoke_agent claude-code") }

func (c *claudeCheck) run() {
	c.hold("gen_ai.conversation.id on every span", c.conversationID)
	c.hold("one execute_tool span per tool_use id", c.toolSpans)
	c.hold("tool errors as the client reported", c.toolErrors)
	c.truthChecks()
	c.hold("tools under their turn or subagent", c.toolParents)
	c.hold("turns = typed prompts", c.turns)
	if len(c.events("SubagentStart")) > 0 {
		c.hold("subagents under the Agent call of their meta file", c.subagents)
	}
	if c.notifications() > 0 {
		c.hold("task-notification turn marked and linked", c.taskNotifications)
	}
	for _, name := range []string{"PreModelSwitch", "PostModelSwitch", "DirectoryAdded"} {
		if len(c.events(name)) > 0 {
			c.hold(name+" span events", func() bool { return c.spanEvents(name) })
		}
	}
	if len(c.events("PostModelSwitch")) > 0 {
		c.hold("model of the turns after a switch", c.modelAfterSwitch)
	}
	for _, e := range c.events("SessionStart") {
		var tokens int64
		if e.Field("context_tokens", &tokens) {
			c.hold("resume fields of "+e.String("source")+" on the run span", func() bool { return c.resumeFields(e) })
		}
	}
}

func (c *claudeCheck) conversationID() bool {
	sessions := map[string]bool{}
	for _, e := range c.play.Events {
		sessions[e.String("session_id")] = true
	}
	ok := len(c.spans) > 0
	for _, s := range c.spans {
		if id := attr(s, "gen_ai.conversation.id"); !sessions[id] {
			ok = c.errorf("%s: gen_ai.conversation.id %q, not a session of the play %v", s.GetName(), id, sessions)
		}
	}
	return ok
}

// declaredTools are the tool_use ids the scripted API sent, over all runs.
func (c *claudeCheck) declaredTools() map[string]string {
	ids := map[string]string{}
	for _, r := range c.play.Requests {
		if r.Response == nil {
			continue
		}
		for _, b := range r.Response.Blocks {
			if b.ID != "" {
				ids[b.ID] = b.Tool
			}
		}
	}
	return ids
}

func (c *claudeCheck) toolSpan() map[string][]*tracepb.Span {
	m := map[string][]*tracepb.Span{}
	for _, s := range byName(c.spans, "execute_tool") {
		id := attr(s, "gen_ai.tool.call.id")
		m[id] = append(m[id], s)
	}
	return m
}

func (c *claudeCheck) toolSpans() bool {
	want := c.declaredTools()
	got := c.toolSpan()
	ok := true
	for id, tool := range want {
		if n := len(got[id]); n != 1 {
			ok = c.errorf("tool_use %s (%s): %d execute_tool spans, want 1", id, tool, n)
		} else if name := got[id][0].GetName(); name != "execute_tool "+tool {
			ok = c.errorf("tool_use %s: span %q, want %q", id, name, "execute_tool "+tool)
		}
	}
	for id := range got {
		if _, declared := want[id]; !declared {
			ok = c.errorf("execute_tool span for %q, which the API never declared", id)
		}
	}
	return ok
}

// failedTools are the calls the real client reported as failed: a
// PostToolUseFailure, a PostToolBatch result that is a tool_use_error, or
// a tool_result with is_error in its transcripts (a call interrupted or
// denied for lack of approval, of which no hook event says so).
func (c *claudeCheck) failedTools() map[string]bool {
	failed := map[string]bool{}
	for id, r := range c.truth().calls {
		if r.isError {
			failed[id] = true
		}
	}
	for _, e := range c.events("PostToolUseFailure") {
		failed[e.String("tool_use_id")] = true
	}
	for _, e := range c.events("PostToolBatch") {
		var calls []struct {
			ID       string          `json:"tool_use_id"`
			Response json.RawMessage `json:"tool_response"`
		}
		e.Field("tool_calls", &calls)
		for _, call := range calls {
			var text string
			if json.Unmarshal(call.Response, &text) == nil && strings.HasPrefix(text, "<tool_use_error>") {
				failed[call.ID] = true
			}
		}
	}
	return failed
}

func (c *claudeCheck) toolErrors() bool {
	failed := c.failedTools()
	ok := true
	for id, spans := range c.toolSpan() {
		for _, s := range spans {
			isErr := s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR
			if isErr != failed[id] {
				ok = c.errorf("%s %s: error status %v, the client reported failure %v", s.GetName(), id, isErr, failed[id])
			}
		}
	}
	var total int64
	for _, top := range c.tops() {
		n, _ := strconv.ParseInt(attr(top, "claude_code.session.tool_errors"), 10, 64)
		total += n
	}
	if total != int64(len(failed)) {
		ok = c.errorf("claude_code.session.tool_errors sum %d over %d top spans, the client reported %d failed calls", total, len(c.tops()), len(failed))
	}
	return ok
}

func (c *claudeCheck) toolParents() bool {
	agentOf := map[string]string{}
	for _, e := range c.play.Events {
		if id := e.String("tool_use_id"); id != "" && e.String("agent_id") != "" {
			agentOf[id] = e.String("agent_id")
		}
	}
	ok := true
	for id, spans := range c.toolSpan() {
		for _, s := range spans {
			p := c.spans[spanHex(s.GetParentSpanId())]
			switch {
			case p == nil:
				ok = c.errorf("%s %s: parent %x not exported", s.GetName(), id, s.GetParentSpanId())
			case agentOf[id] != "":
				if attr(p, "gen_ai.agent.id") != agentOf[id] {
					ok = c.errorf("%s %s: parent %s, want the subagent %s", s.GetName(), id, p.GetName(), agentOf[id])
				}
			case p.GetName() != "turn":
				ok = c.errorf("%s %s: parent %s, want its turn", s.GetName(), id, p.GetName())
			}
		}
	}
	return ok
}

func isNotification(prompt string) bool { return strings.HasPrefix(prompt, "<task-notification>") }

func (c *claudeCheck) notifications() int {
	n := 0
	for _, e := range c.events("UserPromptSubmit") {
		if isNotification(e.String("prompt")) {
			n++
		}
	}
	return n
}

func (c *claudeCheck) turns() bool {
	typed := len(c.events("UserPromptSubmit")) - c.notifications()
	var counted int64
	for _, top := range c.tops() {
		n, _ := strconv.ParseInt(attr(top, "claude_code.session.turns"), 10, 64)
		counted += n
	}
	ok := true
	if counted != int64(typed) {
		ok = c.errorf("claude_code.session.turns sum %d, the person typed %d prompts", counted, typed)
	}
	if n := len(byName(c.spans, "turn")); n != len(c.events("UserPromptSubmit")) {
		ok = c.errorf("%d turn spans, %d UserPromptSubmit events", n, len(c.events("UserPromptSubmit")))
	}
	for _, s := range byName(c.spans, "turn") {
		p := c.spans[spanHex(s.GetParentSpanId())]
		if len(s.GetParentSpanId()) == 0 && len(s.GetLinks()) > 0 {
			p = c.spans[spanHex(s.GetLinks()[0].GetSpanId())] // trace_split = "turn"
		}
		if p == nil || p.GetName() != "invoke_agent claude-code" {
			ok = c.errorf("turn %s: parent (or, split, first link) is not the session or run span", attr(s, "claude_code.prompt.id"))
		}
	}
	return ok
}

// metaToolUseID is the launching Agent call the subagent's meta file names.
func (c *claudeCheck) metaToolUseID(sessionID, agentID string) string {
	main, _ := c.play.Sandbox.Transcripts(sessionID)
	if main == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSuffix(main, ".jsonl"), "subagents", "agent-"+agentID+".meta.json"))
	if err != nil {
		return ""
	}
	var meta struct {
		ToolUseID string `json:"toolUseId"`
	}
	json.Unmarshal(b, &meta)
	return meta.ToolUseID
}

func (c *claudeCheck) subagents() bool {
	ok := true
	for _, e := range c.events("SubagentStart") {
		id := e.String("agent_id")
		var agent *tracepb.Span
		for _, s := range c.spans {
			if attr(s, "gen_ai.agent.id") == id && strings.HasPrefix(s.GetName(), "invoke_agent ") && attr(s, "gen_ai.operation.name") == "invoke_agent" && s.GetName() != "invoke_agent claude-code" {
				agent = s
			}
		}
		if agent == nil {
			ok = c.errorf("subagent %s: no span", id)
			continue
		}
		if hasAttr(agent, "claude_code.incomplete") {
			ok = c.errorf("subagent %s ended incomplete (%s)", id, attr(agent, "claude_code.incomplete.reason"))
		}
		launch := c.metaToolUseID(e.String("session_id"), id)
		if launch == "" {
			ok = c.errorf("subagent %s: Claude Code wrote no meta file with toolUseId", id)
			continue
		}
		p := c.spans[spanHex(agent.GetParentSpanId())]
		if p == nil || attr(p, "gen_ai.tool.call.id") != launch {
			ok = c.errorf("subagent %s: parent %v, want the Agent call %s", id, p.GetName(), launch)
		}
		var stop int64
		for _, st := range c.events("SubagentStop") {
			if st.String("agent_id") == id {
				stop = 1
			}
		}
		if stop == 1 && agent.GetEndTimeUnixNano() < p.GetEndTimeUnixNano() && c.notifications() > 0 {
			ok = c.errorf("background subagent %s ends before its Agent call returned", id)
		}
	}
	return ok
}

func (c *claudeCheck) taskNotifications() bool {
	ok := true
	var notices []*tracepb.Span
	for _, s := range byName(c.spans, "turn") {
		if attr(s, "claude_code.turn.origin") == "task_notification" {
			notices = append(notices, s)
		}
	}
	if len(notices) != c.notifications() {
		return c.errorf("%d turns marked task_notification, %d notifications came", len(notices), c.notifications())
	}
	for _, n := range notices {
		task := attr(n, "claude_code.task_id")
		linked := false
		for _, l := range n.GetLinks() {
			if s := c.spans[spanHex(l.GetSpanId())]; s != nil && attr(s, "gen_ai.agent.id") == task && spanHex(l.GetTraceId()) == spanHex(s.GetTraceId()) {
				linked = true
			}
		}
		if task == "" || !linked {
			ok = c.errorf("task-notification turn (task %q): no link to that subagent's span (links %v)", task, n.GetLinks())
		}
	}
	var counted int64
	for _, top := range c.tops() {
		n, _ := strconv.ParseInt(attr(top, "claude_code.session.task_notifications"), 10, 64)
		counted += n
	}
	if counted != int64(len(notices)) {
		ok = c.errorf("claude_code.session.task_notifications %d, want %d", counted, len(notices))
	}
	return ok
}

// spanEvents: every such hook event is a span event somewhere, with the
// model switch's from/to.
func (c *claudeCheck) spanEvents(name string) bool {
	want := c.events(name)
	var got []*tracepb.Span_Event
	for _, s := range c.spans {
		for _, e := range s.GetEvents() {
			if e.GetName() == name {
				got = append(got, e)
			}
		}
	}
	if len(got) != len(want) {
		return c.errorf("%d %s span events, %d hook events", len(got), name, len(want))
	}
	ok := true
	for i, e := range want {
		switch name {
		case "PreModelSwitch", "PostModelSwitch":
			found := false
			for _, g := range got {
				if attr(g, "claude_code.model.from") == e.String("from_model") && attr(g, "claude_code.model.to") == e.String("to_model") {
					found = true
				}
			}
			if !found {
				ok = c.errorf("%s %d: no span event %s → %s", name, i, e.String("from_model"), e.String("to_model"))
			}
		case "DirectoryAdded":
			if attr(got[i], "claude_code.source") != e.String("source") {
				ok = c.errorf("DirectoryAdded: source %q, want %q", attr(got[i], "claude_code.source"), e.String("source"))
			}
		}
	}
	return ok
}

// modelAfterSwitch: each turn's gen_ai.request.model is the model its
// API requests asked for (the requests the scripted API received while
// the turn was open), before and after the switches.
func (c *claudeCheck) modelAfterSwitch() bool {
	ok, checked := true, 0
	for _, turn := range byName(c.spans, "turn") {
		start, end := int64(turn.GetStartTimeUnixNano()), int64(turn.GetEndTimeUnixNano())
		models := map[string]bool{}
		for _, r := range c.play.Requests {
			at := r.Received.UnixNano()
			if r.Kind == claudetest.KindMain && r.Model != "" && at >= start && at <= end {
				models[r.Model] = true
			}
		}
		if len(models) != 1 {
			continue
		}
		checked++
		for m := range models {
			if got := attr(turn, "gen_ai.request.model"); got != m {
				ok = c.errorf("turn %s: gen_ai.request.model %q, its requests asked for %q", attr(turn, "claude_code.turn.index"), got, m)
			}
		}
	}
	if checked < 2 {
		ok = c.errorf("only %d turns with requests of one model to check", checked)
	}
	return ok
}

// resumeFields: the run span of the session that SessionStart opened
// carries its resume fields.
func (c *claudeCheck) resumeFields(e claudetest.Event) bool {
	var tokens, secs int64
	e.Field("context_tokens", &tokens)
	e.Field("seconds_since_last_response", &secs)
	sid := e.String("session_id")
	for _, top := range c.tops() {
		if attr(top, "gen_ai.conversation.id") == sid && attr(top, "claude_code.context_tokens") == fmt.Sprint(tokens) &&
			attr(top, "claude_code.seconds_since_last_response") == fmt.Sprint(secs) &&
			attr(top, "claude_code.session.source") == e.String("source") && hasAttr(top, "claude_code.estimated_cache_write_usd") {
			return true
		}
	}
	return c.errorf("no run span of %s with source %s, context_tokens %d, seconds_since_last_response %d", sid, e.String("source"), tokens, secs)
}
