package hook

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseCapture(t *testing.T) {
	for s, want := range map[string]Capture{
		"metadata": CaptureMetadata, "details": CaptureDetails, "content": CaptureContent,
		"Details": CaptureDetails, "CONTENT": CaptureContent,
		"": "", "full": "", "detail": "", " details": "",
	} {
		got, ok := ParseCapture(s)
		if got != want || ok != (want != "") {
			t.Errorf("ParseCapture(%q) = %q, %v; want %q, %v", s, got, ok, want, want != "")
		}
	}
}

func TestCaptureLevels(t *testing.T) {
	payloads := []string{
		ev("SessionStart", "cwd", "/home/dev/app"),
		ev("UserPromptSubmit", "prompt_id", "p", "prompt", "fix the upload"),
		ev("PreToolUse", "tool_name", "Bash", "tool_use_id", "b", "tool_input", map[string]any{"command": "npm test"}),
		ev("PostToolUse", "tool_name", "Bash", "tool_use_id", "b", "tool_response", map[string]any{"stdout": "ok"}),
		ev("CwdChanged", "new_cwd", "/home/dev/app/pkg", "old_cwd", "/home/dev/app"),
		ev("Notification", "message", "Claude needs you", "notification_type", "permission_prompt"),
		ev("Stop"),
		ev("SessionEnd"),
	}
	for _, c := range []struct {
		level    Capture
		redactor Redactor
		want     []string
		absent   []string
	}{
		{CaptureMetadata, capRedactor{}, nil, []string{"/home/dev", "fix the", "npm test", "stdout", "needs you"}},
		{CaptureContent, nil, nil, []string{"/home/dev", "fix the", "npm test", "stdout", "needs you"}},
		{CaptureDetails, capRedactor{}, []string{"[clean]/home/dev/app", "[clean]npm test", "[clean]/home/dev/app/pkg"}, []string{"fix the", "stdout", "needs you"}},
		{CaptureContent, capRedactor{}, []string{"[clean]fix the upload", `[clean]{\"command\":\"npm test\"}`, `[clean]{\"stdout\":\"ok\"}`, "[clean]Claude needs you"}, nil},
	} {
		s := &sim{t: t, opts: Options{Capture: c.level, Redactor: c.redactor}}
		for i, p := range payloads {
			s.at(i*10, p)
		}
		b, _ := json.Marshal(s.spans)
		out := string(b)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: missing %q", c.level, w)
			}
		}
		for _, a := range c.absent {
			if strings.Contains(out, a) {
				t.Errorf("%s (redactor %v): %q exported", c.level, c.redactor != nil, a)
			}
		}
	}
}
