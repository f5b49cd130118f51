package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ccotel/ccotel/hook"
	"github.com/rogpeppe/go-internal/diff"
)

var update = flag.Bool("update", false, "rewrite the .installed golden files")

const testCommand = "/opt/ccotel/bin/ccotel"

// flatten lists a document's member names and scalar values with their
// paths, in document order.
func flatten(t *testing.T, src []byte) []string {
	t.Helper()
	d, err := parseDocument(src)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *node, path string)
	walk = func(n *node, path string) {
		for i, e := range n.elems {
			p := path + "/" + e.name
			if n.kind == kindArray {
				p = path + "/" + strconv.Itoa(i)
			} else {
				out = append(out, p)
			}
			walk(e.val, p)
		}
		if n.kind == kindScalar {
			out = append(out, path+"="+string(n.raw))
		}
	}
	walk(d.root, "")
	return out
}

// isSubsequence reports whether every entry of a appears in b in the same
// order; it returns the first entry that does not.
func isSubsequence(a, b []string) (string, bool) {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] != x {
			j++
		}
		if j == len(b) {
			return x, false
		}
		j++
	}
	return "", true
}

// checkWiring checks that every event of Events runs command exactly once,
// in a group that matches everything, and no other event runs ccotel.
func checkWiring(t *testing.T, out []byte, command string) {
	t.Helper()
	var doc struct {
		Hooks map[string][]struct {
			Matcher *string           `json:"matcher"`
			Hooks   []json.RawMessage `json:"hooks"`
		} `json:"hooks"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("output is not valid JSON: %v\n%s", err, out)
	}
	want := map[string]Event{}
	for _, ev := range Events {
		want[ev.Name] = ev
	}
	found := map[string]int{}
	for name, groups := range doc.Hooks {
		for _, g := range groups {
			for _, raw := range g.Hooks {
				d, err := parseDocument(raw)
				if err != nil || !isCcotel(d.root) {
					continue
				}
				found[name]++
				ev, ok := want[name]
				if !ok {
					t.Errorf("ccotel registered for %s, which it does not use", name)
					continue
				}
				var h map[string]any
				json.Unmarshal(raw, &h)
				for k := range h {
					if k != "type" && k != "command" && k != "args" && k != "timeout" {
						delete(h, k) // the user's own keys stay
					}
				}
				wantH := map[string]any{"type": "command", "command": command, "args": []any{"hook"}, "timeout": float64(ev.Timeout)}
				if !reflect.DeepEqual(h, wantH) {
					t.Errorf("%s: handler %v, want %v", name, h, wantH)
				}
				if g.Matcher != nil && *g.Matcher != "" && *g.Matcher != "*" {
					t.Errorf("%s: ccotel in a group with matcher %q", name, *g.Matcher)
				}
				if g.Matcher == nil && ev.Matcher == "*" && len(g.Hooks) == 1 {
					t.Errorf("%s: ccotel's own group has no matcher", name)
				}
			}
		}
	}
	for _, ev := range Events {
		if found[ev.Name] != 1 {
			t.Errorf("%s: %d ccotel handlers, want 1", ev.Name, found[ev.Name])
		}
	}
	for _, bad := range []string{"WorktreeCreate", "MessageDisplay"} {
		if _, ok := want[bad]; ok {
			t.Errorf("Events includes %s", bad)
		}
	}
}

func TestInstallFixtures(t *testing.T) {
	for _, tc := range []struct {
		name string
		// uninstalled is what Uninstall after Install gives when it is not
		// the original bytes.
		uninstalled string
	}{
		{name: "empty.json", uninstalled: "{}\n"},
		{name: "blank.json", uninstalled: "{}\n"},
		{name: "braces.json"},
		{name: "user-hooks.json"},
		{name: "odd-format.json"},
		{name: "compact.json"},
		{name: "unicode.json"},
		// An event list that was empty before install goes with ccotel's
		// entry: nothing tells it from one install created.
		{name: "empty-containers.json", uninstalled: "{\n  \"hooks\": {\n    \"UserPromptSubmit\": [\n      { \"hooks\": [] }\n    ]\n  }\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "settings", tc.name))
			if err != nil {
				t.Fatal(err)
			}
			out, r, err := Install(src, testCommand)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(out) {
				t.Fatalf("not valid JSON:\n%s", out)
			}
			checkWiring(t, out, testCommand)
			if missing, ok := isSubsequence(flatten(t, src), flatten(t, out)); !ok {
				t.Errorf("%s lost or moved:\n%s", missing, out)
			}
			if len(r.Added) == 0 || len(r.Updated)+len(r.Removed) != 0 {
				t.Errorf("report %+v", r)
			}

			golden := filepath.Join("testdata", "settings", strings.TrimSuffix(tc.name, ".json")+".installed")
			if *update {
				os.WriteFile(golden, out, 0o644)
			}
			if want, err := os.ReadFile(golden); err != nil || !bytes.Equal(out, want) {
				t.Errorf("install output differs from %s (go test -update to rewrite, then review):\n%s", golden, out)
			}

			again, r, err := Install(out, testCommand)
			if err != nil || !bytes.Equal(again, out) || r.Changed() {
				t.Errorf("second install changed the file (err %v, report %+v):\n%s", err, r, string(diff.Diff("first", out, "second", again)))
			}

			un, r, err := Uninstall(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Removed) != len(Events) {
				t.Errorf("uninstall removed %v", r.Removed)
			}
			want := string(src)
			if tc.uninstalled != "" {
				want = tc.uninstalled
			}
			if string(un) != want {
				t.Errorf("uninstall did not restore the original:\n%s", string(diff.Diff("want", []byte(want), "got", un)))
			}
			if un2, r, _ := Uninstall(un); !bytes.Equal(un2, un) || r.Changed() {
				t.Errorf("second uninstall changed the file")
			}
		})
	}
}

func TestInstallRefusesInvalidJSON(t *testing.T) {
	for _, tc := range []struct {
		name      string
		line, col int
		msg       string
	}{
		{"invalid-trailing-comma.json", 4, 1, "trailing comma"},
		{"invalid-comment.json", 2, 3, "comments are not allowed"},
		{"invalid-truncated.json", 5, 1, "end of file"},
		{"invalid-array.json", 1, 1, "must be a JSON object"},
		{"invalid-missing-comma.json", 1, 18, "expected ',' or '}'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "settings", tc.name))
			if err != nil {
				t.Fatal(err)
			}
			for _, edit := range []func([]byte) ([]byte, Report, error){
				func(b []byte) ([]byte, Report, error) { return Install(b, testCommand) },
				func(b []byte) ([]byte, Report, error) { return Uninstall(b) },
			} {
				out, _, err := edit(src)
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("err = %v, want a SyntaxError", err)
				}
				if se.Line != tc.line || se.Column != tc.col || !strings.Contains(se.Msg, tc.msg) {
					t.Errorf("got %q, want line %d, column %d: …%s…", se, tc.line, tc.col, tc.msg)
				}
				if out != nil {
					t.Errorf("output despite the error")
				}
			}
		})
	}
	src, _ := os.ReadFile(filepath.Join("testdata", "settings", "invalid-hooks-array.json"))
	if _, _, err := Install(src, testCommand); err == nil || !strings.Contains(err.Error(), `"hooks" is an array`) {
		t.Errorf("hooks array: err = %v", err)
	}
	if _, _, err := Install([]byte(`{"hooks":{"Stop":{"hooks":[]}}}`), testCommand); err == nil || !strings.Contains(err.Error(), `"Stop" is an object`) {
		t.Errorf("event object: err = %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, src := range []string{
		`{"a": 01}`, `{"a": 1.}`, `{"a": .5}`, `{"a": -}`, `{"a": 1e}`, `{"a": tru}`,
		`{"a": "x\q"}`, `{"a": "\u12G4"}`, "{\"a\": \"tab\there\"}", `{"a" 1}`, `{a: 1}`,
		`{"a": [1,]}`, `{"a": 1} x`, `{"a": 1}{}`, `{"a": "open}`, `{"a": NaN}`,
		"\xef\xbb\xbf{}", `"just a string"`, `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
	} {
		if _, err := parseDocument([]byte(src)); err == nil {
			t.Errorf("%q: parsed", src)
		} else if json.Valid([]byte(src)) && !strings.Contains(err.Error(), "nesting") && !strings.Contains(err.Error(), "must be a JSON object") {
			t.Errorf("%q is valid JSON but: %v", src, err)
		}
	}
}

func TestParseRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "settings", "*.json"))
	for _, f := range files {
		src, _ := os.ReadFile(f)
		d, err := parseDocument(src)
		if strings.Contains(f, "invalid-") || len(bytes.TrimSpace(src)) == 0 {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if got := d.bytes(); !bytes.Equal(got, src) {
			t.Errorf("%s: writing it back changed it:\n%s", f, string(diff.Diff("src", src, "out", got)))
		}
	}
}

func TestInstallUpdatesExistingEntries(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "settings", "existing-ccotel.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, r, err := Install(src, testCommand)
	if err != nil {
		t.Fatal(err)
	}
	checkWiring(t, out, testCommand)
	// PostToolUse: the keeper is updated where it was, before the user's
	// logger; the duplicate in the Bash group goes with its group. Stop's
	// shell form becomes the exec form. SessionStart's entry sat behind a
	// "startup" matcher, so it moves to a group of its own. WorktreeCreate
	// loses ccotel (its stdout is a path) and with it the event.
	wantReport := Report{
		Updated: []string{"PostToolUse", "Stop"},
		Removed: []string{"WorktreeCreate", "SessionStart", "PostToolUse"},
	}
	if !reflect.DeepEqual(r.Updated, wantReport.Updated) || !reflect.DeepEqual(r.Removed, wantReport.Removed) || !contains(r.Added, "SessionStart") || contains(r.Added, "PostToolUse") {
		t.Errorf("report %+v", r)
	}
	var doc struct {
		Hooks map[string][]struct {
			Matcher string           `json:"matcher"`
			Hooks   []map[string]any `json:"hooks"`
		} `json:"hooks"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	post := doc.Hooks["PostToolUse"]
	if len(post) != 1 || len(post[0].Hooks) != 2 || post[0].Hooks[0]["command"] != testCommand || post[0].Hooks[1]["command"] != "my-logger" {
		t.Errorf("PostToolUse = %+v", post)
	}
	if _, ok := doc.Hooks["WorktreeCreate"]; ok {
		t.Errorf("WorktreeCreate still there")
	}
	if end := doc.Hooks["SessionEnd"]; len(end) != 2 || len(end[0].Hooks) != 2 {
		t.Errorf("the user's SessionEnd hooks (ccotel-wrapper, ccotel flush) changed: %+v", end)
	}
	if !bytes.Contains(out, []byte(`"command": "/opt/ccotel/bin/ccotel",
            "args": ["hook"],
            "timeout": 5`)) {
		t.Errorf("PostToolUse keeper not updated in place:\n%s", out)
	}
	if again, r, _ := Install(out, testCommand); !bytes.Equal(again, out) || r.Changed() {
		t.Errorf("second install changed: %+v", r)
	}

	un, r, err := Uninstall(out)
	if err != nil {
		t.Fatal(err)
	}
	checkNoCcotel(t, un)
	if !bytes.Contains(un, []byte("my-logger")) || !bytes.Contains(un, []byte("ccotel-wrapper hook")) || !bytes.Contains(un, []byte("ccotel flush")) {
		t.Errorf("uninstall removed the user's hooks:\n%s", un)
	}
	if len(r.Removed) != len(Events) {
		t.Errorf("uninstall report %+v", r)
	}
}

func checkNoCcotel(t *testing.T, src []byte) {
	t.Helper()
	w, err := Inspect(src, testCommand)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Commands) != 0 {
		t.Errorf("ccotel still wired: %v", w.Commands)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestUninstallLeavesOthersAlone(t *testing.T) {
	src, _ := os.ReadFile(filepath.Join("testdata", "settings", "user-hooks.json"))
	out, r, err := Uninstall(src)
	if err != nil || !bytes.Equal(out, src) || r.Changed() {
		t.Errorf("uninstall of a file without ccotel: err %v, report %+v", err, r)
	}
	for _, s := range []string{"", "  ", "{}", `{"hooks": null}`, `{"hooks": []}`} {
		if out, r, err := Uninstall([]byte(s)); err != nil || string(out) != s || r.Changed() {
			t.Errorf("%q: %q %+v %v", s, out, r, err)
		}
	}
}

func TestInspect(t *testing.T) {
	w, err := Inspect(nil, testCommand)
	if err != nil || len(w.Missing) != len(Events) || w.UpToDate {
		t.Errorf("empty: %+v %v", w, err)
	}
	out, _, _ := Install(nil, testCommand)
	w, err = Inspect(out, testCommand)
	if err != nil || len(w.Missing) != 0 || !w.UpToDate || w.Commands["Stop"] != testCommand {
		t.Errorf("installed: %+v %v", w, err)
	}
	if w, _ = Inspect(out, "/elsewhere/ccotel"); w.UpToDate {
		t.Errorf("another command reported up to date")
	}
}

func TestIsCcotel(t *testing.T) {
	for src, want := range map[string]bool{
		`{"type":"command","command":"/usr/local/bin/ccotel","args":["hook"]}`: true,
		`{"type":"command","command":"ccotel","args":["hook","--x"]}`:          true,
		`{"type":"command","command":"ccotel hook"}`:                           true,
		`{"type":"command","command":"ccotel"}`:                                true,
		`{"type":"command","command":"  /opt/homebrew/bin/ccotel  hook "}`:     true,
		`{"type":"command","command":"'/Users/me/My Tools/ccotel' hook"}`:      true,
		`{"type":"command","command":"C:\\tools\\ccotel.exe","args":["hook"]}`: true,
		`{"type":"command","command":"ccotel flush"}`:                          false,
		`{"type":"command","command":"ccotel","args":["flush"]}`:               false,
		`{"type":"command","command":"/bin/ccotel-dev hook"}`:                  false,
		`{"type":"command","command":"notccotel hook"}`:                        false,
		`{"type":"command","command":"echo ccotel hook"}`:                      false,
		`{"type":"http","url":"http://x/ccotel"}`:                              false,
		`{"type":"prompt","command":"ccotel hook"}`:                            false,
		`{"command":"ccotel hook"}`:                                            false,
		`{"type":"command","command":["ccotel"]}`:                              false,
		`["ccotel","hook"]`: false,
		`{"type":"command","command":"/x/ccotel","args":[]}`:                      true,
		`{"type":"command","command":"/x/ccotel","args":["hook"],"async":true}`:   true,
		`{"type":"command","command":"/x/ccotel","args":["--debug","hook"]}`:      false,
		`{"type":"command","command":"sh -c 'ccotel hook'"}`:                      false,
		`{"type":"command","command":"\"/path with space/ccotel\" hook --quiet"}`: true,
	} {
		d, err := parseDocument([]byte(`{"h":` + src + `}`))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := isCcotel(d.root.elems[0].val); got != want {
			t.Errorf("%s: %v, want %v", src, got, want)
		}
	}
}

func TestInstallKeepsUserKeysOnCcotelEntry(t *testing.T) {
	src := []byte(`{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"ccotel hook","statusMessage":"tracing"}]}]}}`)
	out, _, err := Install(src, testCommand)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`{"type":"command","command":"/opt/ccotel/bin/ccotel","statusMessage":"tracing","args":["hook"],"timeout":5}`)) {
		t.Errorf("Stop entry:\n%s", out)
	}
	checkWiring(t, out, testCommand)
}

func TestInstallOtherBinaryName(t *testing.T) {
	const dev = "/home/dev/src/ccotel/bin/ccotel-dev"
	out, _, err := Install([]byte(`{"model": "opus"}`), dev)
	if err != nil {
		t.Fatal(err)
	}
	again, r, err := Install(out, dev)
	if err != nil || !bytes.Equal(again, out) || r.Changed() {
		t.Fatalf("second install with %s changed the file: %+v", dev, r)
	}
	if w, _ := Inspect(out, dev); !w.UpToDate || len(w.Missing) != 0 {
		t.Errorf("inspect: %+v", w)
	}
	// A binary not named ccotel is recognised only by its path: installing
	// another one adds entries rather than taking these over.
	if _, r, _ := Install(out, testCommand); len(r.Added) != len(Events) || len(r.Updated) != 0 {
		t.Errorf("another binary: %+v", r)
	}
	if un, r, _ := Uninstall(out); r.Changed() || !bytes.Equal(un, out) {
		t.Errorf("uninstall without the name removed %v", r.Removed)
	}
	if un, _, _ := Uninstall(out, dev); string(un) != `{"model": "opus"}` {
		t.Errorf("uninstall with the name: %s", un)
	}
}

// Install writes exactly the wired rows of hook.EventTable, in its order,
// with the row's matcher and timeout: the table is the only list of events.
func TestEventsAreTheTable(t *testing.T) {
	var want []Event
	for _, e := range hook.EventTable {
		if e.Timeout > 0 {
			want = append(want, Event{e.Name, e.Matcher, e.Timeout})
		}
	}
	if !reflect.DeepEqual(Events, want) {
		t.Errorf("Events = %v\nhook.EventTable wires %v", Events, want)
	}
	for _, e := range Events {
		if timeout := map[bool]int{true: 10, false: 5}[e.Name == hook.SessionEnd]; e.Timeout != timeout {
			t.Errorf("%s: timeout %d s, want %d s", e.Name, e.Timeout, timeout)
		}
	}
}
