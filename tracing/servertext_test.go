package tracing

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// hostileAnswer is a 503 page with terminal escapes (clear the screen,
// print a green "all spans delivered") that also echoes the request's
// headers, as some proxies' error pages do.
func hostileAnswer(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	b.WriteString("\x1b[2J\x1b[H\x1b[32m✓ all spans delivered\x1b[0m\r\x1b]0;owned\x07 \u202edesrever\u202c \u009b31m")
	for k, vs := range r.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "\n%s: %s", k, v)
		}
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(b.String()))
}

// clean reports what in s a terminal would act on, or "".
func dirty(s string) string {
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || 0x80 <= r && r <= 0x9f || 0x202a <= r && r <= 0x202e {
			return fmt.Sprintf("%U", r)
		}
	}
	return ""
}

// What a collector or a proxy answers never reaches an ExportError raw:
// no control character or escape sequence, and no configured header
// value or endpoint password, even when the page echoes them back.
func TestExportErrorCleansServerText(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hostileAnswer))
	defer srv.Close()
	const token = "s3cr3t-0123456789abcdef"
	cfg := &Options{
		Endpoint: strings.Replace(srv.URL, "http://", "http://alice:hunter2pw@", 1) + "/v1/traces",
		Protocol: "http/protobuf", Timeout: 3 * time.Second, ServiceName: DefaultServiceName,
		Headers: map[string]string{"Authorization": "Bearer " + token, "X-Api-Key": "k3y-value-777"},
	}
	e := exportErr(t, cfg)
	if e == nil || e.Kind != FailUnavailable {
		t.Fatalf("export: %v, want unavailable", e)
	}
	for _, s := range []string{e.Error(), e.Body, e.Location} {
		if strings.ContainsAny(s, "\n\t") {
			t.Errorf("not one line: %q", s)
		}
		if d := dirty(s); d != "" {
			t.Errorf("%s in %q", d, s)
		}
		for _, secret := range []string{token, "k3y-value-777", "hunter2pw", "YWxpY2U6aHVudGVyMnB3"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q holds the secret %q", s, secret)
			}
		}
	}
	if !strings.Contains(e.Body, "all spans delivered") || !strings.Contains(e.Body, "[masked]") {
		t.Errorf("body %q: want the page's text, with the secrets masked", e.Body)
	}
}

// Text printed again (a last error stored by an older version) is made
// one line, cleaned and masked too.
func TestServerTextOneLine(t *testing.T) {
	opts := &Options{Endpoint: "https://u:pw-123456@h/", Headers: map[string]string{"X-Token": "abc-123456"}}
	got := ServerText("503\n\x1b[32mlast export    ok\tX-Token: abc-123456 pw-123456", opts)
	if want := "503 last export ok X-Token: [masked] [masked]"; got != want {
		t.Errorf("ServerText = %q, want %q", got, want)
	}
}
