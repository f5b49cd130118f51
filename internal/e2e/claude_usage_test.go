package e2e

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/claudetest"
	"github.com/ccotel/ccotel/internal/semconv"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// chatSlack bounds each chat span's start and end against the times the
// scripted API saw (the request arriving, its last content block sent).
// The median over a scenario must be within chatMedian. Claude Code stamps
// a request's transcript line when it sends it and each response line when
// its content block ends; measured drift (internal/claudetest) is a few ms
// at rest and up to a few hundred under load, which CI's parallel test
// packages produce, hence the per-span allowance.
const (
	chatMedian = 250 * time.Millisecond
	chatSlack  = 1500 * time.Millisecond
)

// TestClaudeUsage plays scenarios with the real Claude Code and checks
// what ccotel derived from its transcripts against what the scripted API
// declared and what Claude Code itself accounted: one chat span per API
// response with its tokens, model, finish reason and parent, its time
// against the server's clock, each turn's tokens as the sum of its chat
// spans, and each run's cost equal to Claude Code's cost-state.
func TestClaudeUsage(t *testing.T) {
	for _, name := range []string{"one-tool", "three-tools", "usage-per-block", "subagent-foreground", "resume", "default-model", "model-haiku", "subagent-background", "tool-errors", "model-switch"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			play, spans := playWithCCOTEL(t, name)
			checkChatSpans(t, play, spans)
			checkRunCosts(t, play, spans)
		})
	}
}

func checkChatSpans(t *testing.T, play *claudetest.Play, spans map[string]*tracepb.Span) {
	t.Helper()
	chats := map[string]*tracepb.Span{} // by gen_ai.response.id
	for _, s := range byName(spans, "chat") {
		chats[attr(s, semconv.GenAIResponseID)] = s
	}
	var starts, ends []time.Duration
	turnSums := map[string][2]int64{}
	for _, r := range play.Requests {
		if r.Response == nil || r.MsgID == "" {
			continue
		}
		s, ok := chats[r.MsgID]
		if !ok {
			t.Errorf("no chat span for the API's response %s (%s request %d)", r.MsgID, r.Kind, r.Index)
			continue
		}
		delete(chats, r.MsgID)
		u := r.Response.Usage
		wantIn := int64(u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens)
		if got := attr(s, semconv.GenAIUsageInputTokens); got != strconv.FormatInt(wantIn, 10) {
			t.Errorf("%s: input tokens %s, the API declared %d (input + cache read + cache creation)", r.MsgID, got, wantIn)
		}
		if got := attr(s, semconv.GenAIUsageOutputTokens); got != strconv.Itoa(u.OutputTokens) {
			t.Errorf("%s: output tokens %s, the API declared %d", r.MsgID, got, u.OutputTokens)
		}
		if got := attr(s, semconv.GenAIResponseModel); got != r.Response.Model {
			t.Errorf("%s: response model %q, the API declared %q", r.MsgID, got, r.Response.Model)
		}
		if s.GetKind() != tracepb.Span_SPAN_KIND_CLIENT || attr(s, semconv.GenAIOperationName) != "chat" || attr(s, semconv.GenAIConversationID) != play.Scenario.SessionID {
			t.Errorf("%s: kind %v, operation %q, conversation %q", r.MsgID, s.GetKind(), attr(s, semconv.GenAIOperationName), attr(s, semconv.GenAIConversationID))
		}
		parent := spans[spanHex(s.GetParentSpanId())]
		isTurn := parent != nil && parent.GetName() == "turn"
		isSubagent := parent != nil && strings.HasPrefix(parent.GetName(), "invoke_agent ") && parent.GetName() != "invoke_agent claude-code"
		if (r.Kind == claudetest.KindSubagent && !isSubagent) || (r.Kind != claudetest.KindSubagent && !isTurn) {
			t.Errorf("%s (%s request): parent %v, want its turn (or its subagent's span)", r.MsgID, r.Kind, nameOf(parent))
		} else {
			sum := turnSums[spanHex(parent.GetSpanId())]
			sum[0] += wantIn
			sum[1] += int64(u.OutputTokens)
			turnSums[spanHex(parent.GetSpanId())] = sum
		}
		start := time.Unix(0, int64(s.GetStartTimeUnixNano()))
		end := time.Unix(0, int64(s.GetEndTimeUnixNano()))
		ds, de := start.Sub(r.Received), end.Sub(r.ContentDone)
		starts, ends = append(starts, abs(ds)), append(ends, abs(de))
		if abs(ds) > chatSlack || abs(de) > chatSlack {
			t.Errorf("%s: chat span %s..%s, the API received the request at %s and finished its content at %s (Δ %v, %v)",
				r.MsgID, start.Format(time.StampMilli), end.Format(time.StampMilli), r.Received.Format(time.StampMilli), r.ContentDone.Format(time.StampMilli), ds, de)
		}
	}
	for id := range chats {
		t.Errorf("chat span for %q, which the API never sent", id)
	}
	if ms, me := median(starts), median(ends); ms > chatMedian || me > chatMedian {
		t.Errorf("median drift of chat spans from the API's clock: start %v, end %v (want ≤ %v)", ms, me, chatMedian)
	} else {
		t.Logf("%d chat spans: median drift start %v, end %v; max %v, %v", len(starts), ms, me, slices.Max(append(starts, 0)), slices.Max(append(ends, 0)))
	}
	for id, sum := range turnSums {
		s := spans[id]
		if attr(s, semconv.GenAIUsageInputTokens) != strconv.FormatInt(sum[0], 10) || attr(s, semconv.GenAIUsageOutputTokens) != strconv.FormatInt(sum[1], 10) {
			t.Errorf("%s: tokens in=%s out=%s, its chat spans sum to %d / %d", s.GetName(), attr(s, semconv.GenAIUsageInputTokens), attr(s, semconv.GenAIUsageOutputTokens), sum[0], sum[1])
		}
	}
}

// checkRunCosts compares each run's claude_code.cost.usd with Claude
// Code's own accounting: the cost-state line it writes at the end of every
// run holds the session's running total, so a run costs the difference.
func checkRunCosts(t *testing.T, play *claudetest.Play, spans map[string]*tracepb.Span) {
	t.Helper()
	last := play.Runs[len(play.Runs)-1]
	totals := costStates(t, last.Transcript)
	if len(totals) != len(play.Runs) {
		t.Fatalf("%d cost-state lines for %d runs in %s", len(totals), len(play.Runs), last.Transcript)
	}
	runs := byName(spans, "invoke_agent claude-code") // root first, then resumes by run number
	sort.SliceStable(runs, func(i, j int) bool { return attr(runs[i], semconv.SessionRun) < attr(runs[j], semconv.SessionRun) })
	if len(runs) != len(totals) {
		t.Fatalf("%d session spans (root and runs), %d runs", len(runs), len(totals))
	}
	prev := 0.0
	for i, s := range runs {
		want := totals[i] - prev
		prev = totals[i]
		got, err := strconv.ParseFloat(attr(s, semconv.UsageCostUSD), 64)
		if err != nil || math.Abs(got-want) > 0.01*want {
			t.Errorf("run %d: claude_code.cost.usd %q, Claude Code accounted $%.6f", i, attr(s, semconv.UsageCostUSD), want)
			continue
		}
		t.Logf("run %d: $%.6f, Claude Code's own figure $%.6f", i, got, want)
	}
}

// costStates returns totalCostUSD of every cost-state line, in order.
func costStates(t *testing.T, path string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var l struct {
			Type  string  `json:"type"`
			Total float64 `json:"totalCostUSD"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Type == "cost-state" {
			out = append(out, l.Total)
		}
	}
	return out
}

func nameOf(s *tracepb.Span) string {
	if s == nil {
		return "none"
	}
	return s.GetName()
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
