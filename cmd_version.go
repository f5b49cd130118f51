package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// buildInfo is what `ccotel version` reports.
type buildInfo struct {
	Version string // release version ("v1.2.3"), or "dev" for a plain build
	Commit  string // VCS revision, "" if unknown
	Date    string // build or commit time, "" if unknown
}

// currentBuild returns the version, commit and date stamped in with
// -ldflags -X main.version=… (release builds, install.sh, Homebrew). When
// no commit was stamped (a plain `go build`, `go install module@version`)
// it falls back to the module version and VCS data the Go toolchain
// records in the binary.
func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if commit != "" {
		return b // stamped at build time: that is the whole story
	}
	if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && b.Commit != "" {
		b.Commit += "-dirty"
	}
	return b
}

// String is the one-line form:
// "ccotel v1.2.3 (commit abc123, built 2026-01-02T03:04:05Z, go1.26.8 linux/amd64)".
func (b buildInfo) String() string {
	c, d := b.Commit, b.Date
	dirty := strings.HasSuffix(c, "-dirty")
	c = strings.TrimSuffix(c, "-dirty")
	if len(c) > 12 {
		c = c[:12]
	}
	if dirty {
		c += "-dirty"
	}
	if c == "" {
		c = "unknown"
	}
	if d == "" {
		d = "unknown"
	}
	return fmt.Sprintf("ccotel %s (commit %s, built %s, %s %s/%s)", b.Version, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func runVersion(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	const usage = "Usage: ccotel version\n\nPrints ccotel's version, the commit and date it was built from, and the Go\nversion and platform.\n"
	if code, ok := parseFlags(fs, usage, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ccotel version: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	fmt.Fprintln(stdout, currentBuild())
	return exitOK
}
