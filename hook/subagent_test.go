package hook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/tracing"
)

func TestSubagent(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart", "source", "startup"))
	s.at(10, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(20, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "ag", "tool_input", map[string]any{"subagent_type": "Explore", "description": "find call sites", "prompt": "secret plan"}))
	s.at(30, ev("SubagentStart", "agent_id", "a1", "agent_type", "Explore"))
	s.at(40, ev("PreToolUse", "tool_name", "Grep", "tool_use_id", "g1", "agent_id", "a1", "agent_type", "Explore"))
	s.at(50, ev("PostToolUse", "tool_name", "Grep", "tool_use_id", "g1", "agent_id", "a1", "agent_type", "Explore"))
	s.at(60, ev("SubagentStop", "agent_id", "a1", "agent_type", "Explore"))
	s.at(70, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "ag"))
	s.at(80, ev("Stop"))
	turn := s.span("turn")
	agentTool := s.span("execute_tool Agent")
	agent := s.span("invoke_agent Explore")
	grep := s.span("execute_tool Grep")
	checkSpan(t, agentTool, turn, 20, 70, semconv.ToolSubagentType, "Explore")
	checkSpan(t, agent, agentTool, 30, 60, semconv.GenAIAgentID, "a1", semconv.GenAIAgentName, "Explore", semconv.GenAIOperationName, "invoke_agent", semconv.GenAIAgentDescription, nil)
	checkSpan(t, grep, agent, 40, 50)
	var ref usage.Ref
	json.Unmarshal(agent.Pending, &ref)
	if ref != (usage.Ref{Scope: "agent", Path: "/p/s1/subagents/agent-a1.jsonl", AgentID: "a1"}) {
		t.Errorf("agent ref %+v", ref)
	}
	if agent.SpanID != agentSpanID("s1", "a1") || grep.SpanID != toolSpanID("s1", "g1") {
		t.Error("derived ids")
	}
}

// The Agent tool's post arrives while its subagent is open: the subagent
// (and its open tool) end first, marked incomplete.
func TestAgentToolEndsOpenSubagent(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Task", "tool_use_id", "ag"))
	s.at(20, ev("SubagentStart", "agent_id", "a1", "agent_type", ""))
	s.at(30, ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "b1", "agent_id", "a1"))
	out := s.at(40, ev("PostToolUse", "tool_name", "Task", "tool_use_id", "ag"))
	if got := names(out); strings.Join(got, ",") != "execute_tool Bash,invoke_agent unknown,execute_tool Task" {
		t.Fatalf("order %v", got)
	}
	checkSpan(t, &out[0], &out[1], 30, 40, semconv.Incomplete, true, semconv.IncompleteReason, "parent_ended")
	checkSpan(t, &out[1], &out[2], 20, 40, semconv.Incomplete, true, semconv.IncompleteReason, "parent_ended", semconv.GenAIAgentName, "unknown")
	checkSpan(t, &out[2], nil, 10, 40, semconv.Incomplete, nil)
	// The subagent's stop comes late: dropped, counted.
	if out := s.at(50, ev("SubagentStop", "agent_id", "a1")); len(out) != 0 || s.late != 1 {
		t.Fatalf("late stop: %v, late=%d", names(out), s.late)
	}
	s.at(60, ev("SessionEnd"))
	root := s.span("invoke_agent claude-code")
	checkSpan(t, root, nil, 0, 60, semconv.SessionLateEvents, 1, semconv.SessionStartMissed, true, semconv.SessionSubagents, 1)
}

func TestOrphanSubagentStop(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "ag"))
	s.at(50, ev("SubagentStop", "agent_id", "a9", "agent_type", "Plan", "agent_transcript_path", "/x/agent-a9.jsonl"))
	s.at(60, ev("SubagentStop", "agent_id", "a8", "agent_type", ""))
	agent := s.span("invoke_agent Plan")
	checkSpan(t, agent, nil, 10, 50, semconv.SubagentStartMissed, true)
	if agent.ParentSpanID != toolSpanID("s1", "ag") {
		t.Error("orphan stop not under the Agent tool")
	}
	fork := s.span("invoke_agent unknown")
	checkSpan(t, fork, nil, 60, 60, semconv.SubagentStartMissed, true)
}

// A background Agent launch (run_in_background) returns at once with
// status "async_launched": its PostToolUse must not end the subagent,
// which keeps running (its tools under it) until its own SubagentStop;
// it stays a child of the Agent call that launched it.
func TestBackgroundSubagentOutlivesLaunch(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "ag", "tool_input", map[string]any{"subagent_type": "Explore", "run_in_background": true}))
	s.at(20, ev("SubagentStart", "agent_id", "a1", "agent_type", "Explore"))
	out := s.at(30, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "ag", "tool_response", map[string]any{"status": "async_launched", "agentId": "a1"}))
	if got := strings.Join(names(out), ","); got != "execute_tool Agent" {
		t.Fatalf("launch ended %s", got)
	}
	s.at(40, ev("PreToolUse", "tool_name", "Read", "tool_use_id", "r1", "agent_id", "a1", "agent_type", "Explore"))
	s.at(50, ev("PostToolUse", "tool_name", "Read", "tool_use_id", "r1", "agent_id", "a1", "agent_type", "Explore"))
	s.at(60, ev("Stop", "prompt_id", "p1"))
	s.at(90, ev("SubagentStop", "agent_id", "a1", "agent_type", "Explore"))
	s.at(100, ev("SessionEnd"))
	agentTool := s.span("execute_tool Agent")
	agent := s.span("invoke_agent Explore")
	checkSpan(t, agentTool, nil, 10, 30, semconv.Incomplete, nil)
	checkSpan(t, agent, agentTool, 20, 90, semconv.Incomplete, nil)
	checkSpan(t, s.span("execute_tool Read"), agent, 40, 50)
	if s.late != 0 {
		t.Errorf("late = %d, want 0", s.late)
	}
}

// A background subagent whose stop never comes still ends, with the
// session, marked incomplete.
func TestBackgroundSubagentEndsWithSession(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "ag"))
	s.at(20, ev("SubagentStart", "agent_id", "a1", "agent_type", "Explore"))
	s.at(30, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "ag", "tool_response", map[string]any{"status": "async_launched"}))
	s.at(40, ev("Stop", "prompt_id", "p1"))
	s.at(70, ev("SessionEnd"))
	checkSpan(t, s.span("invoke_agent Explore"), s.span("execute_tool Agent"), 20, 70,
		semconv.Incomplete, true, semconv.IncompleteReason, "parent_ended")
	if OpenSpans(&s.st, "s1") != 0 {
		t.Errorf("%d spans left open", OpenSpans(&s.st, "s1"))
	}
}

// Two Agent calls in parallel whose SubagentStarts come in the other
// order: each subagent goes under the call of its own type.
func TestParallelAgentsBindByType(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("UserPromptSubmit", "prompt_id", "p1"))
	s.at(10, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "t1", "tool_input", map[string]any{"subagent_type": "Explore"}))
	s.at(11, ev("PreToolUse", "tool_name", "Agent", "tool_use_id", "t2", "tool_input", map[string]any{"subagent_type": "Plan"}))
	s.at(12, ev("SubagentStart", "agent_id", "a2", "agent_type", "Plan"))
	s.at(13, ev("SubagentStart", "agent_id", "a1", "agent_type", "Explore"))
	s.at(50, ev("SubagentStop", "agent_id", "a1", "agent_type", "Explore"))
	s.at(55, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "t1"))
	s.at(60, ev("SubagentStop", "agent_id", "a2", "agent_type", "Plan"))
	s.at(65, ev("PostToolUse", "tool_name", "Agent", "tool_use_id", "t2"))
	var t1, t2 *tracing.Span
	for i := range s.spans {
		switch attr(t, &s.spans[i], semconv.GenAIToolCallID) {
		case "t1":
			t1 = &s.spans[i]
		case "t2":
			t2 = &s.spans[i]
		}
	}
	if t1 == nil || t2 == nil {
		t.Fatalf("agent calls missing: %v", names(s.spans))
	}
	checkSpan(t, s.span("invoke_agent Explore"), t1, 13, 50, semconv.Incomplete, nil)
	checkSpan(t, s.span("invoke_agent Plan"), t2, 12, 60, semconv.Incomplete, nil)
	if s.late != 0 {
		t.Errorf("late = %d, want 0", s.late)
	}
}
