package main

import (
	"fmt"
	"time"
)

// bigPayloadSize is the tool_response of the large PostToolUse.
const bigPayloadSize = 5 << 20

// benchBigPayload: a PostToolUse whose tool_response is 5 MB against an
// ordinary one, both through `ccotel hook` (steady state: live receiver),
// with the drain baseline on both payloads for context.
func (b *bench) benchBigPayload() error {
	fmt.Println()
	fmt.Println("### 3. A 5 MB PostToolUse payload vs a small one")
	fmt.Println()
	dir := b.stateDir("big")
	h := b.hook(dir)
	d := b.drainProc()
	s := newSession(b.tmp)
	if err := startSession(h, s); err != nil {
		return err
	}
	big := bigStdout(bigPayloadSize)
	small, large := &series{}, &series{}
	drainSmall, drainLarge := &series{}, &series{}
	var ids []string
	var smallLen, largeLen int
	const warm = 2
	for i := -warm; i < b.runs; i++ {
		sid, lid := toolUseID("small", i+warm), toolUseID("large", i+warm)
		ids = append(ids, toolSpanID(s.ID, sid), toolSpanID(s.ID, lid))
		for _, id := range []string{sid, lid} {
			if r := h.run(s.PreToolUse(id)); !r.silentOK() {
				return fmt.Errorf("PreToolUse: %s", r)
			}
		}
		sp, lp := s.PostToolUse(sid, smallStdout), s.PostToolUse(lid, big)
		smallLen, largeLen = len(sp), len(lp)
		order := []func(){
			func() { add(small, i, h.run(sp)) },
			func() { add(large, i, h.run(lp)) },
			func() { add(drainSmall, i, d.run(sp)) },
			func() { add(drainLarge, i, d.run(lp)) },
		}
		// Rotate the order run by run so no program always goes first.
		for k := range order {
			order[(k+i+warm)%len(order)]()
		}
	}
	missing := b.waitDelivered(ids, 30*time.Second)
	fmt.Printf("Payloads: %d bytes and %d bytes (tool_response.stdout of %d bytes). Order rotated run by run.\n\n", smallLen, largeLen, bigPayloadSize)
	fmt.Println("| program | small median | 5 MB median | 5 MB p90 | ratio 5 MB / small | not silent/0 |")
	fmt.Println("|---|---|---|---|---|---|")
	hr := ratio(median(large.walls()), median(small.walls()))
	fmt.Printf("| ccotel hook | %s | %s | %s | **%.2f×** | %d |\n", ms(median(small.walls())), ms(median(large.walls())), ms(quantile(large.walls(), 0.9)), hr, small.failures()+large.failures())
	fmt.Printf("| drain | %s | %s | %s | %.2f× | %d |\n", ms(median(drainSmall.walls())), ms(median(drainLarge.walls())), ms(quantile(drainLarge.walls(), 0.9)),
		ratio(median(drainLarge.walls()), median(drainSmall.walls())), drainSmall.failures()+drainLarge.failures())
	fmt.Printf("\nccotel hook on 5 MB vs drain on 5 MB: %.2f×. Spans delivered: %d/%d, %d dups.\n", ratio(median(large.walls()), median(drainLarge.walls())), len(ids)-missing, len(ids), b.dupsOf(ids))
	if f := large.firstFailure(); f != "" {
		fmt.Println("\nfirst failing 5 MB run:", f)
	}
	b.verdict("5 MB PostToolUse ≤ 3× a small one", fmt.Sprintf("%.2f× (%s vs %s)", hr, ms(median(large.walls())), ms(median(small.walls()))), hr <= 3 && large.failures() == 0)
	return nil
}

func add(s *series, i int, r result) {
	if i >= 0 {
		s.add(r)
	}
}
