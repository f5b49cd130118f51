package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this test binary as the `ccotel` command
// (testdata/script/*.txtar, and the tests below that exec "ccotel").
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"ccotel": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }})
}

// isolateEnv keeps the developer's configuration and CCOTEL_*/OTEL_*
// variables out of a test that runs ccotel in-process.
func isolateEnv(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CCOTEL_") || strings.HasPrefix(k, "OTEL_") || k == "TRACEPARENT" {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(home, ".state"))
	return home
}

// expectedTrace is a scenario's expected.json, written by hand from its
// events.jsonl.
type expectedTrace struct {
	About    string            `json:"about"`
	Base     time.Time         `json:"base"`
	Warnings int               `json:"warnings"` // lines replay skips with a warning
	Open     int               `json:"open"`     // spans left open at the end
	Args     []string          `json:"args"`     // extra replay flags
	Env      map[string]string `json:"env"`
	Spans    []expectedSpan    `json:"spans"`
}

type expectedSpan struct {
	ID     string `json:"id"`     // a label other spans use as "parent"
	Parent string `json:"parent"` // "" = no parent among the exported spans
	// ParentSpanID, when set, is the parent's hex span ID (a parent from
	// outside the trace, e.g. TRACEPARENT).
	ParentSpanID string         `json:"parent_span_id"`
	TraceID      string         `json:"trace_id"`
	Name         string         `json:"name"`
	Start        float64        `json:"start"` // seconds after Base
	End          float64        `json:"end"`
	Status       string         `json:"status"`         // "" (unset) or "error"
	Message      *string        `json:"status_message"` // when set: the exact status message
	Attrs        map[string]any `json:"attrs"`          // null: must be absent
	Events       []string       `json:"events"`         // names, in order (when set)
	Links        []string       `json:"links"`          // "traceid/spanid"
}

// otlpSpan is the part of OTLP/JSON the scenario test reads back.
type otlpSpan struct {
	TraceID      string `json:"traceId"`
	SpanID       string `json:"spanId"`
	ParentSpanID string `json:"parentSpanId"`
	Name         string `json:"name"`
	Start        string `json:"startTimeUnixNano"`
	End          string `json:"endTimeUnixNano"`
	Attributes   []struct {
		Key   string         `json:"key"`
		Value map[string]any `json:"value"`
	} `json:"attributes"`
	Events []struct {
		Name string `json:"name"`
	} `json:"events"`
	Links []struct {
		TraceID string `json:"traceId"`
		SpanID  string `json:"spanId"`
	} `json:"links"`
	Status struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
}

func (s *otlpSpan) attr(k string) (any, bool) {
	for _, a := range s.Attributes {
		if a.Key != k {
			continue
		}
		for typ, v := range a.Value {
			switch typ {
			case "intValue":
				n, _ := strconv.ParseInt(v.(string), 10, 64)
				return float64(n), true
			case "arrayValue":
				var out []any
				for _, e := range v.(map[string]any)["values"].([]any) {
					out = append(out, e.(map[string]any)["stringValue"])
				}
				return out, true
			default:
				return v, true
			}
		}
	}
	return nil, false
}

func nanos(s string) time.Time {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Unix(0, n).UTC()
}

func decodeOTLP(t *testing.T, b []byte) []*otlpSpan {
	t.Helper()
	var req struct {
		ResourceSpans []struct {
			ScopeSpans []struct {
				Spans []*otlpSpan `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("replay --stdout is not JSON: %v\n%s", err, b)
	}
	var spans []*otlpSpan
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			spans = append(spans, ss.Spans...)
		}
	}
	return spans
}

// TestSessions replays every recorded session in testdata/sessions and
// compares the trace with the hand-written expected.json: names, parents,
// start and end times, key attributes, status, events and links; every
// exported span must be expected, and no span ID may repeat.
func TestSessions(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/sessions/*/expected.json")
	if len(dirs) < 10 {
		t.Fatalf("only %d recorded sessions", len(dirs))
	}
	for _, exp := range dirs {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			isolateEnv(t)
			b, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			var want expectedTrace
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatalf("%s: %v", exp, err)
			}
			for k, v := range want.Env {
				if strings.HasPrefix(v, "testdata/") { // relative to the repository
					v = filepath.Join("..", "..", v)
				}
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			args := append(append([]string{"--stdout"}, want.Args...), filepath.Join(dir, "events.jsonl"))
			if code := runReplay(args, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("replay exit %d: %s", code, stderr.String())
			}
			if got := strings.Count(stderr.String(), "skipped"); got != want.Warnings {
				t.Errorf("%d lines skipped, want %d:\n%s", got, want.Warnings, stderr.String())
			}
			compareTrace(t, &want, decodeOTLP(t, stdout.Bytes()))

			// The tree of the same session: one line per span, and the
			// count of spans left open.
			stdout.Reset()
			if code := runReplay(append(append([]string{"--tree"}, want.Args...), filepath.Join(dir, "events.jsonl")), nil, &stdout, &stderr); code != 0 {
				t.Fatalf("replay --tree exit %d", code)
			}
			lines := strings.Count(stdout.String(), "\n")
			wantLines := len(want.Spans)
			if want.Open > 0 {
				wantLines++
				if !strings.Contains(stdout.String(), fmt.Sprintf("(%d spans still open", want.Open)) {
					t.Errorf("tree does not say %d spans are open:\n%s", want.Open, stdout.String())
				}
			}
			if lines != wantLines {
				t.Errorf("tree has %d lines, want %d:\n%s", lines, wantLines, stdout.String())
			}
		})
	}
}

func compareTrace(t *testing.T, want *expectedTrace, got []*otlpSpan) {
	t.Helper()
	ids := map[string]bool{}
	for _, s := range got {
		if ids[s.SpanID] {
			t.Errorf("span ID %s exported twice", s.SpanID)
		}
		ids[s.SpanID] = true
		if len(s.TraceID) != 32 || len(s.SpanID) != 16 || s.TraceID == strings.Repeat("0", 32) {
			t.Errorf("bad ids %q %q", s.TraceID, s.SpanID)
		}
		if nanos(s.End).Before(nanos(s.Start)) {
			t.Errorf("%s ends before it starts", s.Name)
		}
	}
	at := func(sec float64) time.Time {
		return want.Base.Add(time.Duration(math.Round(sec*1e6)) * time.Microsecond)
	}
	matched := map[string]*otlpSpan{} // by label
	used := map[*otlpSpan]bool{}
	for i := range want.Spans {
		w := &want.Spans[i]
		var found *otlpSpan
		var near []string
		for _, s := range got {
			if used[s] || s.Name != w.Name {
				continue
			}
			if !nanos(s.Start).Equal(at(w.Start)) || !nanos(s.End).Equal(at(w.End)) {
				near = append(near, fmt.Sprintf("%v..%v", nanos(s.Start).Sub(want.Base), nanos(s.End).Sub(want.Base)))
				continue
			}
			if attrsMatch(s, w.Attrs) == "" {
				found = s
				break
			}
			near = append(near, attrsMatch(s, w.Attrs))
		}
		if found == nil {
			t.Errorf("no span %q %.3fs..%.3fs with %v; same name: %v", w.Name, w.Start, w.End, w.Attrs, near)
			continue
		}
		used[found] = true
		if w.ID != "" {
			matched[w.ID] = found
		}
		label := fmt.Sprintf("%s@%.3fs", w.Name, w.Start)
		switch {
		case w.ParentSpanID != "":
			if found.ParentSpanID != w.ParentSpanID {
				t.Errorf("%s: parent %s, want %s", label, found.ParentSpanID, w.ParentSpanID)
			}
		case w.Parent != "":
			p := matched[w.Parent]
			if p == nil {
				t.Errorf("%s: parent %q not matched (list parents first)", label, w.Parent)
			} else if found.ParentSpanID != p.SpanID {
				t.Errorf("%s: parent %s, want %s (%s)", label, found.ParentSpanID, p.SpanID, w.Parent)
			}
		default:
			if ids[found.ParentSpanID] {
				t.Errorf("%s: has a parent among the spans, expected none", label)
			}
		}
		if w.TraceID != "" && found.TraceID != w.TraceID {
			t.Errorf("%s: trace %s, want %s", label, found.TraceID, w.TraceID)
		}
		if status := map[int]string{0: "", 1: "ok", 2: "error"}[found.Status.Code]; status != w.Status {
			t.Errorf("%s: status %q, want %q", label, status, w.Status)
		}
		if w.Message != nil && found.Status.Message != *w.Message {
			t.Errorf("%s: status message %q, want %q", label, found.Status.Message, *w.Message)
		}
		if w.Events != nil {
			var names []string
			for _, e := range found.Events {
				names = append(names, e.Name)
			}
			if strings.Join(names, ",") != strings.Join(w.Events, ",") {
				t.Errorf("%s: events %v, want %v", label, names, w.Events)
			}
		}
		if w.Links != nil {
			var links []string
			for _, l := range found.Links {
				links = append(links, l.TraceID+"/"+l.SpanID)
			}
			if strings.Join(links, ",") != strings.Join(w.Links, ",") {
				t.Errorf("%s: links %v, want %v", label, links, w.Links)
			}
		}
	}
	for _, s := range got {
		if !used[s] {
			t.Errorf("unexpected span %q %v..%v", s.Name, nanos(s.Start).Sub(want.Base), nanos(s.End).Sub(want.Base))
		}
	}
	// One trace per session.
	traces := map[string]bool{}
	for _, s := range got {
		traces[s.TraceID] = true
	}
	if len(got) > 0 && len(traces) != 1 {
		t.Errorf("%d traces for one session", len(traces))
	}
}

// attrsMatch returns "" when s has every expected attribute (nil: absent).
func attrsMatch(s *otlpSpan, want map[string]any) string {
	for k, v := range want {
		got, ok := s.attr(k)
		if v == nil {
			if ok {
				return fmt.Sprintf("%s=%v (want absent)", k, got)
			}
			continue
		}
		if !ok || fmt.Sprint(got) != fmt.Sprint(v) {
			return fmt.Sprintf("%s=%v (want %v)", k, got, v)
		}
	}
	return ""
}

// TestScripts runs testdata/script/*.txtar: the real binary as Claude Code
// runs it (one process per event, the payload on stdin), asserting silence
// and exit 0 for every input. The environment points at a collector on a
// closed loopback port, so the hook really runs (and starts a flusher that
// can only fail); the flusher is stopped when the script ends.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			stateDir := filepath.Join(env.WorkDir, "state")
			env.Setenv("CCOTEL_ENDPOINT", "https://127.0.0.1:9")
			env.Setenv("CCOTEL_STATE_DIR", stateDir)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			env.Setenv("CCOTEL_LOCK_TIMEOUT", "300ms")
			env.Defer(func() { endFlusher(stateDir) })
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"outbox":     cmdOutbox,
			"holdlock":   cmdHoldLock,
			"bigevent":   cmdBigEvent,
			"corruptdb":  cmdCorruptDB,
			"binfile":    cmdBinFile,
			"ownercycle": cmdOwnerCycle,
		},
	})
}

// endFlusher ends the background flusher a hook started for stateDir
// (by the pid in its lock file), and waits for it to exit.
func endFlusher(stateDir string) {
	pid := delivery.FlusherPID(stateDir)
	if pid == 0 {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
}

// outbox prints the spans queued in $CCOTEL_STATE_DIR, one line each:
// name, then "error=<type>" and "incomplete=<reason>" when set, sorted.
// With -ids it checks that no span ID repeats.
func cmdOutbox(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! outbox")
	}
	spans := readOutbox(ts.Getenv("CCOTEL_STATE_DIR"), ts.Fatalf)
	var lines []string
	seen := map[tracing.SpanID]bool{}
	for _, s := range spans {
		if seen[s.SpanID] {
			ts.Fatalf("span ID %s queued twice", s.SpanID)
		}
		seen[s.SpanID] = true
		l := s.Name
		if a, ok := s.Attr("error.type"); ok {
			l += " error=" + a.Str
		}
		if a, ok := s.Attr("claude_code.incomplete.reason"); ok {
			l += " incomplete=" + a.Str
		}
		lines = append(lines, l)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(ts.Stdout(), l)
	}
}

func readOutbox(dir string, fatalf func(string, ...any)) []*tracing.Span {
	store, err := state.Open(state.Options{Dir: dir, ReadOnly: true, LockTimeout: 10 * time.Second})
	if err != nil {
		fatalf("open state: %v", err)
	}
	defer store.Close()
	var spans []*tracing.Span
	err = store.View(func(tx *state.Tx) error {
		entries, err := tx.Peek(tx.Counters().Queued)
		if err != nil {
			return err
		}
		for _, e := range entries {
			s, err := tracing.UnmarshalSpan(e.Value)
			if err != nil {
				return err
			}
			spans = append(spans, s)
		}
		return nil
	})
	if err != nil {
		fatalf("read outbox: %v", err)
	}
	return spans
}

var heldStores = map[*testscript.TestScript]*state.Store{}

// holdlock start|stop holds the state lock in the test process, as a slow
// hook or the flusher would.
func cmdHoldLock(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: holdlock start|stop")
	}
	switch args[0] {
	case "start":
		s, err := state.Open(state.Options{Dir: ts.Getenv("CCOTEL_STATE_DIR")})
		if err != nil {
			ts.Fatalf("%v", err)
		}
		heldStores[ts] = s
	case "stop":
		if s := heldStores[ts]; s != nil {
			s.Close()
			delete(heldStores, ts)
		}
	}
}

// bigevent SIZE FILE writes a PostToolUse payload of about SIZE bytes
// (a Read of a large file), as one line.
func cmdBigEvent(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: bigevent SIZE FILE")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("%v", err)
	}
	chunk := `line of source with "quotes", \back\slashes and ünïcode` + "\n"
	content, _ := json.Marshal(strings.Repeat(chunk, n/len(chunk)+1))
	payload := `{"session_id":"big-1","hook_event_name":"PostToolUse","tool_name":"Read","tool_use_id":"toolu_big",` +
		`"tool_input":{"file_path":"/big.txt"},"tool_response":{"type":"text","file":{"filePath":"/big.txt","content":` +
		string(content) + `}},"duration_ms":12}`
	if err := os.WriteFile(ts.MkAbs(args[1]), []byte(payload), 0o644); err != nil {
		ts.Fatalf("%v", err)
	}
}

// corruptdb overwrites the state database with garbage.
func cmdCorruptDB(ts *testscript.TestScript, neg bool, args []string) {
	path := filepath.Join(ts.Getenv("CCOTEL_STATE_DIR"), "ccotel.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a bbolt database "), 1000), 0o600); err != nil {
		ts.Fatalf("%v", err)
	}
}

// binfile N FILE writes N bytes of deterministic binary garbage.
func cmdBinFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: binfile N FILE")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("%v", err)
	}
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	if err := os.WriteFile(ts.MkAbs(args[1]), b, 0o644); err != nil {
		ts.Fatalf("%v", err)
	}
}

// TestHookConcurrent starts 64 hook processes at once for one session
// (64 PreToolUse, then 64 PostToolUse, as parallel tool calls do): every
// process exits 0 silently and the outbox holds each of the 64 tool spans
// exactly once.
func TestHookConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 130 processes")
	}
	bin, err := exec.LookPath("ccotel") // this test binary, installed by TestMain
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	env := []string{
		"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, ".config"), "PATH=" + os.Getenv("PATH"),
		"CCOTEL_ENDPOINT=https://127.0.0.1:9", "CCOTEL_STATE_DIR=" + stateDir,
	}
	t.Cleanup(func() { endFlusher(stateDir) })
	const n = 64
	sid := "conc-" + strconv.Itoa(os.Getpid())
	runHook := func(payload string) (time.Duration, error) {
		cmd := exec.Command(bin, "hook")
		cmd.Env = env
		cmd.Stdin = strings.NewReader(payload)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		if err == nil && (out.Len() > 0 || errOut.Len() > 0) {
			err = fmt.Errorf("output: stdout %q stderr %q", out.String(), errOut.String())
		}
		return d, err
	}
	event := func(name string, i int) string {
		return fmt.Sprintf(`{"session_id":%q,"prompt_id":"p","hook_event_name":%q,"tool_name":"Read","tool_input":{"file_path":"/f%d"},"tool_use_id":"toolu_%03d","tool_response":{"type":"text"},"duration_ms":5}`, sid, name, i, i)
	}
	if _, err := runHook(fmt.Sprintf(`{"session_id":%q,"hook_event_name":"SessionStart","source":"startup"}`, sid)); err != nil {
		t.Fatal(err)
	}
	var times []time.Duration
	for _, phase := range []string{"PreToolUse", "PostToolUse"} {
		var wg sync.WaitGroup
		errs := make([]error, n)
		durs := make([]time.Duration, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				durs[i], errs[i] = runHook(event(phase, i))
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("%s %d: %v", phase, i, err)
			}
		}
		times = append(times, durs...)
	}
	spans := readOutbox(stateDir, t.Fatalf)
	ids := map[string]int{}
	for _, s := range spans {
		if s.Name != "execute_tool Read" {
			continue
		}
		id, _ := s.Attr("gen_ai.tool.call.id")
		ids[id.Str]++
		if _, missed := s.Attr("claude_code.tool.pre_missed"); missed {
			t.Errorf("%s: PreToolUse lost", id.Str)
		}
	}
	for i := 0; i < n; i++ {
		if c := ids[fmt.Sprintf("toolu_%03d", i)]; c != 1 {
			t.Errorf("toolu_%03d: %d spans", i, c)
		}
	}
	if len(ids) != n {
		t.Errorf("%d distinct tool spans, want %d", len(ids), n)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("hook wall time with %d concurrent processes: median %v, p99 %v, max %v",
		n, times[len(times)/2], times[len(times)*99/100], times[len(times)-1])
}
