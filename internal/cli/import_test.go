package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
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
