#!/bin/sh
# release.sh: a release in one step. Into dist/ it writes, for darwin and
# linux, amd64 and arm64, an archive ccotel-VERSION-OS-ARCH.tar.gz (a static
# binary, install.sh, LICENSE), SHA256SUMS for the archives, and ccotel.rb,
# a Homebrew formula whose url and sha256 are those archives'.
#
#   sh packaging/release.sh            # version from `git describe --tags`
#   VERSION=v1.2.3 sh packaging/release.sh
#   BASE_URL=file://$PWD/dist sh packaging/release.sh   # a formula for these files
#
# Environment: VERSION, COMMIT, DATE (default: from git; DATE is the
# commit's time, so the same commit gives the same binaries), DIST (default
# dist), TARGETS (default "darwin/amd64 darwin/arm64 linux/amd64 linux/arm64";
# the formula covers the targets built), BASE_URL (where the archives will
# be downloaded from; default the GitHub release of the tag VERSION).
# Fails if a binary exceeds 20 MiB (the size target in docs/PERFORMANCE.md).
set -eu

cd "$(dirname "$0")/.."

have_git=no
if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
	have_git=yes
fi
if [ -z "${VERSION:-}" ]; then
	VERSION=dev
	if [ $have_git = yes ]; then
		VERSION=$(git describe --tags --dirty 2>/dev/null || echo dev)
	fi
fi
if [ -z "${COMMIT:-}" ] && [ $have_git = yes ]; then
	COMMIT=$(git rev-parse --short=12 HEAD)
	git diff --quiet HEAD -- 2>/dev/null || COMMIT=$COMMIT-dirty
fi
if [ -z "${DATE:-}" ] && [ $have_git = yes ]; then
	DATE=$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd)
fi
COMMIT=${COMMIT:-}
DATE=${DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
DIST=${DIST:-dist}
BASE_URL=${BASE_URL:-https://github.com/ccotel/ccotel/releases/download/$VERSION}
TARGETS=${TARGETS:-darwin/amd64 darwin/arm64 linux/amd64 linux/arm64}
max_bytes=$((20 * 1024 * 1024))

if command -v sha256sum >/dev/null 2>&1; then
	sha256() { sha256sum "$@"; }
else
	sha256() { shasum -a 256 "$@"; }
fi

# platforms prints the formula's on_macos/on_linux blocks, one url and
# sha256 per archive built.
platforms() {
	for os in darwin linux; do
		block=
		for arch in arm64 amd64; do
			name=ccotel-$VERSION-$os-$arch.tar.gz
			sum=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$DIST/SHA256SUMS")
			[ -n "$sum" ] || continue
			cpu=arm
			[ $arch = amd64 ] && cpu=intel
			block="$block    on_$cpu do
      url \"$BASE_URL/$name\"
      sha256 \"$sum\"
    end
"
		done
		[ -n "$block" ] || continue
		hb=linux
		[ $os = darwin ] && hb=macos
		printf '  on_%s do\n%s  end\n\n' "$hb" "$block"
	done
}

formula() {
	BLOCKS=$(platforms) awk '$0 == "@PLATFORMS@" { print ENVIRON["BLOCKS"]; next } { print }' packaging/homebrew/ccotel.rb.in |
		sed -e "s|@VERSION_NUMBER@|${VERSION#v}|g" -e "s|@VERSION@|$VERSION|g"
}

mkdir -p "$DIST"
echo "ccotel $VERSION (commit ${COMMIT:-unknown}, built $DATE) with $(go version | cut -d' ' -f3-)"
host="$(go env GOOS)/$(go env GOARCH)"
start=$(date +%s)
archives=
for target in $TARGETS; do
	os=${target%/*}
	arch=${target#*/}
	name=ccotel-$VERSION-$os-$arch
	rm -rf "${DIST:?}/$name"
	mkdir -p "$DIST/$name"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
		-ldflags "-s -w -X github.com/ccotel/ccotel/internal/buildinfo.version=$VERSION -X github.com/ccotel/ccotel/internal/buildinfo.commit=$COMMIT -X github.com/ccotel/ccotel/internal/buildinfo.date=$DATE" \
		-o "$DIST/$name/ccotel" .
	cp install.sh LICENSE "$DIST/$name/"
	size=$(wc -c <"$DIST/$name/ccotel" | tr -d ' ')
	# gzip -n: no file name or time in the header.
	(cd "$DIST" && tar -cf - "$name" | gzip -n >"$name.tar.gz")
	archives="$archives $name.tar.gz"
	printf '  %-14s %6.1f MiB  %s/%s/ccotel\n' "$target" "$(echo "$size" | awk '{print $1 / 1048576}')" "$DIST" "$name"
	if [ "$size" -gt $max_bytes ]; then
		echo "release.sh: $DIST/$name/ccotel is $size bytes, over the 20 MiB target" >&2
		exit 1
	fi
	if [ "$target" = "$host" ]; then
		got=$("$DIST/$name/ccotel" version)
		case $got in
		"ccotel $VERSION (commit ${COMMIT:-unknown}, built $DATE,"*) echo "  runs here: $got" ;;
		*)
			echo "release.sh: the $target binary reports \"$got\"" >&2
			exit 1
			;;
		esac
	fi
done
# shellcheck disable=SC2086
(cd "$DIST" && sha256 $archives >SHA256SUMS && sha256 -c SHA256SUMS >/dev/null)
formula >"$DIST/ccotel.rb"
echo "wrote $DIST/SHA256SUMS, $DIST/ccotel.rb and$archives in $(($(date +%s) - start))s"
