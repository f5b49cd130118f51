package usage

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// recordedCostStates is every model's cumulative usage in every cost-state
// Claude Code wrote in the recorded scenarios (the transcripts' cost-state
// lines and api.json's runs[].cost_state), by where it was found.
func recordedCostStates(t *testing.T) map[string][]map[string]modelUseV {
	t.Helper()
	out := map[string][]map[string]modelUseV{}
	transcripts, _ := filepath.Glob("../../testdata/claude/*/transcript*.jsonl")
	for _, p := range transcripts {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, MaxLine)
		for sc.Scan() {
			var l struct {
				Type       string               `json:"type"`
				ModelUsage map[string]modelUseV `json:"modelUsage"`
			}
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Type == "cost-state" {
				out[p] = append(out[p], l.ModelUsage)
			}
		}
		f.Close()
	}
	apis, _ := filepath.Glob("../../testdata/claude/*/api.json")
	for _, p := range apis {
		var a struct {
			Runs []struct {
				CostState []struct {
					ModelUsage map[string]modelUseV `json:"modelUsage"`
				} `json:"cost_state"`
			} `json:"runs"`
		}
		b, err := os.ReadFile(p)
		if err != nil || json.Unmarshal(b, &a) != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range a.Runs {
			for _, c := range r.CostState {
				out[p] = append(out[p], c.ModelUsage)
			}
		}
	}
	return out
}

// The built-in table prices every model of the recorded scenarios as
// Claude Code 2.1.328 does: each cost-state's costUSD per model is the
// table's price of that model's tokens.
func TestTablePricesRecordedCostStates(t *testing.T) {
	prices := NewPrices(nil)
	var n int
	var worst float64
	for src, states := range recordedCostStates(t) {
		for i, st := range states {
			for model, u := range st {
				r := &request{model: model, input: u.Input, output: u.Output, cacheRead: u.CacheRead,
					cacheWrite: u.CacheWrite, cache1h: u.CacheWrite1h}
				if b := lookupBuiltin(model); b != nil && b.long != nil && longContext(model, r.input+r.cacheRead+r.cacheWrite) {
					t.Fatalf("%s #%d: %s's total is over its long-prompt threshold: a sum of requests cannot be priced as one", src, i, model)
				}
				got, ok := prices.cost(r)
				if !ok {
					t.Errorf("%s #%d: %s has no price in the table", src, i, model)
					continue
				}
				if u.CostUSD == 0 && got == 0 {
					continue
				}
				n++
				rel := math.Abs(got-u.CostUSD) / u.CostUSD
				worst = math.Max(worst, rel)
				if rel > 0.005 {
					t.Errorf("%s #%d: %s: table $%.6f, Claude Code $%.6f (%.3f%%)", src, i, model, got, u.CostUSD, rel*100)
				}
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d priced cost-state entries found in testdata/claude", n)
	}
	t.Logf("%d cost-state entries, max relative error %.3g", n, worst)
}

// Requests beyond what the recordings reach, played once through the real
// Claude Code 2.1.328 and the scripted API: its cost-state's costUSD for a
// single response. claude-haiku-5-5 bills above 100 000 prompt tokens
// (input and cache, strictly above) at its long rates; claude-opus-5-5 has
// one rate over its whole window.
func TestTableLongTiersAsClaudeCode(t *testing.T) {
	prices := NewPrices(nil)
	for _, tc := range []struct {
		model             string
		in, out, cr, cw   int64
		claudeCodeCostUSD float64
	}{
		{"claude-haiku-5-5", 99000, 10, 500, 500, 0.0099725},
		{"claude-haiku-5-5", 99000, 10, 500, 501, 0.049863124999999994},
		{"claude-opus-5-5", 300000, 10, 200000, 1000, 1.2451999999999999},
	} {
		got, ok := prices.cost(&request{model: tc.model, input: tc.in, output: tc.out, cacheRead: tc.cr, cacheWrite: tc.cw,
			longCtx: longContext(tc.model, tc.in+tc.cr+tc.cw)})
		if !ok || math.Abs(got-tc.claudeCodeCostUSD) > 1e-12 {
			t.Errorf("%+v: table $%v (known %v)", tc, got, ok)
		}
	}
}

// A transcript's response is classed long-context as it is read, by its
// own model's threshold: the haiku-5-5 response of 100 001 prompt tokens
// costs what Claude Code charged for it.
func TestLongContextReadPerModel(t *testing.T) {
	p := writeLines(t, t.TempDir(), "s.jsonl",
		`{"type":"user","promptId":"p1","message":{"content":"one"}}`,
		line("m1", "r1", "claude-haiku-5-5", 99000, 10, 500, 501, "end_turn"))
	s := &tracing.Span{Name: semconv.SpanTurn}
	finish(t, s, Ref{Scope: "turn", Path: p, PromptID: "p1"})
	if cost, ok := s.Attr(semconv.UsageCostUSD); !ok || math.Abs(cost.Float-0.049863124999999994) > 1e-12 {
		t.Errorf("turn: cost %v (%v), Claude Code charged 0.049863125", cost.Float, ok)
	}
}
