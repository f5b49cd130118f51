package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/importer"
)

// A session exported live (its hook events replayed into a state
// directory), then imported from its transcripts: the state knows it,
// so the import queues nothing.
func TestImportAfterLive(t *testing.T) {
	isolateEnv(t)
	dir := t.TempDir()
	projects, events := claudeScenario(t, filepath.Join("..", "..", "testdata", "claude", "subagent-background"), dir)
	stateDir := filepath.Join(dir, "state")
	var stdout, stderr bytes.Buffer
	if code := runReplay([]string{"--stdout", "--state-dir", stateDir, events}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr.String())
	}
	// (replay's flusher delivered the live spans to its own exporter.)
	before := len(readOutbox(stateDir, t.Fatalf))
	t.Setenv("CCOTEL_ENDPOINT", "https://127.0.0.1:9")

	// Without the live state, the same import queues the session.
	stdout.Reset()
	if code := runImport([]string{"--dry-run", "--settled", "0", "--since", "0", projects}, nil, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "dry run: imported 1 of 1 sessions") {
		t.Fatalf("import into an empty state: exit %d: %s", code, stderr.String())
	}

	t.Setenv("CCOTEL_STATE_DIR", stateDir)
	stdout.Reset()
	if code := runImport([]string{"--settled", "0", "--since", "0", projects}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("import exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "imported 0 of 1 sessions") || !strings.Contains(stdout.String(), "1 known to the state") {
		t.Errorf("import after live: %s", stdout.String())
	}
	if after := len(readOutbox(stateDir, t.Fatalf)); after != before {
		t.Errorf("%d spans queued after the import, %d before", after, before)
	}
}

// The progress line rewrites itself: sessions done of all, bytes, spans,
// elapsed.
func TestImportProgress(t *testing.T) {
	var b bytes.Buffer
	p := progressPrinter(&b)
	p(importer.Progress{Done: 1, Total: 2, Bytes: 2048, TotalSize: 4096, Spans: 7, Elapsed: time.Second})
	p(importer.Progress{Done: 2, Total: 2, Bytes: 4096, TotalSize: 4096, Spans: 9, Elapsed: 2 * time.Second})
	if got := b.String(); !strings.Contains(got, "\r\033[Kimport: 1/2 sessions, 2.0 KiB of 4.0 KiB, 7 spans, 1.000s") || !strings.Contains(got, "import: 2/2 sessions") {
		t.Errorf("progress %q", got)
	}
	if isTerminal(&b) {
		t.Error("a buffer is a terminal")
	}
}

// An imported session that Claude Code resumes later, with ccotel
// installed: the live hook finds the import's tombstone and opens run 1
// under the imported root, which is not exported again.
func TestResumeAfterImport(t *testing.T) {
	isolateEnv(t)
	dir := t.TempDir()
	projects, _ := claudeScenario(t, filepath.Join("..", "..", "testdata", "claude", "three-tools"), dir)
	stateDir := filepath.Join(dir, "state")
	t.Setenv("CCOTEL_STATE_DIR", stateDir)
	t.Setenv("CCOTEL_ENDPOINT", "https://127.0.0.1:9")
	lock, err := delivery.AcquireFlusherLock(stateDir) // no flusher: the test reads the outbox
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	var stdout, stderr bytes.Buffer
	if code := runImport([]string{"--settled", "0", "--since", "0", projects}, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "imported 1 of 1") {
		t.Fatalf("import exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	const sid = "c1a0de00-0002-4000-8000-000000000002"
	events := filepath.Join(dir, "resume.jsonl")
	os.WriteFile(events, []byte(strings.Join([]string{
		`{"session_id":"` + sid + `","hook_event_name":"SessionStart","source":"resume"}`,
		`{"session_id":"` + sid + `","hook_event_name":"UserPromptSubmit","prompt_id":"later","prompt":"again"}`,
		`{"session_id":"` + sid + `","hook_event_name":"Stop","prompt_id":"later"}`,
		`{"session_id":"` + sid + `","hook_event_name":"SessionEnd","reason":"other"}`,
	}, "\n")+"\n"), 0o600)
	stdout.Reset()
	if code := runReplay([]string{"--stdout", "--state-dir", stateDir, events}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr.String())
	}
	var roots, runs []*otlpSpan
	for _, s := range decodeOTLP(t, stdout.Bytes()) {
		if s.Name != "invoke_agent claude-code" {
			continue
		}
		if _, ok := s.attr("claude_code.session.run"); ok {
			runs = append(runs, s)
		} else {
			roots = append(roots, s)
		}
	}
	if len(roots) != 1 || len(runs) != 1 || runs[0].ParentSpanID != roots[0].SpanID {
		t.Fatalf("%d roots, %d runs (the run's parent %v)", len(roots), len(runs), runs)
	}
	if v, _ := roots[0].attr("claude_code.timing"); v != "transcript" {
		t.Errorf("the root is not the imported one: timing %v", v)
	}
}
