// Package render turns spans and numbers into text for people: the
// indented span tree of `ccotel replay --tree`, durations, ages and byte
// sizes as status and doctor print them.
package render

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// TreeAttrs are the attributes WriteTree shows after a span's name, in
// this order, when present (short names in TreeLabels).
var TreeAttrs = []string{
	semconv.SessionSource,
	semconv.SessionRun,
	semconv.TurnIndex,
	semconv.GenAIRequestModel,
	semconv.GenAIResponseModel,
	semconv.GenAIAgentID,
	semconv.ToolSubagentType,
	semconv.SessionTurns,
	semconv.SessionToolCalls,
	semconv.SessionToolErrors,
	semconv.GenAIUsageInputTokens,
	semconv.GenAIUsageOutputTokens,
	semconv.UsageCostUSD,
	semconv.CostUnpricedModels,
	semconv.Timing,
	semconv.SessionStartMissed,
	semconv.TurnStartMissed,
	semconv.ToolPreMissed,
	semconv.SubagentStartMissed,
	semconv.SessionLateEvents,
}

// TreeLabels shortens attribute keys in the tree.
var TreeLabels = map[string]string{
	semconv.SessionSource:          "source",
	semconv.SessionRun:             "run",
	semconv.TurnIndex:              "#",
	semconv.GenAIRequestModel:      "model",
	semconv.GenAIResponseModel:     "model",
	semconv.GenAIAgentID:           "id",
	semconv.ToolSubagentType:       "subagent",
	semconv.SessionTurns:           "turns",
	semconv.SessionToolCalls:       "tools",
	semconv.SessionToolErrors:      "errors",
	semconv.GenAIUsageInputTokens:  "in",
	semconv.GenAIUsageOutputTokens: "out",
	semconv.UsageCostUSD:           "$",
	semconv.CostUnpricedModels:     "unpriced",
	semconv.Timing:                 "timing",
	semconv.SessionStartMissed:     "start-missed",
	semconv.TurnStartMissed:        "start-missed",
	semconv.ToolPreMissed:          "pre-missed",
	semconv.SubagentStartMissed:    "start-missed",
	semconv.SessionLateEvents:      "late",
}

// Tree writes spans as an indented tree, children under their parent
// sorted by start time, one line per span:
//
//	invoke_agent claude-code  1m02s  source=startup turns=2
//	├─ turn  12.410s  #=1 in=18432 out=912
//	│  ├─ execute_tool Read  12ms
//	│  └─ execute_tool Bash  1.204s  ERROR tool_error
//	└─ turn  3.002s  INCOMPLETE interrupted  #=2
//
// A span whose parent is not among spans is printed at the top level
// (with "(parent …)" when it has one), so a partial trace still reads.
// Each line also shows the span's start relative to the earliest span.
func Tree(w io.Writer, spans []*tracing.Span) error {
	byID := make(map[tracing.SpanID]*tracing.Span, len(spans))
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	children := map[tracing.SpanID][]*tracing.Span{}
	var roots []*tracing.Span
	var origin time.Time
	for _, s := range spans {
		if origin.IsZero() || s.Start.Before(origin) {
			origin = s.Start
		}
		if p, ok := byID[s.ParentSpanID]; ok && s.ParentSpanID.IsValid() && p != s {
			children[s.ParentSpanID] = append(children[s.ParentSpanID], s)
		} else {
			roots = append(roots, s)
		}
	}
	sortSpans(roots)
	tw := &treeWriter{w: w, children: children, origin: origin, seen: map[tracing.SpanID]bool{}}
	for _, r := range roots {
		tw.write(r, "", "", true)
	}
	return tw.err
}

type treeWriter struct {
	w        io.Writer
	children map[tracing.SpanID][]*tracing.Span
	origin   time.Time
	seen     map[tracing.SpanID]bool
	err      error
}

func (tw *treeWriter) write(s *tracing.Span, prefix, branch string, top bool) {
	if tw.seen[s.SpanID] {
		return // a cycle or a duplicate ID: print each span once
	}
	tw.seen[s.SpanID] = true
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %s%s%s  %s", "+"+Duration(s.Start.Sub(tw.origin)), prefix, branch, s.Name, Duration(s.End.Sub(s.Start)))
	if s.StatusCode == tracing.StatusError {
		b.WriteString("  ERROR")
		if a, ok := s.Attr(semconv.ErrorType); ok {
			b.WriteString(" " + a.Str)
		}
	}
	if a, ok := s.Attr(semconv.Incomplete); ok && a.Bool {
		b.WriteString("  INCOMPLETE")
		if r, ok := s.Attr(semconv.IncompleteReason); ok {
			b.WriteString(" " + r.Str)
		}
	}
	if top && s.ParentSpanID.IsValid() {
		b.WriteString("  (parent " + s.ParentSpanID.String() + ")")
	}
	var attrs []string
	shown := map[string]bool{}
	for _, k := range TreeAttrs {
		a, ok := s.Attr(k)
		if !ok {
			continue
		}
		text := TreeLabels[k] + "=" + attrText(a)
		if k == semconv.UsageCostUSD && a.Type == "float" {
			text = "$" + strconv.FormatFloat(a.Float, 'f', 4, 64)
		}
		if !shown[text] { // e.g. the same request and response model
			shown[text] = true
			attrs = append(attrs, text)
		}
	}
	if len(attrs) > 0 {
		b.WriteString("  " + strings.Join(attrs, " "))
	}
	if bd := tw.breakdown(s); bd != "" {
		b.WriteString("  " + bd)
	}
	switch n := len(s.Events) + s.DroppedEvents; n {
	case 0:
	case 1:
		b.WriteString("  [1 event]")
	default:
		fmt.Fprintf(&b, "  [%d events]", n)
	}
	b.WriteByte('\n')
	if tw.err == nil {
		_, tw.err = io.WriteString(tw.w, b.String())
	}
	kids := tw.children[s.SpanID]
	sortSpans(kids)
	childPrefix := prefix
	switch branch {
	case "├─ ":
		childPrefix += "│  "
	case "└─ ":
		childPrefix += "   "
	}
	for i, c := range kids {
		br := "├─ "
		if i == len(kids)-1 {
			br = "└─ "
		}
		tw.write(c, childPrefix, br, false)
	}
}

// breakdown renders where a turn's (subagent's, session's) time went, in
// percent: model (its chat spans), tools (tool_use to tool_result), of
// which permission prompts (its tool spans' permission wait), and the
// rest. "" when the span has no breakdown.
func (tw *treeWriter) breakdown(s *tracing.Span) string {
	m, ok := s.Attr(semconv.TurnModelMs)
	if !ok {
		return ""
	}
	t, _ := s.Attr(semconv.TurnToolMs)
	o, _ := s.Attr(semconv.TurnOtherMs)
	var wait int64
	for _, c := range tw.children[s.SpanID] {
		if a, ok := c.Attr(semconv.ToolPermissionWaitMs); ok {
			wait += a.Int
		}
	}
	wait = min(wait, t.Int)
	total := m.Int + t.Int + o.Int
	if total <= 0 {
		return ""
	}
	pct := func(v int64) string { return strconv.FormatInt((v*100+total/2)/total, 10) + "%" }
	parts := []string{"model " + pct(m.Int), "tools " + pct(t.Int-wait)}
	if wait > 0 {
		parts = append(parts, "permission "+pct(wait))
	}
	parts = append(parts, "other "+pct(o.Int))
	return "[" + strings.Join(parts, " · ") + "]"
}

func sortSpans(s []*tracing.Span) {
	sort.SliceStable(s, func(i, j int) bool {
		if !s[i].Start.Equal(s[j].Start) {
			return s[i].Start.Before(s[j].Start)
		}
		return s[i].Name < s[j].Name
	})
}

func attrText(a tracing.Attr) string {
	switch a.Type {
	case "int":
		return strconv.FormatInt(a.Int, 10)
	case "float":
		return strconv.FormatFloat(a.Float, 'f', -1, 64)
	case "bool":
		return strconv.FormatBool(a.Bool)
	case "strings":
		return strings.Join(a.Strings, ",")
	}
	return a.Str
}

// Duration renders a duration for people: 0s, 850µs, 12ms, 1.204s,
// 1m02s, 1h05m.
func Duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d == 0:
		s = "0s"
	case d < time.Millisecond:
		s = strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		s = strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		s = strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		s = fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		d = d.Round(time.Minute)
		s = fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	if neg {
		return "-" + s
	}
	return s
}
