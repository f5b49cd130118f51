#!/usr/bin/env bash
# Installs the real Claude Code CLI, pinned, into a cache directory, and prints
# the path of its native binary on stdout (nothing else goes to stdout).
#
# The end-to-end tests in internal/claudetest run this binary headless against
# a scripted Messages API on loopback. Idempotent: a second run with the binary
# already in place prints the path without touching the network.
#
#   CCOTEL_CLAUDE_VERSION  version to install (default 2.1.328; the tests and
#                          testdata/claude/ were recorded with 2.1.328)
#   CCOTEL_CLAUDE_DIR      install directory (default
#                          ${XDG_CACHE_HOME:-$HOME/.cache}/ccotel/claude-code-<version>)
#
# Use: export CCOTEL_CLAUDE_BIN="$(.ci/install-claude.sh)"
set -euo pipefail

version="${CCOTEL_CLAUDE_VERSION:-2.1.328}"
dir="${CCOTEL_CLAUDE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccotel/claude-code-$version}"

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "install-claude: unsupported OS $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "install-claude: unsupported CPU $(uname -m)" >&2; exit 1 ;;
esac

# find_bin prints the native binary of the installed package, if any. The
# package ships one optional dependency per platform; on Linux with musl libc
# npm picks the -musl variant instead.
find_bin() {
  local p
  for p in \
    "$dir/node_modules/@anthropic-ai/claude-code-$os-$arch/claude" \
    "$dir/node_modules/@anthropic-ai/claude-code-$os-$arch-musl/claude"; do
    if [ -x "$p" ]; then printf '%s\n' "$p"; return 0; fi
  done
  return 1
}

# installed_version checks that the package in $dir is the pinned version, so
# that changing CCOTEL_CLAUDE_VERSION with an explicit CCOTEL_CLAUDE_DIR reinstalls.
installed_version() {
  local pj="$dir/node_modules/@anthropic-ai/claude-code/package.json"
  [ -f "$pj" ] && grep -q "\"version\": *\"$version\"" "$pj"
}

if installed_version && find_bin; then
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "install-claude: npm not found (install Node.js)" >&2; exit 1; }
mkdir -p "$dir"
# A package.json of our own keeps npm from walking up to some parent project.
[ -f "$dir/package.json" ] || printf '{"name":"ccotel-claude-code","private":true}\n' >"$dir/package.json"
echo "install-claude: npm install @anthropic-ai/claude-code@$version into $dir" >&2
(cd "$dir" && npm install --no-audit --no-fund --no-save --loglevel=error \
  "@anthropic-ai/claude-code@$version" >&2)

if ! installed_version; then
  echo "install-claude: $dir does not hold @anthropic-ai/claude-code@$version after npm install" >&2
  exit 1
fi
if ! find_bin; then
  echo "install-claude: no native binary for $os-$arch under $dir/node_modules/@anthropic-ai/" >&2
  ls "$dir/node_modules/@anthropic-ai/" >&2 || true
  exit 1
fi
