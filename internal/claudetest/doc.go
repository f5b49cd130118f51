// Package claudetest runs the real Claude Code CLI (`claude`, npm package
// @anthropic-ai/claude-code, pinned to 2.1.328) headless in tests, against a
// scripted stand-in for the Anthropic Messages API served on loopback, in a
// throw-away HOME and working directory.
//
// It owns four things:
//
//   - finding the CLI ([FindCLI], [RequireCLI]): $CCOTEL_CLAUDE_BIN, else the
//     cache directory that .ci/install-claude.sh installs into;
//   - the scripted Messages API ([Server]): POST /v1/messages streams each
//     scripted [Response] as the real API does (SSE), main-agent and subagent
//     requests answered from separate scripts, every request recorded with the
//     time it arrived and the time its response finished;
//   - running the CLI ([Sandbox], [Sandbox.Run]): `claude -p` with stream-json
//     output, a clean environment, and the transcript files it wrote;
//   - recording hooks ([Sandbox.InstallRecorder]): every one of the 33 hook
//     events Claude Code 2.1.328 knows is wired to the test binary itself,
//     which appends the payload to a JSONL file and exits (see [init]).
//
// The scenarios of issue 10 are data ([Scenarios]); their recorded ground
// truth lives in testdata/claude/<scenario>/ at the repository root and is
// rewritten by `go test ./internal/claudetest -run TestScenarios -update`.
//
// Nothing here talks to the network beyond 127.0.0.1.
package claudetest
