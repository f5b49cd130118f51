package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	installed := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-11-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}, true
	}
	devel := func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true }
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	for _, tc := range []struct {
		name                  string
		version, commit, date string
		bi                    func() (*debug.BuildInfo, bool)
		want                  Info
	}{
		{"go install module@version", "", "", "", installed, Info{"v1.4.0", "0123456789abcdef0123-dirty", "2026-11-01T00:00:00Z"}},
		{"stamped release", "v2.0.0", "abc", "2026-12-01", installed, Info{"v2.0.0", "abc", "2026-12-01"}},
		{"plain go build", "", "", "", devel, Info{"dev", "", ""}},
		{"no build info", "", "", "", none, Info{"dev", "", ""}},
	} {
		if got := read(tc.version, tc.commit, tc.date, tc.bi); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	s := Info{"v1.4.0", "0123456789abcdef0123-dirty", ""}.String()
	if !strings.HasPrefix(s, "ccotel v1.4.0 (commit 0123456789ab-dirty, built unknown, go") {
		t.Errorf("String() = %q", s)
	}
}
