package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// benchCosts looks for what a hook invocation spends its time on: package
// initialisation (GODEBUG=inittrace=1), system calls (strace -c), and a
// CPU profile of many hook processes (perf, with symbols). All with
// flusher.lock held by the harness, so only the hook itself is measured.
func (b *bench) benchCosts() error {
	fmt.Println()
	fmt.Println("### 8. Where a hook invocation's time goes")
	dir := b.stateDir("costs")
	h := b.hook(dir)
	d := b.drainProc()
	s := newSession(b.tmp)
	if err := startSession(h, s); err != nil {
		return err
	}
	waitFlusherGone(dir, 30*time.Second)
	release, err := holdFlusherLock(dir)
	if err != nil {
		return err
	}
	defer release()
	n := 0
	post := func() []byte {
		n++
		id := toolUseID("cost", n)
		if r := h.run(s.PreToolUse(id)); !r.silentOK() {
			fmt.Println("PreToolUse failed:", r)
		}
		return s.PostToolUse(id, smallStdout)
	}

	if err := b.floors(h, d, post); err != nil {
		return err
	}

	// Package init.
	fmt.Println()
	fmt.Println("#### Package initialisation (GODEBUG=inittrace=1, median of 15 runs per package)")
	fmt.Println()
	hi := &inits{}
	di := &inits{}
	for range 15 {
		ev := post()
		hi.add(h.withEnv("GODEBUG=inittrace=1").run(ev).Stderr)
		di.add(d.withEnv("GODEBUG=inittrace=1").run(ev).Stderr)
	}
	fmt.Printf("ccotel hook: %d packages initialised, %s of init clock in total, %s allocated in %s allocs; drain: %d packages, %s.\n\n",
		len(hi.clock), ms(hi.total()), kib(hi.totalBytes()), fmt.Sprint(hi.totalAllocs()), len(di.clock), ms(di.total()))
	fmt.Println("| package | init clock (median) | bytes | allocs |")
	fmt.Println("|---|---|---|---|")
	for _, p := range hi.top(12) {
		fmt.Printf("| %s | %s | %d | %d |\n", p, ms(median(hi.clock[p])), hi.bytes[p], hi.allocs[p])
	}

	// System calls.
	if _, err := exec.LookPath("strace"); err == nil {
		fmt.Println()
		fmt.Println("#### System calls of one PostToolUse (`strace -f -c -w`, all threads; wall time inside each call under strace)")
		fmt.Println()
		ev := post()
		hr, ht, err1 := traceSummary(h, ev, filepath.Join(b.tmp, "strace-c-hook.txt"))
		_, dt, err2 := traceSummary(d, ev, filepath.Join(b.tmp, "strace-c-drain.txt"))
		if err1 != nil || err2 != nil {
			fmt.Println("strace failed:", err1, err2)
		} else {
			fmt.Printf("ccotel hook: %d system calls; drain: %d.\n\n", ht.Calls, dt.Calls)
			fmt.Println("| syscall | calls | seconds |")
			fmt.Println("|---|---|---|")
			slices.SortFunc(hr, func(a, b syscallRow) int { return b.Calls - a.Calls })
			for _, r := range hr[:min(12, len(hr))] {
				fmt.Printf("| %s | %d | %.6f |\n", r.Name, r.Calls, r.Seconds)
			}
		}
	}

	// CPU profile.
	fmt.Println()
	if _, err := exec.LookPath("perf"); err != nil {
		fmt.Println("perf is not installed (apt-get install -y linux-perf): no CPU profile.")
		return nil
	}
	return b.perfProfile(h, s, post)
}

// floors times, interleaved, the drain baseline, the same drain linked
// with the OTLP exporter's packages, the same drain linked with all of
// ccotel's packages, and the hook itself (no flusher started): the steps
// between them are the cost of loading and initialising the exporter's
// dependency tree, the rest of ccotel's dependencies, and the hook's work.
func (b *bench) floors(h, d proc, post func() []byte) error {
	minimal := filepath.Join(b.tmp, "minimal")
	otlp := filepath.Join(b.tmp, "otlpdeps")
	all := filepath.Join(b.tmp, "alldeps")
	for bin, pkg := range map[string]string{minimal: "./bench/floor/minimal", otlp: "./bench/floor/otlpdeps", all: "./bench/floor/alldeps"} {
		if err := b.build(bin, pkg, true); err != nil {
			return err
		}
	}
	progs := []struct {
		name string
		p    proc
		s    *series
	}{
		{"drain (bench/drain)", d, &series{}},
		{"drain + net/http, crypto/tls, bbolt, toml linked (bench/floor/minimal; not a step: an alternative)", proc{bin: minimal, env: b.base}, &series{}},
		{"drain + OTLP exporter linked (bench/floor/otlpdeps)", proc{bin: otlp, env: b.base}, &series{}},
		{"drain + all ccotel packages linked (bench/floor/alldeps)", proc{bin: all, env: b.base}, &series{}},
		{"ccotel hook (no flusher started)", h, &series{}},
	}
	const warm = 2
	for i := -warm; i < b.runs; i++ {
		ev := post()
		for k := range progs {
			p := progs[(k+i+warm)%len(progs)]
			add(p.s, i, p.p.run(ev))
		}
	}
	fmt.Println()
	fmt.Println("#### Floors: what linking costs before any work (interleaved, rotating order)")
	fmt.Println()
	fmt.Println("| program | size | median | step | CPU median | peak RSS (GNU time) |")
	fmt.Println("|---|---|---|---|---|---|")
	var prev time.Duration
	for k, p := range progs {
		size := "—"
		if fi, err := os.Stat(p.p.bin); err == nil {
			size = fmt.Sprintf("%.1f MiB", float64(fi.Size())/(1<<20))
		}
		m := median(p.s.walls())
		step := "—"
		switch {
		case k == 1:
			step = fmt.Sprintf("%+.2f ms from drain", float64(m-prev)/1e6)
		case k > 1:
			step = fmt.Sprintf("%+.2f ms", float64(m-prev)/1e6)
		}
		if k != 1 {
			prev = m
		}
		rss := "—"
		if kib, err := peakRSS(p.p, post(), b.tmp); err == nil {
			rss = fmt.Sprintf("%d KiB", kib)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", p.name, size, ms(m), step, ms(median(p.s.cpus())), rss)
	}
	return nil
}

func (b *bench) perfProfile(h proc, s *session, post func() []byte) error {
	const pairs = 150
	// Same name as the real binary, so perf's comm filter sees "ccotel".
	sym := filepath.Join(b.tmp, "sym", "ccotel")
	if err := b.build(sym, ".", false); err != nil {
		return err
	}
	evDir := filepath.Join(b.tmp, "perf-events")
	os.MkdirAll(evDir, 0o700)
	for i := range pairs {
		id := toolUseID("perf", i)
		os.WriteFile(filepath.Join(evDir, fmt.Sprintf("%04da-pre.json", i)), s.PreToolUse(id), 0o600)
		os.WriteFile(filepath.Join(evDir, fmt.Sprintf("%04db-post.json", i)), s.PostToolUse(id, smallStdout), 0o600)
	}
	data := filepath.Join(b.tmp, "perf.data")
	loop := fmt.Sprintf(`for f in %s/*.json; do %s hook < "$f"; done`, evDir, sym)
	c := exec.Command("perf", "record", "-g", "-F", "10000", "-o", data, "--", "sh", "-c", loop)
	c.Env = h.env
	if out, err := c.CombinedOutput(); err != nil {
		fmt.Printf("perf record failed (%v): %s\n", err, clip(string(out)))
		return nil
	}
	fmt.Printf("#### CPU profile: `perf record -g -F 10000` over %d hook processes (%d PreToolUse/PostToolUse pairs, unstripped build), process `ccotel` only\n\n", 2*pairs, pairs)
	for _, sort := range []struct{ key, title, limit string }{
		{"comm,dso", "by binary (kernel = exec, page faults, mmap, syscalls)", "0.5"},
		{"sym", "by function (top)", "1.2"},
	} {
		args := []string{"report", "-i", data, "--stdio", "--no-children", "-g", "none", "--sort", sort.key, "--percent-limit", sort.limit}
		if sort.key != "comm,dso" {
			// (--comm hides kernel samples from a dso sort; comm,dso shows them.)
			args = append(args, "--comm", "ccotel")
		}
		out, err := exec.Command("perf", args...).Output()
		if err != nil {
			fmt.Println("perf report failed:", err)
			continue
		}
		fmt.Printf("%s:\n\n```\n", sort.title)
		lines := 0
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		for sc.Scan() {
			line := sc.Text()
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, "# Samples") || (t != "" && !strings.HasPrefix(t, "#") && lines < 25) {
				fmt.Println(strings.TrimRight(line, " "))
				if !strings.HasPrefix(t, "#") {
					lines++
				}
			}
		}
		fmt.Println("```")
		fmt.Println()
	}
	return b.perfPhases(data)
}

// perfPhases prints the inclusive share of CPU samples of the phases of a
// hook process, from the call graphs: the Go runtime's start, package
// initialisation, the command itself and its main steps.
func (b *bench) perfPhases(data string) error {
	out, err := exec.Command("perf", "report", "-i", data, "--stdio", "--comm", "ccotel", "--children",
		"--sort", "sym", "-g", "none", "--percent-limit", "0.1").Output()
	if err != nil {
		fmt.Println("perf report failed:", err)
		return nil
	}
	phases := []struct{ sym, what string }{
		{"runtime.rt0_go.abi0", "Go runtime start (rt0_go: schedinit, CPU feature probing, heap setup)"},
		{"runtime.schedinit", "  of which schedinit"},
		{"runtime.doInit1", "package initialisation (all packages' init)"},
		{"main.main", "the command (main.main)"},
		{"github.com/ccotel/ccotel/hook.decode", "  hook.decode (the event from stdin, streaming)"},
		{"github.com/ccotel/ccotel/internal/config.Load", "  config.Load"},
		{"github.com/ccotel/ccotel/state.Open", "  state.Open"},
		{"github.com/ccotel/ccotel/state.(*Store).Update", "  state Update (hook.Record, commit)"},
		{"github.com/ccotel/ccotel/hook.Record", "    hook.Record"},
		{"github.com/ccotel/ccotel/hook.decodeSession", "      hook.decodeSession (the session head and the span index)"},
		{"github.com/ccotel/ccotel/hook.(*machine).load", "      hook machine.load (span records)"},
		{"github.com/ccotel/ccotel/hook.(*machine).save", "      hook machine.save (changed records, index, head)"},
		{"go.etcd.io/bbolt.(*Tx).Commit", "    bbolt commit"},
		{"github.com/ccotel/ccotel/state.(*Store).Close", "  state Close"},
		{"github.com/ccotel/ccotel/internal/delivery.StartFlusher", "  StartFlusher (flock try)"},
		{"encoding/json.Unmarshal", "  encoding/json.Unmarshal (anywhere)"},
		{"encoding/json.Marshal", "  encoding/json.Marshal (anywhere)"},
		{"runtime.gcBgMarkWorker", "garbage collection (mark workers)"},
		{"runtime.sysmon", "runtime sysmon thread"},
	}
	share := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && strings.HasSuffix(f[0], "%") {
			share[f[len(f)-1]] = f[0]
		}
	}
	fmt.Println("by phase (inclusive share of the samples in `ccotel` processes, from call graphs; the rest is the kernel: exec, page faults, syscalls):")
	fmt.Println()
	fmt.Println("| phase | share of samples |")
	fmt.Println("|---|---|")
	for _, p := range phases {
		v, ok := share[p.sym]
		if !ok {
			v = "< 0.1%"
		}
		fmt.Printf("| %s | %s |\n", strings.ReplaceAll(p.what, "  ", "&nbsp;&nbsp;"), v)
	}
	return nil
}

// inits aggregates GODEBUG=inittrace=1 output over runs.
type inits struct {
	clock  map[string][]time.Duration
	bytes  map[string]int64
	allocs map[string]int64
	order  []string
}

// add parses lines like
// "init net/http @1.2 ms, 0.31 ms clock, 12345 bytes, 120 allocs".
func (in *inits) add(stderr string) {
	if in.clock == nil {
		in.clock, in.bytes, in.allocs = map[string][]time.Duration{}, map[string]int64{}, map[string]int64{}
	}
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		// init PKG @T ms, C ms clock, B bytes, A allocs
		if len(f) < 11 || f[0] != "init" || f[6] != "clock," {
			continue
		}
		pkg := f[1]
		clk, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			continue
		}
		if _, ok := in.clock[pkg]; !ok {
			in.order = append(in.order, pkg)
		}
		in.clock[pkg] = append(in.clock[pkg], time.Duration(clk*1e6))
		bytes, _ := strconv.ParseInt(f[7], 10, 64)
		allocs, _ := strconv.ParseInt(f[9], 10, 64)
		in.bytes[pkg], in.allocs[pkg] = bytes, allocs
	}
}

func (in *inits) total() time.Duration {
	var t time.Duration
	for _, c := range in.clock {
		t += median(c)
	}
	return t
}

func (in *inits) totalBytes() int64 {
	var t int64
	for _, v := range in.bytes {
		t += v
	}
	return t
}

func (in *inits) totalAllocs() int64 {
	var t int64
	for _, v := range in.allocs {
		t += v
	}
	return t
}

func (in *inits) top(n int) []string {
	p := slices.Clone(in.order)
	slices.SortStableFunc(p, func(a, b string) int {
		return int(median(in.clock[b]) - median(in.clock[a]))
	})
	return p[:min(n, len(p))]
}

func kib(n int64) string { return fmt.Sprintf("%.1f KiB", float64(n)/1024) }
