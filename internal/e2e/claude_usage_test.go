package e2e

import (
	"encoding/json"
	"math"
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
// spans, and each run's cost equal to Claude Code's cost-state. A
// compaction's call is a chat span under its compact span with the tokens
// the API declared for it; a failed attempt is an error chat span with the
// status the API answered; the chat spans' costs add up to Claude Code's
// figure; the compaction's forked agent is no subagent.
func TestClaudeUsage(t *testing.T) {
	for _, name := range []string{"one-tool", "three-tools", "usage-per-block", "subagent-foreground", "resume", "default-model", "model-haiku", "subagent-background", "tool-errors", "model-switch",
		"compact-manual", "compact-auto", "api-retry", "api-fail", "long-session", "tui"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			play, spans := playWithCCOTEL(t, name)
			checkChatSpans(t, play, spans)
			checkRunCosts(t, play, spans)
			checkSessionTotals(t, play, spans)
			checkNoForkSubagent(t, play, spans)
		})
	}
}

func checkChatSpans(t *testing.T, play *claudetest.Play, spans map[string]*tracepb.Span) {
	t.Helper()
	chats := map[string]*tracepb.Span{} // by gen_ai.response.id
	var compactions, failed []*tracepb.Span
	for _, s := range byName(spans, "chat") {
		switch {
		case s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR:
			failed = append(failed, s)
		case hasAttr(s, semconv.CompactTrigger):
			compactions = append(compactions, s)
		default:
			chats[attr(s, semconv.GenAIResponseID)] = s
		}
	}
	checkFailedAttempts(t, play, failed)
	var starts, ends []time.Duration
	turnSums := map[string][2]int64{}
	for _, r := range play.Requests {
		if r.Kind == claudetest.KindCompact && r.Response != nil {
			if len(compactions) == 0 {
				t.Errorf("no chat span for the compaction request %s", r.MsgID)
				continue
			}
			c := compactions[0]
			compactions = compactions[1:]
			checkCompactionCall(t, spans, c, r, turnSums)
			continue
		}
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
		if s.GetKind() != tracepb.Span_SPAN_KIND_CLIENT || attr(s, semconv.GenAIOperationName) != "chat" || !slices.Contains(playSessions(play), attr(s, semconv.GenAIConversationID)) {
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
	for _, c := range compactions {
		t.Errorf("compaction chat span %s, and the API saw no more compactions", c.GetName())
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

// checkCompactionCall: a compaction's model call (no assistant line: its
// numbers are the cost-state's) is a chat span under a compact span, with
// the tokens the API declared for the compaction request, compactMetadata
// and a cost; a compaction inside a turn counts in the turn.
func checkCompactionCall(t *testing.T, spans map[string]*tracepb.Span, c *tracepb.Span, r claudetest.Request, turnSums map[string][2]int64) {
	t.Helper()
	u := r.Response.Usage
	in := int64(u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens)
	if attr(c, semconv.GenAIUsageInputTokens) != strconv.FormatInt(in, 10) || attr(c, semconv.GenAIUsageOutputTokens) != strconv.Itoa(u.OutputTokens) {
		t.Errorf("compaction call: tokens %s/%s, the API declared %d/%d", attr(c, semconv.GenAIUsageInputTokens), attr(c, semconv.GenAIUsageOutputTokens), in, u.OutputTokens)
	}
	if !hasAttr(c, semconv.CompactPreTokens) || !hasAttr(c, semconv.CompactPostTokens) || !hasAttr(c, semconv.UsageCostUSD) || attr(c, semconv.GenAIRequestModel) != r.Model {
		t.Errorf("compaction call %s: pre %q post %q cost %q model %q (requested %q)", c.GetName(), attr(c, semconv.CompactPreTokens),
			attr(c, semconv.CompactPostTokens), attr(c, semconv.UsageCostUSD), attr(c, semconv.GenAIRequestModel), r.Model)
	}
	p := spans[spanHex(c.GetParentSpanId())]
	if p == nil || p.GetName() != semconv.SpanCompact {
		t.Errorf("compaction call under %s, want its compact span", nameOf(p))
		return
	}
	if attr(p, semconv.CompactPreTokens) != attr(c, semconv.CompactPreTokens) || attr(p, semconv.CompactTrigger) != attr(c, semconv.CompactTrigger) {
		t.Errorf("compact span: trigger %q pre_tokens %q; its call says %q, %q (compact_boundary)", attr(p, semconv.CompactTrigger),
			attr(p, semconv.CompactPreTokens), attr(c, semconv.CompactTrigger), attr(c, semconv.CompactPreTokens))
	}
	if turn := spans[spanHex(p.GetParentSpanId())]; turn != nil && turn.GetName() == semconv.SpanTurn {
		sum := turnSums[spanHex(turn.GetSpanId())]
		sum[0] += in
		sum[1] += int64(u.OutputTokens)
		turnSums[spanHex(turn.GetSpanId())] = sum
	}
	t.Logf("compaction (%s): chat span %s under %s, %s/%s tokens, $%s, pre %s post %s", attr(c, semconv.CompactTrigger), c.GetName(), nameOf(p),
		attr(c, semconv.GenAIUsageInputTokens), attr(c, semconv.GenAIUsageOutputTokens), attr(c, semconv.UsageCostUSD),
		attr(c, semconv.CompactPreTokens), attr(c, semconv.CompactPostTokens))
}

// checkFailedAttempts: every attempt the API failed is an error chat span
// with that HTTP status and a model, in the order they were sent.
func checkFailedAttempts(t *testing.T, play *claudetest.Play, failed []*tracepb.Span) {
	t.Helper()
	var want, got []string
	for _, r := range play.Requests {
		if r.Status != 200 && r.Kind != claudetest.KindCompact {
			want = append(want, strconv.Itoa(r.Status))
		}
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].GetStartTimeUnixNano() < failed[j].GetStartTimeUnixNano() })
	for _, s := range failed {
		got = append(got, attr(s, semconv.HTTPResponseStatusCode))
		if attr(s, semconv.GenAIRequestModel) == "" || !hasAttr(s, semconv.ErrorType) {
			t.Errorf("failed attempt %s: model %q, error.type %q", s.GetName(), attr(s, semconv.GenAIRequestModel), attr(s, semconv.ErrorType))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("failed attempts' chat spans have statuses %v, the API answered %v", got, want)
	} else if len(got) > 0 {
		t.Logf("failed attempts: %d error chat spans, statuses %v", len(got), got)
	}
}

// checkSessionTotals: over every session of the play (a /clear starts
// one), the top spans' tokens are what the API declared (compactions
// included), their cost Claude Code's own, and the chat spans' costs add
// up to it.
func checkSessionTotals(t *testing.T, play *claudetest.Play, spans map[string]*tracepb.Span) {
	t.Helper()
	var in, out int64
	for _, r := range play.Requests {
		if r.Response != nil && r.Status == 200 && !r.Aborted {
			u := r.Response.Usage
			in += int64(u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens)
			out += int64(u.OutputTokens)
		}
	}
	var gotIn, gotOut int64
	var cost, chatCost float64
	for _, s := range byName(spans, "invoke_agent claude-code") {
		gotIn += attrInt64(s, semconv.GenAIUsageInputTokens)
		gotOut += attrInt64(s, semconv.GenAIUsageOutputTokens)
		c, _ := strconv.ParseFloat(attr(s, semconv.UsageCostUSD), 64)
		cost += c
	}
	for _, s := range byName(spans, "chat") {
		c, _ := strconv.ParseFloat(attr(s, semconv.UsageCostUSD), 64)
		chatCost += c
	}
	want := 0.0
	for _, sid := range playSessions(play) {
		main, _ := play.Sandbox.Transcripts(sid)
		if totals := costStates(t, main); len(totals) > 0 {
			want += totals[len(totals)-1]
		}
	}
	if gotIn != in || gotOut != out {
		t.Errorf("sessions' tokens %d/%d, the API declared %d/%d", gotIn, gotOut, in, out)
	}
	// Every model of the scenarios is in the price table at the rates
	// Claude Code charges, so the chat spans add up to its figure in the
	// TUI too, where it writes its cost-state only when the session ends.
	if math.Abs(cost-want) > want/100 || math.Abs(chatCost-want) > want/100 {
		t.Errorf("sessions' cost $%.6f, chat spans' $%.6f, Claude Code's $%.6f", cost, chatCost, want)
	}
	turns, unpriced := turnCosts(spans)
	if unpriced > 0 {
		t.Errorf("%d turns that used tokens have no cost", unpriced)
	}
	t.Logf("sessions: %d/%d tokens (API %d/%d), cost $%.6f, chat spans $%.6f, turns $%.6f, Claude Code $%.6f (%+.2f%%)", gotIn, gotOut, in, out,
		cost, chatCost, turns, want, 100*(cost-want)/math.Max(want, 1e-12))
}

// turnCosts is the turns' claude_code.cost.usd summed, and how many turns
// that used tokens have none (a turn whose requests all failed has none).
func turnCosts(spans map[string]*tracepb.Span) (usd float64, unpriced int) {
	for _, s := range byName(spans, semconv.SpanTurn) {
		if !hasAttr(s, semconv.UsageCostUSD) {
			if attrInt64(s, semconv.GenAIUsageInputTokens) > 0 {
				unpriced++
			}
			continue
		}
		c, _ := strconv.ParseFloat(attr(s, semconv.UsageCostUSD), 64)
		usd += c
	}
	return usd, unpriced
}

// checkNoForkSubagent: the compaction's forked agent (a SubagentStop with
// agent_type "" and no SubagentStart) is no subagent: the subagent spans
// and counts are the SubagentStarts'.
func checkNoForkSubagent(t *testing.T, play *claudetest.Play, spans map[string]*tracepb.Span) {
	t.Helper()
	starts := 0
	for _, e := range play.Events {
		if e.Name() == "SubagentStart" {
			starts++
		}
	}
	var agents int
	var counted int64
	for _, s := range spans {
		if attr(s, semconv.GenAIOperationName) == semconv.OperationInvokeAgent && s.GetName() != semconv.SpanRoot {
			agents++
		}
	}
	for _, s := range byName(spans, semconv.SpanRoot) {
		counted += attrInt64(s, semconv.SessionSubagents)
	}
	if agents != starts || counted != int64(starts) {
		t.Errorf("%d subagent spans, %d counted, %d SubagentStart events", agents, counted, starts)
	}
}

// playSessions are the sessions the play's runs wrote (a /clear starts
// one), each once.
func playSessions(play *claudetest.Play) []string {
	out := []string{play.Scenario.SessionID}
	for _, r := range play.Runs {
		for _, sid := range append([]string{r.SessionID}, r.Sessions...) {
			if sid != "" && !slices.Contains(out, sid) {
				out = append(out, sid)
			}
		}
	}
	return out
}

func attrInt64(s *tracepb.Span, k string) int64 {
	n, _ := strconv.ParseInt(attr(s, k), 10, 64)
	return n
}

// checkRunCosts compares each run's claude_code.cost.usd with Claude
// Code's own accounting: the cost-state line it writes at the end of every
// run holds the session's running total, so a run costs the difference.
func checkRunCosts(t *testing.T, play *claudetest.Play, spans map[string]*tracepb.Span) {
	t.Helper()
	last := play.Runs[len(play.Runs)-1]
	if len(last.Sessions) > 0 {
		return // a /clear's sessions: checkSessionTotals
	}
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
	lines, err := claudetest.ReadJSONL(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, l := range lines {
		if l["type"] != "cost-state" {
			continue
		}
		n, _ := l["totalCostUSD"].(json.Number)
		f, _ := n.Float64()
		out = append(out, f)
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
