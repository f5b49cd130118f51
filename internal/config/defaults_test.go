package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/hook"
	"github.com/ccotel/ccotel/internal/delivery"
	"github.com/ccotel/ccotel/state"
	"github.com/ccotel/ccotel/tracing"
)

// Each default is declared once, by the package that uses it; Load must
// resolve an unset key to exactly that constant.
func TestLoadDefaultsAreThePackages(t *testing.T) {
	c, err := Load(LoadOptions{Getenv: envOf(t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.Protocol, c.Compression, c.Timeout, c.ServiceName,
		c.LockTimeout, c.OutboxMaxSpans, c.OutboxMaxBytes,
		c.IdleTimeout, c.Capture, c.MaxAttrLen, c.TraceSplit, c.RetryFor, c.RetryMax}
	want := []any{tracing.DefaultProtocol, tracing.DefaultCompression, tracing.DefaultTimeout, tracing.DefaultServiceName,
		state.DefaultLockTimeout, state.DefaultOutboxMaxSpans, int64(state.DefaultOutboxMaxBytes),
		hook.DefaultIdleTimeout, hook.DefaultCapture, hook.DefaultMaxAttrLen, hook.DefaultTraceSplit,
		delivery.DefaultRetryFor, delivery.DefaultMaxBackoff}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("default %d: Load gives %v, the package declares %v", i, got[i], want[i])
		}
	}
}

// docs/CONFIG.md's and README.md's tables document each key's default;
// they must say what the packages declare (through Load, which resolves
// to their constants).
func TestDocumentedDefaults(t *testing.T) {
	c, err := Load(LoadOptions{Getenv: envOf(t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	values := c.Values()
	for _, doc := range []struct {
		file, header string
		column       int // of the default, counting the key as 0
		want         []string
	}{
		{"../../docs/CONFIG.md", "| key (config file) | default |", 1, []string{"protocol", "compression", "timeout",
			"service_name", "durability", "lock_timeout", "outbox_max_spans", "outbox_max_bytes", "idle_timeout",
			"capture", "max_attr_len", "trace_split", "retry_for", "retry_max_interval"}},
		{"../../README.md", "| key | variable | default |", 2, []string{"protocol", "compression", "service_name",
			"capture", "durability", "idle_timeout", "retry_for"}},
	} {
		documented := tableDefaults(t, doc.file, doc.header, doc.column)
		for _, key := range doc.want {
			d, ok := documented[key]
			if !ok {
				t.Errorf("%s documents no default for %s", doc.file, key)
				continue
			}
			got := values[key]
			if dd, err := time.ParseDuration(d); err == nil {
				if g, _ := time.ParseDuration(got); g == dd {
					continue
				}
			}
			if got != d {
				t.Errorf("%s: %s says %q, the default is %q", key, doc.file, d, got)
			}
		}
	}
}

// tableDefaults reads the markdown table under header in file: each row's
// first key (`name`) and the first `value` of its default column.
func tableDefaults(t *testing.T, file, header string, column int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), header)
	if i < 0 {
		t.Fatalf("%s: no table %q", file, header)
	}
	table, _, _ := strings.Cut(string(b[i:]), "\n\n")
	tick := regexp.MustCompile("^`([^`]+)`")
	out := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) <= column {
			continue
		}
		k, v := tick.FindStringSubmatch(cells[0]), tick.FindStringSubmatch(cells[column])
		if k != nil && v != nil {
			out[k[1]] = v[1]
		}
	}
	return out
}
