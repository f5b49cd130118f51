package examples

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ccotel/ccotel/internal/otlptest"
)

// TestCollectorLoadsTheMetricsConfig has the real collector check
// otelcol/metrics.yaml layered over config.yaml, as the dashboard's
// README says to run it, and over file-exporter.yaml too (the order the
// dashboard test uses). internal/e2e's TestDashboardQueries runs it.
func TestCollectorLoadsTheMetricsConfig(t *testing.T) {
	bin := otlptest.CollectorBinary(t)
	for _, layers := range [][]string{{"config.yaml", "metrics.yaml"}, {"config.yaml", "file-exporter.yaml", "metrics.yaml"}} {
		args := []string{"validate"}
		for _, l := range layers {
			args = append(args, "--config", filepath.Join("otelcol", l))
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(cmd.Environ(), "OTELCOL_FILE_PATH="+filepath.Join(t.TempDir(), "traces.jsonl"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("otelcol validate %s: %v\n%s", strings.Join(layers, " + "), err, out)
		}
	}
	// The traces pipeline keeps config.yaml's Tempo exporter and feeds both
	// connectors; the metrics pipeline ends at Prometheus.
	m := readYAML(t, filepath.Join("otelcol", "metrics.yaml"))[0].v
	exp := fmt.Sprint(get(m, "service", "pipelines", "traces", "exporters"))
	if exp != "[otlp_http/tempo span_metrics signal_to_metrics]" {
		t.Errorf("metrics.yaml: traces exporters %s", exp)
	}
}

// TestAlloyMetricsMatchCollector checks that kubernetes/alloy-metrics.yaml
// makes the metrics otelcol/metrics.yaml makes: the same span-metrics
// namespace, dimensions and buckets, and each signal-to-metrics metric
// with the same conditions, value, unit and attributes, so the dashboard
// works on either.
func TestAlloyMetricsMatchCollector(t *testing.T) {
	m := readYAML(t, filepath.Join("otelcol", "metrics.yaml"))[0].v
	a := find(t, readYAML(t, filepath.Join("kubernetes", "alloy-metrics.yaml")), "ConfigMap", "")
	river := str(a.v, "data", "metrics.alloy")
	sm := alloyBlock(t, river, `otelcol.connector.spanmetrics "ccotel"`)
	if got, want := alloyAttr(t, sm, "namespace"), str(m, "connectors", "span_metrics", "namespace"); got != want {
		t.Errorf("Alloy span metrics namespace %q, the collector's %q", got, want)
	}
	for _, d := range get(m, "connectors", "span_metrics", "dimensions").([]any) {
		if !strings.Contains(sm, fmt.Sprintf(`dimension { name = %q }`, str(d, "name"))) {
			t.Errorf("Alloy span metrics: no dimension %s", str(d, "name"))
		}
	}
	var buckets []string
	for _, b := range get(m, "connectors", "span_metrics", "histogram", "explicit", "buckets").([]any) {
		buckets = append(buckets, fmt.Sprintf("%q", b))
	}
	if !strings.Contains(sm, "buckets = ["+strings.Join(buckets, ", ")+"]") {
		t.Errorf("Alloy span metrics: buckets differ from the collector's %v", buckets)
	}

	blocks := map[string]string{}
	for _, b := range alloyBlocks(t, alloyBlock(t, river, `otelcol.connector.signaltometrics "ccotel"`), "spans") {
		blocks[alloyAttr(t, b, "name")] = b
	}
	metrics := get(m, "connectors", "signal_to_metrics", "spans").([]any)
	if len(blocks) != len(metrics) {
		t.Errorf("Alloy makes %d span metrics, the collector %d", len(blocks), len(metrics))
	}
	for _, sp := range metrics {
		name := str(sp, "name")
		b, ok := blocks[name]
		if !ok {
			t.Errorf("Alloy: no metric %s", name)
			continue
		}
		want := []string{
			"conditions  = [`" + str(sp, "conditions", "0") + "`]",
			"sum { value = " + alloyString(str(sp, "sum", "value")) + " }",
		}
		if u := str(sp, "unit"); u != "" {
			want = append(want, fmt.Sprintf("unit        = %q", u))
		}
		for _, attr := range get(sp, "attributes").([]any) {
			want = append(want, fmt.Sprintf("key = %q", str(attr, "key")))
		}
		for _, attr := range get(sp, "include_resource_attributes").([]any) {
			if k := str(attr, "key"); k != "service.name" { // kept by span_metrics' data points
				want = append(want, fmt.Sprintf("include_resource_attributes { key = %q }", k))
			}
		}
		for _, w := range want {
			if !strings.Contains(strings.Join(strings.Fields(b), " "), strings.Join(strings.Fields(w), " ")) {
				t.Errorf("Alloy metric %s: no %s", name, w)
			}
		}
	}
}

// alloyString is how the Alloy file writes an OTTL expression: quoted
// when it has no quote, else in backquotes.
func alloyString(s string) string {
	if strings.Contains(s, `"`) {
		return "`" + s + "`"
	}
	return fmt.Sprintf("%q", s)
}

// alloyBlocks returns the bodies of every block `header {` in src.
func alloyBlocks(t *testing.T, src, header string) []string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(header) + `\s*\{`)
	var out []string
	for {
		m := re.FindStringIndex(src)
		if m == nil {
			return out
		}
		body := alloyBlock(t, src[m[0]:], header)
		out = append(out, body)
		src = src[m[1]+len(body):]
	}
}
