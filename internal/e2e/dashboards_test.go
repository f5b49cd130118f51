package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"
)

// EndUserID is the verified identity the collector's attributes
// processor puts on every span (examples/otelcol/config.yaml).
const endUserID = "enduser.id"

// dashSession is one recorded session the dashboard test sends: its hook
// events (a folder of testdata/claude, recorded from the real Claude Code,
// or of testdata/sessions), who ran it, and in which phase.
type dashSession struct {
	data     string // under testdata
	user     string // the user.name resource attribute
	verified string // enduser.id on every span, as the ingress's identity ("": none)
	phase    int    // 1 or 2
}

var dashSessions = []dashSession{
	{"claude/tool-errors", "alice-laptop", "alice@corp", 1},
	{"claude/model-switch", "bob", "", 1},
	{"sessions/demo", "dave", "", 1},
	{"claude/subagent-foreground", "alice-laptop", "alice@corp", 2},
	{"claude/resume", "bob", "", 2},
	{"sessions/demo", "carol", "", 2},
	{"sessions/compaction", "carol", "", 2},
}

// TestDashboardQueries runs the collector with examples/otelcol/metrics.yaml
// and a real Prometheus scraping it, sends recorded sessions in two
// phases, and evaluates every Prometheus query of
// examples/grafana/ccotel-dashboard.json through Prometheus's HTTP API
// over two time ranges: one holding every session, one holding only the
// second phase's. Each must return what the spans imply; a query that
// returns nothing fails. The TraceQL queries and links must name
// attributes the spans have.
func TestDashboardQueries(t *testing.T) {
	promBin := prometheusBinary(t)
	bin := ccotelBinary(t)
	exporter := otlptest.FreeAddr(t)
	col := otlptest.StartCollector(t, otlptest.Collector{
		Bin: otlptest.CollectorBinary(t), Dir: t.TempDir(), Root: root,
		Layers: []string{"file-exporter.yaml", "metrics.yaml"},
		Env:    []string{"PROMETHEUS_EXPORTER_LISTEN=" + exporter, "METRICS_FLUSH_INTERVAL=500ms"},
	})
	prom := startPrometheus(t, promBin, exporter)
	dash := readDashboard(t)
	run := sendPhases(t, bin, col.Addr, prom)
	checkTraceQL(t, dash, run.all)
	checkVariables(t, prom, dash, run.all)
	evaluatePanels(t, prom, dash, run)
}

// dashRun is what was sent: every span, the second phase's, and a time
// between the phases (Prometheus held all of the first, none of the
// second).
type dashRun struct {
	all, second []dspan
	t1          time.Time
}

// sendPhases sends dashSessions, phase by phase, each once Prometheus
// holds all of the previous one.
func sendPhases(t *testing.T, bin, addr string, prom *prometheus) dashRun {
	t.Helper()
	var run dashRun
	for phase := 1; phase <= 2; phase++ {
		var sent []dspan
		for _, s := range dashSessions {
			if s.phase == phase {
				sent = append(sent, sendSession(t, bin, addr, s)...)
			}
		}
		run.all = append(run.all, sent...)
		waitScraped(t, prom, run.all)
		if phase == 1 {
			run.t1 = time.Now()
		} else {
			run.second = sent
		}
	}
	return run
}

// evaluatePanels evaluates every Prometheus query of the dashboard now,
// over two ranges (every session; the second phase only), compares the
// results with what the spans imply, checks the panels' links against
// the labels returned, and logs the table.
func evaluatePanels(t *testing.T, prom *prometheus, dash *dashboard, run dashRun) {
	t.Helper()
	buckets := spanMetricsBuckets(t)
	at := time.Now()
	windows := []struct {
		name  string
		rng   string
		spans []dspan
	}{
		{"all", "1h", run.all},
		{"phase 2", fmt.Sprintf("%dms", at.Sub(run.t1).Milliseconds()), run.second},
	}
	var tab bytes.Buffer
	tw := tabwriter.NewWriter(&tab, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "panel\twindow\tseries\treturned\texpected")
	labels := map[string]map[string]bool{} // panel title → labels its queries return
	for _, p := range dash.promTargets() {
		want := panelExpectations[p.title+"/"+p.refID]
		if want == nil {
			t.Errorf("panel %q target %s: the test has no expectation for it", p.title, p.refID)
			continue
		}
		t.Logf("%s/%s: %s", p.title, p.refID, p.expr)
		if labels[p.title] == nil {
			labels[p.title] = map[string]bool{}
		}
		for _, w := range windows {
			expr := substitute(p.expr, w.rng)
			got, err := prom.query(expr, at)
			if err != nil {
				t.Errorf("%s: %v", p.title, err)
				continue
			}
			if len(got) == 0 {
				t.Errorf("panel %q target %s (%s): the query returned nothing\n%s", p.title, p.refID, w.name, expr)
			}
			for _, smp := range got {
				for _, kv := range strings.Split(smp.key, ",") {
					labels[p.title][strings.SplitN(kv, "=", 2)[0]] = true
				}
			}
			compareSeries(t, tw, p.title+"/"+p.refID, w.name, got, want(w.spans, buckets))
		}
	}
	tw.Flush()
	checkLinkLabels(t, dash, labels)
	t.Logf("each panel's query through Prometheus %s, at %s:\n%s", prom.url, at.UTC().Format(time.RFC3339), tab.String())
}

// compareSeries checks a query's series against the expected ones and
// writes one table row per series. NaN (a quantile of no calls) and zero
// (a series that only had data before the window) count as no data.
func compareSeries(t *testing.T, tw *tabwriter.Writer, panel, window string, got []sample, want map[string]float64) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range got {
		if math.IsNaN(s.value) || s.value == 0 {
			continue
		}
		seen[s.key] = true
		w, ok := want[s.key]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.6g\t%s\n", panel, window, orAll(s.key), s.value, fmtWant(w, ok))
		if !ok || !near(s.value, w) {
			t.Errorf("%s (%s) {%s}: Prometheus returned %v, the spans imply %s", panel, window, s.key, s.value, fmtWant(w, ok))
		}
	}
	for k, w := range want {
		if !seen[k] && w != 0 && !math.IsNaN(w) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.6g\n", panel, window, orAll(k), "(none)", w)
			t.Errorf("%s (%s) {%s}: Prometheus returned nothing, the spans imply %v", panel, window, k, w)
		}
	}
}

func orAll(k string) string {
	if k == "" {
		return "(total)"
	}
	return k
}

func fmtWant(w float64, ok bool) string {
	if !ok {
		return "(none)"
	}
	return fmt.Sprintf("%.6g", w)
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9+1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// substitute fills in what Grafana would: the time range and interval
// (the window), and the tool variable at "All".
func substitute(expr, rng string) string {
	return strings.NewReplacer(
		"${tool:regex}", ".*", "$tool", ".*",
		"$__rate_interval", rng, "$__interval", rng, "$__range", rng,
	).Replace(expr)
}

// dspan is a span as sent, with the developer the dashboard should
// attribute it to (enduser.id where set, else user.name).
type dspan struct {
	otlptest.FileSpan
	dev   string
	attrs map[string]*commonpb.AnyValue
}

func (s dspan) str(k string) string { return s.attrs[k].GetStringValue() }
func (s dspan) has(k string) bool   { return s.attrs[k] != nil }

// num is a numeric attribute (int or double) as a float.
func (s dspan) num(k string) float64 {
	v := s.attrs[k]
	if _, ok := v.GetValue().(*commonpb.AnyValue_IntValue); ok {
		return float64(v.GetIntValue())
	}
	return v.GetDoubleValue()
}

// sendSession replays one recorded session with the real binary
// (`ccotel replay --stdout`) and sends its spans to the collector's
// OTLP/HTTP receiver, with the identity the ingress verified when the
// session has one (postSpans).
func sendSession(t *testing.T, bin, addr string, s dashSession) []dspan {
	t.Helper()
	events := stageSession(t, s.data)
	home := t.TempDir()
	cmd := exec.Command(bin, "replay", "--stdout", events)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "OTEL_RESOURCE_ATTRIBUTES=user.name="+s.user)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ccotel replay %s: %v\n%s", s.data, err, stderr.Bytes())
	}
	file := filepath.Join(t.TempDir(), "spans.json")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	spans, err := otlptest.ReadFileExporter(file)
	if err != nil || len(spans) == 0 {
		t.Fatalf("ccotel replay %s: %d spans, %v", s.data, len(spans), err)
	}
	postSpans(t, addr, spans, s.verified)
	var sent []dspan
	for _, fs := range spans {
		dev := s.user
		if s.verified != "" {
			dev = s.verified
		}
		sent = append(sent, dspan{FileSpan: fs, dev: dev, attrs: fs.Attrs()})
	}
	if strings.HasPrefix(s.data, "claude/") {
		checkClaudeCost(t, s, sent)
	}
	return sent
}

// postSpans sends spans to the collector (OTLP/HTTP, protobuf). A
// verified identity goes as the ingress passes it on, the header
// ssl-client-subject-dn (the collector's attributes processor makes
// enduser.id of its CN, over what the client sent), and as the span
// attribute enduser.id itself, which a configuration without that
// processor keeps: the test holds with or without it.
func postSpans(t *testing.T, addr string, spans []otlptest.FileSpan, verified string) {
	t.Helper()
	req := &coltracepb.ExportTraceServiceRequest{}
	for _, fs := range spans {
		if verified != "" {
			fs.Attributes = append(fs.Attributes, &commonpb.KeyValue{Key: endUserID,
				Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: verified}}})
		}
		req.ResourceSpans = append(req.ResourceSpans, &tracepb.ResourceSpans{Resource: fs.Resource,
			ScopeSpans: []*tracepb.ScopeSpans{{Scope: fs.Scope, Spans: []*tracepb.Span{fs.Span}}}})
	}
	body, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	hr, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/traces", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/x-protobuf")
	if verified != "" {
		hr.Header.Set("ssl-client-subject-dn", "CN="+verified+",O=ccotel")
	}
	r, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("collector answered %s", r.Status)
	}
}

// checkClaudeCost compares the cost the dashboard counts for a recorded
// session (its top spans') with Claude Code's own: the last cost-state
// line of its transcript, the session's running total.
func checkClaudeCost(t *testing.T, s dashSession, spans []dspan) {
	t.Helper()
	totals := costStates(t, filepath.Join(root, "testdata", s.data, "transcript.jsonl"))
	if len(totals) == 0 {
		t.Fatalf("%s: no cost-state line in the transcript", s.data)
	}
	want, got := totals[len(totals)-1], sumOf(expectCost(spans, nil))
	if math.Abs(got-want) > 1e-6 {
		t.Errorf("%s: the top spans cost $%.6f, Claude Code accounted $%.6f", s.data, got, want)
	}
	t.Logf("%s (%s): top spans $%.6f, Claude Code's cost-state $%.6f", s.data, s.user, got, want)
}

// stageSession returns the events file of a recorded session. A
// testdata/claude scenario's paths are placeholders: its transcripts are
// copied where Claude Code keeps them under a temporary $HOME, and the
// events rewritten to point there.
func stageSession(t *testing.T, data string) string {
	t.Helper()
	src := filepath.Join(root, "testdata", data)
	events := filepath.Join(src, "events.jsonl")
	if !strings.HasPrefix(data, "claude/") {
		return events
	}
	raw, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	proj := filepath.Join(dir, "home", ".claude", "projects", "PROJECT")
	raw = bytes.ReplaceAll(raw, []byte("$HOME/.claude/projects/$PROJECT"), []byte(proj))
	raw = bytes.ReplaceAll(raw, []byte("$HOME"), []byte(filepath.Join(dir, "home")))
	raw = bytes.ReplaceAll(raw, []byte("$CWD"), []byte(dir))
	var ev struct {
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal(raw[:bytes.IndexByte(raw, '\n')], &ev); err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join(src, "transcript.jsonl"), filepath.Join(proj, ev.SessionID+".jsonl"))
	copyTree(t, filepath.Join(src, "subagents"), filepath.Join(proj, ev.SessionID, "subagents"))
	out := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(out, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// copyTree copies a file or a directory of files; a missing source is
// nothing to copy.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitScraped waits until Prometheus holds every span sent so far: one
// span_metrics call per span, and the signal_to_metrics totals.
func waitScraped(t *testing.T, prom *prometheus, spans []dspan) {
	t.Helper()
	checks := map[string]float64{
		"sum(ccotel_spans_calls_total)":                 float64(len(spans)),
		"sum(ccotel_sessions_total)":                    sumOf(expectSessions(spans, nil)),
		"sum(ccotel_cost_usd_total)":                    sumOf(expectCost(spans, nil)),
		"sum(ccotel_model_input_tokens_total)":          sumOf(expectTokens(semconv.GenAIUsageInputTokens)(spans, nil)),
		"sum(ccotel_turn_tool_time_milliseconds_total)": sumOf(expectTurnTime(semconv.TurnToolMs)(spans, nil)) * 1000,
	}
	deadline := time.Now().Add(90 * time.Second)
	for q, want := range checks {
		for {
			got, err := prom.query(q, time.Now())
			if err == nil && len(got) == 1 && near(got[0].value, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Prometheus: %s = %v (%v), want %v", q, got, err, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// A scrape may have caught the exporter between two series of one
	// batch; the scrapes after these checks passed hold all of it.
	time.Sleep(2500 * time.Millisecond)
}

func sumOf(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

// dashboard is the part of the Grafana dashboard JSON the test reads.
type dashboard struct {
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Query      any    `json:"query"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title       string `json:"title"`
		Type        string `json:"type"`
		FieldConfig struct {
			Defaults struct {
				Links []struct {
					URL string `json:"url"`
				} `json:"links"`
			} `json:"defaults"`
		} `json:"fieldConfig"`
		Targets []struct {
			RefID      string `json:"refId"`
			Expr       string `json:"expr"`
			Query      string `json:"query"`
			Datasource struct {
				Type string `json:"type"`
			} `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

type promTarget struct{ title, refID, expr string }

// promTargets lists every Prometheus query of the dashboard.
func (d *dashboard) promTargets() []promTarget {
	var out []promTarget
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			if tg.Datasource.Type == "prometheus" {
				out = append(out, promTarget{p.Title, tg.RefID, tg.Expr})
			}
		}
	}
	return out
}

func readDashboard(t *testing.T) *dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "examples", "grafana", "ccotel-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("ccotel-dashboard.json: %v", err)
	}
	if len(d.promTargets()) == 0 {
		t.Fatal("ccotel-dashboard.json: no Prometheus query")
	}
	return &d
}

// spanMetricsBuckets reads the duration histogram's bucket bounds (ms)
// from examples/otelcol/metrics.yaml, ending with +Inf.
func spanMetricsBuckets(t *testing.T) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "examples", "otelcol", "metrics.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Connectors struct {
			SpanMetrics struct {
				Histogram struct {
					Explicit struct {
						Buckets []string `yaml:"buckets"`
					} `yaml:"explicit"`
				} `yaml:"histogram"`
			} `yaml:"span_metrics"`
		} `yaml:"connectors"`
	}
	if err := yaml.Unmarshal(b, &conf); err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, s := range conf.Connectors.SpanMetrics.Histogram.Explicit.Buckets {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("metrics.yaml: bucket %q: %v", s, err)
		}
		out = append(out, float64(d)/float64(time.Millisecond))
	}
	if len(out) == 0 {
		t.Fatal("metrics.yaml: no span_metrics buckets")
	}
	return append(out, math.Inf(1))
}

// traceQLKey is an attribute a TraceQL query names.
var traceQLKey = regexp.MustCompile(`\b(span|resource)\.([a-z_][a-z0-9_.]*[a-z0-9_])`)

// checkTraceQL checks that the Tempo queries and the panels' Explore
// links name attributes the spans have, at the level they have them, and
// that the service variable's default is ccotel's service.name.
func checkTraceQL(t *testing.T, d *dashboard, spans []dspan) {
	t.Helper()
	have := map[string]bool{}
	for _, s := range spans {
		for _, kv := range s.GetAttributes() {
			have["span."+kv.GetKey()] = true
		}
		for _, kv := range s.Resource.GetAttributes() {
			have["resource."+kv.GetKey()] = true
		}
	}
	var queries []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			if tg.Datasource.Type == "tempo" {
				queries = append(queries, tg.Query)
			}
		}
		for _, l := range p.FieldConfig.Defaults.Links {
			queries = append(queries, exploreQuery(t, p.Title, l.URL))
		}
	}
	if len(queries) == 0 {
		t.Error("ccotel-dashboard.json: no Tempo query or link")
	}
	for _, q := range queries {
		for _, m := range traceQLKey.FindAllStringSubmatch(q, -1) {
			if !have[m[1]+"."+m[2]] {
				t.Errorf("TraceQL %q: no span sent has %s.%s", q, m[1], m[2])
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Name == "service" && v.Query != tracing.DefaultServiceName {
			t.Errorf("variable service = %v, ccotel's service.name is %q", v.Query, tracing.DefaultServiceName)
		}
	}
}

// exploreQuery returns the TraceQL query of a link to Grafana's Explore
// (/explore?left=<JSON, URL-encoded>), failing t if the link is not one.
func exploreQuery(t *testing.T, panel, link string) string {
	t.Helper()
	left, ok := strings.CutPrefix(link, "/explore?left=")
	u, err := url.QueryUnescape(left)
	var pane struct {
		Datasource string `json:"datasource"`
		Queries    []struct {
			QueryType string `json:"queryType"`
			Query     string `json:"query"`
		} `json:"queries"`
	}
	if err == nil {
		err = json.Unmarshal([]byte(u), &pane)
	}
	if !ok || err != nil || pane.Datasource != "${tempo}" || len(pane.Queries) != 1 || pane.Queries[0].QueryType != "traceql" {
		t.Errorf("panel %q: link %q is no Explore link with one TraceQL query on ${tempo} (%v)", panel, link, err)
		return ""
	}
	return pane.Queries[0].Query
}

// linkLabel is a series label a panel's link fills in.
var linkLabel = regexp.MustCompile(`\$\{__field\.labels\.([a-z_]+)\}`)

// checkLinkLabels checks that each label a panel's Tempo link fills in
// is one its queries return.
func checkLinkLabels(t *testing.T, d *dashboard, labels map[string]map[string]bool) {
	t.Helper()
	for _, p := range d.Panels {
		for _, l := range p.FieldConfig.Defaults.Links {
			for _, m := range linkLabel.FindAllStringSubmatch(l.URL, -1) {
				if !labels[p.Title][m[1]] {
					t.Errorf("panel %q: its link uses label %s, which its queries do not return", p.Title, m[1])
				}
			}
		}
	}
}

// labelValues is a variable's label_values(selector, label) query.
var labelValues = regexp.MustCompile(`^label_values\((.+), *([a-z_]+)\)$`)

// checkVariables evaluates the dashboard's label_values variables as
// Grafana does (the series API) and checks the tool variable offers every
// tool called.
func checkVariables(t *testing.T, prom *prometheus, d *dashboard, spans []dspan) {
	t.Helper()
	for _, v := range d.Templating.List {
		if v.Definition == "" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
			continue
		}
		got, err := prom.labelValues(m[2], m[1])
		if err != nil {
			t.Fatal(err)
		}
		if v.Name != "tool" {
			t.Errorf("variable %s: the test has no expectation for it", v.Name)
			continue
		}
		var want []string
		for k := range expectToolCalls(spans, nil) {
			want = append(want, strings.TrimPrefix(k, "gen_ai_tool_name="))
		}
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("variable tool offers %v, the tools called are %v", got, want)
		}
	}
}
