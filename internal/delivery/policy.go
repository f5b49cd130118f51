package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// The retry policy: what the flusher does with each export outcome, how
// long it waits, and when it gives up. Every rule about retrying lives in
// this file; tracing/errors.go only names what the collector answered.
//
// The OTLP specification (Failures, OTLP/HTTP) makes 429, 502, 503 and 504
// the only retryable answers, with Retry-After honoured; everything else
// is not retryable. "Not retryable" does not say whose fault it is, and
// the two cases need opposite treatment:
//
//   - the spans: a collector (or a WAF in front of it) refuses one span
//     and accepts the others. Re-sending it would be refused for ever and
//     block the outbox; it must be isolated and dropped.
//   - the configuration: a 401, 403 or 404 from a wrong token or path, a
//     TLS failure, a redirect, a login page. Every span is refused alike;
//     dropping them would lose everything for a typo that doctor can
//     explain.
//
// So a refused request (verdictRefused) is halved until a single span is
// refused on its own. That span is only suspected: it is dropped (and
// counted as rejected, with the collector's message) once the collector
// has accepted some other span in the same run. When maxSuspects spans in
// a row are each refused on their own and nothing was accepted, the
// refusal is configuration: every span stays queued and the flusher backs
// off as for an outage. Answers that cannot depend on the spans (TLS,
// wrong scheme, redirect, a non-OTLP 2xx, an exporter that cannot be
// built) go straight to that second case (verdictHold) without bisecting.

// Flusher defaults (ARCHITECTURE.md, "The flusher").
const (
	DefaultBatch  = 512
	DefaultLinger = 3 * time.Second
	lingerPoll    = 200 * time.Millisecond
	// DefaultGather is how long the background flusher may hold back a
	// batch that is not full while hooks keep queueing spans (a parallel
	// tool round): it looks again every gatherPoll and sends once the
	// outbox stopped growing, the batch is full, or DefaultGather has
	// passed. One request instead of dozens, and no database
	// transactions of its own among the hooks of the round.
	DefaultGather     = time.Second
	gatherPoll        = 50 * time.Millisecond
	defaultMinBackoff = time.Second
	// DefaultMaxBackoff caps the backoff between attempts (the
	// retry_max_interval key). Under 5 minutes: whatever the outage's
	// length, a waiting flusher tries again within this long of the
	// collector's return, and the jitter spreads the fleet's attempts
	// over the second half of it.
	DefaultMaxBackoff = 4 * time.Minute
	// DefaultRetryFor is how long a flusher keeps trying while the
	// collector is unreachable or busy (the retry_for key): an idle
	// laptop's spans leave when the collector returns, not at its next
	// hook event.
	DefaultRetryFor = 24 * time.Hour
	// defaultGiveUp is how long a refusal that is configuration (a
	// certificate the server refuses, a wrong path, a login page) is
	// retried before the flusher stops and leaves it to doctor.
	defaultGiveUp = 2 * time.Minute
	// CompactThreshold: the flusher compacts the database past this size
	// (state.Compact also requires it to be mostly free space).
	CompactThreshold = 32 << 20
	// maxSuspects is how many spans, each refused on its own while the
	// collector accepted nothing, make a refusal configuration rather than
	// poison.
	maxSuspects = 3
	// syncEvery bounds how long what hooks wrote stays unsynced while a
	// flusher runs.
	syncEvery = 2 * time.Second
	// configRetry is the backoff window after a configuration error
	// (unreadable certificate, …): hooks do not respawn flushers that
	// would fail the same way more often than this.
	configRetry = time.Minute
	// MaxRetryWindow is the longest backoff window a flusher stores
	// (state.Counters.NextAttempt - now) with the default
	// retry_max_interval. A stored window further ahead was written by a
	// clock that ran ahead (or a longer retry_max_interval): StartFlusher
	// ignores it, and at worst a hook tries the lock.
	MaxRetryWindow = max(configRetry, DefaultMaxBackoff)
)

// verdict is what the flusher does after an export.
type verdict int

const (
	verdictDelivered verdict = iota // accepted (a partial success included): remove
	verdictRetry                    // transient: keep, back off, send again
	verdictRefused                  // not retryable: isolate the refused spans (bisection)
	verdictHold                     // configuration: keep everything, back off, doctor explains
)

func (v verdict) String() string {
	return [...]string{"delivered", "retry", "refused", "hold"}[v]
}

// decide maps an export's error to its verdict.
func decide(err error) verdict {
	if err == nil {
		return verdictDelivered
	}
	e := exportError(err)
	if e == nil {
		return verdictRetry
	}
	switch e.Kind {
	case tracing.FailPartial:
		return verdictDelivered
	case tracing.FailUnavailable, tracing.FailRefused, tracing.FailTimeout, tracing.FailOther:
		return verdictRetry
	case tracing.FailRejected, tracing.FailNotFound, tracing.FailUnauthorized, tracing.FailTooLarge:
		return verdictRefused
	default: // FailConfig, TLS, FailWrongScheme, FailRedirect, FailNotOTLP
		return verdictHold
	}
}

// backoff is the wait before attempt n+1 after n consecutive failures
// (n ≥ 1): exponential from min, capped at max, with "equal jitter" (half
// fixed, half random) so that flushers of several machines behind one
// collector do not retry in step. A Retry-After from the collector wins
// when longer, capped at max too.
func backoff(n int, minB, maxB time.Duration, err error) time.Duration {
	d := minB
	for i := 1; i < n && d < maxB; i++ {
		d *= 2
	}
	d = min(d, maxB)
	d = d/2 + rand.N(d/2+1)
	if e := exportError(err); e != nil && e.RetryAfter > d {
		d = min(e.RetryAfter, maxB)
	}
	return d
}

// capNextAttempt bounds a stored retry time: a NextAttempt further than
// MaxRetryWindow ahead of now cannot have been written by this clock
// (it ran ahead, or was set back since) and is ignored.
func capNextAttempt(next, now time.Time) time.Time {
	if next.Sub(now) > MaxRetryWindow {
		return now
	}
	return next
}

// retryState is the retry policy's memory within one flusher run.
type retryState struct {
	batch    int       // spans per request: halved to isolate a refused span
	failures int       // consecutive failed attempts, for the backoff
	since    time.Time // the first of them
	// suspects are spans the collector refused on their own, with its
	// reason: poison once the collector accepts another span.
	suspects map[uint64]string
	accepted bool // the collector accepted a request in this run
}

// afterExport acts on the verdict for the export of r's spans: done
// reports that the run is over (with err, what Flush returns).
func (f *flusher) afterExport(ctx context.Context, r *round, spans []*tracing.Span, err error) (done bool, _ error) {
	switch decide(err) {
	case verdictDelivered:
		f.delivered(r, spans, err)
		return false, nil
	case verdictRefused:
		f.res.LastErr = err
		if len(r.ready) > 1 {
			f.bisect(r, err)
			return false, nil
		}
		return f.refusedAlone(ctx, r.ready[0], err)
	default: // verdictRetry, verdictHold
		f.res.LastErr = err
		return f.failed(ctx, r.ready, err), err
	}
}

// delivered removes what the collector accepted (all of r, a partial
// success included), drops the suspects, and grows the batch back.
func (f *flusher) delivered(r *round, spans []*tracing.Span, err error) {
	o := outcome{remove: keysOf(r.ready), attempted: true}
	if ee := exportError(err); ee != nil { // a partial success
		f.o.Logf("collector accepted %d spans but rejected %d of them: %s", len(spans), ee.Rejected, ee.Body)
		o.partial = int(min(max(ee.Rejected, 0), int64(len(spans))))
		o.reason = ee.Body
	}
	// The collector takes spans: what it refused alone is poison.
	f.retry.accepted = true
	f.dropSuspects(&o)
	f.settle(o)
	f.res.Sent += len(spans) - o.partial
	f.res.LastErr = nil
	f.retry.failures, f.retry.since = 0, time.Time{}
	f.retry.batch = min(f.retry.batch*2, f.o.Batch)
	if f.o.Progress != nil {
		fmt.Fprintf(f.o.Progress, "sent %d/%d spans\n", f.res.Sent, f.total)
	}
}

// bisect finds the culprit of a refused batch by halving it: the next
// rounds send r's spans in batches of half the size.
func (f *flusher) bisect(r *round, err error) {
	f.retry.batch = max(1, len(r.ready)/2)
	f.o.Logf("collector refused a batch of %d spans (%v); retrying in batches of %d", len(r.ready), err, f.retry.batch)
	f.settle(outcome{keep: r.ready, attempted: true, err: err})
}

// refusedAlone handles a span the collector refused on its own: poison if
// the collector accepts other spans, a suspect otherwise, and after
// maxSuspects suspects configuration (keep everything, back off).
func (f *flusher) refusedAlone(ctx context.Context, it item, err error) (done bool, _ error) {
	ee := exportError(err)
	if f.retry.accepted {
		f.o.Logf("dropping span %s %q: the collector accepts other spans but refused this one: %v", it.span.SpanID, it.span.Name, err)
		f.settle(outcome{reject: []uint64{it.key}, reason: reasonOf(ee), attempted: true, err: err})
		f.retry.batch = f.o.Batch
		return false, nil
	}
	f.retry.suspects[it.key] = reasonOf(ee)
	f.settle(outcome{keep: []item{it}, attempted: true, err: err})
	if len(f.retry.suspects) < maxSuspects {
		return false, nil // does the collector take the others?
	}
	f.o.Logf("the collector refused %d spans one by one and accepted none: keeping them all (configuration?): %v", len(f.retry.suspects), err)
	f.retry.suspects = map[uint64]string{}
	f.retry.batch = f.o.Batch
	return f.failed(ctx, nil, err), err
}

// onlySuspects handles a round where only spans refused on their own are
// left, and the collector accepted nothing to compare them with: keep
// them (configuration, or nothing to tell poison from it) and back off.
func (f *flusher) onlySuspects(ctx context.Context) (done bool, _ error) {
	err := f.res.LastErr
	f.retry.suspects = map[uint64]string{}
	return f.failed(ctx, nil, err), err
}

// failed records a failed attempt (keep: the spans to write back), and
// either backs off (false) or, past giveUpAfter or without Retry, ends the
// run (true: the caller returns err). While it backs off the database is
// closed and the outcome already written (record); only flusher.lock
// stays held, so that hooks start no second flusher.
func (f *flusher) failed(ctx context.Context, keep []item, err error) (stop bool) {
	now := f.o.Now()
	f.retry.failures++
	if f.retry.since.IsZero() {
		f.retry.since = now
	}
	wait := backoff(f.retry.failures, f.o.MinBackoff, f.o.MaxBackoff, err)
	next := now.Add(wait)
	if decide(err) == verdictHold {
		next = now.Add(max(wait, min(configRetry, f.o.GiveUp)))
	}
	f.settle(outcome{keep: keep, attempted: true, err: err, next: next})
	if !f.o.Retry || now.Sub(f.retry.since) >= f.giveUpAfter(err) {
		if f.o.Retry {
			f.o.Logf("giving up after %s of failures: %v (next attempt after %s)", now.Sub(f.retry.since).Round(time.Second), err, next.Format(time.RFC3339))
		}
		f.final()
		return true
	}
	f.o.Logf("export failed (retry in %s): %v", wait.Round(time.Millisecond), err)
	if f.o.Progress != nil {
		fmt.Fprintf(f.o.Progress, "export failed, retrying in %s: %v\n", wait.Round(time.Millisecond), err)
	}
	f.record()
	f.o.Wait(ctx, wait)
	return false
}

// giveUpAfter is how long failures like err are retried: RetryFor while
// the collector is unreachable or busy (connection errors, timeouts, 429,
// 502-504), GiveUp for a refusal that is configuration (TLS, a refused
// certificate, 401/403/404 for every span), which retrying does not fix
// and doctor explains.
func (f *flusher) giveUpAfter(err error) time.Duration {
	if decide(err) == verdictRetry {
		return f.o.RetryFor
	}
	return min(f.o.GiveUp, f.o.RetryFor)
}

// record writes the pending outcome (the attempt, its error, the next
// attempt's time) before a backoff, so that status shows them while the
// flusher waits; the database is closed again at once. When hooks hold it,
// the next round writes it instead.
func (f *flusher) record() {
	st, err := f.open()
	if err != nil {
		return
	}
	defer st.Close()
	err = st.Update(func(tx *state.Tx) error {
		if err := f.sameDatabase(tx); err != nil {
			return err
		}
		return f.apply(tx)
	})
	if err == nil {
		f.applied()
	}
}

// dropSuspects moves the suspects into o as rejected: the collector just
// accepted other spans, so the ones it refused alone are poison.
func (f *flusher) dropSuspects(o *outcome) {
	for key, reason := range f.retry.suspects {
		f.o.Logf("dropping outbox entry %d: the collector accepts other spans but refused it: %s", key, reason)
		o.reject = append(o.reject, key)
		o.reason = reason
	}
	f.retry.suspects = map[uint64]string{}
}

// reasonOf is the collector's message for a refusal, as status shows it.
func reasonOf(e *tracing.ExportError) string {
	if e == nil {
		return ""
	}
	if e.Body != "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body)
	}
	return e.Error()
}

func exportError(err error) *tracing.ExportError {
	var e *tracing.ExportError
	if errors.As(err, &e) {
		return e
	}
	return nil
}
