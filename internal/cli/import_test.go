package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
