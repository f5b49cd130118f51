# Homebrew formula for ccotel, for a tap repository (github.com/ccotel/homebrew-tap,
# file Formula/ccotel.rb). Builds from source; see packaging/homebrew/README.md.
class Ccotel < Formula
  desc "Turn Claude Code sessions into OpenTelemetry traces (OTLP/HTTP, mutual TLS)"
  homepage "https://github.com/ccotel/ccotel"
  url "https://github.com/ccotel/ccotel/archive/refs/tags/v0.1.0.tar.gz"
  # PLACEHOLDER checksum: replace it with the release tarball's when tagging:
  #   curl -sL https://github.com/ccotel/ccotel/archive/refs/tags/v0.1.0.tar.gz | shasum -a 256
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  head "https://github.com/ccotel/ccotel.git", branch: "main"

  depends_on "go" => :build

  def install
    ENV["CGO_ENABLED"] = "0"
    ldflags = %W[
      -s -w
      -X github.com/ccotel/ccotel/internal/buildinfo.version=#{version}
      -X github.com/ccotel/ccotel/internal/buildinfo.date=#{time.iso8601}
    ]
    system "go", "build", *std_go_args(ldflags:)
  end

  def caveats
    <<~EOS
      To trace your Claude Code sessions, add ccotel's hooks to
      ~/.claude/settings.json and point it at your collector:
        ccotel install --endpoint https://collector.example.com:4318 \\
          --client-cert client.pem --client-key client-key.pem --ca ca.pem
      Then check the whole chain:
        ccotel doctor
      Before `brew uninstall ccotel`, remove the hooks with:
        ccotel uninstall
    EOS
  end

  test do
    assert_match "ccotel #{version}", shell_output("#{bin}/ccotel version")

    session = "7f0c2d6e-3b1a-4c8e-9d2f-1a2b3c4d5e6f"
    (testpath/"session.jsonl").write <<~EOS
      {"session_id":"#{session}","hook_event_name":"SessionStart","source":"startup","cwd":"#{testpath}","model":"claude-sonnet-4-5","_ts":"2026-01-02T03:04:05Z"}
      {"session_id":"#{session}","hook_event_name":"UserPromptSubmit","prompt":"hello","cwd":"#{testpath}","_ts":"2026-01-02T03:04:06Z"}
      {"session_id":"#{session}","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"},"tool_use_id":"toolu_01","cwd":"#{testpath}","_ts":"2026-01-02T03:04:07Z"}
      {"session_id":"#{session}","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"ls"},"tool_response":{"stdout":"a\\n","stderr":"","interrupted":false},"tool_use_id":"toolu_01","duration_ms":12,"cwd":"#{testpath}","_ts":"2026-01-02T03:04:08Z"}
      {"session_id":"#{session}","hook_event_name":"Stop","stop_hook_active":false,"cwd":"#{testpath}","_ts":"2026-01-02T03:04:09Z"}
      {"session_id":"#{session}","hook_event_name":"SessionEnd","reason":"prompt_input_exit","cwd":"#{testpath}","_ts":"2026-01-02T03:04:10Z"}
    EOS
    output = shell_output("#{bin}/ccotel replay --stdout #{testpath}/session.jsonl")
    assert_match "invoke_agent claude-code", output
    assert_match "execute_tool Bash", output
    assert_match session, output
  end
end
