package settings

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzEdit checks the JSON editor on arbitrary input: it accepts exactly
// the JSON objects (and blank input), writes an unedited document back
// byte for byte, and Install's output is valid, wired and stable, with
// Uninstall taking every ccotel entry out again.
func FuzzEdit(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "settings", "*.json"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(`{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"ccotel hook"}]}],"X":[1,{"hooks":null}]}}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := parseDocument(src)
		blank := len(bytes.TrimSpace(src)) == 0
		var probe any
		isObject := json.Unmarshal(src, &probe) == nil && func() bool { _, ok := probe.(map[string]any); return ok }()
		if err != nil {
			if isObject && !bytes.Contains(src, []byte("\xef\xbb\xbf")) && bytes.Count(src, []byte("[")) < maxDepth && bytes.Count(src, []byte("{")) < maxDepth {
				t.Fatalf("valid JSON object refused: %v", err)
			}
			return
		}
		if !blank && !isObject {
			t.Fatalf("accepted something that is not a JSON object")
		}
		if !blank && !bytes.Equal(d.bytes(), src) {
			t.Fatalf("round trip changed the document")
		}
		out, _, err := Install(src, "/x/ccotel")
		if err != nil {
			return // "hooks" of the wrong type
		}
		if !json.Valid(out) {
			t.Fatalf("install produced invalid JSON:\n%s", out)
		}
		again, r, err := Install(out, "/x/ccotel")
		if err != nil || !bytes.Equal(again, out) || r.Changed() {
			t.Fatalf("second install changed the file: %v %+v", err, r)
		}
		w, err := Inspect(out, "/x/ccotel")
		if err != nil || len(w.Missing) != 0 {
			t.Fatalf("installed but missing %v (%v)", w.Missing, err)
		}
		un, _, err := Uninstall(out)
		if err != nil || !json.Valid(un) {
			t.Fatalf("uninstall: %v\n%s", err, un)
		}
		if w, _ := Inspect(un, "/x/ccotel"); len(w.Commands) != 0 {
			t.Fatalf("uninstall left %v", w.Commands)
		}
	})
}
