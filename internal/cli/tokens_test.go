package cli

// Token usage end to end: recorded hook events that point at the fixture
// transcripts in testdata/transcripts, through `ccotel replay --stdout`
// (hook → outbox → usage finisher → OTLP JSON). The expected numbers are
// the hand-computed ones of usage/usage_test.go.

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestTokensThroughReplay(t *testing.T) {
	fixtures, err := filepath.Abs(filepath.Join("..", "..", "testdata", "transcripts"))
	if err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(fixtures, "turns.jsonl")
	agent := filepath.Join(fixtures, "turns", "subagents", "agent-aa11.jsonl")
	const sid = "70c0e000-0000-4000-8000-000000000001"
	events := []map[string]any{
		{"hook_event_name": "SessionStart", "source": "startup", "_ts": "2026-07-29T08:20:00Z"},
		{"hook_event_name": "UserPromptSubmit", "prompt_id": "p-1", "prompt": "x", "_ts": "2026-07-29T08:20:01Z"},
		{"hook_event_name": "PreToolUse", "prompt_id": "p-1", "tool_name": "Agent", "tool_use_id": "toolu_ag", "tool_input": map[string]any{"subagent_type": "Explore", "prompt": "find"}, "_ts": "2026-07-29T08:20:02Z"},
		{"hook_event_name": "SubagentStart", "agent_id": "aa11", "agent_type": "Explore", "_ts": "2026-07-29T08:20:03Z"},
		{"hook_event_name": "SubagentStop", "agent_id": "aa11", "agent_type": "Explore", "agent_transcript_path": agent, "_ts": "2026-07-29T08:20:20Z"},
		{"hook_event_name": "PostToolUse", "prompt_id": "p-1", "tool_name": "Agent", "tool_use_id": "toolu_ag", "tool_input": map[string]any{}, "tool_response": map[string]any{"status": "completed"}, "_ts": "2026-07-29T08:20:21Z"},
		{"hook_event_name": "Stop", "prompt_id": "p-1", "_ts": "2026-07-29T08:20:30Z"},
		{"hook_event_name": "UserPromptSubmit", "prompt_id": "p-2", "prompt": "y", "_ts": "2026-07-29T08:21:00Z"},
		{"hook_event_name": "Stop", "prompt_id": "p-2", "_ts": "2026-07-29T08:21:10Z"},
		{"hook_event_name": "SessionEnd", "reason": "other", "_ts": "2026-07-29T08:22:00Z"},
	}
	var in bytes.Buffer
	for _, e := range events {
		e["session_id"] = sid
		e["transcript_path"] = main
		e["cwd"] = "/home/dev/app"
		b, _ := json.Marshal(e)
		in.Write(b)
		in.WriteByte('\n')
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "events.jsonl")
	os.WriteFile(file, in.Bytes(), 0o600)
	t.Setenv("CCOTEL_CONFIG", filepath.Join(dir, "none.toml"))
	t.Setenv("XDG_STATE_HOME", dir)

	var stdout, stderr bytes.Buffer
	if code := Main([]string{"replay", "--stdout", file}, os.Stdin, &stdout, &stderr); code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr.String())
	}
	spans := otlpSpans(t, stdout.Bytes())

	type tokens struct {
		requests, input, output, cacheRead, cacheWrite int64
		cost                                           float64
	}
	want := map[string]tokens{
		// turn p-1: uncached 12 + cache read 30834 + cache write 5461
		"turn p-1": {2, 36307, 288, 30834, 5461, 0.02920895},
		// turn p-2: 5 + 23000
		"turn p-2": {1, 23005, 120, 23000, 0, 0.008715},
		// subagent: 1240 + 1150
		"invoke_agent Explore": {2, 2390, 390, 1150, 0, 0.003305},
		// session: 1257 + 54984 + 5461
		"invoke_agent claude-code": {5, 61702, 798, 54984, 5461, 0.04122895},
	}
	for name, w := range want {
		a, ok := spans[name]
		if !ok {
			t.Errorf("no span %q (have %v)", name, keys(spans))
			continue
		}
		for k, v := range map[string]int64{
			"claude_code.api_requests":                 w.requests,
			"gen_ai.usage.input_tokens":                w.input,
			"gen_ai.usage.output_tokens":               w.output,
			"gen_ai.usage.cache_read.input_tokens":     w.cacheRead,
			"gen_ai.usage.cache_creation.input_tokens": w.cacheWrite,
		} {
			if got := a[k]; got != strconv.FormatInt(v, 10) {
				t.Errorf("%s: %s = %q, want %d", name, k, got, v)
			}
		}
		c, err := strconv.ParseFloat(a["claude_code.cost.usd"], 64)
		if err != nil || math.Abs(c-w.cost) > 1e-9 {
			t.Errorf("%s: cost %q, want %v", name, a["claude_code.cost.usd"], w.cost)
		}
	}
}

// otlpSpans indexes an OTLP/JSON export by span name ("turn" spans by
// their prompt id), each with its scalar attributes as strings.
func otlpSpans(t *testing.T, b []byte) map[string]map[string]string {
	t.Helper()
	var req struct {
		ResourceSpans []struct {
			ScopeSpans []struct {
				Spans []struct {
					Name       string
					Attributes []struct {
						Key   string
						Value map[string]any
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("OTLP JSON: %v\n%s", err, b)
	}
	out := map[string]map[string]string{}
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				attrs := map[string]string{}
				for _, a := range s.Attributes {
					for _, v := range a.Value {
						switch v := v.(type) {
						case string:
							attrs[a.Key] = v
						case float64:
							attrs[a.Key] = strconv.FormatFloat(v, 'g', -1, 64)
						case bool:
							attrs[a.Key] = strconv.FormatBool(v)
						}
					}
				}
				name := s.Name
				if name == "turn" {
					name += " " + attrs["claude_code.prompt.id"]
				}
				out[name] = attrs
			}
		}
	}
	return out
}

func keys(m map[string]map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
