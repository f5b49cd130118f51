package claudetest

import "time"

// The scenarios of issue 10, as data: what the person asks and what the
// scripted API answers. Texts are short on purpose (testdata/claude/ stays
// small); usage figures are distinct per response so that a sum that counts
// a response twice, or misses one, shows.
//
// Session ids are fixed so that the recorded ground truth is stable; tool_use
// ids are toolu_<scenario letter><n> for the same reason.

// Scenarios returns every scenario, in a stable order.
func Scenarios() []Scenario {
	return append([]Scenario{
		oneTool(), threeTools(), toolErrors(), usagePerBlock(),
		subagentForeground(), subagentBackground(),
		resume(), fork(), defaultModel(), modelHaiku(), modelSwitch(), directoryAdded(),
	}, realUse()...)
}

// ScenarioByName returns the scenario with that name.
func ScenarioByName(name string) (Scenario, bool) {
	for _, sc := range Scenarios() {
		if sc.Name == name {
			return sc, true
		}
	}
	return Scenario{}, false
}

func text(s string, u Usage) Response { return Response{Blocks: []Block{Text(s)}, Usage: u} }

func oneTool() Scenario {
	return Scenario{
		Name:      "one-tool",
		Doc:       "one Bash call, then an answer: the smallest tool round",
		SessionID: "c1a0de00-0001-4000-8000-000000000001",
		Runs: []Step{{
			Prompt: "How many files are here?",
			Script: Script{Main: []Response{
				{Blocks: []Block{ToolUse("toolu_A1", "Bash", map[string]any{"command": "ls | wc -l", "description": "Count files"})},
					Usage: Usage{InputTokens: 120, OutputTokens: 31, CacheReadInputTokens: 4000, CacheCreationInputTokens: 900}},
				text("One file.", Usage{InputTokens: 25, OutputTokens: 7, CacheReadInputTokens: 4900, CacheCreationInputTokens: 60}),
			}},
		}},
		Files: map[string]string{"notes.txt": "hello\n"},
	}
}

func threeTools() Scenario {
	return Scenario{
		Name:      "three-tools",
		Doc:       "three tool calls in one response, run as one batch",
		SessionID: "c1a0de00-0002-4000-8000-000000000002",
		Runs: []Step{{
			Prompt: "Look around.",
			Script: Script{Main: []Response{
				{Blocks: []Block{
					ToolUse("toolu_B1", "Bash", map[string]any{"command": "echo one", "description": "Print one"}),
					ToolUse("toolu_B2", "Read", map[string]any{"file_path": "$CWD/notes.txt"}),
					ToolUse("toolu_B3", "Write", map[string]any{"file_path": "$CWD/out.txt", "content": "three\n"}),
				}, Usage: Usage{InputTokens: 130, OutputTokens: 95, CacheReadInputTokens: 4000, CacheCreationInputTokens: 800}},
				text("Seen.", Usage{InputTokens: 40, OutputTokens: 4, CacheReadInputTokens: 4800, CacheCreationInputTokens: 210}),
			}},
		}},
		Files: map[string]string{"notes.txt": "hello\n"},
	}
}

func toolErrors() Scenario {
	return Scenario{
		Name:      "tool-errors",
		Doc:       "a failing Bash, a Read of a missing file, a Read rejected at input validation and a call of a tool this session does not have (Glob), in one batch",
		SessionID: "c1a0de00-0003-4000-8000-000000000003",
		Runs: []Step{{
			Prompt: "Try these.",
			Script: Script{Main: []Response{
				{Blocks: []Block{
					ToolUse("toolu_C1", "Bash", map[string]any{"command": "echo oops >&2; exit 3", "description": "Fail on purpose"}),
					ToolUse("toolu_C2", "Read", map[string]any{"file_path": "$CWD/missing.txt"}),
					ToolUse("toolu_C3", "Read", `{"file_path":"$CWD/notes.txt","limit":"lots"}`),
					ToolUse("toolu_C4", "Glob", map[string]any{"pattern": "*.txt"}),
				}, Usage: Usage{InputTokens: 140, OutputTokens: 88, CacheReadInputTokens: 4000, CacheCreationInputTokens: 700}},
				text("All four failed.", Usage{InputTokens: 60, OutputTokens: 6, CacheReadInputTokens: 4700, CacheCreationInputTokens: 330}),
			}},
		}},
		Files: map[string]string{"notes.txt": "hello\n"},
	}
}

func usagePerBlock() Scenario {
	return Scenario{
		Name:      "usage-per-block",
		Doc:       "responses of several content blocks (text + tool_use, text + text): the transcript repeats usage on each block",
		SessionID: "c1a0de00-0004-4000-8000-000000000004",
		Runs: []Step{{
			Prompt: "Read the notes.",
			Script: Script{Main: []Response{
				{Blocks: []Block{
					Text("Reading the notes."),
					ToolUse("toolu_D1", "Read", map[string]any{"file_path": "$CWD/notes.txt"}),
				}, Usage: Usage{InputTokens: 150, OutputTokens: 349, CacheReadInputTokens: 4000, CacheCreationInputTokens: 500}},
				{Blocks: []Block{Text("The notes say hello."), Text("Nothing else.")},
					Usage: Usage{InputTokens: 70, OutputTokens: 123, CacheReadInputTokens: 4500, CacheCreationInputTokens: 90}},
			}},
		}},
		Files: map[string]string{"notes.txt": "hello\n"},
	}
}

// The subagent runs a Bash call, then reports; the main agent answers.
var subagentScript = []Response{
	{Blocks: []Block{ToolUse("toolu_S1", "Bash", map[string]any{"command": "echo from-subagent", "description": "Print a word"})},
		Usage: Usage{InputTokens: 210, OutputTokens: 41, CacheReadInputTokens: 3000, CacheCreationInputTokens: 400}},
	text("The subagent printed a word.", Usage{InputTokens: 35, OutputTokens: 9, CacheReadInputTokens: 3400, CacheCreationInputTokens: 50}),
}

func subagentForeground() Scenario {
	return Scenario{
		Name:      "subagent-foreground",
		Doc:       `an Agent call with run_in_background:false: the subagent runs its tools inside the Agent call`,
		SessionID: "c1a0de00-0005-4000-8000-000000000005",
		Runs: []Step{{
			Prompt: "Ask a helper.",
			Script: Script{
				Main: []Response{
					{Blocks: []Block{ToolUse("toolu_E1", "Agent", map[string]any{
						"description": "Print a word", "prompt": "Print a word with Bash.",
						"subagent_type": "general-purpose", "run_in_background": false})},
						Usage: Usage{InputTokens: 160, OutputTokens: 52, CacheReadInputTokens: 4000, CacheCreationInputTokens: 600}},
					text("The helper is done.", Usage{InputTokens: 45, OutputTokens: 8, CacheReadInputTokens: 4600, CacheCreationInputTokens: 120}),
				},
				Subagent: subagentScript,
			},
		}},
	}
}

func subagentBackground() Scenario {
	sub := append([]Response(nil), subagentScript...)
	// The subagent's Bash call takes a second, so that the main turn's Stop
	// comes well before the subagent ends.
	sub[0].Blocks = []Block{ToolUse("toolu_S1", "Bash", map[string]any{"command": "sleep 1; echo from-subagent", "description": "Print a word"})}
	return Scenario{
		Name:      "subagent-background",
		Doc:       "an Agent call left in the background (the default): async_launched, Stop while it runs, then a task-notification turn",
		SessionID: "c1a0de00-0006-4000-8000-000000000006",
		Runs: []Step{{
			Prompt: "Start a helper.",
			Script: Script{
				Main: []Response{
					{Blocks: []Block{ToolUse("toolu_F1", "Agent", map[string]any{
						"description": "Print a word", "prompt": "Print a word with Bash.", "subagent_type": "general-purpose"})},
						Usage: Usage{InputTokens: 170, OutputTokens: 48, CacheReadInputTokens: 4000, CacheCreationInputTokens: 650}},
					text("A helper is running.", Usage{InputTokens: 50, OutputTokens: 6, CacheReadInputTokens: 4650, CacheCreationInputTokens: 110}),
					// The task-notification turn.
					text("The helper printed a word.", Usage{InputTokens: 80, OutputTokens: 10, CacheReadInputTokens: 4760, CacheCreationInputTokens: 300}),
				},
				Subagent: sub,
			},
		}},
	}
}

func resume() Scenario {
	return Scenario{
		Name:      "resume",
		Doc:       "a tool round, then the same session resumed (--resume) five seconds later",
		SessionID: "c1a0de00-0007-4000-8000-000000000007",
		Runs: []Step{
			{
				Prompt: "Count the files.",
				Script: Script{Main: []Response{
					{Blocks: []Block{ToolUse("toolu_G1", "Bash", map[string]any{"command": "ls | wc -l", "description": "Count files"})},
						Usage: Usage{InputTokens: 4660, OutputTokens: 20, CacheReadInputTokens: 0, CacheCreationInputTokens: 0}},
					text("One.", Usage{InputTokens: 1005, OutputTokens: 13}),
				}},
			},
			{
				Pause:  5 * time.Second,
				Prompt: "And now?",
				Script: Script{Main: []Response{
					text("Still one.", Usage{InputTokens: 5665, OutputTokens: 33}),
				}},
			},
		},
		Files: map[string]string{"notes.txt": "hello\n"},
	}
}

func fork() Scenario {
	return Scenario{
		Name:      "fork",
		Doc:       "a session, then --resume --fork-session: a new session id that starts from the old one",
		SessionID: "c1a0de00-0008-4000-8000-000000000008",
		Runs: []Step{
			{Prompt: "Hello.", Script: Script{Main: []Response{text("Hi.", Usage{InputTokens: 300, OutputTokens: 3, CacheCreationInputTokens: 4000})}}},
			{Prompt: "Hello again.", Args: []string{"--fork-session"},
				Script: Script{Main: []Response{text("Hi again.", Usage{InputTokens: 20, OutputTokens: 4, CacheReadInputTokens: 4300})}}},
		},
	}
}

func defaultModel() Scenario {
	return Scenario{
		Name:      "default-model",
		Doc:       "no --model: Claude Code's default model (claude-opus-5-5 in 2.1.328), priced by Claude Code in cost-state",
		SessionID: "c1a0de00-0009-4000-8000-000000000009",
		Runs: []Step{{
			Prompt: "Say hi.",
			Script: Script{Main: []Response{text("Hi.", Usage{InputTokens: 1200, OutputTokens: 500, CacheReadInputTokens: 30000, CacheCreationInputTokens: 8000})}},
		}},
	}
}

func modelHaiku() Scenario {
	return Scenario{
		Name:      "model-haiku",
		Doc:       "--model haiku: the alias resolves to claude-haiku-5-5",
		Model:     "haiku",
		SessionID: "c1a0de00-000a-4000-8000-00000000000a",
		Runs: []Step{{
			Prompt: "Count the files.",
			Script: Script{Main: []Response{
				{Blocks: []Block{ToolUse("toolu_H1", "Bash", map[string]any{"command": "ls | wc -l", "description": "Count files"})},
					Usage: Usage{InputTokens: 900, OutputTokens: 40, CacheReadInputTokens: 20000, CacheCreationInputTokens: 3000}},
				text("One.", Usage{InputTokens: 60, OutputTokens: 5, CacheReadInputTokens: 23000, CacheCreationInputTokens: 100}),
			}},
		}},
		Files: map[string]string{"notes.txt": "hello\n"},
	}
}

func modelSwitch() Scenario {
	return Scenario{
		Name:      "model-switch",
		Doc:       "one process, prompts on stdin: a turn, /model haiku, a turn on haiku, a set_model control request back to opus, a turn",
		SessionID: "c1a0de00-000b-4000-8000-00000000000b",
		Runs: []Step{{
			Input: []string{
				UserInput("First."),
				UserInput("/model haiku"),
				UserInput("Second."),
				ControlInput("set-model-1", map[string]any{"subtype": "set_model", "model": "claude-opus-5-5"}),
				UserInput("Third."),
			},
			Script: Script{Main: []Response{
				text("One.", Usage{InputTokens: 400, OutputTokens: 3, CacheCreationInputTokens: 4000}),
				text("Two.", Usage{InputTokens: 4410, OutputTokens: 4}),
				text("Three.", Usage{InputTokens: 30, OutputTokens: 5, CacheReadInputTokens: 4000, CacheCreationInputTokens: 420}),
			}},
		}},
	}
}

func directoryAdded() Scenario {
	return Scenario{
		Name:      "directory-added",
		Doc:       "a register_repo_root control request (the SDK's way to add a directory; /add-dir is not available under -p), then a turn",
		SessionID: "c1a0de00-000c-4000-8000-00000000000c",
		Runs: []Step{{
			Input: []string{
				ControlInput("add-dir-1", map[string]any{"subtype": "register_repo_root", "directory": "$CWD/lib"}),
				UserInput("Hello."),
			},
			Script: Script{Main: []Response{text("Hi.", Usage{InputTokens: 300, OutputTokens: 3, CacheCreationInputTokens: 4000})}},
		}},
		Dirs: []string{"lib"},
	}
}
