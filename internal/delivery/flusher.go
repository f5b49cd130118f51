package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// FlushOptions steer Flush.
type FlushOptions struct {
	// Store opens the state directory's database (its LockTimeout is
	// raised to at least 5 s: the flusher can afford to wait for hooks).
	Store state.Options
	// Export is where and how spans are sent.
	Export tracing.Options
	// Exporter, when set, receives the spans instead of an OTLP/HTTP
	// exporter built from Export (replay collects them to print).
	Exporter Exporter
	// Finisher completes spans with Pending work (token usage); nil
	// clears Pending and exports the span as it is.
	Finisher tracing.Finisher
	// Sweep, when set, runs once at the start in the first transaction
	// (closing idle sessions, deleting old tombstones).
	Sweep func(*state.Tx, time.Time) error
	// Progress receives "sent 512/2048 spans" lines (nil: none).
	Progress io.Writer
	// Linger keeps the flusher polling an empty outbox this long before it
	// exits (the background flusher: hooks of an active session keep
	// queueing).
	Linger time.Duration
	// Gather holds back a batch that is not full while the outbox still
	// grows between looks (gatherPoll apart), for at most this long (the
	// background flusher: DefaultGather). 0 sends what is ready at once.
	Gather time.Duration
	// Lock is the held flusher lock. Flush releases it before its last
	// look at the outbox, and takes it again if spans appeared, so that no
	// span is stranded between that look and the exit. nil: Flush neither
	// holds nor releases a lock (the caller does).
	Lock *FlusherLock
	// Retry backs off and retries failed exports (1 s … 30 s) until
	// GiveUp has passed since the first failure; otherwise Flush stops at
	// the first failure.
	Retry bool
	// WaitPending waits for spans whose Pending work is not ready yet;
	// otherwise Flush leaves them queued for a later run.
	WaitPending bool
	// Batch is the number of spans per request (default 512).
	Batch int
	// GiveUp, MinBackoff and MaxBackoff override the defaults (2 min, 1 s,
	// 30 s); tests shorten them.
	GiveUp, MinBackoff, MaxBackoff time.Duration
	// Logf receives diagnostics (default: state.Logf into the state
	// directory).
	Logf func(format string, args ...any)
	// Now is the clock, and Wait pauses the flusher for d (backoff,
	// linger, gather, pending work) or until ctx is done: tests replace
	// both with a fake clock so that they do not sleep. Defaults:
	// time.Now and a timer.
	Now  func() time.Time
	Wait func(ctx context.Context, d time.Duration)
}

// FlushResult is what a Flush did.
type FlushResult struct {
	Sent     int // spans the collector accepted
	Rejected int // spans dropped because the collector refused them for good
	// LastRejection is the collector's reason for the last of them.
	LastRejection string
	Remaining     int   // spans still queued when Flush returned
	Pending       int   // of which not ready yet (Pending work)
	LastErr       error // the last export error, nil if the last attempt succeeded
}

// Flush drains the outbox: it takes the oldest spans, finishes their
// pending work, exports them, and removes what the collector accepted.
// It never holds the database while on the network: every round is open →
// read → close, export, open → remove and record → close.
//
// The database file is synced when Flush starts, every few seconds while
// it runs, and at the end: that is when what hooks wrote (without fsync)
// becomes durable. The database is compacted at the end when it has grown
// past CompactThreshold.
//
// The error is non-nil when spans stay queued because exports failed (the
// last export error) or the store could not be used.
func Flush(ctx context.Context, o FlushOptions) (FlushResult, error) {
	f := &flusher{o: o}
	f.defaults()
	return f.run(ctx)
}

// FlushNow is the sync = true path of the hook: one pass over what is
// ready, no retry, no linger, within ctx's deadline (o.Export.Timeout when it
// has none). It never waits for flusher.lock: when a flusher is running
// it returns ErrFlusherBusy at once, because that flusher looks at the
// outbox again after it releases the lock and sends what the caller
// queued; a hook must not stand still behind it. Spans that are not ready,
// or that failed, stay queued.
func FlushNow(ctx context.Context, o FlushOptions) (FlushResult, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Export.Timeout)
		defer cancel()
	}
	l, err := AcquireFlusherLock(o.Store.Dir)
	if err != nil {
		return FlushResult{}, err
	}
	defer l.Release()
	// With the lock in its hands, Flush releases it before its last look,
	// like the background flusher: a hook that found the lock held while
	// this pass ran has its spans picked up.
	// One pass: no retry, no linger, no sweep (the background flusher
	// sweeps; a hook must not spend its time on it).
	o.Lock, o.Retry, o.Linger, o.WaitPending, o.Sweep = l, false, 0, false, nil
	return Flush(ctx, o)
}

// Exporter is where a flusher delivers spans: a *tracing.Exporter, or
// replay's collector. A nil error means every span was accepted; an
// *tracing.ExportError says why not, and the retry policy (policy.go)
// decides what happens next.
type Exporter interface {
	Export(ctx context.Context, spans []*tracing.Span) error
	Close() error
}

// flusher is one run of Flush: its options, its exporter, and the state
// it carries from one round to the next.
type flusher struct {
	o   FlushOptions
	exp Exporter

	res      FlushResult
	deadline time.Time // ctx's deadline: bounds the waits for the database
	lastSync time.Time
	swept    bool
	pending  outcome // written in the next transaction
	dbID     string  // state.Tx.DatabaseID of the database it started with
	replaced bool    // the database file was replaced: stop, touch nothing
	total    int     // for progress: sent + queued at the last look

	retry retryState // the retry policy's memory (policy.go)
	idle  idleState  // lingering on an empty outbox, gathering a round
}

// idleState is what the flusher remembers while it waits for spans.
type idleState struct {
	lingerUntil time.Time // an empty outbox ends the run after this (Linger)
	gatherSince time.Time // the first look at the batch being gathered
	gathered    int       // the outbox's size at the last look
}

func (f *flusher) defaults() {
	o := &f.o
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.GiveUp <= 0 {
		o.GiveUp = defaultGiveUp
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = defaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = defaultMaxBackoff
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Wait == nil {
		o.Wait = wait
	}
	if o.Logf == nil {
		dir := f.o.Store.Dir
		o.Logf = func(format string, args ...any) { state.Logf(dir, "flush: "+format, args...) }
	}
	f.retry.batch = o.Batch
	f.retry.suspects = map[uint64]string{}
}

// run is the flusher's loop: one round per iteration (read the oldest
// spans, then wait, send, or stop) until step says it is done.
func (f *flusher) run(ctx context.Context) (FlushResult, error) {
	f.deadline, _ = ctx.Deadline()
	if err := f.openExporter(); err != nil {
		return f.res, err
	}
	defer f.exp.Close()
	for {
		if ctx.Err() != nil {
			f.final()
			return f.res, f.stopErr(ctx.Err())
		}
		r, err := f.read()
		if errors.Is(err, state.ErrLocked) {
			continue // hooks are busy; try again
		}
		if err != nil {
			f.o.Logf("outbox: %v", err)
			f.res.LastErr = err
			return f.res, err
		}
		if done, err := f.step(ctx, r); done {
			return f.res, err
		}
	}
}

// openExporter builds the exporter from Export unless one was given. An
// exporter that cannot be built (an unreadable certificate) is recorded
// as a failed attempt with the configuration's backoff window.
func (f *flusher) openExporter() error {
	if f.exp = f.o.Exporter; f.exp != nil {
		return nil
	}
	if f.o.Export.Endpoint == "" {
		return errors.New("no endpoint configured")
	}
	exp, err := tracing.NewExporter(&f.o.Export, f.o.Logf)
	if err != nil {
		f.o.Logf("cannot export: %v", err)
		f.res.LastErr = err
		f.settle(outcome{attempted: true, err: err, next: f.o.Now().Add(MaxRetryWindow)})
		f.final()
		return err
	}
	f.exp = exp
	return nil
}

// step acts on one round: done reports that the run is over (with err,
// what Flush returns).
func (f *flusher) step(ctx context.Context, r *round) (done bool, err error) {
	if len(r.damaged) > 0 {
		f.settle(outcome{discard: r.damaged})
	}
	f.total = max(f.total, f.res.Sent+r.queued)
	switch {
	case len(r.ready) == 0 && len(f.retry.suspects) > 0:
		return f.onlySuspects(ctx)
	case len(r.ready) == 0:
		return f.empty(ctx, r)
	}
	f.idle.lingerUntil = time.Time{}
	if f.gather(r) {
		f.o.Wait(ctx, gatherPoll)
		return false, nil
	}
	spans := spansOf(r.ready)
	return f.afterExport(ctx, r, spans, f.exp.Export(ctx, spans))
}

// empty handles a round with nothing ready to send: wait for pending
// work, linger, or end the run (done).
func (f *flusher) empty(ctx context.Context, r *round) (done bool, err error) {
	now := f.o.Now()
	if r.waiting > 0 && f.o.WaitPending {
		// Pending work not ready: wait for it (this is not "empty", so
		// no linger).
		f.idle.lingerUntil = time.Time{}
		f.o.Wait(ctx, clamp(r.retryAt.Sub(now), lingerPoll, 2*time.Second))
		return false, nil
	}
	if r.waiting == 0 && f.o.Linger > 0 {
		if f.idle.lingerUntil.IsZero() {
			f.idle.lingerUntil = now.Add(f.o.Linger)
		}
		if now.Before(f.idle.lingerUntil) {
			f.o.Wait(ctx, lingerPoll)
			return false, nil
		}
	}
	if f.lastLook(r) {
		f.idle.lingerUntil = time.Time{}
		return false, nil
	}
	f.res.Pending = r.waiting
	f.final()
	return true, nil
}

// lastLook reports whether spans appeared after the flusher released its
// lock (and it took the lock again to send them). Empty (or only
// not-ready spans we leave for later): a hook that queued spans while we
// held the lock saw it held and left them to us: release, then look once
// more. A hook that queues after the release takes the lock itself. A
// span whose usage is not ready yet counts too when we wait for those:
// its hook also left it to us.
func (f *flusher) lastLook(r *round) bool {
	if f.o.Lock == nil {
		return false
	}
	f.o.Lock.Release()
	again, err := f.read()
	return err == nil &&
		(len(again.ready) > 0 || (f.o.WaitPending && again.waiting > r.waiting)) &&
		f.o.Lock.Reacquire()
}

// ErrDatabaseReplaced: the database file is not the one the flusher
// started with. It stops without writing to the new one; the new
// directory's own flusher (its flusher.lock is a new file) delivers it.
var ErrDatabaseReplaced = errors.New("the state database was replaced while the flusher ran; stopping without touching the new one")

// sameDatabase checks, first thing in every transaction, that the
// database is the one this flusher started with: its keys and outcome
// mean nothing in another (the state directory deleted and recreated, a
// corrupt file moved aside by a hook).
func (f *flusher) sameDatabase(tx *state.Tx) error {
	id := tx.DatabaseID()
	if f.dbID == "" {
		f.dbID = id
	}
	if id != f.dbID {
		f.replaced = true
		f.o.Logf("%v", ErrDatabaseReplaced)
		return ErrDatabaseReplaced
	}
	return nil
}

// final syncs (and compacts) the store and fills Remaining. When the
// flusher stops early (an error, the context), what the hooks wrote is
// still made durable.
func (f *flusher) final() {
	if f.replaced {
		return
	}
	f.lastSync = time.Time{}
	st, err := f.open() // syncs
	if err != nil {
		f.o.Logf("final sync: %v", err)
		if f.res.LastErr == nil {
			// What is queued is unknown: not a success.
			f.res.LastErr = fmt.Errorf("outbox: %w", err)
		}
		return
	}
	defer st.Close()
	err = st.Update(func(tx *state.Tx) error {
		if err := f.sameDatabase(tx); err != nil {
			return err
		}
		if err := f.apply(tx); err != nil {
			return err
		}
		f.res.Remaining = tx.Counters().Queued
		return nil
	})
	if err != nil {
		f.o.Logf("final write: %v", err)
		return
	}
	f.applied()
	// The durability point for the outcome just written, too.
	if err := st.Sync(); err != nil {
		f.o.Logf("sync: %v", err)
	}
	if err := st.Compact(CompactThreshold); err != nil {
		f.o.Logf("compact: %v", err)
	}
}

func (f *flusher) stopErr(ctxErr error) error {
	if f.res.LastErr != nil {
		return f.res.LastErr
	}
	if f.res.Remaining > 0 {
		return fmt.Errorf("stopped with %d spans queued: %w", f.res.Remaining, ctxErr)
	}
	return nil
}

func keysOf(items []item) []uint64 {
	keys := make([]uint64, len(items))
	for i, it := range items {
		keys[i] = it.key
	}
	return keys
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return max(lo, min(d, hi))
}

// wait is the flusher's default Wait: d on the real clock, or until ctx
// is done.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
