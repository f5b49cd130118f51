package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// TestServerAnswerNeverRaw: a collector (or proxy) answering 503 with a
// page that clears the screen, prints a green "all spans delivered" and
// echoes the request's headers reaches neither the terminal nor the log
// raw: flush, status, status --json, doctor and ccotel.log show the page's
// words without control characters or escape sequences, and without the
// configured header value.
func TestServerAnswerNeverRaw(t *testing.T) {
	home := isolateEnv(t)
	const token = "tok-9f8e7d6c5b4a39281706"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString("\x1b[2J\x1b[H\x1b[32m all spans delivered \x1b[0m\r\u202e")
		for k, vs := range r.Header {
			fmt.Fprintf(&b, "\n%s: %s", k, strings.Join(vs, ", "))
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(b.String()))
	}))
	defer srv.Close()
	t.Setenv("CCOTEL_ENDPOINT", srv.URL)
	t.Setenv("CCOTEL_HEADERS", "Authorization=Bearer "+token)
	stateDir := filepath.Join(home, ".state", "ccotel")

	st, err := state.Open(state.Options{Dir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	span := &tracing.Span{Name: "s", Start: time.Now(), End: time.Now()}
	span.TraceID[0], span.SpanID[0] = 1, 1
	b, err := span.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(func(tx *state.Tx) error { return tx.Enqueue(b) }); err != nil {
		t.Fatal(err)
	}
	st.Close()

	stdin, _ := os.Open(os.DevNull)
	defer stdin.Close()
	check := func(what, s string) {
		t.Helper()
		if !strings.Contains(s, "all spans delivered") {
			t.Errorf("%s does not show the collector's answer:\n%s", what, s)
		}
		if strings.Contains(s, token) {
			t.Errorf("%s shows the configured header value:\n%s", what, s)
		}
		for _, r := range s {
			if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || 0x80 <= r && r <= 0x9f || r == 0x202e {
				t.Errorf("%s holds %U:\n%q", what, r, s)
				break
			}
		}
	}
	for _, args := range [][]string{{"flush"}, {"status"}, {"status", "--json"}, {"doctor"}} {
		var out, errOut bytes.Buffer
		Main(args, stdin, &out, &errOut)
		check("ccotel "+strings.Join(args, " "), out.String()+errOut.String())
		// The answer stays on its own row: no line of its own.
		for _, l := range strings.Split(out.String()+errOut.String(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "all spans delivered") || strings.HasPrefix(strings.TrimSpace(l), "Authorization") {
				t.Errorf("ccotel %s: the answer starts a line: %q", strings.Join(args, " "), l)
			}
		}
	}
	// The background flusher's line (flushBackground), from a real
	// export's error.
	cfg, err := config.Load(config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := delivery.Flush(context.Background(), cfg.Flush())
	state.Logf(cfg.StateDir, "flush: sent %d, rejected %d, %d still queued, error: %v", res.Sent, res.Rejected, res.Remaining, err)
	log, err := os.ReadFile(filepath.Join(stateDir, "ccotel.log"))
	if err != nil {
		t.Fatal(err)
	}
	check("ccotel.log", string(log))
}
