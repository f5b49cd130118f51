package usage

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccotel/ccotel/tracing"
)

// FuzzFinish: any transcript content, offset and prompt id finishes the
// span without panicking, and never reports negative counts.
func FuzzFinish(f *testing.F) {
	for _, name := range []string{"turns.jsonl", "noprompt.jsonl", "lag-part1.jsonl"} {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(0), "p-1")
	}
	// The real client's failed attempts, compactions and cost-state lines.
	for _, name := range []string{"api-retry", "api-fail", "compact-auto"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "claude", name, "transcript.jsonl"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(0), "")
	}
	f.Add([]byte(`{"type":"assistant","message":{"usage":{"input_tokens":1e30}}}`+"\n"), int64(0), "")
	f.Add([]byte("\xff\xfe\n{\n"), int64(1), "x")
	dir := f.TempDir()
	fin := New(Options{NoWait: true})
	f.Fuzz(func(t *testing.T, data []byte, offset int64, promptID string) {
		p := filepath.Join(dir, "t.jsonl")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, scope := range []string{"turn", "agent", "session"} {
			ref, _ := json.Marshal(Ref{Scope: scope, Path: p, Offset: offset, PromptID: promptID, SubagentDir: dir})
			s := &tracing.Span{End: time.Now(), Pending: ref}
			if done, _ := fin(s, time.Now()); !done || s.Pending != nil {
				t.Fatalf("%s: not finished", scope)
			}
			for _, x := range append([]*tracing.Span{s}, s.Extra...) {
				for _, a := range x.Attrs {
					if a.Type == "int" && a.Int < 0 || a.Type == "float" && a.Float < 0 {
						t.Fatalf("%s: %s: %s = %d %v", scope, x.Name, a.Key, a.Int, a.Float)
					}
				}
			}
		}
	})
}
