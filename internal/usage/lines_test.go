package usage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lineTypesTranscript is one turn with a tool call, in every line type a
// scan handles: the prompt, an api-request, the response calling a tool,
// the tool's result, the final response, Claude Code's stop-hook summary
// and a cost-state line ending the run.
var lineTypesTranscript = strings.Join([]string{
	`{"type":"user","sessionId":"s-1","promptId":"p-1","timestamp":"2026-07-29T08:00:00.000Z","message":{"role":"user","content":"hi"}}`,
	`{"type":"api-request","sessionId":"s-1","id":"ar-1","timestamp":"2026-07-29T08:00:01.000Z"}`,
	`{"type":"assistant","sessionId":"s-1","requestRef":"ar-1","requestId":"req_1","timestamp":"2026-07-29T08:00:03.000Z","message":{"id":"msg_1","model":"claude-sonnet-4-5-20250929","stop_reason":"tool_use","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{}}],"usage":{"input_tokens":5,"output_tokens":7}}}`,
	`{"type":"user","sessionId":"s-1","promptId":"p-1","timestamp":"2026-07-29T08:00:06.000Z","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}]}}`,
	`{"type":"assistant","sessionId":"s-1","requestId":"req_2","timestamp":"2026-07-29T08:00:08.000Z","message":{"id":"msg_2","model":"claude-sonnet-4-5-20250929","stop_reason":"tool_use","content":[{"type":"text","text":"done"}],"usage":{"input_tokens":6,"output_tokens":9}}}`,
	`{"type":"system","subtype":"stop_hook_summary","sessionId":"s-1","timestamp":"2026-07-29T08:00:09.000Z"}`,
	`{"type":"cost-state","totalCostUSD":0.5,"modelUsage":{"claude-sonnet-4-5-20250929":{"costUSD":0.5}}}`,
}, "\n") + "\n"

// Each line type's handler, in a turn's read and in a whole-session read
// (which decodes only the lines holding a lineTypes marker).
func TestLineTypeHandlers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonl")
	if err := os.WriteFile(path, []byte(lineTypesTranscript), 0o600); err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { return time.Date(2026, 7, 29, 8, 0, 0, 0, time.UTC).Add(mustDuration(t, s)) }
	for _, tc := range []struct {
		name string
		o    scanOpts
	}{
		{"turn", scanOpts{turn: &turnFilter{promptID: "p-1"}}},
		{"session", scanOpts{}},
		{"run", scanOpts{stopAtRunEnd: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := scanWith(path, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if sc.sessionID != "s-1" || len(sc.order) != 2 || sc.malformed != 0 {
				t.Fatalf("session %q, %d requests, %d malformed", sc.sessionID, len(sc.order), sc.malformed)
			}
			// api-request: the first request starts when it was sent;
			// the second, without one, at its trigger (the tool result).
			r1, r2 := sc.reqs[sc.order[0]], sc.reqs[sc.order[1]]
			if !r1.start.Equal(at("1s")) || r1.estimated || !r1.end.Equal(at("3s")) {
				t.Errorf("request 1: %v–%v estimated %v", r1.start, r1.end, r1.estimated)
			}
			if !r2.start.Equal(at("6s")) || !r2.estimated {
				t.Errorf("request 2: start %v estimated %v, want the tool result's time", r2.start, r2.estimated)
			}
			// user: the tool result closes the tool's interval.
			if iv := sc.tools["toolu_1"]; len(sc.toolIDs) != 1 || iv == nil || !iv.start.Equal(at("3s")) || !iv.end.Equal(at("6s")) {
				t.Errorf("tools %v %+v", sc.toolIDs, iv)
			}
			// system: the stop-hook summary marks a turn's end.
			if want := tc.o.turn != nil; sc.stopMarker != want {
				t.Errorf("stopMarker %v, want %v", sc.stopMarker, want)
			}
			// cost-state: the run's totals, and the end of a run's read.
			if len(sc.costs) != 1 || sc.costs[0].total != 0.5 || sc.runEnded != tc.o.stopAtRunEnd {
				t.Errorf("costs %+v, run ended %v", sc.costs, sc.runEnded)
			}
		})
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
