// Package delivery drains the outbox to the collector: the flusher (one
// at a time per state directory, under the flusher lock, started in the
// background by a hook or run by `ccotel flush`), its retry policy (what
// is retried, backoff, giving up, which refused spans are dropped), and
// the status report of `ccotel status` and `ccotel doctor`. It knows
// nothing of Claude Code's events; docs/ARCHITECTURE.md describes the
// flusher and the policy.
package delivery
