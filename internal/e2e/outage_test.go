package e2e

// The fleet outage: twenty laptops, each its own HOME and state directory,
// running the real binary's hooks (which start real background flushers),
// behind one collector that goes down (connections refused) while the
// laptops work, then go idle. When it comes back, every idle laptop's
// waiting flusher delivers on its own: no hook event needed.

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/otlptest"
)

// outageScale is the test's timeline. CI runs it scaled down through
// the configuration (retry_max_interval 10 s instead of 4 min, a 40 s
// outage): every laptop must drain within 14 s of the collector's return,
// which the old flusher (30 s backoff cap) fails. CCOTEL_E2E_OUTAGE=full
// runs it at full scale, by hand: a 270 s outage, the default
// configuration, laptops idle from the first minute, each drained within
// 5 minutes (the old flusher gave up 2 minutes after its first failure,
// before the collector came back).
type outageScale struct {
	laptops  int
	outage   time.Duration // collector down
	activeIn time.Duration // each laptop's last events fall in this first part of the outage
	drain    time.Duration // bound on each laptop's time to drain after recovery
	extraEnv []string      // the scaled-down configuration
}

func outageScaleFromEnv() outageScale {
	if os.Getenv("CCOTEL_E2E_OUTAGE") == "full" {
		return outageScale{laptops: 20, outage: 270 * time.Second, activeIn: time.Minute, drain: 5 * time.Minute}
	}
	return outageScale{laptops: 20, outage: 40 * time.Second, activeIn: 10 * time.Second, drain: 14 * time.Second,
		extraEnv: []string{"CCOTEL_RETRY_MAX_INTERVAL=10s", "CCOTEL_RETRY_FOR=10m"}}
}

func TestIdleLaptopsDeliverAfterOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a fleet through an outage")
	}
	sc := outageScaleFromEnv()
	certs, err := otlptest.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &relRig{bin: ccotelBinary(t), certs: certs}
	rec := relReceiver(t, certs)
	arrivals := recordArrivals(rec)
	front := startFront(t, rec.Addr())

	fleet := make([]*laptop, sc.laptops)
	for i := range fleet {
		l := &laptop{sid: fmt.Sprintf("1a7e0000-0000-4000-8000-%012d", i), dir: t.TempDir()}
		l.env = r.env(t, "https://"+front.addr+"/v1/traces", l.dir, sc.extraEnv...)
		fleet[i] = l
		t.Cleanup(func() { killFlusher(l.dir) })
	}
	// Working, collector up: each laptop's first tool call arrives.
	for _, l := range fleet {
		l.hooks(t, r, relEvent(l.sid, "SessionStart", "source", "startup"),
			relEvent(l.sid, "UserPromptSubmit", "prompt_id", "p1", "prompt", "run the tests"),
			relPre(l.sid, "toolu_before"), relPost(l.sid, "toolu_before"))
	}
	// Every answer is back (the outboxes are empty): the outage cuts no
	// request the collector accepted, whose spans would arrive twice.
	for _, l := range fleet {
		for deadline := time.Now().Add(30 * time.Second); relCounters(t, l.dir).Queued > 0; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("before the outage: laptop %s still has spans queued (collector: %+v)", l.sid, rec.Stats())
			}
		}
	}

	// The collector goes down; each laptop works a little more, at its
	// own moment, then goes idle for good.
	down := time.Now()
	front.down()
	for i, l := range fleet {
		time.Sleep(time.Until(down.Add(sc.activeIn * time.Duration(i) / time.Duration(sc.laptops))))
		l.hooks(t, r, relPre(l.sid, "toolu_during"), relPost(l.sid, "toolu_during"),
			relPre(l.sid, "toolu_last"), relPost(l.sid, "toolu_last"),
			relEvent(l.sid, "Stop"), relEvent(l.sid, "SessionEnd", "reason", "logout"))
		l.expect = int(relCounters(t, l.dir).Enqueued)
	}
	time.Sleep(time.Until(down.Add(sc.outage)))
	waiting := measureWaitingFlushers(t, fleet)
	up := time.Now()
	if err := front.up(); err != nil {
		t.Fatal(err)
	}
	drained := waitDrained(rec, fleet, up, sc.drain+30*time.Second)

	report := outageReport{sc: sc, fleet: fleet, drained: drained, stats: rec.Stats(), waiting: waiting,
		peak: arrivals.peak(up), requests: arrivals.since(up)}
	report.check(t)
}

// laptop is one simulated developer machine.
type laptop struct {
	sid, dir string
	env      []string
	expect   int // spans its hooks queued (Counters.Enqueued)
}

func (l *laptop) hooks(t *testing.T, r *relRig, events ...[]byte) {
	t.Helper()
	for _, ev := range events {
		r.hookSilently(t, l.env, ev)
	}
}

// delivered is how many distinct spans of l's trace the collector holds.
func (l *laptop) delivered(got map[string]int, traceOf map[string]string) int {
	want := hex.EncodeToString(hookTraceID(l.sid))
	n := 0
	for id := range got {
		if traceOf[id] == want {
			n++
		}
	}
	return n
}

func hookTraceID(sid string) []byte {
	id := hook.TraceID(sid)
	return id[:]
}

// waitDrained polls the collector until every laptop's spans arrived or
// timeout passes, and returns each laptop's time to drain after up (-1:
// not drained).
func waitDrained(rec *otlptest.Receiver, fleet []*laptop, up time.Time, timeout time.Duration) []time.Duration {
	drained := make([]time.Duration, len(fleet))
	for i := range drained {
		drained[i] = -1
	}
	for left := len(fleet); left > 0 && time.Since(up) < timeout; time.Sleep(50 * time.Millisecond) {
		got, traceOf := receivedByTrace(rec)
		for i, l := range fleet {
			if drained[i] < 0 && l.delivered(got, traceOf) >= l.expect {
				drained[i] = time.Since(up)
				left--
			}
		}
	}
	return drained
}

// receivedByTrace returns span ID → copies received, and span ID → its
// hex trace ID.
func receivedByTrace(rec *otlptest.Receiver) (map[string]int, map[string]string) {
	spans, _ := rec.Received()
	got, traceOf := map[string]int{}, map[string]string{}
	for id, copies := range spans {
		got[id] = len(copies)
		traceOf[id] = hex.EncodeToString(copies[0].GetTraceId())
	}
	return got, traceOf
}

// flusherCost is what a waiting background flusher holds.
type flusherCost struct {
	alive       int
	maxRSSKiB   int
	maxCPUTicks int // utime+stime, in clock ticks (1/100 s)
}

// measureWaitingFlushers reads, just before the collector returns, each
// laptop's flusher: it must be there (waiting, not given up), and what it
// costs (VmRSS, CPU time since it started).
func measureWaitingFlushers(t *testing.T, fleet []*laptop) flusherCost {
	var c flusherCost
	for _, l := range fleet {
		pid := delivery.FlusherPID(l.dir)
		if pid == 0 {
			continue
		}
		c.alive++
		rss, cpu := procCost(pid)
		c.maxRSSKiB, c.maxCPUTicks = max(c.maxRSSKiB, rss), max(c.maxCPUTicks, cpu)
	}
	return c
}

// procCost reads VmRSS (KiB) and utime+stime (ticks) of pid from /proc.
func procCost(pid int) (rssKiB, cpuTicks int) {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				rssKiB, _ = strconv.Atoi(strings.Fields(v)[0])
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command's closing parenthesis: utime and
		// stime are the 12th and 13th.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b)[i+1:])
			if len(f) > 12 {
				u, _ := strconv.Atoi(f[11])
				s, _ := strconv.Atoi(f[12])
				cpuTicks = u + s
			}
		}
	}
	return rssKiB, cpuTicks
}

func killFlusher(dir string) {
	if pid := delivery.FlusherPID(dir); pid > 0 {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// outageReport is what the run measured, and what it must show.
type outageReport struct {
	sc       outageScale
	fleet    []*laptop
	drained  []time.Duration
	stats    otlptest.Stats
	waiting  flusherCost
	peak     int // requests in the busiest second after recovery
	requests int // requests after recovery
}

func (o outageReport) check(t *testing.T) {
	t.Helper()
	expected, worst, notDrained := 0, time.Duration(0), 0
	var times []string
	for i, l := range o.fleet {
		expected += l.expect
		if o.drained[i] < 0 {
			notDrained++
			continue
		}
		worst = max(worst, o.drained[i])
		times = append(times, o.drained[i].Round(100*time.Millisecond).String())
	}
	sort.Slice(times, func(i, j int) bool {
		a, _ := time.ParseDuration(times[i])
		b, _ := time.ParseDuration(times[j])
		return a < b
	})
	t.Logf("outage %v, %d laptops idle from the first %v: delivered %d/%d distinct spans, %d duplicates",
		o.sc.outage, len(o.fleet), o.sc.activeIn, o.stats.Distinct, expected, o.stats.Dups())
	t.Logf("time to drain after recovery, per laptop: %s (worst %v)", strings.Join(times, " "), worst.Round(100*time.Millisecond))
	t.Logf("requests after recovery: %d, peak %d/s; flushers waiting at recovery: %d/%d, max VmRSS %d KiB, max CPU %d ms",
		o.requests, o.peak, o.waiting.alive, len(o.fleet), o.waiting.maxRSSKiB, o.waiting.maxCPUTicks*10)
	if notDrained > 0 {
		t.Errorf("%d of %d idle laptops still held spans %v after the collector came back", notDrained, len(o.fleet), o.sc.drain+30*time.Second)
	}
	if worst > o.sc.drain {
		t.Errorf("the slowest laptop drained %v after recovery, want within %v", worst, o.sc.drain)
	}
	if o.stats.Distinct != expected || o.stats.Dups() != 0 {
		t.Errorf("delivered %d distinct spans with %d duplicates, want %d and none", o.stats.Distinct, o.stats.Dups(), expected)
	}
	if o.waiting.alive != len(o.fleet) {
		t.Errorf("%d of %d idle laptops had a flusher still waiting when the collector came back", o.waiting.alive, len(o.fleet))
	}
	if limit := max(5, len(o.fleet)/2); o.peak > limit {
		t.Errorf("a request storm at recovery: %d requests in one second (limit %d)", o.peak, limit)
	}
	if o.requests > 2*len(o.fleet) {
		t.Errorf("%d requests after recovery for %d laptops", o.requests, len(o.fleet))
	}
}

// arrivals records when each request reached the collector.
type arrivals struct {
	mu    sync.Mutex
	times []time.Time
}

func recordArrivals(rec *otlptest.Receiver) *arrivals {
	a := &arrivals{}
	rec.Wrap(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a.mu.Lock()
			a.times = append(a.times, time.Now())
			a.mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	return a
}

func (a *arrivals) since(t0 time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, at := range a.times {
		if !at.Before(t0) {
			n++
		}
	}
	return n
}

// peak is the most requests within any one second after t0.
func (a *arrivals) peak(t0 time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	best := 0
	for i, start := range a.times {
		if start.Before(t0) {
			continue
		}
		n := 0
		for _, at := range a.times[i:] {
			if at.Sub(start) < time.Second {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

// front is the collector's address as the laptops know it: a TCP relay
// to the receiver that can go down (its port closed: connections refused)
// and come back on the same port.
type front struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func startFront(t *testing.T, target string) *front {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &front{addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	go f.serve(ln)
	t.Cleanup(f.down)
	return f
}

func (f *front) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go f.relay(c)
	}
}

func (f *front) relay(c net.Conn) {
	u, err := net.Dial("tcp", f.target)
	if err != nil {
		c.Close()
		return
	}
	f.track(c, u)
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
	c.Close()
}

func (f *front) track(conns ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range conns {
		f.conns[c] = true
	}
}

// down closes the port and every open connection.
func (f *front) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
	for c := range f.conns {
		c.Close()
	}
	f.conns = map[net.Conn]bool{}
}

// up listens on the same port again.
func (f *front) up() error {
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.ln = ln
	f.mu.Unlock()
	go f.serve(ln)
	return nil
}
