package claudetest

import (
	"fmt"
	"strings"
	"time"
)

// The scenarios of issue 17: Claude Code used the way people use it (the
// interactive TUI, /compact, /clear, Escape, Ctrl-C, permission prompts),
// against a flaky API and an MCP server.

func realUse() []Scenario {
	return []Scenario{
		tuiScenario(), interruptTool(), interruptStream(), ctrlC(), sigintTool(), compactManual(), compactAuto(),
		apiRetry(), apiFail(), mcpScenario(), permissionDenied(), permissionAuto(), longSession(),
	}
}

// summary is the compaction's answer: the <analysis> and <summary> blocks
// Claude Code asks for.
func summary(u Usage) Response {
	return text("<analysis>The person asked about files.</analysis>\n<summary>1. Primary Request: count files.</summary>", u)
}

func tuiScenario() Scenario {
	return Scenario{
		Name:      "tui",
		Doc:       "the interactive TUI in tmux: a Bash call that needs approval (default permission mode), the dialog answered yes; /compact; /clear; a prompt in the new session; /exit",
		SessionID: "c1a0de00-000d-4000-8000-00000000000d",
		Runs: []Step{{
			TUI: []Action{
				Typed("Make a file."),
				AfterEvent("PermissionRequest", 1), Answered("Do you want to proceed?", "Enter"),
				AfterEvent("Stop", 1), OnScreen("Made."),
				Typed("/compact"), AfterEvent("PostCompact", 1), Pause(time.Second),
				Typed("/clear"), AfterEvent("SessionStart", 3), Pause(time.Second),
				Typed("Hello again."), AfterEvent("Stop", 2), OnScreen("Hi again."),
				Exit(),
			},
			Script: Script{
				Main: []Response{
					{Blocks: []Block{ToolUse("toolu_I1", "Bash", map[string]any{"command": "touch made.txt", "description": "Make a file"})},
						Usage: Usage{InputTokens: 310, OutputTokens: 27, CacheReadInputTokens: 4000, CacheCreationInputTokens: 910}},
					text("Made.", Usage{InputTokens: 45, OutputTokens: 3, CacheReadInputTokens: 4910, CacheCreationInputTokens: 70}),
					text("Hi again.", Usage{InputTokens: 2100, OutputTokens: 5, CacheCreationInputTokens: 3000}),
				},
				Compact: []Response{summary(Usage{InputTokens: 5020, OutputTokens: 410, CacheReadInputTokens: 0, CacheCreationInputTokens: 0})},
			},
		}},
	}
}

func interruptTool() Scenario {
	return Scenario{
		Name:      "interrupt-tool",
		Doc:       "the TUI: Escape while a Bash call (echo waiting; sleep 30) runs, then /exit",
		SessionID: "c1a0de00-000e-4000-8000-00000000000e",
		Runs: []Step{{
			PermissionMode: "bypassPermissions",
			TUI: []Action{
				Typed("Wait a while."), AfterEvent("PreToolUse", 1), Pause(1500 * time.Millisecond),
				Pressed("Escape"), OnScreen("Interrupted"), Pause(time.Second),
				Exit(),
			},
			Script: Script{Main: []Response{
				{Blocks: []Block{ToolUse("toolu_J1", "Bash", map[string]any{"command": "echo waiting; sleep 30", "description": "Wait"})},
					Usage: Usage{InputTokens: 320, OutputTokens: 24, CacheReadInputTokens: 4000, CacheCreationInputTokens: 920}},
			}},
		}},
	}
}

// slowText is a long text block streamed at one 40-byte delta per 150ms.
func slowText() Block {
	b := Text(strings.Repeat("Once upon a time there was a long story. ", 40))
	b.PauseMS = 150
	return b
}

func interruptStream() Scenario {
	return Scenario{
		Name:      "interrupt-stream",
		Doc:       "the TUI: Escape two seconds into a slowly streamed answer, then /exit",
		SessionID: "c1a0de00-000f-4000-8000-00000000000f",
		Runs: []Step{{
			TUI: []Action{
				Typed("Tell a story."), AfterRequest(1), Pause(2 * time.Second),
				Pressed("Escape"), Pause(1500 * time.Millisecond),
				Exit(),
			},
			Script: Script{Main: []Response{
				{Blocks: []Block{slowText()}, Usage: Usage{InputTokens: 330, OutputTokens: 400, CacheReadInputTokens: 4000, CacheCreationInputTokens: 930}},
			}},
		}},
	}
}

func ctrlC() Scenario {
	return Scenario{
		Name:      "ctrl-c",
		Doc:       "the TUI: a turn, then Ctrl-C twice at the empty prompt",
		SessionID: "c1a0de00-0018-4000-8000-000000000018",
		Runs: []Step{{
			TUI: []Action{
				Typed("Say hi."), AfterEvent("Stop", 1), OnScreen("Hi."), Pause(500 * time.Millisecond),
				Pressed("C-c"), Pause(300 * time.Millisecond), Pressed("C-c"), Exited(),
			},
			Script: Script{Main: []Response{text("Hi.", Usage{InputTokens: 335, OutputTokens: 2, CacheReadInputTokens: 4000, CacheCreationInputTokens: 935})}},
		}},
	}
}

func sigintTool() Scenario {
	return Scenario{
		Name:      "sigint-tool",
		Doc:       "claude -p sent SIGINT a second into a Bash call (echo waiting; sleep 30)",
		SessionID: "c1a0de00-0010-4000-8000-000000000010",
		Runs: []Step{{
			Prompt:    "Wait a while.",
			Interrupt: &Interrupt{After: "PreToolUse", Delay: time.Second},
			Script: Script{Main: []Response{
				{Blocks: []Block{ToolUse("toolu_K1", "Bash", map[string]any{"command": "echo waiting; sleep 30", "description": "Wait"})},
					Usage: Usage{InputTokens: 340, OutputTokens: 25, CacheReadInputTokens: 4000, CacheCreationInputTokens: 940}},
			}},
		}},
	}
}

func compactManual() Scenario {
	return Scenario{
		Name:      "compact-manual",
		Doc:       `a tool round, then the session resumed with the prompt "/compact focus on the file count"`,
		SessionID: "c1a0de00-0011-4000-8000-000000000011",
		Runs: []Step{
			{
				Prompt: "Count the files.",
				Script: Script{Main: []Response{
					{Blocks: []Block{ToolUse("toolu_L1", "Bash", map[string]any{"command": "ls | wc -l", "description": "Count files"})},
						Usage: Usage{InputTokens: 350, OutputTokens: 26, CacheReadInputTokens: 4000, CacheCreationInputTokens: 950}},
					text("One.", Usage{InputTokens: 30, OutputTokens: 2, CacheReadInputTokens: 4950, CacheCreationInputTokens: 80}),
				}},
			},
			{
				Prompt: "/compact focus on the file count",
				Script: Script{Compact: []Response{summary(Usage{InputTokens: 8000, OutputTokens: 600, CacheReadInputTokens: 0, CacheCreationInputTokens: 0})}},
			},
		},
		Files: map[string]string{"notes.txt": "hello\n"},
	}
}

func compactAuto() Scenario {
	return Scenario{
		Name:      "compact-auto",
		Doc:       `reactive automatic compaction: the API refuses the second request with 400 "prompt is too long", Claude Code compacts mid-turn, the turn goes on with another tool round, then Stop`,
		SessionID: "c1a0de00-0012-4000-8000-000000000012",
		Runs: []Step{{
			Prompt: "Count the files, twice.",
			Script: Script{
				Main: []Response{
					{Blocks: []Block{ToolUse("toolu_M1", "Bash", map[string]any{"command": "ls | wc -l", "description": "Count files"})},
						Usage: Usage{InputTokens: 360, OutputTokens: 28, CacheReadInputTokens: 180000, CacheCreationInputTokens: 960}},
					PromptTooLong(),
					{Blocks: []Block{ToolUse("toolu_M2", "Bash", map[string]any{"command": "ls | wc -l", "description": "Count again"})},
						Usage: Usage{InputTokens: 3000, OutputTokens: 29, CacheReadInputTokens: 0, CacheCreationInputTokens: 0}},
					text("One, twice.", Usage{InputTokens: 40, OutputTokens: 4, CacheReadInputTokens: 3000, CacheCreationInputTokens: 90}),
				},
				Compact: []Response{summary(Usage{InputTokens: 180000, OutputTokens: 700})},
			},
		}},
		Files: map[string]string{"notes.txt": "hello\n"},
	}
}

func apiRetry() Scenario {
	return Scenario{
		Name:      "api-retry",
		Doc:       "one request answered 529 overloaded, then 500, then a message: Claude Code retries twice",
		SessionID: "c1a0de00-0013-4000-8000-000000000013",
		Runs: []Step{{
			Prompt: "Say hi.",
			Script: Script{Main: []Response{
				Overloaded(), InternalError(),
				text("Hi.", Usage{InputTokens: 370, OutputTokens: 3, CacheReadInputTokens: 4000, CacheCreationInputTokens: 970}),
			}},
		}},
	}
}

func apiFail() Scenario {
	return Scenario{
		Name:      "api-fail",
		Doc:       "every attempt answered 400 invalid_request_error: the turn ends with StopFailure",
		SessionID: "c1a0de00-0014-4000-8000-000000000014",
		Runs: []Step{{
			Prompt: "Say hi.",
			Script: Script{Main: []Response{BadRequest("messages.0.content: invalid content block")}},
		}},
	}
}

func mcpScenario() Scenario {
	return Scenario{
		Name:      "mcp",
		Doc:       "a stdio MCP server (--mcp-config): one call that succeeds, one whose result has isError, one of a tool the server lacks, in one batch",
		SessionID: "c1a0de00-0015-4000-8000-000000000015",
		Runs: []Step{{
			Prompt: "Use the MCP tools.",
			MCP:    true,
			Script: Script{Main: []Response{
				{Blocks: []Block{
					ToolUse("toolu_N1", "mcp__claudetest__echo", map[string]any{"text": "ping"}),
					ToolUse("toolu_N2", "mcp__claudetest__fail", map[string]any{}),
					ToolUse("toolu_N3", "mcp__claudetest__missing", map[string]any{}),
				}, Usage: Usage{InputTokens: 380, OutputTokens: 60, CacheReadInputTokens: 4000, CacheCreationInputTokens: 980}},
				text("One of three worked.", Usage{InputTokens: 50, OutputTokens: 6, CacheReadInputTokens: 4980, CacheCreationInputTokens: 100}),
			}},
		}},
	}
}

func permissionDenied() Scenario {
	return Scenario{
		Name:      "permission-denied",
		Doc:       "claude -p in the default permission mode: a Bash call (touch x) that needs approval is denied, as nobody can approve it",
		SessionID: "c1a0de00-0016-4000-8000-000000000016",
		Runs: []Step{{
			Prompt:         "Make a file.",
			PermissionMode: "default",
			Script: Script{Main: []Response{
				{Blocks: []Block{ToolUse("toolu_P1", "Bash", map[string]any{"command": "touch x", "description": "Make a file"})},
					Usage: Usage{InputTokens: 390, OutputTokens: 23, CacheReadInputTokens: 4000, CacheCreationInputTokens: 990}},
				text("I may not.", Usage{InputTokens: 60, OutputTokens: 4, CacheReadInputTokens: 4990, CacheCreationInputTokens: 110}),
			}},
		}},
	}
}

func permissionAuto() Scenario {
	return Scenario{
		Name:      "permission-auto",
		Doc:       "claude -p in auto mode: a risky Bash call (curl … | sh) that the permission classifier must judge, and the classifier is unavailable (it makes no API request here): PermissionDenied",
		SessionID: "c1a0de00-0019-4000-8000-000000000019",
		Runs: []Step{{
			Prompt:         "Install it.",
			PermissionMode: "auto",
			Script: Script{Main: []Response{
				{Blocks: []Block{ToolUse("toolu_R1", "Bash", map[string]any{"command": "curl -s http://127.0.0.1:9/install.sh | sh", "description": "Install"})},
					Usage: Usage{InputTokens: 395, OutputTokens: 31, CacheReadInputTokens: 4000, CacheCreationInputTokens: 995}},
				text("Not allowed.", Usage{InputTokens: 65, OutputTokens: 4, CacheReadInputTokens: 4995, CacheCreationInputTokens: 115}),
			}},
		}},
	}
}

// longRounds and longWidth: the long session's tool rounds and calls per round.
const longRounds, longWidth = 15, 10

func longSession() Scenario {
	var main []Response
	for r := 0; r < longRounds; r++ {
		var blocks []Block
		for c := 0; c < longWidth; c++ {
			id := fmt.Sprintf("toolu_Q%02d%02d", r, c)
			// Read only: Glob and Grep are not among the tools of a -p
			// session in 2.1.328.
			blocks = append(blocks, ToolUse(id, "Read", map[string]any{"file_path": fmt.Sprintf("$CWD/f%d.txt", c)}))
		}
		main = append(main, Response{Blocks: blocks, Usage: Usage{InputTokens: 100 + r, OutputTokens: 300 + r, CacheReadInputTokens: 5000 + 1000*r, CacheCreationInputTokens: 1000 + r}})
	}
	main = append(main, text("Read everything.", Usage{InputTokens: 70, OutputTokens: 5, CacheReadInputTokens: 20000, CacheCreationInputTokens: 500}))
	files := map[string]string{}
	for i := 0; i < longWidth; i++ {
		files[fmt.Sprintf("f%d.txt", i)] = fmt.Sprintf("file %d\n", i)
	}
	return Scenario{
		Name:      "long-session",
		Doc:       fmt.Sprintf("one prompt, %d tool calls in %d parallel rounds of %d (Read)", longRounds*longWidth, longRounds, longWidth),
		SessionID: "c1a0de00-0017-4000-8000-000000000017",
		Runs:      []Step{{Prompt: "Read everything, many times.", Script: Script{Main: main}}},
		Files:     files,
	}
}
