package usage

import (
	"time"
)

// API attempts. Claude Code writes an api-request line per attempt
// (2.1.328), a system api_error line per failure it retries (the HTTP
// status, the request id, the wait before the next attempt), assistant
// lines for the attempt that was answered, and an assistant error line
// (isApiErrorMessage) for a request that failed for good. Some failures
// leave no line of their own: a 400 it retries at once with fewer beta
// headers (the next api-request follows), and the 400 "prompt is too long"
// that makes it compact (a compact_boundary follows). Each failed attempt
// becomes a request without usage: an error chat span, and model time in
// the breakdown (with the back-off after it).

// attempt is an api-request line not answered yet.
type attempt struct {
	id     string
	start  time.Time
	model  string
	resend int64 // attempts before it in its retry chain
}

// attempts is a scan's view of the requests in flight: the last attempt
// sent and not answered, and the failed attempts of the current chain
// that no line explained (they take the status of the chain's final
// error).
type attempts struct {
	pending *attempt
	silent  []*request
	resends int64 // failed attempts so far in the current chain
}

// attemptSent: an api-request line. An attempt still pending was
// answered by nothing: it failed and was retried at once.
func (sc *scan) attemptSent(e *entry, t time.Time) {
	a := &sc.attempts
	if a.pending != nil {
		a.silent = append(a.silent, sc.failAttempt(t, 0, ""))
	}
	model := e.RequestedModel
	if e.Params != nil && e.Params.Model != "" {
		model = e.Params.Model
	}
	a.pending = &attempt{id: e.ID, start: t, model: model, resend: a.resends}
}

// failAttempt ends the pending attempt as failed at end and records it.
func (sc *scan) failAttempt(end time.Time, status int64, kind string) *request {
	a := &sc.attempts
	p := a.pending
	a.pending = nil
	a.resends++
	r := &request{key: "#attempt" + p.id, model: p.model, start: p.start, end: end, failed: true, noUsage: true,
		status: status, errType: kind, resend: p.resend}
	if end.Before(p.start) {
		r.end = p.start
	}
	if sc.reqs == nil {
		sc.reqs = map[string]*request{}
	}
	if _, ok := sc.reqs[r.key]; !ok {
		sc.order = append(sc.order, r.key)
	}
	sc.reqs[r.key] = r
	return r
}

// attemptFailed: a system api_error line, a failure Claude Code retries.
func (sc *scan) attemptFailed(e *entry) {
	if sc.attempts.pending == nil {
		return
	}
	r := sc.failAttempt(e.time(), e.Error.status, e.Error.kind)
	if e.Error.requestID != "" {
		r.reqID = e.Error.requestID
	}
	r.backoffMs = max(e.RetryInMs, 0)
	sc.chainStatus(r.status, r.errType)
}

// compacted: a compact_boundary line. An automatic compaction is Claude
// Code's answer to a 400 "prompt is too long" (2.1.328 compacts
// reactively): the attempt pending is that refused request; it ended when
// the compaction began.
func (sc *scan) compacted(e *entry) {
	c := compaction{at: e.time(), line: sc.lineStart}
	if e.CompactMetadata != nil {
		c.meta = *e.CompactMetadata
	}
	if c.meta.Trigger == "manual" && sc.opts.turn != nil {
		return // /compact is a slash command: in no turn (its line may follow one)
	}
	sc.compacts = append(sc.compacts, c)
	if sc.attempts.pending != nil && c.meta.Trigger == "auto" {
		end := c.at.Add(-time.Duration(c.meta.DurationMs) * time.Millisecond)
		r := sc.failAttempt(end, 400, errPromptTooLong)
		sc.chainStatus(r.status, r.errType)
	}
}

// errPromptTooLong is error.type of the request refused for its size that
// made Claude Code compact.
const errPromptTooLong = "prompt_too_long"

// answered: an assistant line. An error line (isApiErrorMessage) is the
// pending attempt failing for good: it takes that attempt's start, model
// and place in the chain, and gives the chain's unexplained failures its
// status. A response ends the chain.
func (sc *scan) answered(e *entry, r *request) {
	a := &sc.attempts
	if r.failed && a.pending != nil {
		p := a.pending
		a.pending = nil
		r.key, r.model, r.resend = "#attempt"+p.id, p.model, p.resend
		sc.apiReqs[p.id] = p.start
		e.RequestRef = p.id
		sc.chainStatus(r.status, r.errType)
	}
	if p := a.pending; p != nil && (e.RequestRef == "" || e.RequestRef == p.id) {
		a.pending = nil
		r.resend = p.resend
	}
	a.silent, a.resends = nil, 0
}

// chainStatus gives the chain's failures that no line explained the
// status of the failure that followed them.
func (sc *scan) chainStatus(status int64, kind string) {
	for _, r := range sc.attempts.silent {
		if r.status == 0 {
			r.status, r.errType = status, kind
		}
	}
}

// interruptText starts the user line Claude Code writes when the person
// interrupts a request (Escape): "[Request interrupted by user]", "… for
// tool use]".
const interruptText = "[Request interrupted by user"

// unanswered: a user line. An attempt still pending was cut short (an
// interrupt) or its answer is not in this file: no evidence of a failure.
func (sc *scan) unanswered() {
	sc.attempts = attempts{}
}
