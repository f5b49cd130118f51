#!/bin/sh
# install.sh: build ccotel from this source tree with the local Go toolchain
# (or take a prebuilt binary), install it to $PREFIX/bin (default
# ~/.local/bin) and add its hooks to Claude Code's settings.json.
#
#   sh install.sh [options]
#
# Running it again is harmless: an identical binary is left alone and
# `ccotel install` changes nothing that is already in place.
# POSIX sh: tested with dash and bash, for Linux and macOS.
set -eu

prog=install.sh

usage() {
	cat <<'EOF'
Usage: sh install.sh [options]

Builds ccotel from source with the local Go toolchain (or uses a prebuilt
binary), installs it to $PREFIX/bin (default ~/.local/bin) and runs
`ccotel install` to add its hooks to Claude Code's settings.json.

Options:
  --prefix DIR        install to DIR/bin (default: $PREFIX, else ~/.local)
  --binary PATH       install this prebuilt ccotel instead of building
                      (default: build when Go and the source are here, else
                      use ./ccotel next to this script)
  --no-hooks          install the binary only; leave settings.json alone
  --uninstall         run `ccotel uninstall`, then remove the binary
  -h, --help          show this help

Passed on to `ccotel install` / `ccotel uninstall`:
  --scope user|project|local, --settings PATH
Passed on to `ccotel install` (written to ccotel's config file):
  --endpoint URL, --client-cert PATH, --client-key PATH, --ca PATH

Environment: PREFIX (as --prefix); CCOTEL_VERSION, the version to stamp in
(default: `git describe --tags`, else "dev"); GO_BUILD_FLAGS, extra flags
for `go build` after the defaults (CGO_ENABLED=0, -trimpath, -ldflags).
EOF
}

say() { printf '%s: %s\n' "$prog" "$*"; }
warn() { printf '%s: warning: %s\n' "$prog" "$*" >&2; }
die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}

# quote prints $1 as one single-quoted shell word, for eval.
quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

prefix=${PREFIX:-}
binary=
hooks=yes
action=install
where=  # --scope/--settings, quoted for eval
config= # --endpoint/--client-cert/--client-key/--ca, quoted for eval

while [ $# -gt 0 ]; do
	opt=$1
	case $opt in
	--*=*)
		val=${opt#*=}
		opt=${opt%%=*}
		;;
	--prefix | --binary | --scope | --settings | --endpoint | --client-cert | --client-key | --ca)
		[ $# -ge 2 ] || die "$opt needs a value (see --help)"
		val=$2
		shift
		;;
	*) val= ;;
	esac
	shift
	case $opt in
	--prefix) prefix=$val ;;
	--binary) binary=$val ;;
	--no-hooks) hooks=no ;;
	--uninstall) action=uninstall ;;
	--scope | --settings) where="$where $opt=$(quote "$val")" ;;
	--endpoint | --client-cert | --client-key | --ca) config="$config $opt=$(quote "$val")" ;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown option $opt (see --help)" ;;
	esac
done

if [ -z "$prefix" ]; then
	[ -n "${HOME:-}" ] || die "HOME is not set; pass --prefix DIR"
	prefix=$HOME/.local
fi
bindir=${prefix%/}/bin
dest=$bindir/ccotel
here=$(cd "$(dirname "$0")" && pwd)

if [ "$action" = uninstall ]; then
	[ -z "$config" ] || die "--endpoint, --client-cert, --client-key and --ca do not go with --uninstall"
	if [ ! -e "$dest" ]; then
		say "no ccotel in $bindir: nothing to remove"
		if other=$(command -v ccotel 2>/dev/null); then
			say "there is one at $other: run 'ccotel uninstall' and remove it the way it was installed"
		fi
		exit 0
	fi
	if [ "$hooks" = yes ]; then
		eval "set -- $where"
		"$dest" uninstall "$@" || die "ccotel uninstall failed; the binary was not removed"
	fi
	rm -f "$dest"
	say "removed $dest"
	exit 0
fi

tmp=
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# Where the binary comes from.
if [ -n "$binary" ]; then
	[ -f "$binary" ] || die "--binary $binary: no such file"
	src=$binary
elif [ -f "$here/go.mod" ] && command -v go >/dev/null 2>&1; then
	tmp=$(mktemp -d 2>/dev/null || mktemp -d -t ccotel)
	version=${CCOTEL_VERSION:-}
	commit=
	date=
	if command -v git >/dev/null 2>&1 && git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
		[ -n "$version" ] || version=$(git -C "$here" describe --tags --dirty 2>/dev/null || true)
		commit=$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || true)
		if [ -n "$commit" ] && ! git -C "$here" diff --quiet HEAD -- 2>/dev/null; then
			commit=$commit-dirty
		fi
		# The commit's time, not now: the same source gives the same binary.
		date=$(TZ=UTC git -C "$here" log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null || true)
	fi
	[ -n "$version" ] || version=dev
	say "building ccotel $version with $(go version | cut -d' ' -f3-)"
	# GO_BUILD_FLAGS (unquoted, word-split) come last, so they can add to
	# or override the defaults (e.g. -trimpath=false, -tags x).
	# shellcheck disable=SC2086
	if ! (cd "$here" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X github.com/ccotel/ccotel/internal/buildinfo.version=$version -X github.com/ccotel/ccotel/internal/buildinfo.commit=$commit -X github.com/ccotel/ccotel/internal/buildinfo.date=$date" \
		${GO_BUILD_FLAGS:-} -o "$tmp/ccotel" .); then
		die "the build failed (ccotel needs the Go version named in go.mod, $(sed -n 's/^go //p' "$here/go.mod")); or pass --binary PATH"
	fi
	src=$tmp/ccotel
elif [ -f "$here/ccotel" ]; then
	src=$here/ccotel
elif [ -f "$here/go.mod" ]; then
	die "Go is not installed (or not on PATH), so ccotel cannot be built from source.
Install Go $(sed -n 's/^go //p' "$here/go.mod") or newer (https://go.dev/dl/, 'brew install go', or your package manager),
or pass --binary PATH to install a prebuilt ccotel."
else
	die "no ccotel binary next to $prog and no source to build; pass --binary PATH"
fi

mkdir -p "$bindir" || die "cannot create $bindir; pass --prefix DIR"
if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
	say "$dest is already this build"
else
	# Copy next to the target, then rename: a hook running the old binary
	# right now keeps it, and no one sees a half-written file.
	cp "$src" "$dest.new.$$"
	chmod 755 "$dest.new.$$"
	mv -f "$dest.new.$$" "$dest"
	say "installed $dest"
fi
"$dest" version || die "$dest does not run on this machine"

if [ "$hooks" = yes ]; then
	eval "set -- $where $config"
	"$dest" install --command "$dest" "$@" || die "ccotel install failed (the binary is installed; fix the problem above and run: $dest install)"
elif [ -n "$config" ]; then
	eval "set -- $config"
	say "--no-hooks: not writing the collector settings either; run: $dest install $*"
fi

case ":${PATH:-}:" in
*":$bindir:"*) ;;
*) warn "$bindir is not on your PATH. The hooks use the full path; to run ccotel yourself, add to your shell profile:
    export PATH=\"$bindir:\$PATH\"" ;;
esac

undo="sh $(quote "$here/install.sh") --uninstall"
[ "$prefix" = "${HOME:-}/.local" ] || undo="$undo --prefix $(quote "$prefix")"
say "done. To undo: $undo$where"
