package main

import (
	"fmt"
	"strings"
	"time"
)

// A hook variant says what the flusher is doing while the hook runs.
type hookVariant struct {
	name string
	desc string
	// before runs before every timed process (of either program).
	before func(stateDir string)
	// hold keeps flusher.lock taken by the harness for the whole variant.
	hold bool
}

var hookVariants = []hookVariant{
	{
		name: "steady",
		desc: "live receiver: the first hook starts a flusher, which drains and lingers; later hooks find it running (a burst of tool calls)",
	},
	{
		name:   "cold",
		desc:   "no flusher running before each timed process: every hook starts one (tool calls seconds apart); the harness waits for it to exit between runs",
		before: func(dir string) { waitFlusherGone(dir, time.Minute) },
	},
	{
		name: "no-spawn",
		desc: "the harness holds flusher.lock, so the hook never starts a flusher: the hook's own work only",
		hold: true,
	},
}

// benchHook: `ccotel hook` on a PostToolUse of an existing session (its
// PreToolUse done, untimed, just before) against the drain baseline fed the
// same bytes.
func (b *bench) benchHook() error {
	fmt.Println()
	fmt.Println("### 1. `ccotel hook` on PostToolUse vs a static Go program that drains stdin")
	fmt.Println()
	fmt.Println("Each timed run: a fresh tool_use_id whose PreToolUse ran (untimed) just before; then the PostToolUse")
	fmt.Println("payload (" + fmt.Sprint(len(newSession(b.tmp).PostToolUse(toolUseID("x", 0), smallStdout))) + " bytes) piped to `ccotel hook` and to the drain baseline, alternating which goes first.")
	fmt.Println()
	fmt.Println("| variant | ccotel hook median | p90 | drain median | p90 | ratio (medians) | hook CPU median | page faults hook / drain | not silent/0 | spans delivered |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	var notes []string
	for _, v := range hookVariants {
		hook, drain, delivered, err := b.hookVariant(v)
		if err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		hm, dm := median(hook.walls()), median(drain.walls())
		fmt.Printf("| %s | %s | %s | %s | %s | **%.2f×** | %s | %d / %d | %d | %s |\n", v.name, ms(hm), ms(quantile(hook.walls(), 0.9)),
			ms(dm), ms(quantile(drain.walls(), 0.9)), ratio(hm, dm), ms(median(hook.cpus())), hook.faults(), drain.faults(), hook.failures(), delivered)
		notes = append(notes, fmt.Sprintf("- %s: %s", v.name, v.desc))
		if f := hook.firstFailure(); f != "" {
			notes = append(notes, "  - first failing hook run: "+f)
		}
		if v.name == "steady" {
			r := ratio(hm, dm)
			b.verdict("hook PostToolUse ≤ 2.5× drain (steady)", fmt.Sprintf("%.2f× (%s vs %s)", r, ms(hm), ms(dm)), r <= 2.5 && hook.failures() == 0)
		}
		if v.name == "cold" {
			r := ratio(hm, dm)
			b.verdict("… same, every hook starting a flusher (cold)", fmt.Sprintf("%.2f× (%s vs %s)", r, ms(hm), ms(dm)), r <= 2.5 && hook.failures() == 0)
		}
	}
	fmt.Println()
	fmt.Println(strings.Join(notes, "\n"))
	return nil
}

func (b *bench) hookVariant(v hookVariant) (hook, drain *series, delivered string, err error) {
	dir := b.stateDir("hook-" + v.name)
	h := b.hook(dir)
	d := b.drainProc()
	s := newSession(b.tmp)
	release := func() {}
	if v.hold {
		if release, err = holdFlusherLock(dir); err != nil {
			return nil, nil, "", err
		}
	}
	defer func() { release() }()
	if err := startSession(h, s); err != nil {
		return nil, nil, "", err
	}
	hook, drain = &series{name: "hook"}, &series{name: "drain"}
	const warm = 3
	var ids []string
	for i := -warm; i < b.runs; i++ {
		id := toolUseID(v.name, i+warm)
		ids = append(ids, toolSpanID(s.ID, id))
		if r := h.run(s.PreToolUse(id)); !r.silentOK() {
			return nil, nil, "", fmt.Errorf("PreToolUse: %s", r)
		}
		post := s.PostToolUse(id, smallStdout)
		timed := func(p proc, into *series) {
			if v.before != nil {
				v.before(dir)
			}
			r := p.run(post)
			if i >= 0 {
				into.add(r)
			}
		}
		if i%2 == 0 {
			timed(d, drain)
			timed(h, hook)
		} else {
			timed(h, hook)
			timed(d, drain)
		}
	}
	if v.hold {
		// The spans wait in the outbox until the lock is free again; then
		// an explicit `ccotel flush --wait` must deliver them.
		before := b.missing(ids)
		release()
		release = func() {}
		r := b.ccotelCmd(dir, "flush", "--wait").run(nil)
		missing := b.waitDelivered(ids, 10*time.Second)
		delivered = fmt.Sprintf("%d/%d missing while held; after `flush --wait` (exit %d): %d/%d, %d dups",
			before, len(ids), r.Code, len(ids)-missing, len(ids), b.dupsOf(ids))
		return hook, drain, delivered, nil
	}
	missing := b.waitDelivered(ids, 20*time.Second)
	delivered = fmt.Sprintf("%d/%d by the background flusher, %d dups", len(ids)-missing, len(ids), b.dupsOf(ids))
	return hook, drain, delivered, nil
}
