// Package buildinfo owns ccotel's version: the one value that the
// resource, the instrumentation scope, the User-Agent and `ccotel version`
// all report, whichever way the binary was built.
//
// Release builds (packaging/release.sh, install.sh, Homebrew) stamp it:
//
//	-ldflags "-X github.com/ccotel/ccotel/internal/buildinfo.version=v1.2.3
//	          -X github.com/ccotel/ccotel/internal/buildinfo.commit=…
//	          -X github.com/ccotel/ccotel/internal/buildinfo.date=…"
//
// Without a stamp (`go install github.com/ccotel/ccotel@v1.2.3`, a plain
// `go build`), the module version and VCS data that the Go toolchain
// records in the binary are used.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Set at release time with -ldflags -X (see the package comment).
var (
	version = ""
	commit  = ""
	date    = ""
)

// Info is what a binary knows about its build.
type Info struct {
	Version string // release version ("v1.2.3"), or "dev" for a plain build
	Commit  string // VCS revision, "" if unknown; "-dirty" when modified
	Date    string // build or commit time, "" if unknown
}

var current = sync.OnceValue(func() Info { return read(version, commit, date, debug.ReadBuildInfo) })

// Current returns this binary's build information. It reads the Go
// build information once per process (it is not on the hook's path: only
// exporting processes and `ccotel version` ask).
func Current() Info { return current() }

// Version is Current().Version.
func Version() string { return current().Version }

func read(version, commit, date string, readBuildInfo func() (*debug.BuildInfo, bool)) Info {
	b := Info{Version: version, Commit: commit, Date: date}
	if b.Version == "" {
		b.Version = "dev"
	}
	bi, ok := readBuildInfo()
	if !ok || commit != "" {
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
func (b Info) String() string {
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
