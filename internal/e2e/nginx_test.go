package e2e

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/otlptest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// throughNginx is what every test through nginx into the real collector
// starts with: both binaries (skipped without them, a failure under
// CI=true), the -short skip, a temporary directory and ccotel's binary.
func throughNginx(t *testing.T) (nginx, otelcol, dir, bin string) {
	t.Helper()
	nginx = otlptest.NginxBinary(t)
	otelcol = otlptest.CollectorBinary(t)
	if testing.Short() {
		t.Skip("-short")
	}
	return nginx, otelcol, t.TempDir(), ccotelBinary(t)
}

// TestEndToEndNginx runs the shipped examples/nginx/ccotel.conf (client
// certificates required, ssl_verify_depth 1) in front of the real
// OpenTelemetry Collector running examples/otelcol/config.yaml (with its
// file exporter), wires a fresh HOME with `ccotel install`, feeds a
// recorded session through real `ccotel hook` processes, and checks on
// what the collector wrote that the background flusher delivered every
// span exactly once, with the names, parents, status and attributes that
// `ccotel replay --stdout` gives for the same events. It also checks that
// nginx refuses a client certificate from another CA, or none, and that
// `ccotel doctor` says so.
//
// It needs nginx (Debian's package) and the collector
// (.ci/build-collector.sh); it is skipped without them, except in CI
// (CI=true), where a missing one is a failure.
func TestEndToEndNginx(t *testing.T) {
	nginx, otelcol, dir, bin := throughNginx(t)
	began := time.Now()
	certs, err := otlptest.NewPKI(mkdir(t, dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := otlptest.NewPKI(mkdir(t, dir, "stranger"))
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("built at %v", time.Since(began))
	col := otlptest.StartCollector(t, otlptest.Collector{Bin: otelcol, Dir: mkdir(t, dir, "otelcol"), Root: root})
	port := otlptest.StartNginx(t, otlptest.Nginx{Bin: nginx, Dir: mkdir(t, dir, "nginx"), Conf: filepath.Join(root, "examples", "nginx", "ccotel.conf"),
		ServerCert: certs.ServerCert, ServerKey: certs.ServerKey, ClientCA: certs.ClientCA.Path, Upstream: col.Addr})
	endpoint := "https://127.0.0.1:" + port
	t.Logf("collector and nginx up at %v", time.Since(began))

	home := mkdir(t, dir, "home")
	env := cleanEnv(home)
	run := runner(t, bin, env, home)

	// Wire the fresh HOME: settings.json and the config file.
	if out, errs, code := run(nil, nil, "install", "--endpoint", endpoint,
		"--client-cert", certs.ClientCert, "--client-key", certs.ClientKey, "--ca", certs.ServerCA.Path); code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errs)
	}
	stateDir := filepath.Join(home, ".local", "state", "ccotel")
	t.Cleanup(func() { stopFlusher(t, stateDir) })

	// nginx refuses a certificate from another CA, and no certificate;
	// doctor names both. (Had their test spans got through, they would be
	// in the collector's file below, which must hold the session alone.)
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

	t.Logf("bad-cert doctors done at %v", time.Since(began))
	// A recorded session through real hook processes.
	eventsPath := filepath.Join(root, "testdata", "sessions", "subagent", "events.jsonl")
	for i, ev := range readLines(t, eventsPath) {
		out, errs, code := run(ev, nil, "hook")
		if code != 0 || out != "" || errs != "" {
			t.Fatalf("hook event %d: exit %d stdout %q stderr %q", i, code, out, errs)
		}
	}
	want := replaySpans(t, bin, env, eventsPath)
	if len(want) < 5 {
		t.Fatalf("replay gives only %d spans", len(want))
	}
	t.Logf("hooks done at %v", time.Since(began))

	// What the collector wrote: every span of the session once, as replay
	// makes it. A loaded machine gets a generous wait.
	spans := col.WaitSpans(t, 90*time.Second, func(s []otlptest.FileSpan) bool {
		seen := map[string]bool{}
		for _, sp := range s {
			seen[sp.ID()] = true
		}
		for id := range want {
			if !seen[id] {
				return false
			}
		}
		return true
	})
	t.Logf("written by the collector at %v: %d spans", time.Since(began), len(spans))
	// Each also carries the identity nginx verified (identity_test.go).
	checkSpans(t, withIdentity(want, "dev laptop", "CN=dev laptop"), spans)
	// And forwarded them, once each, to the example's Tempo exporter.
	col.Tempo.WaitFor(60*time.Second, func(s otlptest.Stats) bool { return s.Distinct >= len(want) })
	for id, w := range want {
		if n := col.Tempo.Count(id); n != 1 {
			t.Errorf("span %s (%s) reached Tempo %d times, want once", id, w.GetName(), n)
		}
	}

	// Everything delivered: doctor is all green, its test span (in a trace
	// of its own) reaches the collector, and status shows an empty outbox.
	stopFlusher(t, stateDir)
	t.Logf("flusher gone at %v", time.Since(began))
	out, _, code := run(nil, nil, "doctor")
	if code != 0 {
		t.Errorf("doctor: exit %d\n%s", code, out)
	}
	waitDoctorSpan(t, col, out)
	if out, _, _ := run(nil, nil, "status"); !strings.Contains(out, "0 spans") || !strings.Contains(out, "ok") {
		t.Errorf("status:\n%s", out)
	}
}

// TestCertsInitAcceptedByNginx is the certificate path as a person runs
// it, with the real binary: `ccotel certs init` in a fresh HOME, its
// client-ca.pem as nginx's ssl_client_certificate (the shipped
// examples/nginx/ccotel.conf: ssl_verify_client on, ssl_verify_depth 1),
// the real collector behind nginx, `ccotel install --endpoint … --ca …`
// (which keeps the client_cert and client_key certs init wrote), then
// `ccotel doctor`: all good, its test span written by the collector. A
// client certificate from an unrelated CA gets doctor's failure naming
// nginx's refusal, and nothing through.
//
// It needs nginx and the collector, as TestEndToEndNginx does.
func TestCertsInitAcceptedByNginx(t *testing.T) {
	nginx, otelcol, dir, bin := throughNginx(t)
	home := mkdir(t, dir, "home")
	env := cleanEnv(home)
	run := runner(t, bin, env, home)

	out, errs, code := run(nil, nil, "certs", "init", "--cn", "alice@mac")
	if code != 0 {
		t.Fatalf("certs init: exit %d\n%s%s", code, out, errs)
	}
	confDir := filepath.Join(home, ".config", "ccotel")
	clientCA := filepath.Join(confDir, "client-ca.pem")
	for _, w := range []string{"kubectl create secret generic otel-client-ca -n observability --from-file=ca.crt=" + clientCA,
		`nginx.ingress.kubernetes.io/auth-tls-verify-client: "on"`, "client_cert and client_key now point at these files"} {
		if !strings.Contains(out, w) {
			t.Errorf("certs init output lacks %q:\n%s", w, out)
		}
	}
	for _, key := range []string{"client-ca-key.pem", "client-key.pem"} {
		if fi, err := os.Stat(filepath.Join(confDir, key)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", key, err, fi.Mode().Perm())
		}
	}

	// The server side: nginx's own certificate (a test server CA, which
	// ccotel is told to trust with --ca) and certs init's client CA.
	server, err := otlptest.NewPKI(mkdir(t, dir, "server"))
	if err != nil {
		t.Fatal(err)
	}
	col := otlptest.StartCollector(t, otlptest.Collector{Bin: otelcol, Dir: mkdir(t, dir, "otelcol"), Root: root})
	port := otlptest.StartNginx(t, otlptest.Nginx{Bin: nginx, Dir: mkdir(t, dir, "nginx"), Conf: filepath.Join(root, "examples", "nginx", "ccotel.conf"),
		ServerCert: server.ServerCert, ServerKey: server.ServerKey, ClientCA: clientCA, Upstream: col.Addr})
	if out, errs, code := run(nil, nil, "install", "--endpoint", "https://127.0.0.1:"+port, "--ca", server.ServerCA.Path); code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errs)
	}
	t.Cleanup(func() { stopFlusher(t, filepath.Join(home, ".local", "state", "ccotel")) })

	// An unrelated CA's certificate, first: refused, and doctor says so.
	strangerCert, strangerKey := otlptest.MustCA(t, "unrelated CA").MustIssue(t, "mallory@mac", otlptest.Leaf{})
	out, _, code = run(nil, []string{"CCOTEL_CLIENT_CERT=" + strangerCert, "CCOTEL_CLIENT_KEY=" + strangerKey}, "doctor")
	if code != 1 {
		t.Errorf("doctor with an unrelated CA's certificate: exit %d, want 1\n%s", code, out)
	}
	for _, w := range []string{"refused the client certificate", "The SSL certificate error"} {
		if !strings.Contains(out, w) {
			t.Errorf("doctor with an unrelated CA's certificate: output lacks %q:\n%s", w, out)
		}
	}

	// certs init's certificate: doctor is all good, and its test span is
	// what the collector writes.
	out, _, code = run(nil, nil, "doctor")
	if code != 0 {
		t.Errorf("doctor with certs init's certificate: exit %d, want 0\n%s", code, out)
	}
	if !strings.Contains(out, "alice@mac") {
		t.Errorf("doctor does not name the client certificate's subject (CN=alice@mac):\n%s", out)
	}
	waitDoctorSpan(t, col, out)
	// Only that one: the refused doctor's span never got past nginx (it
	// was sent first, so it would be in the file by now).
	n := 0
	for _, s := range col.Spans(t) {
		if s.GetName() == "ccotel doctor" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the collector wrote %d doctor test spans, want 1 (the accepted certificate's)", n)
	}
}

// checkSpans compares what the collector wrote with what replay makes
// of the same events: each span exactly once, with its trace, parent,
// name, kind, status and every attribute (names, gen_ai.* keys,
// ints, bools, doubles, arrays: the whole AnyValue) and the resource's
// service.name.
func checkSpans(t *testing.T, want map[string]*tracepb.Span, got []otlptest.FileSpan) {
	t.Helper()
	count := map[string]int{}
	for _, g := range got {
		id := g.ID()
		count[id]++
		w, ok := want[id]
		if !ok {
			t.Errorf("unexpected span %s %q in the collector's file", id, g.GetName())
			continue
		}
		if count[id] > 1 {
			continue
		}
		what := fmt.Sprintf("span %s (%s)", id, w.GetName())
		if g.GetName() != w.GetName() {
			t.Errorf("%s: name %q", what, g.GetName())
		}
		if !bytes.Equal(g.GetTraceId(), w.GetTraceId()) || !bytes.Equal(g.GetParentSpanId(), w.GetParentSpanId()) {
			t.Errorf("%s: trace %x parent %x, want trace %x parent %x", what, g.GetTraceId(), g.GetParentSpanId(), w.GetTraceId(), w.GetParentSpanId())
		}
		if g.GetKind() != w.GetKind() || !proto.Equal(g.GetStatus(), w.GetStatus()) {
			t.Errorf("%s: kind %v status %v, want kind %v status %v", what, g.GetKind(), g.GetStatus(), w.GetKind(), w.GetStatus())
		}
		// Times differ by design: replay takes the recorded events' times,
		// live hooks the moment each one ran.
		if g.GetStartTimeUnixNano() == 0 || g.GetEndTimeUnixNano() < g.GetStartTimeUnixNano() {
			t.Errorf("%s: times %d..%d", what, g.GetStartTimeUnixNano(), g.GetEndTimeUnixNano())
		}
		ga, wa := g.Attrs(), otlptest.AttrMap(w.GetAttributes())
		for k, v := range wa {
			if !proto.Equal(ga[k], v) {
				t.Errorf("%s: attribute %s = %s, want %s", what, k, otlptest.FormatValue(ga[k]), otlptest.FormatValue(v))
			}
		}
		for k, v := range ga {
			if _, ok := wa[k]; !ok {
				t.Errorf("%s: extra attribute %s = %s", what, k, otlptest.FormatValue(v))
			}
		}
		if sn := otlptest.AttrMap(g.Resource.GetAttributes())["service.name"].GetStringValue(); sn != "claude-code" {
			t.Errorf("%s: resource service.name %q", what, sn)
		}
	}
	for id, w := range want {
		if count[id] != 1 {
			t.Errorf("span %s (%s) is in the collector's file %d times, want once", id, w.GetName(), count[id])
		}
	}
}

// doctorSpanRE finds the test span doctor reports accepted.
var doctorSpanRE = regexp.MustCompile(`test span "ccotel doctor" accepted by \S+ \(trace ([0-9a-f]{32}), span ([0-9a-f]{16})\)`)

// waitDoctorSpan waits for the test span a green `ccotel doctor` reported
// (its output is out) to be in the collector's file, once, under the
// trace and span IDs doctor named.
func waitDoctorSpan(t *testing.T, col *otlptest.Collector, out string) {
	t.Helper()
	m := doctorSpanRE.FindStringSubmatch(out)
	if m == nil {
		t.Errorf("doctor does not report its test span accepted:\n%s", out)
		return
	}
	t.Logf("%s", m[0])
	trace, span := m[1], m[2]
	find := func(s []otlptest.FileSpan) (n int) {
		for _, sp := range s {
			if sp.ID() == span && hex.EncodeToString(sp.GetTraceId()) == trace && sp.GetName() == "ccotel doctor" {
				n++
			}
		}
		return n
	}
	spans := col.WaitSpans(t, 60*time.Second, func(s []otlptest.FileSpan) bool { return find(s) > 0 })
	if n := find(spans); n != 1 {
		t.Errorf("the collector wrote doctor's test span (trace %s, span %s) %d times, want once", trace, span, n)
	}
}

// runner runs the ccotel binary in home with env (plus extra variables)
// and returns its stdout, stderr and exit code.
func runner(t *testing.T, bin string, env []string, home string) func(stdin []byte, extraEnv []string, args ...string) (string, string, int) {
	return func(stdin []byte, extraEnv []string, args ...string) (string, string, int) {
		t.Helper()
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

// replaySpans replays the session (throw-away state) and returns the
// spans it produces by hex span ID: IDs are derived from the session, so
// the hooks must export exactly these.
func replaySpans(t *testing.T, bin string, env []string, events string) map[string]*tracepb.Span {
	t.Helper()
	cmd := exec.Command(bin, "replay", "--stdout", events)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := otlptest.UnmarshalOTLPJSON(out, &req); err != nil {
		t.Fatalf("replay output: %v", err)
	}
	spans := map[string]*tracepb.Span{}
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				spans[hex.EncodeToString(s.GetSpanId())] = s
			}
		}
	}
	return spans
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
