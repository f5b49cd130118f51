#!/usr/bin/env bash
# Builds the OpenTelemetry Collector of internal/otelcol (upstream modules
# pinned to one release, no ccotel code) once per machine and prints the
# binary's path on stdout, nothing else. Tests find it there (or through
# CCOTEL_OTELCOL, which .ci/run exports from this script's output).
#
#   bin=$(bash .ci/build-collector.sh)
#
# The binary goes to ${XDG_CACHE_HOME:-$HOME/.cache}/ccotel/otelcol-<version>/otelcol
# (CCOTEL_OTELCOL_DIR overrides the directory). A stamp beside it holds a
# hash of the module's go.mod, go.sum and sources: when it matches, the
# script prints the path and exits at once; otherwise it rebuilds, reusing
# the Go build cache, and swaps the new binary in with a rename, so a
# concurrent reader never sees half a file. Progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/internal/otelcol"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
export GOWORK=off CGO_ENABLED=0

version=$(awk '$1 == "go.opentelemetry.io/collector/otelcol" { sub(/^v/, "", $2); print $2 }' "$src/go.mod")
if [ -z "$version" ]; then
  echo "build-collector: no go.opentelemetry.io/collector/otelcol requirement in $src/go.mod" >&2
  exit 1
fi
dir="${CCOTEL_OTELCOL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccotel/otelcol-$version}"
bin="$dir/otelcol"

stamp=$(cd "$src" && cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1)
if [ -x "$bin" ] && [ "$(cat "$bin.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$dir"
tmp=$(mktemp "$dir/.otelcol.XXXXXX")
trap 'rm -f "$tmp"' EXIT
echo "build-collector: building OpenTelemetry Collector $version into $dir" >&2
start=$SECONDS
(cd "$src" && go build -trimpath -ldflags='-s -w' -o "$tmp" .)
chmod 0755 "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT
echo "$stamp" >"$bin.stamp"
echo "build-collector: built in $((SECONDS - start))s" >&2
echo "$bin"
