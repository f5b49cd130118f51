package main

import (
	"fmt"
	"path/filepath"
	"time"
)

// The two load targets of issue 12, each measured against its baseline in
// the same run:
//
//   - "load200": 200 `ccotel hook` processes started at once for one
//     session (PostToolUse of a parallel batch, PreToolUse done before),
//     against 200 drain-only processes started at once: p99 ≤ 2×.
//   - "open500": the hook of a session that has 500 open spans (500
//     PreToolUse without their PostToolUse) against the same event in a
//     fresh session: median ≤ 2×.

const loadProcs = 200

// benchLoad200 runs the 200-at-once round three times, interleaved with
// the drain round, and compares the p99 of the pooled walls.
func (b *bench) benchLoad200() error {
	fmt.Println()
	fmt.Printf("### %d hook processes at once vs %d drain-only processes at once\n", loadProcs, loadProcs)
	fmt.Println()
	fmt.Println("| round | hook p50 | hook p99 | drain p50 | drain p99 | ratio (p99) | hooks failed | all-packages drain p99 | its ratio | hook p99, no flusher | its ratio |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	var hooks, drains, floors, quiets []result
	d := b.drainProc()
	// The floor: the drain program linked with every package ccotel
	// links, so the part of the ratio that is the binary itself (loading
	// it, initialising its packages), not the hook's work.
	all := filepath.Join(b.tmp, "alldeps")
	if err := b.build(all, "./bench/floor/alldeps", true); err != nil {
		return err
	}
	f := proc{bin: all, env: b.base}
	for round := range 3 {
		dir := b.stateDir(fmt.Sprintf("load200-%d", round))
		h := b.hook(dir)
		s := newSession(b.tmp)
		if err := startSession(h, s); err != nil {
			return err
		}
		// Two batches of PostToolUse for tool calls whose PreToolUse ran:
		// one for the round as Claude Code runs it (the first hook starts
		// a flusher, which drains while the others record), one with
		// flusher.lock held by the harness (the hooks' own work alone).
		var posts, quiet [][]byte
		for i := range 2 * loadProcs {
			id := toolUseID(fmt.Sprintf("l%d", round), i)
			if r := h.run(s.PreToolUse(id)); !r.silentOK() {
				return fmt.Errorf("PreToolUse: %s", r)
			}
			if i < loadProcs {
				posts = append(posts, s.PostToolUse(id, smallStdout))
			} else {
				quiet = append(quiet, s.PostToolUse(id, smallStdout))
			}
		}
		waitFlusherGone(dir, 30*time.Second)
		var hr, dr, fr []result
		if round%2 == 0 {
			dr = startAtOnce(d, [][][]byte{posts})
			hr = startAtOnce(h, [][][]byte{posts})
		} else {
			hr = startAtOnce(h, [][][]byte{posts})
			dr = startAtOnce(d, [][][]byte{posts})
		}
		fr = startAtOnce(f, [][][]byte{posts})
		waitFlusherGone(dir, 30*time.Second)
		release, err := holdFlusherLock(dir)
		if err != nil {
			return err
		}
		qr := startAtOnce(h, [][][]byte{quiet})
		release()
		hs, ds, fs, qs := &series{runs: hr}, &series{runs: dr}, &series{runs: fr}, &series{runs: qr}
		dp := quantile(ds.walls(), 0.99)
		fmt.Printf("| %d | %s | %s | %s | %s | %.2f× | %d | %s | %.2f× | %s | %.2f× |\n", round+1, ms(median(hs.walls())), ms(quantile(hs.walls(), 0.99)),
			ms(median(ds.walls())), ms(dp), ratio(quantile(hs.walls(), 0.99), dp), hs.failures(),
			ms(quantile(fs.walls(), 0.99)), ratio(quantile(fs.walls(), 0.99), dp),
			ms(quantile(qs.walls(), 0.99)), ratio(quantile(qs.walls(), 0.99), dp))
		hooks, drains, floors, quiets = append(hooks, hr...), append(drains, dr...), append(floors, fr...), append(quiets, qr...)
		// The flusher a hook of the next round starts sends these.
	}
	hs, ds, fs, qs := &series{runs: hooks}, &series{runs: drains}, &series{runs: floors}, &series{runs: quiets}
	hp, dp, fp, qp := quantile(hs.walls(), 0.99), quantile(ds.walls(), 0.99), quantile(fs.walls(), 0.99), quantile(qs.walls(), 0.99)
	r := ratio(hp, dp)
	b.verdict(fmt.Sprintf("%d hooks at once: p99 ≤ 2× %d drain-only processes at once", loadProcs, loadProcs),
		fmt.Sprintf("%.2f× (%s vs %s), %d failed; the all-packages drain alone: %.2f×; the hooks with no flusher running: %.2f×",
			r, ms(hp), ms(dp), hs.failures(), ratio(fp, dp), ratio(qp, dp)),
		r <= 2 && hs.failures() == 0)
	return nil
}

// benchOpen500 times a PreToolUse+PostToolUse pair's PostToolUse in a
// session with 500 open tool spans against a fresh session's.
func (b *bench) benchOpen500() error {
	const open = 500
	fmt.Println()
	fmt.Printf("### A hook in a session with %d open spans vs a fresh session\n", open)
	fmt.Println()
	fmt.Println("| session | PostToolUse median | p90 | CPU median |")
	fmt.Println("|---|---|---|---|")
	crowdedDir, freshDir := b.stateDir("open500"), b.stateDir("open500-fresh")
	ch, fh := b.hook(crowdedDir), b.hook(freshDir)
	cs, fs := newSession(b.tmp), newSession(b.tmp)
	for _, x := range []struct {
		h proc
		s *session
	}{{ch, cs}, {fh, fs}} {
		if err := startSession(x.h, x.s); err != nil {
			return err
		}
	}
	for i := range open {
		if r := ch.run(cs.PreToolUse(toolUseID("open", i))); !r.silentOK() {
			return fmt.Errorf("PreToolUse: %s", r)
		}
	}
	waitFlusherGone(crowdedDir, 30*time.Second)
	crowded, fresh := &series{}, &series{}
	type side struct {
		h    proc
		s    *session
		into *series
	}
	for i := -3; i < b.runs; i++ {
		order := []side{{ch, cs, crowded}, {fh, fs, fresh}}
		if i%2 != 0 { // alternate which goes first
			order[0], order[1] = order[1], order[0]
		}
		for _, x := range order {
			id := toolUseID("pair", i+3)
			if r := x.h.run(x.s.PreToolUse(id)); !r.silentOK() {
				return fmt.Errorf("PreToolUse: %s", r)
			}
			r := x.h.run(x.s.PostToolUse(id, smallStdout))
			if i >= 0 {
				x.into.add(r)
			}
		}
	}
	for _, row := range []struct {
		name string
		s    *series
	}{{fmt.Sprintf("%d open spans", open), crowded}, {"fresh", fresh}} {
		fmt.Printf("| %s | %s | %s | %s |\n", row.name, ms(median(row.s.walls())), ms(quantile(row.s.walls(), 0.9)), ms(median(row.s.cpus())))
	}
	cm, fm := median(crowded.walls()), median(fresh.walls())
	r := ratio(cm, fm)
	b.verdict(fmt.Sprintf("hook with %d open spans ≤ 2× a fresh session's", open),
		fmt.Sprintf("%.2f× (%s vs %s)", r, ms(cm), ms(fm)), r <= 2 && crowded.failures() == 0)
	return nil
}
