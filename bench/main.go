// Command bench measures ccotel against its performance targets
// (docs/PERFORMANCE.md)
// and prints every figure, as Markdown, for docs/PERFORMANCE.md:
//
//	go run ./bench              # everything (~4 minutes on 2 cores)
//	go run ./bench -only hook,fsync -runs 50
//
// It builds the real binary (CGO_ENABLED=0, -trimpath, -ldflags "-s -w")
// and a baseline that only drains stdin, starts an in-process OTLP/HTTP
// receiver that requires client certificates (generated at run time), and
// runs real processes the way Claude Code does: one per event, the event
// on a stdin pipe. Compared programs are interleaved run by run and
// reported as medians and ratios from the same run, because absolute times
// drift on a shared machine. Linux only (strace, perf, flock, rusage).
//
// Benchmarks are not tests: nothing here fails CI. The process exits 1 only
// when the harness itself could not run.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
)

var benchNames = []string{"hook", "fsync", "big", "concurrent", "flush", "size", "peer", "costs", "load200", "open500", "import"}

type bench struct {
	runs     int
	peerRuns int
	spans    int
	procs    int
	keep     bool
	root     string // module root
	tmp      string
	ccotel   string // stripped static binary
	drain    string
	base     []string // environment for every process
	certs    *otlptest.PKI
	rec      *otlptest.Receiver
	verdicts []verdict

	importMB, importSessions int // the import benchmark's corpus: MB and sessions
}

type verdict struct {
	target   string
	measured string
	status   string // "met", "NOT MET", "not measured"
}

func main() {
	b := &bench{}
	flag.IntVar(&b.runs, "runs", 30, "timed runs per program and benchmark")
	flag.IntVar(&b.peerRuns, "peer-runs", 12, "timed runs of the Node peer")
	flag.IntVar(&b.spans, "spans", 20000, "spans queued for the flusher throughput benchmark")
	flag.IntVar(&b.procs, "procs", 64, "hook processes started at once")
	flag.IntVar(&b.importMB, "import-mb", 1024, "MB of transcripts in the import benchmark's corpus")
	flag.IntVar(&b.importSessions, "import-sessions", 2000, "sessions in the import benchmark's corpus")
	only := flag.String("only", "", "comma-separated subset of: "+strings.Join(benchNames, ","))
	flag.BoolVar(&b.keep, "keep", false, "keep the temporary directory (binaries, state, traces)")
	flag.Parse()

	selected := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			selected[n] = true
		}
	}
	want := func(n string) bool { return len(selected) == 0 || selected[n] }

	if err := b.setup(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	defer b.cleanup()

	b.header()
	steps := []struct {
		name string
		fn   func() error
	}{
		{"hook", b.benchHook},
		{"fsync", b.benchFsync},
		{"big", b.benchBigPayload},
		{"concurrent", b.benchConcurrent},
		{"flush", b.benchFlush},
		{"size", b.benchSize},
		{"peer", b.benchPeer},
		{"costs", b.benchCosts},
		{"load200", b.benchLoad200},
		{"open500", b.benchOpen500},
		{"import", b.benchImport},
	}
	for _, s := range steps {
		if !want(s.name) {
			continue
		}
		start := time.Now()
		if err := s.fn(); err != nil {
			fmt.Printf("\n**%s: could not run: %v**\n", s.name, err)
			b.verdicts = append(b.verdicts, verdict{target: s.name, measured: "error: " + err.Error(), status: "not measured"})
		}
		fmt.Fprintf(os.Stderr, "bench: %s done in %s\n", s.name, time.Since(start).Round(time.Millisecond))
	}
	b.summary()
}

func (b *bench) setup() error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %v", err)
	}
	b.root = filepath.Dir(strings.TrimSpace(string(out)))
	b.tmp, err = os.MkdirTemp("", "ccotel-bench-")
	if err != nil {
		return err
	}
	home := filepath.Join(b.tmp, "home")
	os.MkdirAll(home, 0o700)
	b.base = filteredEnv(home)

	fmt.Fprintln(os.Stderr, "bench: building ccotel and the drain baseline …")
	b.ccotel = filepath.Join(b.tmp, "ccotel")
	b.drain = filepath.Join(b.tmp, "drain")
	if err := b.build(b.ccotel, ".", true); err != nil {
		return err
	}
	if err := b.build(b.drain, "./bench/drain", true); err != nil {
		return err
	}
	certDir := filepath.Join(b.tmp, "certs")
	os.MkdirAll(certDir, 0o700)
	if b.certs, err = otlptest.NewPKI(certDir); err != nil {
		return err
	}
	b.rec, err = otlptest.Start(b.certs)
	return err
}

// build compiles pkg into out as a static binary; stripped drops the
// symbol table and DWARF (-s -w), as releases do.
func (b *bench) build(out, pkg string, stripped bool) error {
	args := []string{"build", "-trimpath", "-o", out}
	if stripped {
		args = append(args, "-ldflags", "-s -w")
	}
	c := exec.Command("go", append(args, pkg)...)
	c.Dir = b.root
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
	}
	return nil
}

func (b *bench) cleanup() {
	if b.rec != nil {
		b.rec.Close()
	}
	if b.keep {
		fmt.Fprintln(os.Stderr, "bench: kept", b.tmp)
		return
	}
	// Flushers started by hooks may still linger; give them a moment.
	time.Sleep(200 * time.Millisecond)
	os.RemoveAll(b.tmp)
}

// stateDir is a fresh state directory for one benchmark.
func (b *bench) stateDir(name string) string {
	d := filepath.Join(b.tmp, "state-"+name)
	os.MkdirAll(d, 0o700)
	return d
}

// hook is `ccotel hook` configured for the receiver, with its own state.
func (b *bench) hook(stateDir string) proc {
	return proc{bin: b.ccotel, args: []string{"hook"}, env: append(append([]string{}, b.base...),
		"CCOTEL_ENDPOINT="+b.rec.TracesURL(),
		"CCOTEL_CLIENT_CERT="+b.certs.ClientCert,
		"CCOTEL_CLIENT_KEY="+b.certs.ClientKey,
		"CCOTEL_CA="+b.certs.ServerCA.Path,
		"CCOTEL_STATE_DIR="+stateDir,
	)}
}

// ccotelCmd is another ccotel command with the same configuration.
func (b *bench) ccotelCmd(stateDir string, args ...string) proc {
	p := b.hook(stateDir)
	p.args = args
	return p
}

func (b *bench) drainProc() proc { return proc{bin: b.drain, env: b.base} }

// startSession runs SessionStart and UserPromptSubmit through the hook.
func startSession(h proc, s *session) error {
	for _, ev := range [][]byte{s.SessionStart(), s.UserPromptSubmit()} {
		if r := h.run(ev); !r.silentOK() {
			return fmt.Errorf("session setup: %s", r)
		}
	}
	return nil
}

// waitDelivered waits until every span ID in ids reached the receiver.
func (b *bench) waitDelivered(ids []string, timeout time.Duration) (missing int) {
	b.rec.WaitFor(timeout, func(otlptest.Stats) bool { return b.missing(ids) == 0 })
	return b.missing(ids)
}

func (b *bench) missing(ids []string) int {
	n := 0
	for _, id := range ids {
		if b.rec.Count(id) == 0 {
			n++
		}
	}
	return n
}

func (b *bench) dupsOf(ids []string) int {
	n := 0
	for _, id := range ids {
		if c := b.rec.Count(id); c > 1 {
			n += c - 1
		}
	}
	return n
}

func (b *bench) verdict(target, measured string, ok bool) {
	st := "met"
	if !ok {
		st = "NOT MET"
	}
	b.verdicts = append(b.verdicts, verdict{target, measured, st})
}

func (b *bench) header() {
	fmt.Println("## Benchmark run")
	fmt.Println()
	fmt.Println("```")
	fmt.Printf("command:   go run ./bench %s\n", strings.Join(os.Args[1:], " "))
	fmt.Printf("date:      %s\n", time.Now().UTC().Format(time.RFC3339))
	if out, err := exec.Command("uname", "-srm").Output(); err == nil {
		fmt.Printf("machine:   %s, %s, %d CPUs, %s RAM\n", strings.TrimSpace(string(out)), cpuModel(), runtime.NumCPU(), memTotal())
	}
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load avg:  %s (at start; the machine is shared)\n", strings.Join(strings.Fields(string(la))[:3], " "))
	}
	fmt.Printf("faults:    %.1f µs per first touch of an anonymous page (process start is mostly page faults)\n", pageFaultCost())
	fmt.Printf("go:        %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("ccotel:    %s\n", b.revision())
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		fmt.Printf("node:      %s", out)
	}
	fmt.Printf("runs:      %d per program (peer: %d), interleaved; medians; wall = fork to reaped, as Claude Code waits\n", b.runs, b.peerRuns)
	fmt.Println("```")
}

func (b *bench) revision() string {
	c := exec.Command("git", "rev-parse", "--short", "HEAD")
	c.Dir = b.root
	out, err := c.Output()
	if err != nil {
		return "unknown revision"
	}
	rev := strings.TrimSpace(string(out))
	c = exec.Command("git", "status", "--porcelain", "--untracked-files=no")
	c.Dir = b.root
	if out, err := c.Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		rev += " + uncommitted changes"
	}
	if r := (proc{bin: b.ccotel, args: []string{"version"}, env: b.base}).run(nil); r.ok() {
		rev += " (" + strings.TrimSpace(r.Stdout) + ")"
	}
	return rev
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			var kb int64
			fmt.Sscan(f[1], &kb)
			return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return "?"
}

func (b *bench) summary() {
	fmt.Println()
	fmt.Println("### Verdicts")
	fmt.Println()
	fmt.Println("| target | measured | verdict |")
	fmt.Println("|---|---|---|")
	for _, v := range b.verdicts {
		fmt.Printf("| %s | %s | %s |\n", v.target, v.measured, v.status)
	}
}

// pageFaultCost is the median time, in µs, of a first write to a fresh
// anonymous page. Starting any process costs a few hundred of these, so it
// sets the floor of every figure here (~0.1–0.5 µs on bare metal; much more
// in some VMs).
func pageFaultCost() float64 {
	const pages = 4096
	var d []time.Duration
	for range 5 {
		b, err := syscall.Mmap(-1, 0, pages*4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			return 0
		}
		t := time.Now()
		for i := 0; i < pages; i++ {
			b[i*4096] = 1
		}
		d = append(d, time.Since(t)/pages)
		syscall.Munmap(b)
	}
	return float64(median(d)) / 1e3
}
