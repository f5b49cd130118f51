package e2e

import (
	"strings"

	"github.com/ccotel/ccotel/internal/semconv"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// expectation computes what a panel's query should return from the
// spans sent in the window, by series key.
type expectation func(spans []dspan, buckets []float64) map[string]float64

func isTop(s dspan) bool  { return s.GetName() == semconv.SpanRoot }
func isChat(s dspan) bool { return s.str(semconv.GenAIOperationName) == semconv.OperationChat }
func isTool(s dspan) bool { return s.str(semconv.GenAIOperationName) == semconv.OperationExecuteTool }

// groupSpans sums value over the spans keep selects, by label = key(span)
// ("" label: countOne total).
func groupSpans(spans []dspan, keep func(dspan) bool, label string, key func(dspan) string, value func(dspan) float64) map[string]float64 {
	out := map[string]float64{}
	for _, s := range spans {
		if !keep(s) {
			continue
		}
		k := ""
		if label != "" && key(s) != "" {
			k = label + "=" + key(s)
		}
		out[k] += value(s)
	}
	return out
}

func countOne(dspan) float64     { return 1 }
func developerOf(s dspan) string { return s.dev }

func expectCost(spans []dspan, _ []float64) map[string]float64 {
	return groupSpans(spans, func(s dspan) bool { return isTop(s) && s.has(semconv.UsageCostUSD) }, "", nil,
		func(s dspan) float64 { return s.num(semconv.UsageCostUSD) })
}

func isRoot(s dspan) bool { return isTop(s) && !s.has(semconv.SessionRun) }

func expectSessions(spans []dspan, _ []float64) map[string]float64 {
	return groupSpans(spans, isRoot, "", nil, countOne)
}

func expectDevCost(spans []dspan, _ []float64) map[string]float64 {
	return groupSpans(spans, func(s dspan) bool { return isTop(s) && s.has(semconv.UsageCostUSD) }, "developer", developerOf,
		func(s dspan) float64 { return s.num(semconv.UsageCostUSD) })
}

func expectDevSessions(spans []dspan, _ []float64) map[string]float64 {
	return groupSpans(spans, isRoot, "developer", developerOf, countOne)
}

func byModel(s dspan) string { return s.str(semconv.GenAIResponseModel) }

func expectModelCost(spans []dspan, _ []float64) map[string]float64 {
	return groupSpans(spans, func(s dspan) bool { return isChat(s) && s.has(semconv.UsageCostUSD) }, "gen_ai_response_model", byModel,
		func(s dspan) float64 { return s.num(semconv.UsageCostUSD) })
}

func expectTokens(key string) expectation {
	return func(spans []dspan, _ []float64) map[string]float64 {
		return groupSpans(spans, func(s dspan) bool { return isChat(s) && s.has(key) }, "gen_ai_response_model", byModel,
			func(s dspan) float64 { return s.num(key) })
	}
}

// expectTurnTime is a turn time breakdown, in seconds.
func expectTurnTime(key string) expectation {
	return func(spans []dspan, _ []float64) map[string]float64 {
		return groupSpans(spans, func(s dspan) bool { return s.GetName() == semconv.SpanTurn && s.has(key) }, "", nil,
			func(s dspan) float64 { return s.num(key) / 1000 })
	}
}

func byTool(s dspan) string { return s.str(semconv.GenAIToolName) }
func failed(s dspan) bool   { return s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR }

func expectToolCalls(spans []dspan, _ []float64) map[string]float64 {
	return groupSpans(spans, isTool, "gen_ai_tool_name", byTool, countOne)
}

func expectToolErrorRate(spans []dspan, _ []float64) map[string]float64 {
	calls := expectToolCalls(spans, nil)
	errs := groupSpans(spans, func(s dspan) bool { return isTool(s) && failed(s) }, "gen_ai_tool_name", byTool, countOne)
	out := map[string]float64{}
	for k, n := range calls {
		out[k] = errs[k] / n
	}
	return out
}

// expectQuantile is histogram_quantile over the span-metrics buckets the
// durations of the spans keep selects fall into, by label = key(span).
func expectQuantile(q float64, keep func(dspan) bool, label string, key func(dspan) string) expectation {
	return func(spans []dspan, bounds []float64) map[string]float64 {
		durs := map[string][]float64{}
		for _, s := range spans {
			if keep(s) {
				k := label + "=" + key(s)
				durs[k] = append(durs[k], float64(s.GetEndTimeUnixNano()-s.GetStartTimeUnixNano())/1e6)
			}
		}
		out := map[string]float64{}
		for k, ds := range durs {
			counts := make([]float64, len(bounds))
			for i, b := range bounds {
				for _, d := range ds {
					if d <= b {
						counts[i]++
					}
				}
			}
			out[k] = bucketQuantile(q, bounds, counts)
		}
		return out
	}
}

func expectSubagents(spans []dspan, _ []float64) map[string]float64 {
	return groupSpans(spans, func(s dspan) bool {
		return strings.HasPrefix(s.GetName(), semconv.OperationInvokeAgent+" ") && !isTop(s)
	}, "gen_ai_agent_name", func(s dspan) string { return s.str(semconv.GenAIAgentName) }, countOne)
}

func expectCompactions(spans []dspan, _ []float64) map[string]float64 {
	return groupSpans(spans, func(s dspan) bool { return s.GetName() == semconv.SpanCompact }, "claude_code_compact_trigger",
		func(s dspan) string { return s.str(semconv.CompactTrigger) }, countOne)
}

// panelExpectations names, per "panel title/refId", what its query must
// return. A panel added to the dashboard without countOne here fails the test.
var panelExpectations = map[string]expectation{
	"Cost/A":                       expectCost,
	"Sessions/A":                   expectSessions,
	"Cost per developer/A":         expectDevCost,
	"Sessions per developer/A":     expectDevSessions,
	"Cost per developer per day/A": expectDevCost,
	"Sessions per day/A":           expectDevSessions,
	"Cost by model/A":              expectModelCost,
	"Tokens by model/A":            expectTokens(semconv.GenAIUsageInputTokens),
	"Tokens by model/B":            expectTokens(semconv.GenAIUsageOutputTokens),
	"Tokens by model/C":            expectTokens(semconv.GenAIUsageCacheReadInputTokens),
	"Tokens by model/D":            expectTokens(semconv.GenAIUsageCacheCreationInputTokens),
	"Where the time goes/A":        expectTurnTime(semconv.TurnModelMs),
	"Where the time goes/B":        expectTurnTime(semconv.TurnToolMs),
	"Where the time goes/C":        expectTurnTime(semconv.TurnOtherMs),
	"Tool calls/A":                 expectToolCalls,
	"Tool error rate/A":            expectToolErrorRate,
	"Tool duration p50/A":          expectQuantile(0.5, isTool, "gen_ai_tool_name", byTool),
	"Tool duration p95/A":          expectQuantile(0.95, isTool, "gen_ai_tool_name", byTool),
	"Model response time p95/A":    expectQuantile(0.95, isChat, "gen_ai_response_model", byModel),
	"Subagents/A":                  expectSubagents,
	"Compactions/A":                expectCompactions,
}
