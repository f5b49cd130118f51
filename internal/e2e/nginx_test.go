package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/otlptest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestEndToEndNginx runs the shipped examples/nginx/ccotel.conf (client
// certificates required, ssl_verify_depth 1) in front of an OTLP/HTTP
// receiver, wires a fresh HOME with `ccotel install`, feeds a recorded
// session through real `ccotel hook` processes, and checks that the
// background flusher delivers every span exactly once through nginx. It
// also checks that nginx refuses a client certificate from another CA, or
// none, and that `ccotel doctor` says so.
//
// It needs nginx (Debian's package); it is skipped without it, except in
// CI (CI=true), where a missing nginx is a failure.
func TestEndToEndNginx(t *testing.T) {
	nginx := otlptest.NginxBinary(t)
	if testing.Short() {
		t.Skip("-short")
	}

	began := time.Now()
	dir := t.TempDir()
	bin := ccotelBinary(t)
	certs, err := otlptest.NewPKI(mkdir(t, dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := otlptest.NewPKI(mkdir(t, dir, "stranger"))
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("built at %v", time.Since(began))
	rcv := newPlainReceiver(t)
	port := otlptest.StartNginx(t, otlptest.Nginx{Bin: nginx, Dir: mkdir(t, dir, "nginx"), Conf: filepath.Join(root, "examples", "nginx", "ccotel.conf"),
		ServerCert: certs.ServerCert, ServerKey: certs.ServerKey, ClientCA: certs.ClientCA.Path, Upstream: rcv.addr})
	endpoint := "https://127.0.0.1:" + port

	home := mkdir(t, dir, "home")
	env := cleanEnv(home)
	run := func(stdin []byte, extraEnv []string, args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(append([]string{}, env...), extraEnv...)
		cmd.Dir = home
		cmd.Stdin = bytes.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String(), errb.String(), code
	}

	// Wire the fresh HOME: settings.json and the config file.
	if out, errs, code := run(nil, nil, "install", "--endpoint", endpoint,
		"--client-cert", certs.ClientCert, "--client-key", certs.ClientKey, "--ca", certs.ServerCA.Path); code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errs)
	}
	stateDir := filepath.Join(home, ".local", "state", "ccotel")
	t.Cleanup(func() { stopFlusher(t, stateDir) })

	// nginx refuses a certificate from another CA, and no certificate;
	// doctor names both.
	for _, tc := range []struct {
		env  []string
		want []string
	}{
		{[]string{"CCOTEL_CLIENT_CERT=" + stranger.ClientCert, "CCOTEL_CLIENT_KEY=" + stranger.ClientKey},
			[]string{"refused the client certificate", "The SSL certificate error"}},
		{[]string{"CCOTEL_CLIENT_CERT=", "CCOTEL_CLIENT_KEY=", "CCOTEL_CONFIG=" + writeFile(t, dir, "nocert.toml",
			fmt.Sprintf("endpoint = %q\nca = %q\n", endpoint, certs.ServerCA.Path))},
			[]string{"requires a client certificate and ccotel sent none", "No required SSL certificate was sent"}},
	} {
		out, _, code := run(nil, tc.env, "doctor")
		if code != 1 {
			t.Errorf("doctor with %v: exit %d, want 1\n%s", tc.env, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("doctor with %v: output lacks %q:\n%s", tc.env, w, out)
			}
		}
	}
	if n := rcv.total(); n != 0 {
		t.Fatalf("%d spans got through nginx with a bad client certificate", n)
	}

	t.Logf("bad-cert doctors done at %v", time.Since(began))
	// A recorded session through real hook processes.
	events := readLines(t, filepath.Join(root, "testdata", "sessions", "subagent", "events.jsonl"))
	for i, ev := range events {
		out, errs, code := run(ev, nil, "hook")
		if code != 0 || out != "" || errs != "" {
			t.Fatalf("hook event %d: exit %d stdout %q stderr %q", i, code, out, errs)
		}
	}
	want := expectedSpanIDs(t, bin, env, filepath.Join(root, "testdata", "sessions", "subagent", "events.jsonl"))
	if len(want) < 5 {
		t.Fatalf("replay gives only %d spans", len(want))
	}
	t.Logf("hooks done at %v", time.Since(began))
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) && !rcv.hasAll(want) {
		time.Sleep(100 * time.Millisecond)
	}
	got := rcv.spans()
	for id := range want {
		if got[id] != 1 {
			t.Errorf("span %s (%s) arrived %d times", id, want[id], got[id])
		}
	}
	for id, n := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("unexpected span %s arrived %d times", id, n)
		}
	}
	t.Logf("delivered at %v", time.Since(began))
	if !rcv.sawClientSubject() {
		t.Error("the receiver never saw the client certificate's subject (X-Client-Subject)")
	}

	// Everything delivered: doctor is all green (its test span is in a
	// trace of its own) and status shows an empty outbox.
	stopFlusher(t, stateDir)
	t.Logf("flusher gone at %v", time.Since(began))
	if out, _, code := run(nil, nil, "doctor"); code != 0 {
		t.Errorf("doctor: exit %d\n%s", code, out)
	}
	if out, _, _ := run(nil, nil, "status"); !strings.Contains(out, "0 spans") || !strings.Contains(out, "ok") {
		t.Errorf("status:\n%s", out)
	}
}

func mkdir(t *testing.T, parts ...string) string {
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t *testing.T, dir, name, body string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readLines(t *testing.T, path string) [][]byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, append([]byte(nil), sc.Bytes()...))
		}
	}
	return lines
}

// cleanEnv is the environment of the ccotel processes: a fresh HOME and
// none of the variables that configure ccotel on this machine.
func cleanEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "CCOTEL_"), strings.HasPrefix(k, "OTEL_"), strings.HasPrefix(k, "OTLP_"),
			strings.HasPrefix(k, "XDG_"), k == "REQUESTS_CA_BUNDLE", k == "HOME", k == "CLAUDE_CONFIG_DIR", k == "TRACEPARENT":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home)
}

// expectedSpanIDs replays the session (throw-away state) and returns the
// span IDs it produces, with their names: IDs are derived from the
// session, so the hooks must export exactly these.
func expectedSpanIDs(t *testing.T, bin string, env []string, events string) map[string]string {
	cmd := exec.Command(bin, "replay", "--stdout", events)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	var doc struct {
		ResourceSpans []struct {
			ScopeSpans []struct {
				Spans []struct {
					SpanID string `json:"spanId"`
					Name   string `json:"name"`
				} `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("replay output: %v", err)
	}
	ids := map[string]string{}
	for _, rs := range doc.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				ids[s.SpanID] = s.Name
			}
		}
	}
	return ids
}

// stopFlusher waits for the background flusher to finish (it lingers a few
// seconds), then makes sure it is gone.
func stopFlusher(t *testing.T, stateDir string) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if delivery.FlusherPID(stateDir) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	if pid := delivery.FlusherPID(stateDir); pid != 0 {
		t.Errorf("flusher %d still running", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// plainReceiver is the OTLP/HTTP receiver behind nginx (plain HTTP on
// loopback, like a collector in the same pod).
type plainReceiver struct {
	addr string

	mu      sync.Mutex
	counts  map[string]int
	subject bool
}

func newPlainReceiver(t *testing.T) *plainReceiver {
	r := &plainReceiver{counts: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		var msg coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &msg); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		r.mu.Lock()
		if strings.Contains(req.Header.Get("X-Client-Subject"), "CN=") {
			r.subject = true
		}
		for _, rs := range msg.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					r.counts[hex.EncodeToString(s.GetSpanId())]++
				}
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	r.addr = strings.TrimPrefix(srv.URL, "http://")
	return r
}

func (r *plainReceiver) spans() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]int, len(r.counts))
	for k, v := range r.counts {
		m[k] = v
	}
	return m
}

func (r *plainReceiver) total() int {
	n := 0
	for _, v := range r.spans() {
		n += v
	}
	return n
}

func (r *plainReceiver) hasAll(want map[string]string) bool {
	got := r.spans()
	for id := range want {
		if got[id] == 0 {
			return false
		}
	}
	return true
}

func (r *plainReceiver) sawClientSubject() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.subject
}
