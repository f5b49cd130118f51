package cli

// Privacy: secrets planted in a prompt, a Bash command, a file path, a
// tool result, an error message and a notification must never be
// exported, at any capture level; details/content must still export the
// text around them, and metadata none of the session's text.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/redact"
)

// plantedSecret is one secret of one kind: text is what is planted (it may
// include a key, as in "password=…"), secret the part that must never be
// exported.
type plantedSecret struct {
	kind, text, secret string
}

// Fake secrets, assembled at run time so that no scanner mistakes this file
// for a leak.
func plantedSecrets() []plantedSecret {
	pemBody := "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfnygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB"
	pw := "hunter2Tr0ub4dorX"
	return []plantedSecret{
		{"private_key", "-----BEGIN " + "RSA PRIVATE KEY-----\n" + pemBody + "\naFDrBz9vFqU4yPdV0Zx7lq3AbCdEf==\n-----END RSA " + "PRIVATE KEY-----", pemBody},
		{"aws_access_key_id", "AKIA" + "IOSFODNN7EXAMPLE", "AKIA" + "IOSFODNN7EXAMPLE"},
		{"aws_secret_access_key", "aws_secret_access_key=" + "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12", "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12"},
		{"github", "ghp_" + "1234567890abcdefghijKLMNOPQRSTuvwxyz", "ghp_" + "1234567890abcdefghijKLMNOPQRSTuvwxyz"},
		{"github_pat", "github_pat_" + "11ABCDEFG0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP", "11ABCDEFG0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"},
		{"anthropic", "sk-ant-" + "api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcDEF", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcDEF"},
		{"openai", "sk-" + "proj-Ab12Cd34Ef56Gh78Ij90Kl0Mn12Op34Qr56", "Ab12Cd34Ef56Gh78Ij90Kl0Mn12Op34Qr56"},
		{"slack", "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "AbCdEfGhIjKlMnOpQrStUvWx"},
		{"jwt", "eyJ" + "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + "zdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJVadQssw5c", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJVadQssw5c"},
		{"authorization", "Authorization: Basic " + "dXNlcjpwYXNzd29yZA", "dXNlcjpwYXNzd29yZA"},
		{"bearer", "Bearer " + "abcDEF123456ghiJKL789mnoPQR", "abcDEF123456ghiJKL789mnoPQR"},
		{"password", "password=" + pw, pw},
		{"json_password", `{"password": "` + pw + `"}`, pw},
		{"token", "GITHUB_TOKEN=" + pw, pw},
		{"secret", "client_secret: " + pw, pw},
		{"api_key", "api_key=" + pw, pw},
		{"url_password", "postgres://app:" + pw + "@db.internal/prod", pw},
		{"custom", "ticket ACME-" + "9876543210", "ACME-" + "9876543210"},
		{"aws_secret_space", "aws configure set aws_secret_access_key " + "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12", "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12"},
		{"url_password_slash", "https://deploy:" + "Tr0ub4dorX/hunter2Zq" + "@git.example.com/r.git", "Tr0ub4dorX/hunter2Zq"},
		{"url_password_dollar", "postgres://app:$" + "ecretPa55word9" + "@db.internal/prod", "ecretPa55word9"},
		{"password_parens", "password=" + "Tr0ub4dor(hunter2){x}", "Tr0ub4dor(hunter2){x}"},
		{"password_dollar", "password=$" + "ecretPa55word9", "ecretPa55word9"},
		{"password_star", "password=*" + "Tr0ub4dorX9*", "Tr0ub4dorX9"},
		{"passphrase", "passphrase: correct horsebattery staplemagnet\n", "horsebattery staplemagnet"},
		{"bearer_no_digits", "Bearer " + "abcdefghijklmnopqrstuv", "abcdefghijklmnopqrstuv"},
		{"mysql", "mysql -uroot -p" + pw + " shop", pw},
		{"curl_user", "curl -u alice:" + pw + " https://api.example.com", pw},
		{"sshpass", "sshpass -p " + pw + " ssh deploy@host", pw},
		{"docker_login", "docker login -u bob -p " + pw + " registry.example.com", pw},
		{"cookie", "Cookie: sessionid=" + pw + "; csrftoken=abcdef0123456789\n", pw},
		{"set_cookie", "Set-Cookie: sid=" + pw + "; Path=/; HttpOnly\n", pw},
		{"stripe", "sk_live_" + "51HxYzAbCdEfGhIjKlMnOpQrStUv", "51HxYzAbCdEfGhIjKlMnOpQrStUv"},
		{"google_api_key", "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"},
		{"azure_key", "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=" + "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq" + "==;EndpointSuffix=core.windows.net", "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"},
		{"json_escaped_line", "line one\n" + "ghp_" + "1234567890abcdefghijKLMNOPQRSTuvwxyz", "ghp_" + "1234567890abcdefghijKLMNOPQRSTuvwxyz"},
		// Issue 18's leaks.
		{"slack_xoxc", "xoxc-" + "1234567890123-1234567890123-0a1b2c3d4e5f60718293a4b5c6d7e8f9", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
		{"slack_xoxd", "xoxd-" + "AbCdEf%2BGhIjKl%2FMnOpQr%3D", "AbCdEf%2BGhIjKl%2FMnOpQr"},
		{"openai_none", "sk-None-" + "AbCdEfGhIjKlMnOpQrStT3BlbkFJuVwXyZ01", "AbCdEfGhIjKlMnOpQrStT3BlbkFJuVwXyZ01"},
		{"aws_session_token", "aws configure set aws_session_token " + "IQoJb3JpZ2luX2VjEJrEXAMPLEsessionTOKEN0123", "IQoJb3JpZ2luX2VjEJrEXAMPLEsessionTOKEN0123"},
		{"session_token_flag", "aws s3 ls --session-token " + "IQoJb3JpZ2luX2VjEJrEXAMPLEsessionTOKEN0123", "IQoJb3JpZ2luX2VjEJrEXAMPLEsessionTOKEN0123"},
		{"env_key", "ENCRYPTION_KEY=" + "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==\n", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"},
		{"env_pass", "ADMIN_PASS=" + pw + "\n", pw},
		{"kube_client_key_data", "    client-key-data: " + "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFB\n", "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFB"},
		{"escaped_thrice", `{\\\"password\\\":\\\"` + pw + `\\\"}`, pw},
		{"jwe", "eyJ" + "hbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ", "5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A"},
	}
}

// customPattern is the user regex of the config in these tests.
const customPattern = `ACME-[0-9]{10}`

// Marker words around each planted secret, one pair per place.
var places = []string{"PROMPT", "CMD", "PATH", "RESULT", "ERROR", "NOTE"}

func marks(place string) (before, after string) {
	return "zz" + place + "before", "zz" + place + "after"
}

func around(place, secret string) string {
	b, a := marks(place)
	return b + " " + secret + " " + a
}

// sessionEvents returns a recorded session (JSON Lines) with text planted in
// every place.
func sessionEvents(text string) []byte {
	const sid = "5e551011-0000-4000-8000-00000000beef"
	t0 := time.Date(2026, 7, 29, 8, 0, 0, 0, time.UTC)
	n := 0
	ts := func() string { n++; return t0.Add(time.Duration(n) * time.Second).Format(time.RFC3339Nano) }
	common := func(name string) map[string]any {
		return map[string]any{"session_id": sid, "transcript_path": "/nonexistent/ccotel-privacy-test.jsonl",
			"cwd": "/home/dev/app", "hook_event_name": name, "_ts": ts()}
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	path := "/home/dev/app/" + around("PATH", text) + ".txt"
	cmd := "echo " + around("CMD", text)
	events := []map[string]any{
		with(common("SessionStart"), "source", "startup", "model", "claude-sonnet-4-5-20250929"),
		with(common("UserPromptSubmit"), "prompt_id", "p-1", "prompt", around("PROMPT", text)),
		with(common("PreToolUse"), "prompt_id", "p-1", "tool_name", "Bash", "tool_use_id", "toolu_bash",
			"tool_input", map[string]any{"command": cmd, "description": "print it"}),
		with(common("PostToolUse"), "prompt_id", "p-1", "tool_name", "Bash", "tool_use_id", "toolu_bash",
			"tool_input", map[string]any{"command": cmd, "description": "print it"},
			"tool_response", map[string]any{"stdout": around("RESULT", text), "stderr": "", "interrupted": false}, "duration_ms", 12),
		with(common("PreToolUse"), "prompt_id", "p-1", "tool_name", "Read", "tool_use_id", "toolu_read",
			"tool_input", map[string]any{"file_path": path}),
		with(common("PostToolUseFailure"), "prompt_id", "p-1", "tool_name", "Read", "tool_use_id", "toolu_read",
			"tool_input", map[string]any{"file_path": path}, "error", around("ERROR", text)+"\nsecond line"),
		with(common("Notification"), "message", around("NOTE", text), "notification_type", "idle_prompt"),
		with(common("Stop"), "prompt_id", "p-1", "stop_hook_active", false, "last_assistant_message", "done"),
		with(common("SessionEnd"), "reason", "prompt_input_exit"),
	}
	var b bytes.Buffer
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			panic(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// wantPlaces is what each level must export.
var wantPlaces = map[hook.Capture][]string{
	hook.CaptureMetadata: nil,
	hook.CaptureDetails:  {"CMD", "PATH", "ERROR"},
	hook.CaptureContent:  {"PROMPT", "CMD", "PATH", "RESULT", "ERROR", "NOTE"},
}

// checkExport asserts the privacy contract on everything exported for one
// level: out is the exported data (span JSON or OTLP JSON).
func checkExport(t *testing.T, level hook.Capture, ps plantedSecret, out []byte) {
	t.Helper()
	if len(out) == 0 {
		t.Fatal("nothing exported")
	}
	for _, w := range windows(ps.secret, 8) {
		if bytes.Contains(out, []byte(w)) {
			t.Errorf("%s: secret (%q…) exported", level, w)
			break
		}
	}
	want := map[string]bool{}
	for _, p := range wantPlaces[level] {
		want[p] = true
	}
	for _, p := range places {
		b, a := marks(p)
		got := bytes.Contains(out, []byte(b)) && bytes.Contains(out, []byte(a))
		if p == "ERROR" && strings.Contains(ps.text, "\n") {
			// Only an error's first line is exported; the secret's own
			// newline moves the closing marker off it.
			got = bytes.Contains(out, []byte(b))
		}
		some := bytes.Contains(out, []byte(b)) || bytes.Contains(out, []byte(a))
		switch {
		case want[p] && !got:
			t.Errorf("%s: text around the secret in %s not exported", level, p)
		case !want[p] && some:
			t.Errorf("%s: %s text exported", level, p)
		}
	}
	if want["CMD"] && !bytes.Contains(out, []byte("[REDACTED:")) {
		t.Errorf("%s: no redaction marker", level)
	}
}

// windows returns every n-byte window of s's letter-and-digit runs: none
// of them may appear, so no part of a secret leaks either. (Such runs read
// the same inside JSON strings, escaped or not.)
func windows(s string, n int) []string {
	var out []string
	run := ""
	flush := func() {
		for i := 0; i+n <= len(run); i++ {
			out = append(out, run[i:i+n])
		}
		run = ""
	}
	for _, c := range s {
		if c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			run += string(c)
		} else {
			flush()
		}
	}
	flush()
	return out
}

// TestPrivacyStateMachine runs the events through the hook's state machine
// with the real redactor, for every kind and level, and checks every span
// it queues for export.
func TestPrivacyStateMachine(t *testing.T) {
	red, err := redact.New([]string{customPattern})
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range plantedSecrets() {
		for _, level := range []hook.Capture{hook.CaptureMetadata, hook.CaptureDetails, hook.CaptureContent} {
			t.Run(ps.kind+"/"+string(level), func(t *testing.T) {
				opts := hook.Options{Capture: level, Redactor: red}
				var st hook.Memory
				var out bytes.Buffer
				for i, line := range bytes.Split(bytes.TrimSpace(sessionEvents(ps.text)), []byte("\n")) {
					ev, err := hook.DecodeBytes(line)
					if err != nil {
						t.Fatalf("event %d: %v", i, err)
					}
					now := ev.Time
					res, err := hook.Apply(&st, ev, now, opts)
					if err != nil {
						t.Fatalf("event %d: %v", i, err)
					}
					for _, sp := range res.Spans {
						b, _ := json.Marshal(sp)
						out.Write(b)
						out.WriteByte('\n')
					}
				}
				checkExport(t, level, ps, out.Bytes())
			})
		}
	}
}

// TestPrivacyReplay runs the same sessions through `ccotel replay --stdout`
// (decode, state, outbox, usage, OTLP JSON), the capture level set by
// CCOTEL_CAPTURE and the custom pattern by a config file.
func TestPrivacyReplay(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("redact = [%q]\n", customPattern)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CCOTEL_CONFIG", cfg)
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Setenv("CCOTEL_STATE_DIR", "")
	t.Setenv("CCOTEL_ENDPOINT", "")

	probe := filepath.Join(dir, "probe.jsonl")
	os.WriteFile(probe, sessionEvents("nothing secret"), 0o600)
	var o, e bytes.Buffer
	if Main([]string{"replay", "--stdout", probe}, os.Stdin, &o, &e) != 0 && strings.Contains(e.String(), "not implemented") {
		t.Skip("replay not implemented yet")
	}

	for i, ps := range plantedSecrets() {
		events := filepath.Join(dir, fmt.Sprintf("session-%d.jsonl", i))
		if err := os.WriteFile(events, sessionEvents(ps.text), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, level := range []hook.Capture{hook.CaptureMetadata, hook.CaptureDetails, hook.CaptureContent} {
			t.Run(ps.kind+"/"+string(level), func(t *testing.T) {
				t.Setenv("CCOTEL_CAPTURE", string(level))
				var stdout, stderr bytes.Buffer
				if code := Main([]string{"replay", "--stdout", events}, os.Stdin, &stdout, &stderr); code != 0 {
					t.Fatalf("replay exit %d: %s", code, stderr.String())
				}
				checkExport(t, level, ps, stdout.Bytes())
				// Nor on stderr, which a person may paste into an issue.
				for _, w := range windows(ps.secret, 8) {
					if strings.Contains(stderr.String(), w) {
						t.Errorf("secret on stderr")
						break
					}
				}
			})
		}
	}
}
