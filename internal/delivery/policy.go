package delivery

import (
	"errors"
	"math/rand/v2"
	"time"

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
	defaultMaxBackoff = 30 * time.Second
	defaultGiveUp     = 2 * time.Minute
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
	// MaxRetryWindow is the longest backoff window a flusher ever stores
	// (state.Counters.NextAttempt - now). A stored window further ahead
	// was written by a clock that ran ahead: StartFlusher ignores it.
	MaxRetryWindow = configRetry
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

func exportError(err error) *tracing.ExportError {
	var e *tracing.ExportError
	if errors.As(err, &e) {
		return e
	}
	return nil
}
