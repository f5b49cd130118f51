package claudetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// wantExit is each scenario's exit code, 0 unless listed: a request that
// fails for good makes `claude -p` exit 1.
var wantExit = map[string]int{"api-fail": 1}

// mayAbort are the scenarios where the client goes away mid-answer.
var mayAbort = map[string]bool{"interrupt-stream": true}

func init() {
	for name, check := range realChecks {
		checks[name] = check
	}
}

// realChecks are the expectations of the issue-17 scenarios: what 2.1.328
// was seen to do (testdata/claude/README.md, "seen while recording").
var realChecks = map[string]func(t *testing.T, p *Play){
	"tui": func(t *testing.T, p *Play) {
		// Slash commands are not prompts; /compact runs a forked agent
		// (SubagentStop with agent_type "", no SubagentStart); /clear ends
		// the session and starts one with a new id; /exit ends it.
		// MessageDisplay is not waited for in the TUI (seen after Stop).
		wantMainWithout(t, p, "MessageDisplay", "SessionStart UserPromptSubmit PreToolUse PermissionRequest PostToolUse PostToolBatch Stop "+
			"PreCompact SessionStart PostCompact SessionEnd SessionStart UserPromptSubmit Stop SessionEnd")
		if n := len(byName(p.Events, "MessageDisplay")); n != 2 {
			t.Errorf("%d MessageDisplay, want one per answer", n)
		}
		compactFork(t, p, "manual")
		if _, ok := field(byName(p.Events, "PermissionRequest")[0], "tool_use_id"); ok {
			t.Error("PermissionRequest carries tool_use_id")
		}
		wantSources(t, p, "startup", "compact", "clear")
		wantReasons(t, p, "clear", "prompt_input_exit")
		r := p.Runs[0]
		if len(r.Sessions) != 1 || r.Sessions[0] == r.SessionID {
			t.Fatalf("sessions after /clear: %v", r.Sessions)
		}
		after := byName(p.Events, "UserPromptSubmit")[1]
		if after.String("session_id") != r.Sessions[0] {
			t.Errorf("the prompt after /clear is in session %s, want %s", after.String("session_id"), r.Sessions[0])
		}
		wantKinds(t, p, "main:200 main:200 compact:200 main:200")
	},
	"interrupt-tool": func(t *testing.T, p *Play) {
		// Escape during a tool: no Post event, no Stop; the transcript has
		// the call's error result and the interrupt line.
		wantMain(t, p, "SessionStart UserPromptSubmit PreToolUse SessionEnd")
		wantReasons(t, p, "prompt_input_exit")
		res := toolResult(t, p, "toolu_J1")
		if res["is_error"] != true || !strings.Contains(fmt.Sprint(res["content"]), "doesn't want to proceed") {
			t.Errorf("tool_result of the interrupted call: %v", res)
		}
		wantUserText(t, p, "[Request interrupted by user for tool use]")
	},
	"interrupt-stream": func(t *testing.T, p *Play) {
		// Escape while the model streams: no Stop, an interrupt line. The
		// partial answer may get an assistant line marked
		// isAbortedMidStream (seen in some runs, not in others), never
		// one without that mark.
		wantMain(t, p, "SessionStart UserPromptSubmit SessionEnd")
		if !p.Requests[0].Aborted {
			t.Error("the streamed answer was not cut short")
		}
		for _, l := range readLines(t, p.Runs[0].Transcript) {
			if str(l, "type") == "assistant" && l["isAbortedMidStream"] != true {
				t.Errorf("assistant line for the interrupted answer without isAbortedMidStream: %v", l)
			}
		}
		wantUserText(t, p, "[Request interrupted by user]")
	},
	"ctrl-c": func(t *testing.T, p *Play) {
		// Ctrl-C twice at the prompt ends the session as /exit does.
		wantMainWithout(t, p, "MessageDisplay", "SessionStart UserPromptSubmit Stop SessionEnd")
		wantReasons(t, p, "prompt_input_exit")
	},
	"sigint-tool": func(t *testing.T, p *Play) {
		// SIGINT to claude -p during a tool: only SessionEnd (reason
		// other), exit 0.
		wantMain(t, p, "SessionStart UserPromptSubmit PreToolUse SessionEnd")
		wantReasons(t, p, "other")
	},
	"compact-manual": func(t *testing.T, p *Play) {
		wantMain(t, p, "SessionStart UserPromptSubmit PreToolUse PostToolUse PostToolBatch MessageDisplay Stop SessionEnd "+
			"SessionStart PreCompact SessionStart PostCompact SessionEnd")
		compactFork(t, p, "manual")
		if c := byName(p.Events, "PreCompact")[0].String("custom_instructions"); c != "focus on the file count" {
			t.Errorf("PreCompact custom_instructions %q", c)
		}
		wantKinds(t, p, "main:200 main:200 compact:200")
		wantBoundary(t, p, "manual")
	},
	"compact-auto": func(t *testing.T, p *Play) {
		// The 400 "prompt is too long" compacts mid-turn; the turn goes on.
		wantMain(t, p, "SessionStart UserPromptSubmit PreToolUse PostToolUse PostToolBatch PreCompact SessionStart PostCompact "+
			"PreToolUse PostToolUse PostToolBatch MessageDisplay Stop SessionEnd")
		compactFork(t, p, "auto")
		wantKinds(t, p, "main:200 main:400 compact:200 main:200 main:200")
		wantBoundary(t, p, "auto")
	},
	"api-retry": func(t *testing.T, p *Play) {
		wantMain(t, p, "SessionStart UserPromptSubmit MessageDisplay Stop SessionEnd")
		wantKinds(t, p, "main:529 main:500 main:200")
		// One api-request line per attempt, one api_error line per retried
		// failure, naming the attempt's request id.
		var reqs int
		var errs []string
		for _, l := range readLines(t, p.Runs[0].Transcript) {
			switch {
			case str(l, "type") == "api-request":
				reqs++
			case str(l, "type") == "system" && str(l, "subtype") == "api_error":
				e, _ := l["error"].(map[string]any)
				errs = append(errs, fmt.Sprintf("%v %s attempt %v", e["status"], str(e, "requestId"), l["retryAttempt"]))
			}
		}
		want := []string{"529 " + p.Requests[0].ReqID + " attempt 1", "500 " + p.Requests[1].ReqID + " attempt 2"}
		if reqs != 3 || !slices.Equal(errs, want) {
			t.Errorf("%d api-request lines, api_error lines %q; want 3 and %q", reqs, errs, want)
		}
	},
	"api-fail": func(t *testing.T, p *Play) {
		// StopFailure fires, but claude -p exits without waiting for it:
		// its hook is sometimes killed before it read its input (checkCommon
		// allows that for StopFailure only). The transcript always has the
		// failure: an assistant line with isApiErrorMessage.
		if len(byName(p.Events, "StopFailure")) == 0 {
			wantMain(t, p, "SessionStart UserPromptSubmit MessageDisplay SessionEnd")
			t.Log("StopFailure's hook was killed as claude exited")
		} else {
			wantMain(t, p, "SessionStart UserPromptSubmit MessageDisplay StopFailure SessionEnd")
			if e := byName(p.Events, "StopFailure")[0].String("error"); e != "unknown" {
				t.Errorf("StopFailure error %q", e)
			}
		}
		var found bool
		last := p.Requests[len(p.Requests)-1].ReqID
		for _, l := range readLines(t, p.Runs[0].Transcript) {
			if str(l, "type") == "assistant" && l["isApiErrorMessage"] == true {
				found = true
				if str(l, "error") != "unknown" || integer(l, "apiErrorStatus") != 400 || str(l, "requestId") != last {
					t.Errorf("API error line: error %v status %v requestId %v (last attempt %s)", l["error"], l["apiErrorStatus"], l["requestId"], last)
				}
			}
		}
		if !found {
			t.Error("no assistant line with isApiErrorMessage")
		}
		if len(p.Requests) < 2 {
			t.Errorf("%d attempts of the failing request, want the retries 2.1.328 makes", len(p.Requests))
		}
	},
	"mcp": func(t *testing.T, p *Play) {
		wantMain(t, p, "SessionStart UserPromptSubmit PreToolUse PostToolUse PreToolUse PostToolUseFailure PostToolBatch MessageDisplay Stop SessionEnd")
		for _, e := range byName(p.Events, "PreToolUse") {
			var srv map[string]any
			if !e.Field("mcp_server", &srv) || str(srv, "name") != MCPServerName {
				t.Errorf("PreToolUse of %s: mcp_server %v", e.String("tool_name"), srv)
			}
		}
		if f := byName(p.Events, "PostToolUseFailure")[0]; f.String("tool_use_id") != "toolu_N2" || f.String("error") != "failed on purpose" {
			t.Errorf("PostToolUseFailure: %s", f.Payload)
		}
		calls := batchIDs(t, p, 0, "toolu_N1", "toolu_N2", "toolu_N3")
		if r := fmt.Sprint(calls["toolu_N3"]); !strings.Contains(r, "<tool_use_error>") {
			t.Errorf("PostToolBatch result of the tool the server lacks: %v", r)
		}
	},
	"permission-denied": func(t *testing.T, p *Play) {
		// No PermissionDenied, no Post event: only PostToolBatch, with a
		// result that is not a <tool_use_error>.
		wantMain(t, p, "SessionStart UserPromptSubmit PreToolUse PermissionRequest PostToolBatch MessageDisplay Stop SessionEnd")
		r := fmt.Sprint(batchIDs(t, p, 0, "toolu_P1")["toolu_P1"])
		if !strings.Contains(r, "needs approval") || strings.HasPrefix(r, "<tool_use_error>") {
			t.Errorf("PostToolBatch result of the denied call: %q", r)
		}
		res := toolResult(t, p, "toolu_P1")
		if res["is_error"] != true {
			t.Errorf("the model did not receive the denial as an error: %v", res)
		}
	},
	"permission-auto": func(t *testing.T, p *Play) {
		// The only PermissionDenied seen: auto mode without its classifier.
		// It has tool_use_id; no Post event follows.
		wantMain(t, p, "SessionStart UserPromptSubmit PreToolUse PermissionDenied PostToolBatch MessageDisplay Stop SessionEnd")
		d := byName(p.Events, "PermissionDenied")[0]
		if d.String("tool_use_id") != "toolu_R1" || d.String("reason") != "Classifier unavailable" {
			t.Errorf("PermissionDenied: %s", d.Payload)
		}
		r := fmt.Sprint(batchIDs(t, p, 0, "toolu_R1")["toolu_R1"])
		if !strings.HasPrefix(r, "Auto mode is unavailable") {
			t.Errorf("PostToolBatch result of the denied call: %q", r)
		}
		if res := toolResult(t, p, "toolu_R1"); res["is_error"] != true {
			t.Errorf("the model did not receive the denial as an error: %v", res)
		}
	},
	"long-session": func(t *testing.T, p *Play) {
		n := longRounds * longWidth
		if a, b, c := len(byName(p.Events, "PreToolUse")), len(byName(p.Events, "PostToolUse")), len(byName(p.Events, "PostToolBatch")); a != n || b != n || c != longRounds {
			t.Errorf("%d PreToolUse, %d PostToolUse, %d PostToolBatch; want %d, %d, %d", a, b, c, n, n, longRounds)
		}
		if n := len(byName(p.Events, "Stop")); n != 1 {
			t.Errorf("%d Stop", n)
		}
	},
}

// compactFork: the compaction ran as a forked agent: one SubagentStop with
// agent_type "" and no SubagentStart, between PreCompact and the compact
// SessionStart, with the trigger on PreCompact and PostCompact.
func compactFork(t *testing.T, p *Play, trigger string) {
	t.Helper()
	if n := len(byName(p.Events, "SubagentStart")); n != 0 {
		t.Errorf("%d SubagentStart", n)
	}
	stops := byName(p.Events, "SubagentStop")
	if len(stops) != 1 || stops[0].String("agent_type") != "" || stops[0].String("agent_id") == "" {
		t.Fatalf("SubagentStop of the compaction: %d, %v", len(stops), stops)
	}
	order(t, p, "PreCompact", "SubagentStop", "PostCompact")
	for _, name := range []string{"PreCompact", "PostCompact"} {
		if e := byName(p.Events, name)[0]; e.String("trigger") != trigger {
			t.Errorf("%s trigger %q, want %q", name, e.String("trigger"), trigger)
		}
	}
}

func wantSources(t *testing.T, p *Play, want ...string) {
	t.Helper()
	var got []string
	for _, e := range byName(p.Events, "SessionStart") {
		got = append(got, e.String("source"))
	}
	if !slices.Equal(got, want) {
		t.Errorf("SessionStart sources %q, want %q", got, want)
	}
}

func wantReasons(t *testing.T, p *Play, want ...string) {
	t.Helper()
	var got []string
	for _, e := range byName(p.Events, "SessionEnd") {
		got = append(got, e.String("reason"))
	}
	if !slices.Equal(got, want) {
		t.Errorf("SessionEnd reasons %q, want %q", got, want)
	}
}

// wantKinds checks each attempt's kind and status, "main:200 compact:200 …".
func wantKinds(t *testing.T, p *Play, want string) {
	t.Helper()
	var got []string
	for _, q := range p.Requests {
		got = append(got, fmt.Sprintf("%s:%d", q.Kind, q.Status))
	}
	if strings.Join(got, " ") != want {
		t.Errorf("attempts %s, want %s", strings.Join(got, " "), want)
	}
}

// toolResult is the tool_result block the transcript gives the model for id.
func toolResult(t *testing.T, p *Play, id string) map[string]any {
	t.Helper()
	for _, l := range readLines(t, p.Runs[0].Transcript) {
		msg, _ := l["message"].(map[string]any)
		blocks, _ := msg["content"].([]any)
		for _, b := range blocks {
			if m, _ := b.(map[string]any); str(m, "type") == "tool_result" && str(m, "tool_use_id") == id {
				return m
			}
		}
	}
	t.Fatalf("no tool_result for %s", id)
	return nil
}

// wantUserText: a user line of the transcript has a text block (or content) text.
func wantUserText(t *testing.T, p *Play, text string) {
	t.Helper()
	for _, l := range readLines(t, p.Runs[0].Transcript) {
		if str(l, "type") == "user" && strings.Contains(fmt.Sprint(l["message"]), text) {
			return
		}
	}
	t.Errorf("no user line with %q", text)
}

// wantBoundary: the transcript has a compact_boundary line with the trigger
// and token counts.
func wantBoundary(t *testing.T, p *Play, trigger string) {
	t.Helper()
	for _, l := range readLines(t, p.Runs[len(p.Runs)-1].Transcript) {
		if str(l, "type") == "system" && str(l, "subtype") == "compact_boundary" {
			m, _ := l["compactMetadata"].(map[string]any)
			if str(m, "trigger") != trigger || integer(m, "preTokens") <= 0 || integer(m, "postTokens") <= 0 {
				t.Errorf("compactMetadata %v", m)
			}
			return
		}
	}
	t.Error("no compact_boundary line")
}

// wantMainWithout is wantMain with the events named skip left out.
func wantMainWithout(t *testing.T, p *Play, skip, seq string) {
	t.Helper()
	q := *p
	q.Events = slices.DeleteFunc(slices.Clone(p.Events), func(e Event) bool { return e.Name() == skip })
	wantMain(t, &q, seq)
}
