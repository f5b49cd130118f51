package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/claudetest"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/internal/otlptest"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// claudeRun is the time one scenario may take, all runs and the delivery
// together: generous, the machine CI runs on is shared and loaded.
const claudeRun = 4 * time.Minute

// playWithCCOTEL plays the scenario name of claudetest.Scenarios() with the
// real Claude Code CLI, with ccotel wired in by the real `ccotel install
// --settings <sandbox settings> --command <ccotel>` beside the hook
// recorder (so the Play holds every payload Claude Code sent), ccotel's
// CCOTEL_* environment pointing at a test collector of its own and a state
// directory of its own. It waits until the background flusher delivered
// every session (all ended, outbox empty, flusher gone) and returns the Play
// and the spans the collector received, by hex span ID (first copy).
//
// It skips (fails under CI=true) when the CLI is not installed, and fails
// the test when the scenario, the install or the delivery fails.
func playWithCCOTEL(t *testing.T, name string) (*claudetest.Play, map[string]*tracepb.Span) {
	t.Helper()
	cli := claudetest.RequireCLI(t)
	sc, ok := claudetest.ScenarioByName(name)
	if !ok {
		t.Fatalf("no scenario %q in claudetest.Scenarios()", name)
	}
	bin := ccotelBinary(t)
	pki := otlptest.MustPKI(t)
	rec := otlptest.MustStart(t, pki)
	stateDir := t.TempDir()
	env := []string{
		"CCOTEL_ENDPOINT=" + rec.URL,
		"CCOTEL_CLIENT_CERT=" + pki.ClientCert,
		"CCOTEL_CLIENT_KEY=" + pki.ClientKey,
		"CCOTEL_CA=" + pki.ServerCA.Path,
		"CCOTEL_STATE_DIR=" + stateDir,
		// No config file of the developer's or of the sandbox: only the
		// environment above configures ccotel.
		"CCOTEL_CONFIG=" + filepath.Join(stateDir, "no-config.toml"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), claudeRun)
	defer cancel()
	t.Cleanup(func() { stopFlusher(t, stateDir) })
	play, err := claudetest.PlayScenario(ctx, cli, t.TempDir(), sc, claudetest.PlayOptions{
		Recorder: true,
		Setup: func(sb *claudetest.Sandbox) error {
			cmd := exec.CommandContext(ctx, bin, "install", "--settings", sb.SettingsPath(), "--command", bin)
			cmd.Env = append(cleanEnv(sb.Home), env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("ccotel install: %v\n%s", err, out)
			}
			return nil
		},
		Env:     env,
		Timeout: 2 * time.Minute,
	})
	if err != nil {
		t.Fatalf("scenario %s: %v", name, err)
	}
	for i, r := range play.Runs {
		if r.ExitCode != 0 {
			t.Fatalf("scenario %s run %d: claude exited %d\n%s", name, i+1, r.ExitCode, r)
		}
	}
	if len(play.Events) == 0 {
		t.Fatalf("scenario %s: the recorder saw no hook event", name)
	}
	waitDelivered(t, ctx, stateDir, rec)
	got, _ := rec.Received()
	spans := make(map[string]*tracepb.Span, len(got))
	for id, copies := range got {
		spans[id] = copies[0]
	}
	return play, spans
}

// waitDelivered polls the state directory until every session ended, the
// outbox is empty, at least one span was exported and no flusher runs; then
// the collector holds everything ccotel will ever send for the scenario.
func waitDelivered(t *testing.T, ctx context.Context, stateDir string, rec *otlptest.Receiver) {
	t.Helper()
	var last *delivery.Status
	for {
		st, err := delivery.ReadStatus(stateDir, rec.URL)
		if err == nil {
			last = st
			if st.SessionsOpen == 0 && st.Queued == 0 && st.Exported > 0 && st.FlusherPID == 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ccotel did not deliver in time: status %+v (read error %v), collector %+v", last, err, rec.Stats())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// spanHex is a span's or trace's ID as hex.
func spanHex(b []byte) string { return hex.EncodeToString(b) }

// attr returns the attribute key of s as a string ("" when absent); ints
// and bools are formatted.
func attr(s interface {
	GetAttributes() []*commonpb.KeyValue
}, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() != key {
			continue
		}
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			return v.StringValue
		case *commonpb.AnyValue_IntValue:
			return fmt.Sprint(v.IntValue)
		case *commonpb.AnyValue_BoolValue:
			return fmt.Sprint(v.BoolValue)
		case *commonpb.AnyValue_DoubleValue:
			return fmt.Sprint(v.DoubleValue)
		default:
			return kv.GetValue().String()
		}
	}
	return ""
}

// hasAttr reports whether s carries key.
func hasAttr(s interface {
	GetAttributes() []*commonpb.KeyValue
}, key string) bool {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			return true
		}
	}
	return false
}

// byName returns the spans named name (or starting with name+" "), by start.
func byName(spans map[string]*tracepb.Span, name string) []*tracepb.Span {
	var out []*tracepb.Span
	for _, s := range spans {
		if s.GetName() == name || strings.HasPrefix(s.GetName(), name+" ") {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetStartTimeUnixNano() < out[j].GetStartTimeUnixNano() })
	return out
}

// TestClaudeHelperSmoke plays the smallest scenario through playWithCCOTEL:
// the session's root, its turn and the Bash call arrive.
func TestClaudeHelperSmoke(t *testing.T) {
	_, spans := playWithCCOTEL(t, "one-tool")
	for _, name := range []string{"invoke_agent claude-code", "turn", "execute_tool Bash"} {
		if len(byName(spans, name)) != 1 {
			t.Errorf("want one span %q, got %d of %d spans", name, len(byName(spans, name)), len(spans))
		}
	}
}
