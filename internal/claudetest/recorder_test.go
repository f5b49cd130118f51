package claudetest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The test binary itself is the hook: with EnvRecord set, init records
// stdin, prints nothing and exits 0 before any test runs.
func TestRecorderReexec(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	payloads := []string{
		`{"session_id":"s","hook_event_name":"PreToolUse","tool_use_id":"toolu_1"}`,
		`{"session_id":"s","hook_event_name":"PostToolUse","tool_use_id":"toolu_1","tool_response":{"stdout":"` + strings.Repeat("x", 200000) + `"}}`,
		`not json`,
	}
	var wg sync.WaitGroup
	for _, p := range payloads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(exe, "claudetest-hook")
			cmd.Env = append(os.Environ(), EnvRecord+"="+path)
			cmd.Stdin = strings.NewReader(p + "\n")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil || out.Len() > 0 {
				t.Errorf("hook: %v, output %q", err, out.String())
			}
		}()
	}
	wg.Wait()
	evs, err := ReadEvents(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(payloads) {
		t.Fatalf("%d events for %d hooks", len(evs), len(payloads))
	}
	got := map[string]bool{}
	for _, e := range evs {
		got[string(e.Payload)] = true
		if e.Received.IsZero() || e.Read.Before(e.Received) || e.PID == 0 {
			t.Errorf("event times %v %v pid %d", e.Received, e.Read, e.PID)
		}
	}
	quoted, _ := json.Marshal("not json")
	for _, p := range []string{payloads[0], payloads[1], string(quoted)} {
		if !got[p] {
			t.Errorf("payload %.80s not recorded as sent", p)
		}
	}
}

func TestReadEventsRejectsTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	os.WriteFile(path, []byte(`{"received":"2026-01-01T00:00:00Z","payload":{}}`+"\n"+`{"received":`+"\n"), 0o600)
	if _, err := ReadEvents(path); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("torn line: %v", err)
	}
	os.WriteFile(path, nil, 0o600)
	os.WriteFile(path+".err", []byte("stdin: broken pipe\n"), 0o600)
	if _, err := ReadEvents(path); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("recorder failure not reported: %v", err)
	}
}

func TestInstallRecorder(t *testing.T) {
	sb, err := NewSandbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.InstallRecorder(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(sb.SettingsPath())
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Hooks map[string][]struct {
			Hooks []struct {
				Type, Command string
				Args          []string
			}
		}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	if len(s.Hooks) != 33 || len(HookEvents) != 33 {
		t.Errorf("%d events in settings, %d in HookEvents", len(s.Hooks), len(HookEvents))
	}
	for _, ev := range HookEvents {
		h := s.Hooks[ev]
		if len(h) != 1 || len(h[0].Hooks) != 1 || h[0].Hooks[0].Type != "command" || h[0].Hooks[0].Command != exe {
			t.Errorf("%s: %+v", ev, h)
		}
	}
	env := strings.Join(sb.Env("http://127.0.0.1:1"), "\n")
	for _, want := range []string{EnvRecord + "=" + sb.Events, "HOME=" + sb.Home, "ANTHROPIC_BASE_URL=http://127.0.0.1:1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_TELEMETRY=1"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %s", want)
		}
	}
	if home, _ := os.UserHomeDir(); home != "" && strings.Contains(env, "="+home+"\n") {
		t.Errorf("env leaks the caller's HOME %s", home)
	}
}
