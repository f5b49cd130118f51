package usage

import (
	"crypto/sha256"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// Chat spans (one per API response) and the time breakdown of a turn or
// subagent: where its time went between the model and the tools.

// chatSpans returns a span per API attempt of reqs (a turn's or a
// subagent's), children of s. Their IDs derive from the session and the
// response, so a span finished twice yields the same spans.
func (f *finisher) chatSpans(s *tracing.Span, res *result, led *ledger) []*tracing.Span {
	conv := conversation(s)
	if conv == "" && res.main != nil {
		conv = res.main.sessionID
	}
	var out []*tracing.Span
	folded := 0
	for _, r := range res.reqs {
		if r.folded > 0 {
			folded += r.folded // summed past maxRequests (scan.add)
			continue
		}
		if r.start.IsZero() || r.end.IsZero() {
			continue // no timestamps: no place in time for a span
		}
		if len(out) == maxChatSpans {
			folded++ // counted on s (its tokens, cost, api_requests) all the same
			continue
		}
		if c := f.chatSpan(s, s.SpanID, conv, r, led); c != nil {
			out = append(out, c)
		}
	}
	if folded > 0 {
		s.SetAttr(tracing.Int(semconv.UsageChatSpansFolded, int64(folded)))
	}
	return out
}

// conversation is the session id of s.
func conversation(s *tracing.Span) string {
	a, _ := s.Attr(semconv.GenAIConversationID)
	return a.Str
}

// chatSpan is the span of request r under parent, in s's trace; nil for
// a request without timestamps (no place in time for a span).
func (f *finisher) chatSpan(s *tracing.Span, parent tracing.SpanID, conv string, r *request, led *ledger) *tracing.Span {
	if r.start.IsZero() || r.end.IsZero() {
		return nil
	}
	model := r.model
	c := &tracing.Span{
		TraceID:      s.TraceID,
		SpanID:       chatSpanID(conv, r.key),
		ParentSpanID: parent,
		Name:         strings.TrimSpace(semconv.SpanChat + " " + model),
		Kind:         tracing.KindClient,
		Start:        r.start,
		End:          r.end,
	}
	c.Attrs = append(c.Attrs,
		tracing.String(semconv.GenAIOperationName, semconv.OperationChat),
		tracing.String(semconv.GenAIProviderName, semconv.ProviderAnthropic))
	if conv != "" {
		c.SetAttr(tracing.String(semconv.GenAIConversationID, conv))
	}
	if model != "" {
		c.SetAttr(tracing.String(semconv.GenAIRequestModel, model))
		if !r.failed {
			c.SetAttr(tracing.String(semconv.GenAIResponseModel, model))
		}
	}
	if r.msgID != "" {
		c.SetAttr(tracing.String(semconv.GenAIResponseID, r.msgID))
	}
	if r.reqID != "" {
		c.SetAttr(tracing.String(semconv.ChatRequestID, r.reqID))
	}
	if r.stop != "" && !r.failed {
		c.SetAttr(tracing.Strings(semconv.GenAIResponseFinishReasons, r.stop))
	}
	if r.estimated {
		c.SetAttr(tracing.String(semconv.Timing, semconv.TimingEstimated))
	}
	if r.resend > 0 {
		c.SetAttr(tracing.Int(semconv.HTTPRequestResendCount, r.resend))
	}
	if r.compact != nil {
		compactAttrs(c, r.compact)
	}
	if r.failed {
		failedAttrs(c, r)
		return c
	}
	var t tally
	t.add(f.prices, led, r)
	t.set(c)
	if t.costKnown {
		setCost(c, t.cost, t.cc)
	} else {
		c.SetAttr(tracing.Strings(semconv.CostUnpricedModels, t.unpriced...))
	}
	return c
}

// failedAttrs marks the span of a failed attempt: an error, with its HTTP
// status and the API's error type (the status when the type is not
// known), and the wait Claude Code let pass before trying again.
func failedAttrs(c *tracing.Span, r *request) {
	kind := r.errType
	if kind == "" && r.status > 0 {
		kind = strconv.FormatInt(r.status, 10)
	}
	if kind == "" {
		kind = semconv.Unknown
	}
	c.StatusCode = tracing.StatusError
	c.StatusMessage = kind
	if r.status > 0 {
		c.StatusMessage = strconv.FormatInt(r.status, 10) + " " + kind
		c.SetAttr(tracing.Int(semconv.HTTPResponseStatusCode, r.status))
	}
	c.SetAttr(tracing.String(semconv.ErrorType, kind))
	if r.backoffMs > 0 {
		c.SetAttr(tracing.Int(semconv.RequestRetryInMs, r.backoffMs))
	}
}

// compactAttrs are what a compaction's call says of it (compactMetadata).
func compactAttrs(c *tracing.Span, m *compactV) {
	if m.Trigger != "" {
		c.SetAttr(tracing.String(semconv.CompactTrigger, m.Trigger))
	}
	c.SetAttr(tracing.Int(semconv.CompactPreTokens, m.PreTokens))
	c.SetAttr(tracing.Int(semconv.CompactPostTokens, m.PostTokens))
	c.SetAttr(tracing.Int(semconv.CompactDurationMs, m.DurationMs))
}

// compactionSpans are the chat spans of a session's or run's compactions
// (top is its top span), each under its compact span: the i-th of the
// run is the session's (ref.CompactBase+i+1)-th, when the hook saw as
// many as the transcript holds. Otherwise, and for a compaction inside a
// turn whose trace is the turn's own (trace_split = "turn"), the call
// goes under the top span.
func (f *finisher) compactionSpans(top *tracing.Span, ref *Ref, calls []*request, led *ledger) []*tracing.Span {
	conv := conversation(top)
	seen, _ := top.Attr(semconv.SessionCompactions)
	split, _ := top.Attr(semconv.SessionTraceSplit)
	var out []*tracing.Span
	for i, r := range calls {
		parent := top.SpanID
		if seen.Int == int64(len(calls)) && conv != "" && (split.Str == "" || r.compact.Trigger == "manual") {
			parent = CompactSpanID(conv, ref.CompactBase+i+1)
		}
		if c := f.chatSpan(top, parent, conv, r, led); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// maxChatSpans bounds the chat spans of one span: a turn with 100 000
// API responses would otherwise carry 100 000 spans (hundreds of MB in
// the flusher, and one huge request). The first ones are kept; the
// responses past them are counted in the span's totals and in
// claude_code.chat_spans_folded.
const maxChatSpans = 1000

// chatSpanID derives a chat span's ID from the session and the response.
func chatSpanID(conv, key string) tracing.SpanID {
	h := sha256.Sum256([]byte("ccotel chat\x00" + conv + "\x00" + key))
	var id tracing.SpanID
	copy(id[:], h[:8])
	if !id.IsValid() {
		id[7] = 1
	}
	return id
}

// breakdown sets the time breakdown of s from its transcript lines (and
// extra requests: compactions): model time (the union of its requests,
// failed attempts and the back-off after them included), tool time (the union of its tool
// calls, tool_use to tool_result) and what is left of s's duration.
func (f *finisher) breakdown(s *tracing.Span, sc *scan, extra []*request) {
	var model, tools, both []interval
	reqs := extra
	for _, k := range sc.order {
		reqs = append(reqs, sc.reqs[k])
	}
	for _, r := range reqs {
		if !r.start.IsZero() && !r.end.IsZero() {
			model = append(model, interval{r.start, r.end})
			if r.backoffMs > 0 {
				// Waiting to try again is waiting on the model.
				model = append(model, interval{r.end, r.end.Add(time.Duration(r.backoffMs) * time.Millisecond)})
			}
		}
	}
	for _, id := range sc.toolIDs {
		if iv := sc.tools[id]; !iv.end.IsZero() && !iv.start.IsZero() {
			tools = append(tools, *iv)
		}
	}
	if len(model) == 0 && len(tools) == 0 && sc.foldedModel == 0 {
		return
	}
	both = append(append(both, model...), tools...)
	mm, tm, all := unionMs(model), unionMs(tools), unionMs(both)
	// Responses folded past maxRequests: their time, summed (one at a
	// time, so about their union).
	mm += sc.foldedModel.Milliseconds()
	all += sc.foldedModel.Milliseconds()
	s.SetAttr(tracing.Int(semconv.TurnModelMs, mm))
	s.SetAttr(tracing.Int(semconv.TurnToolMs, tm))
	if !s.End.IsZero() && !s.Start.IsZero() {
		s.SetAttr(tracing.Int(semconv.TurnOtherMs, max(0, s.End.Sub(s.Start).Milliseconds()-all)))
	}
}

// unionMs is the length of the union of intervals, in milliseconds.
func unionMs(ivs []interval) int64 {
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].start.Before(ivs[j].start) })
	var total time.Duration
	var cur interval
	for i, iv := range ivs {
		if iv.end.Before(iv.start) {
			continue
		}
		if i == 0 || iv.start.After(cur.end) {
			total = addSat(total, cur.end.Sub(cur.start))
			cur = iv
			continue
		}
		if iv.end.After(cur.end) {
			cur.end = iv.end
		}
	}
	return addSat(total, cur.end.Sub(cur.start)).Milliseconds()
}

// addSat adds two non-negative durations, saturating instead of
// overflowing: a transcript's timestamps are the client's to write, and
// intervals centuries long (time.Sub saturates at ~292 years) must not
// add up to a negative total.
func addSat(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
