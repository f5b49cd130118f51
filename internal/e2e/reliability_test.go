package e2e

// Binary-level reliability tests: the real ccotel binary, run as separate
// processes the way Claude Code runs it, against an in-process OTLP/HTTP
// receiver that requires client certificates (bench/sink). Each scenario
// asserts what was lost: nothing.
//
// The binary is built once per `go test` run (TestReliability's subtests
// share it). Hooks here never leave a detached flusher behind: the tests
// hold flusher.lock while hooks run, so hooks see "a flusher is running",
// and then drain the outbox with a foreground `ccotel flush --wait`.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/otlptest"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

func TestReliability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := ccotelBinary(t)
	certs, err := otlptest.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &relRig{bin: bin, certs: certs}

	t.Run("FlusherKilledMidBatch", r.testFlusherKilledMidBatch)
	t.Run("CorruptDatabase", r.testCorruptDatabase)
	t.Run("UnwritableStateDir", r.testUnwritableStateDir)
	t.Run("FullDisk", r.testFullDisk)
	t.Run("LostEventsCountedWhenFull", r.testLostEventsCountedWhenFull)
	t.Run("PlantedStateDir", r.testPlantedStateDir)
	t.Run("OutboxCap", r.testOutboxCap)
	t.Run("ClockOddities", r.testClockOddities)
}

// relRig is what every scenario shares: the binary and the certificates.
type relRig struct {
	bin   string
	certs *otlptest.PKI
}

// env is a clean environment for ccotel: a private HOME (no user config
// file), the receiver's endpoint and certificates, the given state dir.
func (r *relRig) env(t *testing.T, endpoint, stateDir string, extra ...string) []string {
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CCOTEL_") || strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "OTLP_") ||
			strings.HasPrefix(k, "XDG_") || k == "HOME" || k == "REQUESTS_CA_BUNDLE" || k == "TRACEPARENT" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home,
		"CCOTEL_ENDPOINT="+endpoint,
		"CCOTEL_CLIENT_CERT="+r.certs.ClientCert,
		"CCOTEL_CLIENT_KEY="+r.certs.ClientKey,
		"CCOTEL_CA="+r.certs.ServerCA.Path,
		"CCOTEL_STATE_DIR="+stateDir)
	return append(env, extra...)
}

type relRun struct {
	code           int
	stdout, stderr string
}

// run runs ccotel with args and stdin, bounded to 60 s.
func (r *relRig) run(t *testing.T, env []string, stdin []byte, args ...string) relRun {
	t.Helper()
	return relRunCmd(t, env, stdin, r.bin, args...)
}

func relRunCmd(t *testing.T, env []string, stdin []byte, bin string, args ...string) relRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, bin, args...)
	c.Env = env
	c.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	c.WaitDelay = 5 * time.Second
	err := c.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v: timed out", bin, args)
	}
	res := relRun{code: c.ProcessState.ExitCode(), stdout: out.String(), stderr: errb.String()}
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return res
}

// hookSilently runs `ccotel hook` on ev and fails unless it exited 0
// with nothing on stdout or stderr.
func (r *relRig) hookSilently(t *testing.T, env []string, ev []byte) {
	t.Helper()
	res := r.run(t, env, ev, "hook")
	if res.code != 0 || res.stdout != "" || res.stderr != "" {
		t.Fatalf("ccotel hook on %s: exit %d, stdout %q, stderr %q (want exit 0, silent)", relClip(ev), res.code, res.stdout, res.stderr)
	}
}

func relClip(ev []byte) string {
	if len(ev) > 120 {
		return string(ev[:120]) + "…"
	}
	return string(ev)
}

// relHoldFlusher takes flusher.lock for the test so hooks start no flusher.
func relHoldFlusher(t *testing.T, dir string) (release func()) {
	t.Helper()
	l, err := delivery.AcquireFlusherLock(dir)
	if err != nil {
		t.Fatalf("flusher.lock: %v", err)
	}
	released := false
	release = func() {
		if !released {
			released = true
			l.Release()
		}
	}
	t.Cleanup(release)
	return release
}

func relReceiver(t *testing.T, c *otlptest.PKI) *otlptest.Receiver {
	t.Helper()
	rec, err := otlptest.Start(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return rec
}

// event is a hook payload for session sid.
func relEvent(sid, name string, fields ...any) []byte {
	m := map[string]any{"session_id": sid, "hook_event_name": name, "cwd": "/home/dev/app",
		"transcript_path": "/nonexistent/" + sid + ".jsonl"}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fields[i].(string)] = fields[i+1]
	}
	b, _ := json.Marshal(m)
	return b
}

func relPre(sid, toolUseID string) []byte {
	return relEvent(sid, "PreToolUse", "tool_name", "Bash", "tool_use_id", toolUseID,
		"tool_input", map[string]any{"command": "go test ./...", "description": "Run tests"})
}

func relPost(sid, toolUseID string) []byte {
	return relEvent(sid, "PostToolUse", "tool_name", "Bash", "tool_use_id", toolUseID, "duration_ms", 120,
		"tool_input", map[string]any{"command": "go test ./...", "description": "Run tests"},
		"tool_response", map[string]any{"stdout": "ok\n", "stderr": "", "interrupted": false, "isImage": false})
}

// toolSpanID is the tool span ID docs/ARCHITECTURE.md defines.
func relToolSpanID(sid, toolUseID string) string {
	h := sha256.Sum256([]byte("ccotel/tool/" + sid + "/" + toolUseID))
	return hex.EncodeToString(h[:8])
}

// queue enqueues n tool spans of one session directly in the outbox, as
// hooks would have, and returns their span IDs.
func relQueue(t *testing.T, dir string, n int) []string {
	t.Helper()
	st, err := state.Open(state.Options{Dir: dir, LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sid := "0b6e8c51-2c1f-4d8e-9a3b-5f7d1e2a4c6b"
	var trace tracing.TraceID
	th := sha256.Sum256([]byte("ccotel/trace/" + sid))
	copy(trace[:], th[:16])
	var ids []string
	t0 := time.Now().Add(-time.Hour)
	err = st.Update(func(tx *state.Tx) error {
		for i := range n {
			var id tracing.SpanID
			h := sha256.Sum256(fmt.Appendf(nil, "ccotel/tool/%s/toolu_%06d", sid, i))
			copy(id[:], h[:8])
			s := tracing.Span{TraceID: trace, SpanID: id, Name: "execute_tool Bash", Kind: tracing.KindInternal,
				Start: t0.Add(time.Duration(i) * time.Millisecond), End: t0.Add(time.Duration(i)*time.Millisecond + 500*time.Microsecond),
				Attrs: []tracing.Attr{tracing.String("gen_ai.tool.name", "Bash"), tracing.String("gen_ai.tool.call.id", fmt.Sprintf("toolu_%06d", i))}}
			b, err := s.Marshal()
			if err != nil {
				return err
			}
			if err := tx.Enqueue(b); err != nil {
				return err
			}
			ids = append(ids, id.String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func relCounters(t *testing.T, dir string) state.Counters {
	t.Helper()
	st, err := state.Open(state.Options{Dir: dir, ReadOnly: true, LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var c state.Counters
	if err := st.View(func(tx *state.Tx) error { c = tx.Counters(); return nil }); err != nil {
		t.Fatal(err)
	}
	return c
}

func relMissing(rec *otlptest.Receiver, ids []string) []string {
	var m []string
	for _, id := range ids {
		if rec.Count(id) == 0 {
			m = append(m, id)
		}
	}
	return m
}

// The flusher is killed with SIGKILL while the collector holds a batch it
// has accepted but not yet answered; a new flusher then delivers
// everything. Delivery is at-least-once and the window is one batch: only
// the spans of the batch in flight at the kill may arrive twice.
func (r *relRig) testFlusherKilledMidBatch(t *testing.T) {
	const n = 1500
	dir := t.TempDir()
	rec := relReceiver(t, r.certs)
	ids := relQueue(t, dir, n)
	env := r.env(t, rec.TracesURL(), dir)

	rec.Hold()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	flusher := exec.CommandContext(ctx, r.bin, "flush", "--wait")
	flusher.Env = env
	if err := flusher.Start(); err != nil {
		t.Fatal(err)
	}
	if !rec.WaitFor(20*time.Second, func(s otlptest.Stats) bool { return s.Requests >= 1 }) {
		flusher.Process.Kill()
		flusher.Wait()
		t.Fatal("the flusher sent nothing within 20 s")
	}
	// Give a flusher that exports batches concurrently the chance to show
	// it: the window would then be more than one batch.
	time.Sleep(300 * time.Millisecond)
	if err := flusher.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	flusher.Wait()
	atKill := rec.Stats()
	rec.Release()
	if atKill.Requests != 1 {
		t.Errorf("%d export requests in flight at the kill, want 1 (one batch at a time)", atKill.Requests)
	}
	if atKill.Distinct >= n {
		t.Fatalf("the first batch held all %d spans: the test cannot tell a batch from the whole outbox", n)
	}

	res := r.run(t, env, nil, "flush", "--wait")
	if res.code != 0 {
		t.Fatalf("flush --wait after the kill: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	if m := relMissing(rec, ids); len(m) > 0 {
		t.Fatalf("%d of %d spans lost after the kill and restart (e.g. %s)", len(m), n, m[0])
	}
	final := rec.Stats()
	t.Logf("batch in flight at the kill: %d spans; after restart: %d received, %d distinct, %d duplicates", atKill.Distinct, final.Total, final.Distinct, final.Dups())
	if final.Dups() > atKill.Distinct {
		t.Errorf("%d duplicates, more than the %d spans of the batch in flight at the kill (the at-least-once window)", final.Dups(), atKill.Distinct)
	}
	for id, c := range rec.Spans() {
		if c > 2 {
			t.Errorf("span %s delivered %d times", id, c)
		}
	}
	if c := relCounters(t, dir); c.Queued != 0 {
		t.Errorf("%d spans still queued after flush --wait", c.Queued)
	}
}

// A database file that is garbage or truncated: the hook still exits 0
// silently, moves the file aside and traces the new events.
func (r *relRig) testCorruptDatabase(t *testing.T) {
	rec := relReceiver(t, r.certs)

	// A valid database to truncate: one made by the hook itself.
	validDir := t.TempDir()
	release := relHoldFlusher(t, validDir)
	r.hookSilently(t, r.env(t, rec.TracesURL(), validDir), relEvent("a5f3c2d1-0000-4000-8000-000000000001", "SessionStart", "source", "startup"))
	release()
	valid, err := os.ReadFile(filepath.Join(validDir, "ccotel.db"))
	if err != nil {
		t.Fatal(err)
	}

	garbage := bytes.Repeat([]byte("\x00ccotel\xffgarbage\x13\x37"), 6000)
	for _, tc := range []struct {
		name string
		db   []byte
	}{
		{"garbage", garbage},
		{"truncated", valid[:len(valid)/3]},
		{"header only", valid[:100]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "ccotel.db")
			if err := os.WriteFile(dbPath, tc.db, 0o600); err != nil {
				t.Fatal(err)
			}
			release := relHoldFlusher(t, dir)
			env := r.env(t, rec.TracesURL(), dir)
			sid := fmt.Sprintf("c0ffee00-0000-4000-8000-%012d", len(tc.db))
			r.hookSilently(t, env, relEvent(sid, "SessionStart", "source", "startup"))
			r.hookSilently(t, env, relPre(sid, "toolu_after_corruption"))
			r.hookSilently(t, env, relPost(sid, "toolu_after_corruption"))

			asides, _ := filepath.Glob(dbPath + ".corrupt-*")
			if len(asides) != 1 {
				t.Fatalf("moved-aside files: %v, want one ccotel.db.corrupt-*", asides)
			}
			if b, _ := os.ReadFile(asides[0]); !bytes.Equal(b, tc.db) {
				t.Errorf("%s does not hold the corrupt file's bytes", asides[0])
			}
			release()
			if res := r.run(t, env, nil, "flush", "--wait"); res.code != 0 {
				t.Fatalf("flush --wait: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			id := relToolSpanID(sid, "toolu_after_corruption")
			if !rec.WaitFor(10*time.Second, func(otlptest.Stats) bool { return rec.Count(id) > 0 }) {
				t.Fatalf("the tool span traced after the corruption (%s) never arrived", id)
			}
		})
	}
}

// A state directory that cannot be created or written: the hook exits 0
// and prints nothing. The path's parent is a regular file, which fails as
// root too (a chmod 0500 directory would not stop root).
func (r *relRig) testUnwritableStateDir(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(parent, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join(parent, "state")}
	if os.Geteuid() != 0 {
		ro := filepath.Join(t.TempDir(), "read-only")
		os.Mkdir(ro, 0o500)
		t.Cleanup(func() { os.Chmod(ro, 0o700) })
		dirs = append(dirs, ro)
	}
	for _, dir := range dirs {
		env := r.env(t, "https://127.0.0.1:9/v1/traces", dir)
		sid := "deadbeef-0000-4000-8000-000000000002"
		for _, ev := range [][]byte{
			relEvent(sid, "SessionStart", "source", "startup"),
			relPre(sid, "toolu_ro"),
			relPost(sid, "toolu_ro"),
			relEvent(sid, "SessionEnd", "reason", "other"),
		} {
			r.hookSilently(t, env, ev)
		}
	}
}

// A full disk, simulated with a file-size limit (ulimit -f): every write
// past it fails (EFBIG; Go ignores SIGXFSZ). The hook exits 0 silently;
// once space is back, events are traced again.
func (r *relRig) testFullDisk(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatal("sh is needed to set ulimit -f for this scenario")
	}
	rec := relReceiver(t, r.certs)
	dir := t.TempDir()
	release := relHoldFlusher(t, dir)
	env := r.env(t, rec.TracesURL(), dir)
	sid := "f011d15c-0000-4000-8000-000000000003"
	// ulimit -f counts 512-byte blocks in POSIX sh: 2 KiB, less than
	// bbolt's first four pages.
	for _, ev := range [][]byte{relEvent(sid, "SessionStart", "source", "startup"), relPre(sid, "toolu_full"), relPost(sid, "toolu_full")} {
		res := relRunCmd(t, env, ev, "sh", "-c", `ulimit -f 4 && exec "$0" hook`, r.bin)
		if res.code != 0 || res.stdout != "" || res.stderr != "" {
			t.Fatalf("hook on a full disk: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
		}
	}
	// The drop is explained where a user can find it (the log is small
	// enough to fit under the limit).
	if b, err := os.ReadFile(filepath.Join(dir, "ccotel.log")); err != nil || len(b) == 0 {
		t.Errorf("no log line about the failed writes (%v)", err)
	}
	// And counted, so status and doctor report the loss.
	if fi, err := os.Stat(filepath.Join(dir, "lost-events")); err != nil || fi.Size() != 3 {
		t.Errorf("lost events counted: %v (%v), want 3", fi, err)
	}
	// Space is back: the next events are recorded and exported.
	r.hookSilently(t, env, relPre(sid, "toolu_after_full"))
	r.hookSilently(t, env, relPost(sid, "toolu_after_full"))
	release()
	if res := r.run(t, env, nil, "flush", "--wait"); res.code != 0 {
		t.Fatalf("flush --wait: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	id := relToolSpanID(sid, "toolu_after_full")
	if !rec.WaitFor(10*time.Second, func(otlptest.Stats) bool { return rec.Count(id) > 0 }) {
		t.Fatalf("the tool span traced after the disk freed up (%s) never arrived", id)
	}
}

// The outbox cap: with outbox_max_spans = 10, 25 finished spans leave the
// 10 newest queued, 15 dropped and counted, and `ccotel status` says so.
func (r *relRig) testOutboxCap(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("outbox_max_spans = 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	release := relHoldFlusher(t, dir)
	defer release()
	env := r.env(t, "https://127.0.0.1:9/v1/traces", dir, "CCOTEL_CONFIG="+cfg)
	sid := "cafe0000-0000-4000-8000-000000000004"
	var ids []string
	for i := range 25 {
		tu := fmt.Sprintf("toolu_cap_%02d", i)
		r.hookSilently(t, env, relPost(sid, tu))
		ids = append(ids, relToolSpanID(sid, tu))
	}
	c := relCounters(t, dir)
	if c.Queued != 10 || c.Dropped != 15 {
		t.Fatalf("queued %d, dropped %d; want 10 and 15", c.Queued, c.Dropped)
	}
	// The oldest were dropped: what is left is the last 10 tool spans.
	st, err := state.Open(state.Options{Dir: dir, ReadOnly: true, LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	err = st.View(func(tx *state.Tx) error {
		es, err := tx.Peek(100)
		for _, e := range es {
			s, err := tracing.UnmarshalSpan(e.Value)
			if err != nil {
				return err
			}
			left = append(left, s.SpanID.String())
		}
		return err
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := ids[15:]; !slices.Equal(left, want) {
		t.Errorf("outbox holds %v, want the 10 newest tool spans %v", left, want)
	}

	res := r.run(t, env, nil, "status")
	if res.code != 0 {
		t.Fatalf("status: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	reported := false
	for _, line := range strings.Split(res.stdout, "\n") {
		if strings.Contains(strings.ToLower(line), "drop") && strings.Contains(line, "15") {
			reported = true
		}
	}
	if !reported {
		t.Errorf("status does not report the 15 dropped spans:\n%s", res.stdout)
	}
}

// Clock oddities: a PostToolUse whose PreToolUse comes after it (the Pre's
// hook lost the race for the lock), and events with equal timestamps. Every
// span is exported exactly once under its ID, none ends before it starts,
// and nothing is left open to be exported a second time at SessionEnd.
func (r *relRig) testClockOddities(t *testing.T) {
	sid := "0dd0c10c-0000-4000-8000-000000000005"
	events := [][]byte{
		relEvent(sid, "SessionStart", "source", "startup"),
		relEvent(sid, "UserPromptSubmit", "prompt_id", "p1", "prompt", "x"),
		relPost(sid, "toolu_post_first"),
		relPre(sid, "toolu_post_first"),
		relPre(sid, "toolu_same_time"),
		relPost(sid, "toolu_same_time"),
		relEvent(sid, "Stop"),
		relEvent(sid, "SessionEnd", "reason", "other"),
	}

	t.Run("hook processes", func(t *testing.T) {
		rec := relReceiver(t, r.certs)
		dir := t.TempDir()
		release := relHoldFlusher(t, dir)
		env := r.env(t, rec.TracesURL(), dir)
		for _, ev := range events {
			r.hookSilently(t, env, ev)
		}
		release()
		if res := r.run(t, env, nil, "flush", "--wait"); res.code != 0 {
			t.Fatalf("flush --wait: exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
		// root, turn and two tools
		if !rec.WaitFor(10*time.Second, func(s otlptest.Stats) bool { return s.Distinct >= 4 }) {
			t.Fatalf("received %+v, want the root, the turn and two tool spans", rec.Stats())
		}
		for _, tu := range []string{"toolu_post_first", "toolu_same_time"} {
			if c := rec.Count(relToolSpanID(sid, tu)); c != 1 {
				t.Errorf("tool span %s received %d times, want once", tu, c)
			}
		}
		if s := rec.Stats(); s.Dups() != 0 || s.Distinct != 4 {
			t.Errorf("received %+v: want 4 distinct spans, no duplicates", s)
		}
	})

	t.Run("equal timestamps in replay", func(t *testing.T) {
		var in bytes.Buffer
		for _, ev := range events {
			var m map[string]any
			json.Unmarshal(ev, &m)
			m["_ts"] = "2026-11-22T10:00:00Z"
			b, _ := json.Marshal(m)
			in.Write(b)
			in.WriteByte('\n')
		}
		file := filepath.Join(t.TempDir(), "events.jsonl")
		os.WriteFile(file, in.Bytes(), 0o600)
		res := r.run(t, r.env(t, "", t.TempDir()), nil, "replay", "--stdout", file)
		if res.code != 0 {
			t.Fatalf("replay: exit %d\n%s", res.code, res.stderr)
		}
		var out struct {
			ResourceSpans []struct {
				ScopeSpans []struct {
					Spans []struct {
						SpanID string `json:"spanId"`
						Name   string `json:"name"`
						Start  string `json:"startTimeUnixNano"`
						End    string `json:"endTimeUnixNano"`
					} `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
			t.Fatalf("replay --stdout is not OTLP JSON: %v", err)
		}
		seen := map[string]int{}
		for _, rs := range out.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					seen[sp.SpanID]++
					if len(sp.End) < len(sp.Start) || (len(sp.End) == len(sp.Start) && sp.End < sp.Start) {
						t.Errorf("%s ends (%s) before it starts (%s)", sp.Name, sp.End, sp.Start)
					}
				}
			}
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("span %s exported %d times", id, c)
			}
		}
		for _, tu := range []string{"toolu_post_first", "toolu_same_time"} {
			if seen[relToolSpanID(sid, tu)] != 1 {
				t.Errorf("tool span %s missing from replay", tu)
			}
		}
		if len(seen) != 4 {
			t.Errorf("%d spans, want 4 (root, turn, two tools)", len(seen))
		}
	})
}

// envHome is the HOME of an env from relRig.env.
func envHome(env []string) string {
	for _, kv := range env {
		if h, ok := strings.CutPrefix(kv, "HOME="); ok {
			return h
		}
	}
	return ""
}

// fallbackLost is the lost-event count kept in HOME/.cache/ccotel.
func fallbackLost(t *testing.T, env []string) int64 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(envHome(env), ".cache", "ccotel", "lost-events-*"))
	var n int64
	for _, f := range files {
		if fi, err := os.Lstat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// A state directory someone else prepared (mode 0777, flusher.lock and
// ccotel.log symlinked to the victim's files): the hook refuses it, exits
// 0 silently, leaves the victim files alone, and counts its events as
// lost in the user's cache directory.
func (r *relRig) testPlantedStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ccotel")
	victims := t.TempDir()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, victim := range map[string]string{"flusher.lock": ".bashrc", "ccotel.log": ".profile", "ccotel.lock": ".zshrc", "ccotel.db": ".vimrc", "lost-events": ".inputrc"} {
		v := filepath.Join(victims, victim)
		if err := os.WriteFile(v, []byte("export PATH=precious\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(v, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	env := r.env(t, "https://127.0.0.1:9/v1/traces", dir)
	sid := "0badd1e0-0000-4000-8000-000000000009"
	events := [][]byte{relEvent(sid, "SessionStart", "source", "startup"), relPre(sid, "toolu_planted"), relPost(sid, "toolu_planted")}
	for _, ev := range events {
		r.hookSilently(t, env, ev)
	}
	entries, _ := os.ReadDir(victims)
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join(victims, e.Name())); err != nil || string(b) != "export PATH=precious\n" {
			t.Errorf("victim %s was touched: %q %v", e.Name(), b, err)
		}
	}
	if n := fallbackLost(t, env); n != int64(len(events)) {
		t.Errorf("%d lost events counted in the cache directory, want %d", n, len(events))
	}
	logs, _ := filepath.Glob(filepath.Join(envHome(env), ".cache", "ccotel", "ccotel.log-*"))
	if len(logs) == 0 {
		t.Error("no log line in the cache directory saying why the state directory was refused")
	} else if b, _ := os.ReadFile(logs[0]); !strings.Contains(string(b), "writable by group or others") {
		t.Errorf("fallback log does not say why:\n%s", b)
	}
	// status explains instead of reading the planted directory.
	res := r.run(t, env, nil, "status")
	if res.code == 0 || !strings.Contains(res.stdout+res.stderr, "not trusted") {
		t.Errorf("status on a planted directory: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// Events lost on a full disk are counted even when the state directory
// cannot take one more byte: lost-events is already at the size limit
// (2 KiB, ulimit -f 4), so the count goes to the cache directory and
// status adds both.
func (r *relRig) testLostEventsCountedWhenFull(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatal("sh is needed to set ulimit -f for this scenario")
	}
	dir := t.TempDir()
	release := relHoldFlusher(t, dir)
	defer release()
	if err := os.WriteFile(filepath.Join(dir, "lost-events"), bytes.Repeat([]byte("."), 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	env := r.env(t, "https://127.0.0.1:9/v1/traces", dir)
	sid := "f011d15c-0000-4000-8000-00000000000a"
	events := [][]byte{relEvent(sid, "SessionStart", "source", "startup"), relPre(sid, "toolu_full2"), relPost(sid, "toolu_full2")}
	for _, ev := range events {
		res := relRunCmd(t, env, ev, "sh", "-c", `ulimit -f 4 && exec "$0" hook`, r.bin)
		if res.code != 0 || res.stdout != "" || res.stderr != "" {
			t.Fatalf("hook on a full disk: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
		}
	}
	// Space is back: a hook (which moves the half-written database aside)
	// records its event; the losses stay counted.
	r.hookSilently(t, env, relPre(sid, "toolu_after"))
	res := r.run(t, env, nil, "status", "--json")
	var st struct {
		LostEvents int64 `json:"lost_events"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s%s", err, res.stdout, res.stderr)
	}
	if st.LostEvents != 2048+int64(len(events)) {
		t.Errorf("status: %d hook events lost, want %d", st.LostEvents, 2048+len(events))
	}
}
