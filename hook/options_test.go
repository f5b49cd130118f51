package hook

import "testing"

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
