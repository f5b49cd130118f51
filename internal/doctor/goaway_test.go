package doctor

import (
	"errors"
	"strings"
	"testing"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/tracing"
)

// A GOAWAY carries no HTTP status: doctor names the code the server gave
// (and never a certificate).
func TestExplainGoAway(t *testing.T) {
	d := &Diagnosis{}
	ee := &tracing.ExportError{Kind: tracing.FailUnavailable,
		Err: errors.New(`Post "https://c/v1/traces": http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=ENHANCE_YOUR_CALM, debug="slow down"`)}
	d.explain("Export", &config.Config{Endpoint: "https://c/v1/traces"}, ee.Kind, ee, nil)
	if len(d.Findings) != 1 || !strings.Contains(d.Findings[0].Message, "not available: ") || !strings.Contains(d.Findings[0].Message, "ENHANCE_YOUR_CALM") {
		t.Fatalf("findings %+v", d.Findings)
	}
	if strings.Contains(d.Findings[0].Message, "certificate") {
		t.Errorf("names a certificate: %s", d.Findings[0].Message)
	}
}
