package config

import (
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/buildinfo"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/redact"
	"github.com/ccotel/ccotel/internal/usage"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// Each package takes its own small Options; these methods derive them
// from the one resolved Config, so that a setting means the same thing
// in the hook, the flusher, replay and doctor.

// Export is the OTLP/HTTP client's part of the configuration, with
// ccotel's version (internal/buildinfo) for the resource and User-Agent.
func (c *Config) Export() tracing.Options {
	return tracing.Options{
		Endpoint:           c.Endpoint,
		Protocol:           c.Protocol,
		Compression:        c.Compression,
		Headers:            c.Headers,
		Timeout:            c.Timeout,
		ClientCert:         c.ClientCert,
		ClientKey:          c.ClientKey,
		CA:                 c.CA,
		CAAlso:             c.CAAlso,
		InsecureSkipVerify: c.InsecureSkipVerify,
		ServiceName:        c.ServiceName,
		ResourceAttrs:      c.ResourceAttrs,
		Version:            buildinfo.Version(),
		Sources:            c.Sources,
	}
}

// Store is how the state directory's database is opened.
func (c *Config) Store() state.Options {
	return state.Options{
		Dir:            c.StateDir,
		LockTimeout:    c.LockTimeout,
		Durable:        c.Durability == "full",
		OutboxMaxSpans: c.OutboxMaxSpans,
		OutboxMaxBytes: c.OutboxMaxBytes,
	}
}

// Usage configures the token and cost finisher: the price overrides and
// diagnostics into the state directory's log.
func (c *Config) Usage() usage.Options {
	dir := c.StateDir
	return usage.Options{
		Prices: c.Prices,
		Logf:   func(format string, args ...any) { state.Logf(dir, "usage: "+format, args...) },
	}
}

// Hook configures the state machine: capture level, attribute cap, the
// redactor (built-in rules plus the configured patterns), idle timeout and
// TRACEPARENT handling. When a configured pattern does not compile,
// capture falls back to metadata only (a nil Redactor): the user's own
// secrets would otherwise leave unredacted. The flusher's sweep and replay
// use the same options.
func (c *Config) Hook() hook.Options {
	dir := c.StateDir
	o := hook.Options{
		Capture:               c.Capture,
		MaxAttrLen:            c.MaxAttrLen,
		IdleTimeout:           c.IdleTimeout,
		ParentFromTraceparent: c.ParentFromTraceparent,
		TraceSplit:            c.TraceSplit,
		Logf:                  func(format string, args ...any) { state.Logf(dir, format, args...) },
	}
	if c.Capture == hook.CaptureDetails || c.Capture == hook.CaptureContent {
		// Assign the *redact.Redactor only when it is real: a nil pointer
		// in the interface would not be nil.
		if r, err := redact.New(c.RedactPatterns); err != nil {
			state.Logf(dir, "hook: redact patterns: %v (capturing metadata only until fixed)", err)
		} else {
			o.Redactor = r
		}
	}
	return o
}

// Flush is what every flusher run shares, whoever starts it (the
// background flusher, `ccotel flush`, sync mode): the store, the export,
// the token finisher, and the sweep that closes idle sessions and old
// tombstones with the hook's own options. Callers add the run's own
// choices (lock, retry, linger, progress).
func (c *Config) Flush() delivery.FlushOptions {
	ho := c.Hook()
	return delivery.FlushOptions{
		Store:      c.Store(),
		Export:     c.Export(),
		Finisher:   usage.New(c.Usage()),
		RetryFor:   c.RetryFor,
		MaxBackoff: c.RetryMax,
		Sweep: func(tx *state.Tx, now time.Time) error {
			_, err := hook.Sweep(tx, now, ho)
			return err
		},
	}
}
