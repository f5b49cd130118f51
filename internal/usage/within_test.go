package usage

import (
	"testing"
	"time"
)

// Evidence ends a span between its start and the hook's Until, plus the
// grace for what Claude Code writes as it shuts down; never before the
// start, never long after.
func TestWithin(t *testing.T) {
	from := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	until := from.Add(time.Second)
	for _, c := range []struct {
		at   time.Duration
		want bool
	}{
		{-time.Millisecond, false},
		{0, true},
		{500 * time.Millisecond, true},
		{time.Second + untilGrace, true},
		{time.Second + untilGrace + time.Millisecond, false},
	} {
		if got := within(from.Add(c.at), from, until); got != c.want {
			t.Errorf("within(start%+v) = %v", c.at, got)
		}
	}
	if !within(from.Add(time.Hour), from, time.Time{}) {
		t.Errorf("no Until: any time after the start")
	}
}
