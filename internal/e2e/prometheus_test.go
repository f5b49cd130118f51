package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
)

// prometheusBinary finds Prometheus (Debian's package installs
// /usr/bin/prometheus). Without it the test is skipped, except under
// CI=true, where that is a failure.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prometheus not installed: CI must apt-get install prometheus (.ci/run)")
		}
		t.Skip("prometheus not installed (apt-get install prometheus)")
	}
	return bin
}

// freeAddr is a loopback address no one listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// prometheus is a Prometheus server run by a test: its own configuration
// and storage in a temporary directory, on a loopback port.
type prometheus struct {
	url string
}

// startPrometheus runs Prometheus scraping target (host:port, /metrics)
// every second until the test ends, and returns once it is ready.
func startPrometheus(t *testing.T, bin, target string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ccotel-collector
    honor_labels: true
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn")
	logPath := filepath.Join(dir, "prometheus.log")
	done := otlptest.StartLogged(t, cmd, logPath, "prometheus")
	p := &prometheus{url: "http://" + addr}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-done:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("prometheus exited: %v\n%s", err, b)
		default:
		}
		if r, err := http.Get(p.url + "/-/ready"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("prometheus not ready within 60s")
		}
	}
}

// sample is one series of an instant query's result: its labels as
// "name=value" pairs, sorted, comma-separated, without __name__.
type sample struct {
	key   string
	value float64
}

// query evaluates expr at time at through the HTTP API (/api/v1/query).
func (p *prometheus) query(expr string, at time.Time) ([]sample, error) {
	v := url.Values{"query": {expr}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	r, err := http.PostForm(p.url+"/api/v1/query", v)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	var resp struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&resp); err != nil {
		return nil, fmt.Errorf("query %s: HTTP %d: %v", expr, r.StatusCode, err)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("query %s: %s: %s", expr, resp.ErrorType, resp.Error)
	}
	if resp.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", expr, resp.Data.ResultType)
	}
	out := make([]sample, 0, len(resp.Data.Result))
	for _, res := range resp.Data.Result {
		s, _ := res.Value[1].(string)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %v", expr, res.Value[1], err)
		}
		out = append(out, sample{key: labelKey(res.Metric), value: f})
	}
	return out, nil
}

// labelValues lists a label's values over the series selector matches
// (/api/v1/label/<name>/values), sorted, as Grafana's label_values does.
func (p *prometheus) labelValues(name, selector string) ([]string, error) {
	r, err := http.Get(p.url + "/api/v1/label/" + name + "/values?" + url.Values{"match[]": {selector}}.Encode())
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	var resp struct {
		Status string   `json:"status"`
		Error  string   `json:"error"`
		Data   []string `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&resp); err != nil || resp.Status != "success" {
		return nil, fmt.Errorf("label values %s of %s: HTTP %d, %v %s", name, selector, r.StatusCode, err, resp.Error)
	}
	sort.Strings(resp.Data)
	return resp.Data, nil
}

// labelKey is a series' labels as "name=value" pairs, sorted,
// comma-separated, without __name__; "" for none.
func labelKey(m map[string]string) string {
	var kv []string
	for k, v := range m {
		if k != "__name__" {
			kv = append(kv, k+"="+v)
		}
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// bucketQuantile is Prometheus's histogram_quantile over cumulative
// bucket counts (upper bounds ascending, the last +Inf): the linear
// interpolation inside the bucket the rank falls into.
func bucketQuantile(q float64, bounds []float64, counts []float64) float64 {
	n := len(bounds)
	if n < 2 || counts[n-1] == 0 {
		return math.NaN()
	}
	rank := q * counts[n-1]
	b := sort.Search(n-1, func(i int) bool { return counts[i] >= rank })
	if b == n-1 {
		return bounds[n-2]
	}
	if b == 0 && bounds[0] <= 0 {
		return bounds[0]
	}
	start, end, count := 0.0, bounds[b], counts[b]
	if b > 0 {
		start = bounds[b-1]
		count -= counts[b-1]
		rank -= counts[b-1]
	}
	return start + (end-start)*(rank/count)
}
