package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ccotel/ccotel/internal/semconv"
)

// claudeScenario lays out a recorded real-client scenario
// (testdata/claude/<name>) as Claude Code keeps it, under dir/projects:
// each transcript as <session id>.jsonl, subagents beside the main one.
// It returns the projects directory and the hook events with their
// transcript paths pointing there.
func claudeScenario(t *testing.T, src, dir string) (projects, events string) {
	t.Helper()
	projects = filepath.Join(dir, "projects")
	proj := filepath.Join(projects, "-tmp-project")
	if err := os.MkdirAll(proj, 0o700); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(src, "transcript*.jsonl"))
	sid := regexp.MustCompile(`"sessionId":"([^"]+)"`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := sid.FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no sessionId", f)
		}
		main := filepath.Join(proj, string(m[1])+".jsonl")
		if err := os.WriteFile(main, b, 0o600); err != nil {
			t.Fatal(err)
		}
		agents, _ := filepath.Glob(filepath.Join(src, "subagents", "*"))
		if filepath.Base(f) != "transcript.jsonl" || len(agents) == 0 {
			continue
		}
		sub := filepath.Join(strings.TrimSuffix(main, ".jsonl"), "subagents")
		if err := os.MkdirAll(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, a := range agents {
			b, err := os.ReadFile(a)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sub, filepath.Base(a)), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(src, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("$HOME/.claude/projects/$PROJECT"), []byte(proj))
	events = filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(events, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return projects, events
}

// crossKeys are the attributes the cross-check compares besides names,
// parents and statuses: tokens and cost.
var crossKeys = []string{
	semconv.ErrorType,
	semconv.GenAIUsageInputTokens, semconv.GenAIUsageOutputTokens,
	semconv.GenAIUsageCacheReadInputTokens, semconv.GenAIUsageCacheCreationInputTokens,
	semconv.UsageCostUSD, semconv.UsageAPIRequests,
	semconv.SessionTurns, semconv.SessionToolCalls, semconv.SessionToolErrors, semconv.SessionSubagents,
}

// spanFacts is what the cross-check compares of a span, as text.
func spanFacts(s *otlpSpan, byID map[string]*otlpSpan) string {
	parent := "-"
	if p := byID[s.ParentSpanID]; p != nil {
		parent = p.Name + "/" + p.SpanID
	} else if s.ParentSpanID != "" {
		parent = "?" + s.ParentSpanID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s parent=%s status=%d", s.Name, parent, s.Status.Code)
	for _, k := range crossKeys {
		if v, ok := s.attr(k); ok {
			fmt.Fprintf(&b, " %s=%v", k, v)
		}
	}
	return b.String()
}

// crossCheck imports a scenario's transcripts and replays its hook
// events, and returns the differences: per span ID, what one path has
// and the other lacks or says otherwise.
func crossCheck(t *testing.T, name string) (diffs []string, compared int) {
	t.Helper()
	isolateEnv(t)
	projects, events := claudeScenario(t, filepath.Join("..", "..", "testdata", "claude", name), t.TempDir())
	var live, imp, stderr bytes.Buffer
	if code := runReplay([]string{"--stdout", events}, nil, &live, &stderr); code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr.String())
	}
	if code := runImport([]string{"--dry-run", "--stdout", "--settled", "0", "--since", "0", projects}, nil, &imp, &stderr); code != 0 {
		t.Fatalf("import exit %d: %s", code, stderr.String())
	}
	index := func(spans []*otlpSpan) map[string]*otlpSpan {
		m := map[string]*otlpSpan{}
		for _, s := range spans {
			m[s.SpanID] = s
		}
		return m
	}
	a, b := index(decodeOTLP(t, live.Bytes())), index(decodeOTLP(t, imp.Bytes()))
	if len(b) == 0 {
		t.Fatalf("import sent nothing: %s", stderr.String())
	}
	for id, s := range a {
		want := spanFacts(s, a)
		if o := b[id]; o == nil {
			diffs = append(diffs, "only live:   "+want)
		} else if got := spanFacts(o, b); got != want {
			diffs = append(diffs, "live:        "+want+"\n     import: "+got)
		}
	}
	for id, s := range b {
		if a[id] == nil {
			diffs = append(diffs, "only import: "+spanFacts(s, b))
		}
	}
	sort.Strings(diffs)
	return diffs, len(a)
}

// knownDisagreements are the differences between import and replay
// that are understood, by scenario: a part of each expected diff line,
// and which side is wrong. A listed difference that no longer shows
// fails the test too, so the list stays true.
var knownDisagreements = map[string][]struct{ diff, why string }{
	// A fork's transcript starts with the parent's history, its prompt
	// line re-stamped with the fork's first prompt id. The live hook (the
	// real 2.1.328 with ccotel, internal/e2e, shows the same: api_requests
	// 2 on the fork's turn) and replay read the fork's turn by that prompt
	// id from before the copy, so they count the parent's request, already
	// exported under the parent's turn, in the fork's turn too: the live
	// side is wrong. Import starts the turn at its own prompt's line.
	// The API got one request in the fork's run (api.json); the fork's
	// cost-state (0.02228 USD; 320 uncached, 4300 cache read, 4000 cache
	// write input tokens) includes the parent's (0.02126; 300, 0, 4000)
	// because a resumed session carries its totals over: no spend of the
	// fork's turn. The turn alone is a small fix in the finisher (its turn
	// filter restarts the turn at its own prompt line, forgetting what the
	// copy counted), but the fork's root span follows that cost-state
	// (usage's TestClaudeScenarios checks the fork's root against it and
	// its chat spans against the root): fixed in the turn alone, the
	// root would claim a request that no turn made. Both belong together,
	// with the root's cost less the parent's carried-over total (the cost
	// ledger), so the turn is left as it is until then, and this stays.
	"fork": {
		{"live:        turn parent=invoke_agent claude-code/78e93841383c7aad status=0 gen_ai.usage.input_tokens=8620", "live counts the parent's copied request in the fork's turn"},
		{"only live:   chat claude-opus-5-5 parent=turn/4df5e39d55317f43", "live's chat span for the parent's copied request"},
	},
}

// TestImportCrossCheck: for every recorded real-client scenario, the
// import of its transcripts and the replay of its hook events give the
// same spans (IDs, names, parents, statuses, tokens, cost), apart from
// the disagreements listed in knownDisagreements, each explained.
func TestImportCrossCheck(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/claude/*/events.jsonl")
	if len(dirs) < 12 {
		t.Fatalf("only %d recorded scenarios", len(dirs))
	}
	for _, d := range dirs {
		name := filepath.Base(filepath.Dir(d))
		t.Run(name, func(t *testing.T) {
			known := knownDisagreements[name]
			seen := make([]bool, len(known))
			diffs, n := crossCheck(t, name)
			t.Logf("%s: %d live spans compared, %d differences", name, n, len(diffs))
			for _, d := range diffs {
				explained := false
				for i, k := range known {
					if strings.Contains(d, k.diff) {
						seen[i], explained = true, true
						t.Logf("known disagreement (%s):\n%s", k.why, d)
					}
				}
				if !explained {
					t.Errorf("import and replay disagree:\n%s", d)
				}
			}
			for i, k := range known {
				if !seen[i] {
					t.Errorf("the known disagreement %q (%s) is gone: update knownDisagreements", k.diff, k.why)
				}
			}
		})
	}
}
