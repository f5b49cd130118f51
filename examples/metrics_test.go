package examples

import (
	"encoding/json"
	"fmt"
	"os"
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

// TestDashboardLayout checks the Grafana dashboard's structure: unique
// panel ids, no two panels on the same grid cell, every panel with a
// query on a data source chosen by the dashboard's variables, and a
// legend for each Prometheus query.
func TestDashboardLayout(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("grafana", "ccotel-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int                      `json:"id"`
			Type    string                   `json:"type"`
			Title   string                   `json:"title"`
			GridPos struct{ X, Y, W, H int } `json:"gridPos"`
			Targets []struct {
				Expr       string                     `json:"expr"`
				Query      string                     `json:"query"`
				Legend     string                     `json:"legendFormat"`
				Datasource struct{ Type, UID string } `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	ids := map[int]string{}
	cells := map[[2]int]string{}
	for _, p := range d.Panels {
		if prev, ok := ids[p.ID]; ok {
			t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		g := p.GridPos
		if g.W < 1 || g.H < 1 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if prev, ok := cells[[2]int{x, y}]; ok {
					t.Errorf("panels %q and %q overlap at (%d,%d)", prev, p.Title, x, y)
				}
				cells[[2]int{x, y}] = p.Title
			}
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			want := map[string]string{"prometheus": "${datasource}", "tempo": "${tempo}"}[tg.Datasource.Type]
			if want == "" || tg.Datasource.UID != want {
				t.Errorf("panel %q: data source %+v", p.Title, tg.Datasource)
			}
			if tg.Datasource.Type == "prometheus" && (tg.Expr == "" || tg.Legend == "") {
				t.Errorf("panel %q: query %q, legend %q", p.Title, tg.Expr, tg.Legend)
			}
			if tg.Datasource.Type == "tempo" && !strings.HasPrefix(tg.Query, "{") {
				t.Errorf("panel %q: TraceQL %q", p.Title, tg.Query)
			}
		}
	}
	if d.UID == "" || len(ids) < 10 {
		t.Errorf("dashboard uid %q, %d panels", d.UID, len(ids))
	}
}
