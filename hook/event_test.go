package hook

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

// Payloads as documented in claude-code-hooks.md section 2.1.
var docPayloads = map[string]string{
	"SessionStart":        `{"session_id":"7f0c2d6e-3b1a-4c8e-9d2f-1a2b3c4d5e6f","transcript_path":"/home/dev/.claude/projects/-home-dev-app/7f0c2d6e-3b1a-4c8e-9d2f-1a2b3c4d5e6f.jsonl","cwd":"/home/dev/app","hook_event_name":"SessionStart","source":"startup","model":"claude-sonnet-4-5-20250929"}`,
	"Setup":               `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"Setup","trigger":"init"}`,
	"InstructionsLoaded":  `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"InstructionsLoaded","file_path":"/home/dev/app/CLAUDE.md","memory_type":"Project","load_reason":"session_start"}`,
	"UserPromptSubmit":    `{"session_id":"s","prompt_id":"550e8400-e29b-41d4-a716-446655440000","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"UserPromptSubmit","prompt":"add a retry to the upload client"}`,
	"UserPromptExpansion": `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"UserPromptExpansion","expansion_type":"slash_command","command_name":"review","command_args":"src/upload.ts","command_source":"plugin","prompt":"/review src/upload.ts"}`,
	"MessageDisplay":      `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"MessageDisplay","turn_id":"0c9e6a2f-7d41-4f4e-9a15-3f4f7c2b8d10","message_id":"5b2a9c8e-1f63-4d8a-b7c4-9e0d2a6f1c3b","index":0,"final":false,"delta":"I'll add the retry in two places:\n"}`,
	"PreToolUse":          `{"session_id":"s","prompt_id":"550e8400","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","effort":{"level":"high"},"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"npm test -- upload","description":"Run upload tests","timeout":120000,"run_in_background":false},"tool_use_id":"toolu_01Hq3kYb8XyZ2aBcDeFgHiJk"}`,
	"PermissionRequest":   `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"rm -rf dist","description":"Clean build output"},"permission_suggestions":[{"type":"addRules","rules":[{"toolName":"Bash","ruleContent":"rm -rf dist"}],"behavior":"allow","destination":"localSettings"}]}`,
	"PermissionDenied":    `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"auto","hook_event_name":"PermissionDenied","tool_name":"Bash","tool_input":{"command":"curl -X POST https://prod.example.com/reset"},"tool_use_id":"toolu_01","reason":"Blocked by classifier"}`,
	"PostToolUse":         `{"session_id":"s","prompt_id":"550e8400","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","effort":{"level":"high"},"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"npm test -- upload","description":"Run upload tests"},"tool_response":{"stdout":"Tests: 12 passed, 12 total\n","stderr":"","interrupted":false,"isImage":false},"tool_use_id":"toolu_01Hq3kYb8XyZ2aBcDeFgHiJk","duration_ms":4187}`,
	"PostToolUseFailure":  `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"PostToolUseFailure","tool_name":"Bash","tool_input":{"command":"npm test","description":"Run test suite"},"tool_use_id":"toolu_01","error":"Exit code 1\nError: Cannot find module 'express'","is_interrupt":false,"duration_ms":2310}`,
	"PostToolBatch":       `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"PostToolBatch","tool_calls":[{"tool_name":"Read","tool_input":{"file_path":"/home/dev/app/src/upload.ts"},"tool_use_id":"toolu_01A","tool_response":"     1\timport fs from 'fs'\n"},{"tool_name":"Grep","tool_input":{"pattern":"retry","path":"/home/dev/app/src"},"tool_use_id":"toolu_01B","tool_response":"Found 3 files\n"}]}`,
	"Notification":        `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"Notification","message":"Claude is waiting for your input","notification_type":"idle_prompt"}`,
	"SubagentStart":       `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"SubagentStart","agent_id":"a4d2c8f1e0b3a297","agent_type":"Explore"}`,
	"SubagentStop":        `{"session_id":"s","transcript_path":"/home/dev/.claude/projects/-home-dev-app/7f0c.jsonl","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"SubagentStop","stop_hook_active":false,"agent_id":"a4d2c8f1e0b3a297","agent_type":"Explore","agent_transcript_path":"/home/dev/.claude/projects/-home-dev-app/7f0c/subagents/agent-a4d2c8f1e0b3a297.jsonl","last_assistant_message":"Found 3 call sites of uploadFile","background_tasks":[],"session_crons":[]}`,
	"TaskCompleted":       `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"TaskCompleted","task_id":"task-003","task_subject":"Add retry to upload client","task_description":"Exponential backoff, 3 attempts"}`,
	"Stop":                `{"session_id":"s","prompt_id":"550e8400","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"Stop","stop_hook_active":false,"last_assistant_message":"Retry added; all 12 upload tests pass.","background_tasks":[],"session_crons":[]}`,
	"StopFailure":         `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"StopFailure","error":"rate_limit","error_details":"429 Too Many Requests","last_assistant_message":"API Error: Rate limit reached"}`,
	"TeammateIdle":        `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"TeammateIdle","teammate_name":"researcher","team_name":"session-a1b2c3d4"}`,
	"ConfigChange":        `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"ConfigChange","source":"project_settings","file_path":"/home/dev/app/.claude/settings.json"}`,
	"CwdChanged":          `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app/pkg/api","hook_event_name":"CwdChanged","old_cwd":"/home/dev/app","new_cwd":"/home/dev/app/pkg/api"}`,
	"DirectoryAdded":      `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"DirectoryAdded","directory":"/home/dev/shared-lib","source":"slash_command"}`,
	"FileChanged":         `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"FileChanged","file_path":"/home/dev/app/.envrc","event":"change"}`,
	"WorktreeCreate":      `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"WorktreeCreate","name":"bold-oak-a3f2"}`,
	"PreCompact":          `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"PreCompact","trigger":"auto","custom_instructions":""}`,
	"PostCompact":         `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"PostCompact","trigger":"auto","compact_summary":"…"}`,
	"SessionEnd":          `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","hook_event_name":"SessionEnd","reason":"prompt_input_exit"}`,
	"ElicitationResult":   `{"session_id":"s","transcript_path":"t","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"ElicitationResult","mcp_server_name":"jira","action":"accept","content":{"project":"OPS"},"mode":"form","elicitation_id":"elicit-123"}`,
}

func TestDecodeDocumentedPayloads(t *testing.T) {
	for name, payload := range docPayloads {
		t.Run(name, func(t *testing.T) {
			ev, err := Decode(strings.NewReader(payload))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Name != name {
				t.Errorf("Name = %q", ev.Name)
			}
			if ev.SessionID == "" || ev.Size != int64(len(payload)) {
				t.Errorf("SessionID %q, Size %d", ev.SessionID, ev.Size)
			}
			// Cross-check the string fields against encoding/json.
			var m map[string]any
			if err := json.Unmarshal([]byte(payload), &m); err != nil {
				t.Fatal(err)
			}
			for key, dst := range map[string]string{
				"cwd": ev.Cwd, "transcript_path": ev.TranscriptPath, "tool_name": ev.ToolName,
				"tool_use_id": ev.ToolUseID, "agent_id": ev.AgentID, "error": ev.Error,
				"source": ev.Source, "prompt": ev.Prompt, "reason": ev.Reason,
			} {
				want, _ := m[key].(string)
				if dst != want {
					t.Errorf("%s = %q, want %q", key, dst, want)
				}
			}
			if v, ok := m["tool_input"]; ok {
				var got any
				if err := json.Unmarshal(ev.ToolInput, &got); err != nil {
					t.Fatalf("tool_input raw %q: %v", ev.ToolInput, err)
				}
				a, _ := json.Marshal(v)
				b, _ := json.Marshal(got)
				if !bytes.Equal(a, b) {
					t.Errorf("tool_input = %s, want %s", b, a)
				}
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	ev, err := DecodeBytes([]byte(docPayloads["PostToolUse"]))
	if err != nil {
		t.Fatal(err)
	}
	if !ev.HasDuration || ev.DurationMs != 4187 || ev.Effort != "high" || ev.PromptID != "550e8400" {
		t.Errorf("duration %v/%d effort %q prompt %q", ev.HasDuration, ev.DurationMs, ev.Effort, ev.PromptID)
	}
	if !strings.HasPrefix(string(ev.ToolResponse), `{"stdout"`) || !strings.HasSuffix(string(ev.ToolResponse), `"isImage":false}`) {
		t.Errorf("tool_response = %s", ev.ToolResponse)
	}
	ev, _ = DecodeBytes([]byte(docPayloads["PostToolUseFailure"]))
	if ev.Error != "Exit code 1\nError: Cannot find module 'express'" || ev.IsInterrupt {
		t.Errorf("error %q interrupt %v", ev.Error, ev.IsInterrupt)
	}
	ev, _ = DecodeBytes([]byte(`{"hook_event_name":"X","session_id":"s","_ts":"2026-08-01T10:00:00.250Z","duration_ms":12.6}`))
	if !ev.Time.Equal(time.Date(2026, 8, 1, 10, 0, 0, 250e6, time.UTC)) || ev.DurationMs != 13 {
		t.Errorf("time %v duration %d", ev.Time, ev.DurationMs)
	}
}

func TestDecodeEscapes(t *testing.T) {
	ev, err := DecodeBytes([]byte(`{"session_id":"a\"b\\","hook_event_name":"Pre\u0054oolUse","prompt":"line\nnext \ud83d\ude00","tool_input":{"k":"v\\\"}"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.SessionID != `a"b\` || ev.Name != "PreToolUse" || ev.Prompt != "line\nnext 😀" {
		t.Errorf("%q %q %q", ev.SessionID, ev.Name, ev.Prompt)
	}
	if string(ev.ToolInput) != `{"k":"v\\\"}"}` {
		t.Errorf("tool_input %s", ev.ToolInput)
	}
}

// Wrong types for known fields read as absent; the event still decodes.
func TestDecodeWrongTypes(t *testing.T) {
	ev, err := DecodeBytes([]byte(`{"session_id":"s","hook_event_name":"PostToolUse","tool_name":42,"tool_use_id":null,"duration_ms":"x","is_interrupt":"yes","prompt":{"a":1},"cwd":["x"],"effort":7,"tool_input":null,"_ts":5}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ToolName != "" || ev.ToolUseID != "" || ev.HasDuration || ev.IsInterrupt || ev.Prompt != "" || ev.Cwd != "" || ev.ToolInput != nil || !ev.Time.IsZero() {
		t.Errorf("%+v", ev)
	}
}

func TestDecodeGarbage(t *testing.T) {
	for _, in := range []string{
		"", "   \n", "null", "[]", `"x"`, "{", `{"a"`, `{"a":`, `{"a":1`, `{"a":1,}`, `{"a" 1}`,
		`{"a":[1,2}`, `{"a":{"b":[}]}}`, `{"a":"unterminated}`, `{"a":tru}`, `{"a":1}x`, `{"a":1}{}`,
		"\x00\x01\x02\xff", `{"a":"\"}`, `{,}`, `{"a":-}`, `{"a":1.2.3}`,
	} {
		if _, err := DecodeBytes([]byte(in)); err == nil {
			t.Errorf("DecodeBytes(%q) succeeded", in)
		}
	}
	if _, err := DecodeBytes(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	// Valid, odd, but acceptable.
	for _, in := range []string{`{}`, ` { "a" : [ ] , "b" : { } } `, `{"a":-1.5e3,"b":true,"c":null}`} {
		if _, err := DecodeBytes([]byte(in)); err != nil {
			t.Errorf("DecodeBytes(%q): %v", in, err)
		}
	}
}

// Decode drains its reader even when the payload is garbage.
func TestDecodeDrains(t *testing.T) {
	r := strings.NewReader("garbage" + strings.Repeat("x", 1<<20))
	if _, err := Decode(iotest.HalfReader(r)); err == nil {
		t.Fatal("no error")
	}
	if r.Len() != 0 {
		t.Errorf("%d bytes left unread", r.Len())
	}
	if _, err := Decode(iotest.ErrReader(io.ErrUnexpectedEOF)); err == nil {
		t.Fatal("no error from a failing reader")
	}
}

func TestToolBatchSize(t *testing.T) {
	for in, want := range map[string]int{`[]`: 0, ` [ ] `: 0, `[1]`: 1, `[{"a":[1,2]}, "x", [3]]`: 3, `{}`: 0, `"x"`: 0} {
		ev, err := DecodeBytes([]byte(`{"tool_calls":` + in + `}`))
		if err != nil || ev.ToolBatchSize != want {
			t.Errorf("tool_calls %s: %d (%v), want %d", in, ev.ToolBatchSize, err, want)
		}
	}
}

// Fields kept from tool_input/tool_response even when they come after a
// value too large to keep.
func TestDecodeFieldsAfterBigValue(t *testing.T) {
	big := strings.Repeat(`x\"y`, 200000)
	in := `{"tool_name":"Bash","tool_input":{"description":"` + big + `","command":"make \"all\"","timeout":120000},` +
		`"tool_response":{"stdout":"` + big + `","stderr":"","interrupted":true,"nested":{"interrupted":false}},"tool_use_id":"t"}`
	for _, w := range []int{1, 7, 4096, windowSize} {
		ev, err := decode(strings.NewReader(in), w)
		if err != nil {
			t.Fatal(err)
		}
		if ev.InputField("command") != `make "all"` || ev.InputField("description") != "" || string(ev.inputFields["timeout"]) != "120000" ||
			string(ev.responseFields["interrupted"]) != "true" || ev.ToolUseID != "t" || ev.ToolInputSize != int64(len(big)+60) {
			t.Errorf("window %d: command %q, fields %q / %q, id %q, size %d", w, ev.InputField("command"), ev.inputFields, ev.responseFields, ev.ToolUseID, ev.ToolInputSize)
		}
	}
}

// The streaming decoder agrees with the in-memory reference, whatever the
// window size (values straddling window boundaries).
func TestDecodeMatchesReference(t *testing.T) {
	var inputs []string
	for _, p := range docPayloads {
		inputs = append(inputs, p, p[:len(p)/2], p+" x", strings.Replace(p, `":`, `" : `, -1))
	}
	inputs = append(inputs, `{"tool_input":{"a":"\\","b":"\\\"","c":[1,{"d":"}"}],"e":-1.5e3},"effort":{"level":"max"}}`,
		`{"tool_calls":[1,]}`, `{"a":[tru]}`, `{"a":`+strings.Repeat("1", 70)+`}`, `{"`+strings.Repeat("k", 2000)+`":1}`)
	for _, in := range inputs {
		want, werr := refDecode([]byte(in))
		for _, w := range []int{1, 2, 3, 5, 16, 64, windowSize} {
			got, gerr := decode(strings.NewReader(in), w)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("window %d, %q: error %v, reference %v", w, in, gerr, werr)
			}
			if werr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("window %d, %q:\n got %+v\nwant %+v", w, in, got, want)
			}
		}
	}
}

func TestArrayLen(t *testing.T) {
	for in, want := range map[string]int{`[]`: 0, `[1]`: 1, `[{"a":[1,2]}, "x", [3]]`: 3, `{}`: 0, ``: 0} {
		if got := arrayLen([]byte(in)); got != want {
			t.Errorf("arrayLen(%s) = %d, want %d", in, got, want)
		}
	}
}

// bigPostToolUse is a Read's PostToolUse of about n bytes: the file's
// content, JSON-escaped, in tool_response, as Claude Code sends it.
func bigPostToolUse(n int) []byte {
	var line = `	if err := json.Unmarshal(b, &v); err != nil { return fmt.Errorf("decode %q: %w", name, err) }` + "\n"
	content := strings.Repeat(line, n/len(line)+1)[:n]
	c, _ := json.Marshal(content)
	return []byte(`{"session_id":"7f0c2d6e-3b1a-4c8e-9d2f-1a2b3c4d5e6f","prompt_id":"550e8400-e29b-41d4-a716-446655440000","transcript_path":"/home/dev/.claude/projects/-home-dev-app/7f0c2d6e.jsonl","cwd":"/home/dev/app","permission_mode":"default","hook_event_name":"PostToolUse","tool_name":"Read","tool_input":{"file_path":"/home/dev/app/big.go"},"tool_response":{"type":"text","file":{"filePath":"/home/dev/app/big.go","content":` + string(c) + `,"numLines":1000,"startLine":1,"totalLines":1000}},"tool_use_id":"toolu_01Hq3kYb8XyZ2aBcDeFgHiJk","duration_ms":12}`)
}

func TestDecodeBig(t *testing.T) {
	b := bigPostToolUse(5 << 20)
	ev, err := Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ToolUseID != "toolu_01Hq3kYb8XyZ2aBcDeFgHiJk" || ev.DurationMs != 12 || ev.ToolResponseSize < 5<<20 || len(ev.ToolResponse) != RawCap {
		t.Errorf("%q %d %d %d", ev.ToolUseID, ev.DurationMs, ev.ToolResponseSize, len(ev.ToolResponse))
	}
	if !bytes.HasPrefix(b[bytes.Index(b, []byte(`"tool_response":`))+16:], ev.ToolResponse) {
		t.Error("tool_response is not a prefix of the value")
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"1KB", []byte(docPayloads["PostToolUse"])},
		{"5MB", bigPostToolUse(5 << 20)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				if _, err := Decode(bytes.NewReader(c.in)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeBytes5MB(b *testing.B) {
	in := bigPostToolUse(5 << 20)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := DecodeBytes(in); err != nil {
			b.Fatal(err)
		}
	}
}

// Names and ids are exported verbatim at the metadata level, so they are
// capped at decode time (on a UTF-8 boundary) like every other attribute.
func TestIdentifiersAreCapped(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	b, _ := json.Marshal(map[string]any{
		"session_id": "s", "hook_event_name": "PreToolUse", "tool_use_id": "t",
		"tool_name": long, "agent_type": long, "effort": map[string]any{"level": long},
	})
	ev, err := DecodeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"tool_name": ev.ToolName, "agent_type": ev.AgentType, "effort": ev.Effort} {
		if len(v) > maxIdent || len(v) < maxIdent-1 || !utf8.ValidString(v) {
			t.Errorf("%s: %d bytes, valid UTF-8 %v; want ≤ %d, valid", name, len(v), utf8.ValidString(v), maxIdent)
		}
	}
	if ev.SessionID != "s" || ev.ToolUseID != "t" {
		t.Errorf("short fields changed: %q %q", ev.SessionID, ev.ToolUseID)
	}
}
