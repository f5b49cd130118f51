package delivery

import (
	"time"

	"github.com/ccotel/ccotel/tracing"
)

// The retry policy: how long the flusher waits, what it tries again and
// when it gives up. Every rule about retrying lives in this file.

// Flusher defaults (ARCHITECTURE.md, "The flusher").
const (
	DefaultBatch      = 512
	DefaultLinger     = 3 * time.Second
	lingerPoll        = 200 * time.Millisecond
	defaultMinBackoff = time.Second
	defaultMaxBackoff = 30 * time.Second
	defaultGiveUp     = 2 * time.Minute
	// CompactThreshold: the flusher compacts the database past this size
	// (state.Compact also requires it to be mostly free space).
	CompactThreshold = 32 << 20
	// MaxRejections is how many times a single span the collector refuses
	// for good (HTTP 400 with an OTLP error, or 413 on its own) is sent
	// before it is dropped and counted in RejectedSpans.
	MaxRejections = 3
	// syncEvery bounds how long what hooks wrote stays unsynced while a
	// flusher runs.
	syncEvery = 2 * time.Second
	// configRetry is the backoff window after a configuration error
	// (unreadable certificate, …): hooks do not respawn flushers that
	// would fail the same way more often than this.
	configRetry = time.Minute
)

// retryable reports whether sending the same spans later may succeed.
// Everything is, except a request the collector understood and refused
// (400 and most 4xx without a certificate problem, 413) and a partial
// success: re-sending those would be refused again.
func retryable(e *tracing.ExportError) bool {
	switch e.Kind {
	case tracing.FailRejected, tracing.FailTooLarge, tracing.FailPartial:
		return false
	}
	return true
}
