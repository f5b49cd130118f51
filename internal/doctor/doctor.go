// Package doctor judges a configuration the way a person debugging a
// missing trace would: it explains where each value came from, checks the
// certificate, key and CA files, does a real TLS handshake with the
// collector, sends one test span, checks that Claude Code's settings.json
// runs ccotel, and looks at the outbox. Every finding says what was found
// and, when something is wrong, what to do next.
package doctor

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/certs"
	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/tracing"
)

// Severity of a doctor finding.
type Severity int

const (
	OK Severity = iota
	Info
	Warn
	Fail
)

// Finding is one line of doctor's verdict: what was found and, when
// something is wrong, what to do next.
type Finding struct {
	Section  string // "Certificates", "Connection", "Export"
	Severity Severity
	Message  string
	Fix      string
}

// Diagnosis is doctor's report on the export side of the configuration.
type Diagnosis struct {
	Findings  []Finding
	Handshake *tracing.Handshake // nil when no handshake was tried
	TestSpan  *tracing.Span      // the span sent, when one was
}

// Failed reports whether any finding is a failure.
func (d *Diagnosis) Failed() bool {
	return slices.ContainsFunc(d.Findings, func(f Finding) bool { return f.Severity == Fail })
}

func (d *Diagnosis) add(section string, sev Severity, msg, fix string) {
	d.Findings = append(d.Findings, Finding{Section: section, Severity: sev, Message: msg, Fix: fix})
}

// Options steer Diagnose and Check.
type Options struct {
	// SettingsFiles are the Claude Code settings files to check, the
	// managed one first (the caller knows where Claude Code looks).
	// Settings is the one the user named, if any: it must be readable.
	SettingsFiles []string
	Settings      string
	Now           func() time.Time
	// ExpiryWarning: a certificate expiring within this is a warning
	// (default certs.RenewBefore, 30 days).
	ExpiryWarning time.Duration
	// Offline checks the configuration and files only: no handshake, no
	// test span.
	Offline bool
}

// Diagnose checks what the export needs: the certificate, key and CA files,
// a real TLS handshake with the endpoint's host, and one real test span
// (named "ccotel doctor", in a trace of its own). Each failure is named as
// precisely as the evidence allows, with what to do next.
func Diagnose(ctx context.Context, cfg *config.Config, o Options) *Diagnosis {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ExpiryWarning <= 0 {
		o.ExpiryWarning = certs.RenewBefore
	}
	export := cfg.Export()
	d := &Diagnosis{}
	const sc, sn, se = "Configuration", "Connection", "Export"

	if cfg.Endpoint == "" {
		d.add(sc, Fail, "no collector endpoint is configured: the hook records nothing and exits",
			fmt.Sprintf("add endpoint = \"https://collector.example.com:4318\" to %s, or run `ccotel install --endpoint URL --client-cert FILE --client-key FILE --ca FILE`", configFileHint(cfg)))
	}
	if cfg.Disabled {
		d.add(sc, Warn, fmt.Sprintf("export is disabled (disabled = true, from %s): the hook records nothing", cfg.Sources["disabled"]),
			"remove it to turn ccotel back on")
	}
	if cfg.InsecureSkipVerify {
		d.add(sc, Warn, fmt.Sprintf("INSECURE: the collector's certificate is NOT verified (insecure_skip_verify = true in %s); anyone on the network path can read or forge your traces", cfg.ConfigFile),
			"remove insecure_skip_verify and set ca = the CA that issued the collector's certificate")
	}
	if strings.HasPrefix(cfg.Endpoint, "http://") {
		d.add(sc, Warn, "the endpoint is plain http://: traces and headers travel unencrypted and no client certificate is used",
			"use https:// unless the collector is on this machine")
	}
	for _, w := range cfg.Warnings {
		d.add(sc, Warn, w, "")
	}

	d.checkFiles(cfg, o)
	if cfg.Endpoint == "" || o.Offline {
		return d
	}

	// A real handshake.
	h := tracing.ProbeTLS(ctx, &export)
	d.Handshake = h
	if h.Err == nil {
		d.add(sn, OK, handshakeSummary(h, cfg), "")
	} else {
		d.explain(sn, cfg, h.Kind, h.Err, h)
	}
	if h.Err != nil {
		// The test span would fail the same way.
		d.add(se, Info, "no test span sent: the connection must work first", "")
		return d
	}

	// A real test span.
	exp, err := tracing.NewExporter(&export, nil)
	if err != nil {
		d.add(se, Fail, fmt.Sprintf("cannot build the exporter: %v", err), "fix the configuration problems above")
		return d
	}
	defer exp.Close()
	s := doctorSpan(o.Now())
	d.TestSpan = s
	err = exp.Export(ctx, []*tracing.Span{s})
	var ee *tracing.ExportError
	switch {
	case err == nil:
		d.add(se, OK, fmt.Sprintf("test span %q accepted by %s (trace %s, span %s)", s.Name, cfg.DisplayEndpoint(), s.TraceID, s.SpanID),
			"")
	case errors.As(err, &ee):
		d.explain(se, cfg, ee.Kind, err, h)
	default:
		d.add(se, Fail, err.Error(), "")
	}
	return d
}

// doctorSpan is the test span: its own random trace, one millisecond long.
func doctorSpan(now time.Time) *tracing.Span {
	s := &tracing.Span{Name: "ccotel doctor", Kind: tracing.KindInternal, Start: now.Add(-time.Millisecond), End: now}
	rand.Read(s.TraceID[:])
	rand.Read(s.SpanID[:])
	s.Attrs = []tracing.Attr{tracing.String("ccotel.doctor", "test span")}
	return s
}

func configFileHint(cfg *config.Config) string {
	if cfg.ConfigFile != "" {
		return cfg.ConfigFile
	}
	return "~/.config/ccotel/config.toml"
}

// Sections, in the order Check sorts findings.
var sections = []string{"Configuration", "Certificates", "Connection", "Export", "Claude Code", "Outbox"}

// Check is the whole of `ccotel doctor`: the environment, the export side
// (Diagnose), the settings.json wiring and the outbox, sorted by section.
func Check(ctx context.Context, cfg *config.Config, o Options) (*Diagnosis, []Finding) {
	d := Diagnose(ctx, cfg, o)
	findings := append(environment(cfg), d.Findings...)
	findings = append(findings, wiring(o.SettingsFiles, o.Settings)...)
	findings = append(findings, outbox(cfg)...)
	// What a server sent (an answer, a certificate's names) reaches the
	// terminal cleaned, and no configured secret is shown.
	export := cfg.Export()
	for i := range findings {
		findings[i].Message = tracing.ServerText(findings[i].Message, &export)
		findings[i].Fix = tracing.ServerText(findings[i].Fix, &export)
	}
	slices.SortStableFunc(findings, func(a, b Finding) int {
		return slices.Index(sections, a.Section) - slices.Index(sections, b.Section)
	})
	return d, findings
}

// Failures counts the findings of severity Fail.
func Failures(findings []Finding) int {
	n := 0
	for _, f := range findings {
		if f.Severity == Fail {
			n++
		}
	}
	return n
}
