package otlptest

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPlainReceiverKeepsSpansAndHeaders(t *testing.T) {
	r := MustStartPlain(t)
	if !strings.HasPrefix(r.URL, "http://") || r.Addr() != strings.TrimPrefix(r.URL, "http://") {
		t.Fatalf("URL %q, Addr %q", r.URL, r.Addr())
	}
	req, _ := http.NewRequest("POST", r.TracesURL(), bytes.NewReader(body(t, 4, 5)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Client-Subject", "CN=alice@mac")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if s := r.Stats(); s.Requests != 1 || s.Distinct != 2 {
		t.Fatalf("stats %+v", s)
	}
	if got := r.Header().Get("X-Client-Subject"); got != "CN=alice@mac" {
		t.Fatalf("X-Client-Subject %q", got)
	}
	if _, err := Start(nil); err == nil {
		t.Fatal("Start(nil) served without certificates")
	}
}

// The file exporter's format (OTLP/JSON, hex IDs, int64 as strings, one
// request per line), with fields newer than our protos and a line still
// being written.
func TestReadFileExporter(t *testing.T) {
	p := filepath.Join(t.TempDir(), "traces.jsonl")
	if spans, err := ReadFileExporter(p); err != nil || spans != nil {
		t.Fatalf("missing file: %v %v", spans, err)
	}
	line := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"claude-code"}}],"entityRefs":[]},` +
		`"scopeSpans":[{"scope":{"name":"ccotel","version":"1"},"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718",` +
		`"parentSpanId":"2122232425262728","name":"execute_tool Bash","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2",` +
		`"attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"b","value":{"boolValue":true}}],"status":{"code":2,"message":"x"},"someFutureField":1}]}]}]}` + "\n"
	if err := os.WriteFile(p, []byte(line+line[:40]), 0o600); err != nil {
		t.Fatal(err)
	}
	spans, err := ReadFileExporter(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1 (the partial line is left)", len(spans))
	}
	s := spans[0]
	a := s.Attrs()
	if s.ID() != "1112131415161718" || s.GetName() != "execute_tool Bash" || s.Scope.GetName() != "ccotel" ||
		a["n"].GetIntValue() != 42 || !a["b"].GetBoolValue() || s.GetStatus().GetCode() != 2 ||
		AttrMap(s.Resource.GetAttributes())["service.name"].GetStringValue() != "claude-code" {
		t.Fatalf("span %v", s.Span)
	}
	if err := os.WriteFile(p, []byte("{not json}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFileExporter(p); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("bad line: %v", err)
	}
}

// TestCheckStamp: a stamp beside the binary that is not the hash of
// internal/otelcol's sources marks the binary stale; the right one, or
// none, passes.
func TestCheckStamp(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "otelcol")
	if err := checkStamp(bin); err != nil {
		t.Errorf("no stamp: %v", err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "internal", "otelcol")
	out, err := exec.Command("sh", "-c", "cd "+src+" && cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1").Output()
	if err != nil {
		t.Fatal(err)
	}
	for stamp, stale := range map[string]bool{string(out): false, "0123abcd\n": true} {
		if err := os.WriteFile(bin+".stamp", []byte(stamp), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := checkStamp(bin); (err != nil) != stale {
			t.Errorf("stamp %q: %v, want stale %v", stamp, err, stale)
		}
	}
}
