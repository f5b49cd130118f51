package hook

import (
	"testing"
)

func TestEventCap(t *testing.T) {
	s := &sim{t: t}
	s.at(0, ev("SessionStart"))
	for i := 0; i < MaxEventsPerSpan+10; i++ {
		s.at(i+1, ev("FutureEvent", "whatever", i))
	}
	s.at(1000, ev("SessionEnd"))
	root := s.spans[0]
	if len(root.Events) != MaxEventsPerSpan || root.DroppedEvents != 10 || root.Events[0].Name != "FutureEvent" {
		t.Errorf("%d events, %d dropped", len(root.Events), root.DroppedEvents)
	}
}
