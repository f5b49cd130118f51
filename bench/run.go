package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// result is one process run.
type result struct {
	Wall   time.Duration // fork to reaped, as the parent (Claude Code) sees it
	CPU    time.Duration // user + system
	Faults int64         // minor page faults
	Code   int
	Stdout string
	Stderr string
	Err    error // could not start, or killed by a signal
}

func (r result) ok() bool { return r.Err == nil && r.Code == 0 }

// silentOK reports whether the run is what a hook must be: exit 0, nothing
// on stdout or stderr.
func (r result) silentOK() bool { return r.ok() && r.Stdout == "" && r.Stderr == "" }

func (r result) String() string {
	return fmt.Sprintf("exit %d err %v stdout %q stderr %q", r.Code, r.Err, clip(r.Stdout), clip(r.Stderr))
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// proc is a program to run: binary, arguments and environment.
type proc struct {
	bin  string
	args []string
	env  []string
}

// runTimeout bounds any one process, so that a hung hook shows up as a
// failure instead of a hung benchmark.
const runTimeout = 2 * time.Minute

// cmd prepares p with stdin fed from memory through a pipe (as Claude Code
// does) and stdout/stderr captured. WaitDelay bounds the wait for a
// grandchild that kept the pipes open (a flusher must not).
func (p proc) cmd(ctx context.Context, stdin []byte, stdout, stderr *bytes.Buffer) *exec.Cmd {
	c := exec.CommandContext(ctx, p.bin, p.args...)
	c.WaitDelay = 5 * time.Second
	c.Env = p.env
	c.Stdin = bytes.NewReader(stdin)
	c.Stdout = stdout
	c.Stderr = stderr
	return c
}

// run runs p to completion and measures it.
func (p proc) run(stdin []byte) result {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var out, errb bytes.Buffer
	c := p.cmd(ctx, stdin, &out, &errb)
	start := time.Now()
	err := c.Start()
	if err != nil {
		return result{Err: err, Code: -1}
	}
	err = c.Wait()
	return finish(c, start, err, &out, &errb)
}

func finish(c *exec.Cmd, start time.Time, err error, out, errb *bytes.Buffer) result {
	r := result{Wall: time.Since(start), Stdout: out.String(), Stderr: errb.String()}
	if ps := c.ProcessState; ps != nil {
		r.Code = ps.ExitCode()
		r.CPU = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.Faults = ru.Minflt
		}
	}
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		r.Err = err
	} else if r.Code < 0 {
		r.Err = fmt.Errorf("killed: %v", c.ProcessState)
	}
	return r
}

func (p proc) withEnv(kv ...string) proc {
	q := p
	q.env = append(slices.Clone(p.env), kv...)
	return q
}

// series collects measurements of one program in one benchmark.
type series struct {
	name string
	runs []result
}

func (s *series) add(r result) { s.runs = append(s.runs, r) }

func (s *series) walls() []time.Duration {
	var d []time.Duration
	for _, r := range s.runs {
		d = append(d, r.Wall)
	}
	return d
}

func (s *series) cpus() []time.Duration {
	var d []time.Duration
	for _, r := range s.runs {
		d = append(d, r.CPU)
	}
	return d
}

// faults is the median number of minor page faults per run.
func (s *series) faults() int64 {
	var d []time.Duration
	for _, r := range s.runs {
		d = append(d, time.Duration(r.Faults))
	}
	return int64(median(d))
}

func (s *series) failures() int {
	n := 0
	for _, r := range s.runs {
		if !r.silentOK() {
			n++
		}
	}
	return n
}

func (s *series) firstFailure() string {
	for _, r := range s.runs {
		if !r.silentOK() {
			return r.String()
		}
	}
	return ""
}

// quantile is the nearest-rank quantile (q in (0,1]) of d.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// median is the middle value (mean of the two middle ones for even n).
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return math.Inf(1)
	}
	return float64(a) / float64(b)
}

// flusherLockFree reports whether no flusher holds <dir>/flusher.lock.
func flusherLockFree(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, "flusher.lock"), os.O_RDWR, 0)
	if err != nil {
		return os.IsNotExist(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}

// waitFlusherGone waits until no flusher runs for dir.
func waitFlusherGone(dir string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !flusherLockFree(dir) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// holdFlusherLock takes <dir>/flusher.lock so that hooks believe a flusher
// runs and spawn none; release undoes it.
func holdFlusherLock(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "flusher.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("flusher.lock in %s stayed busy", dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() { f.Close() }, nil
}

// filteredEnv is the harness's environment without anything that would
// configure ccotel or the peer behind the benchmark's back.
func filteredEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "CCOTEL_"), strings.HasPrefix(k, "OTEL_"), strings.HasPrefix(k, "OTLP_"),
			strings.HasPrefix(k, "XDG_"), k == "REQUESTS_CA_BUNDLE", k == "TRACEPARENT", k == "GODEBUG",
			k == "HOME", k == "PEER_STATE_DIR", k == "NODE_OPTIONS":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
}

// gnuTime is GNU time, used to measure peak RSS ("" if not installed).
var gnuTime = func() string {
	p, err := exec.LookPath("time")
	if err != nil {
		if _, err := os.Stat("/usr/bin/time"); err == nil {
			return "/usr/bin/time"
		}
		return ""
	}
	return p
}()

// peakRSS runs p under GNU time and returns the child's peak resident set
// size in KiB. The rusage os/exec reports will not do: Go starts children
// with clone(CLONE_VM|CLONE_VFORK), and Linux carries the parent's RSS
// high-water mark into the child at exec, so every child would report at
// least the harness's own RSS. GNU time forks from a ~2 MB process.
func peakRSS(p proc, stdin []byte, tmp string) (int64, error) {
	_, kib, err := runRSS(p, stdin, tmp)
	return kib, err
}

// maxRSS is the largest peakRSS of n runs, each fed stdin().
func maxRSS(n int, p proc, stdin func() []byte, tmp string) (int64, error) {
	var m int64
	for range n {
		kib, err := peakRSS(p, stdin(), tmp)
		if err != nil {
			return 0, err
		}
		m = max(m, kib)
	}
	return m, nil
}

// runRSS is run under GNU time: the result (its wall time includes GNU
// time's own fork and exec) and the child's peak RSS in KiB.
func runRSS(p proc, stdin []byte, tmp string) (result, int64, error) {
	if gnuTime == "" {
		return p.run(stdin), 0, fmt.Errorf("GNU time is not installed (apt-get install -y time)")
	}
	out := filepath.Join(tmp, "rss.txt")
	os.Remove(out)
	q := proc{bin: gnuTime, args: append([]string{"-f", "%M", "-o", out, p.bin}, p.args...), env: p.env}
	r := q.run(stdin)
	b, err := os.ReadFile(out)
	if err != nil {
		return r, 0, err
	}
	// GNU time writes "Command exited with non-zero status N" first when
	// the child failed; the figure is on the last line either way.
	kib, err := strconv.ParseInt(strings.TrimSpace(lastLine(string(b))), 10, 64)
	return r, kib, err
}
