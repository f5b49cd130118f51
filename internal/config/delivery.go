package config

import "github.com/ccotel/ccotel/internal/delivery"

// loadDelivery reads the flusher's retry keys: how long it keeps trying
// an unreachable collector (retry_for) and the cap on its backoff
// (retry_max_interval); delivery declares both defaults.
func (l *loader) loadDelivery() error {
	c := l.cfg
	c.RetryFor, c.RetryMax = delivery.DefaultRetryFor, delivery.DefaultMaxBackoff
	if err := l.durationKey("retry_for", &c.RetryFor); err != nil {
		return err
	}
	return l.durationKey("retry_max_interval", &c.RetryMax)
}
