// Package claudetest runs the real Claude Code CLI (`claude`, npm package
// @anthropic-ai/claude-code, pinned to 2.1.328) headless in tests, against a
// scripted stand-in for the Anthropic Messages API served on loopback, in a
// throw-away HOME and working directory.
//
// It owns:
//
//   - finding the CLI ([FindCLI], [RequireCLI]): $CCOTEL_CLAUDE_BIN, else the
//     cache directory that .ci/install-claude.sh installs into; a test skips
//     with a one-line reason when it is missing, and fails under CI=true;
//   - the scripted Messages API ([Server]): POST /v1/messages streams each
//     scripted [Response] as the real API does (SSE), at a scripted pace per
//     block; main-agent, subagent and compaction requests answered from
//     separate scripts ([Kind]); failed attempts ([APIError]: 529, 500,
//     400 prompt too long, a 400 for good) in the API's error shape; every
//     attempt recorded with its status, the time it arrived, the time its
//     last content block was sent, the time its answer was complete and
//     whether the client went away;
//   - running the CLI ([Sandbox.Run]): `claude -p` with stream-json output,
//     a clean environment, optional stream-json input driven turn by turn,
//     SIGINT on a hook event, and the transcript files it wrote;
//   - the interactive TUI ([Sandbox.StartTUI], [Step.TUI]): `claude` in a
//     detached tmux session of its own, first-run dialogs pre-answered in
//     $HOME/.claude.json, driven by typed prompts and slash commands, keys
//     and waits for the screen, a hook event or an API request;
//   - a stdio MCP server ([EnvMCP], [Sandbox.WriteMCPConfig]): the test
//     binary itself, with one tool that answers and one that fails;
//   - recording hooks ([Sandbox.InstallRecorder]): each of the 33 hook events
//     Claude Code 2.1.328 knows runs the current test binary, which this
//     package's init turns into a recorder when $CCOTEL_CLAUDETEST_RECORD is
//     set: it appends the payload to a JSONL file and exits 0, silently;
//   - the scenarios of issues 10 and 17 as data ([Scenarios], [PlayScenario]) and
//     their ground truth ([WriteGroundTruth]), committed in testdata/claude/
//     at the repository root and rewritten by
//     `go test ./internal/claudetest -run TestScenarios -update`.
//
// A test elsewhere plays a scenario with ccotel wired in through
// [PlayOptions.Setup] (e.g. `ccotel install --settings` on
// [Sandbox.SettingsPath]) and compares what ccotel exported with the Play:
// the hook payloads, the transcripts and the usage the API declared.
//
// Nothing here talks to the network beyond 127.0.0.1. Unix only (process
// groups).
package claudetest
