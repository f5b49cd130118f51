package config

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/usage"
)

// parseDuration accepts Go durations ("10s", "1m30s") and, like the
// OTEL_*_TIMEOUT variables, a bare number of milliseconds.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n) * time.Millisecond, nil
	}
	return time.ParseDuration(s)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "yes", "on":
		return true, nil
	case "0", "f", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// parseKeyValues parses the W3C-baggage-like list the OTEL variables use:
// "k1=v1,k2=v2", keys and values URL-encoded (percent-decoded here), spaces
// around items ignored.
func parseKeyValues(s string) (map[string]string, error) {
	m := map[string]string{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("want key=value pairs separated by commas, got an item without '=' (%q)", redactItem(item))
		}
		dk, err1 := url.PathUnescape(k)
		dv, err2 := url.PathUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad percent-encoding in the item for key %q", k)
		}
		m[dk] = dv
	}
	return m, nil
}

// redactItem keeps an error message from echoing what may be a secret.
func redactItem(s string) string {
	if len(s) <= 4 {
		return "…"
	}
	return s[:4] + "…"
}

// SortedKeys returns m's keys in order (for printing headers and
// resource attributes deterministically).
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func parsePrice(x any) (usage.Price, error) {
	m, ok := x.(map[string]any)
	if !ok {
		return usage.Price{}, errors.New("want a table of input, output, cache_write_5m, cache_write_1h, cache_read")
	}
	var p usage.Price
	for k, v := range m {
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case int64:
			f = float64(n)
		default:
			return p, fmt.Errorf("%s: want a number (USD per million tokens)", k)
		}
		switch k {
		case "input":
			p.Input = f
		case "output":
			p.Output = f
		case "cache_write_5m":
			p.CacheWrite5m = f
		case "cache_write_1h":
			p.CacheWrite1h = f
		case "cache_read":
			p.CacheRead = f
		default:
			return p, fmt.Errorf("unknown key %q", k)
		}
	}
	return p, nil
}

func (l *loader) boolKey(key string, dst *bool) error {
	l.set(key, "default")
	v, ok := l.pick(key)
	if !ok {
		return nil
	}
	b, err := parseBool(v.raw)
	if err != nil {
		return v.errorf(key, "want true or false")
	}
	*dst = b
	l.set(key, v.src)
	return nil
}

func (l *loader) durationKey(key string, dst *time.Duration) error {
	l.set(key, "default")
	v, ok := l.pick(key)
	if !ok {
		return nil
	}
	d, err := parseDuration(v.raw)
	if err != nil || d <= 0 {
		return v.errorf(key, `want a positive duration like "2s", "24h" or milliseconds`)
	}
	*dst = d
	l.set(key, v.src)
	return nil
}

func (l *loader) intKey(key string, dst *int64) error {
	l.set(key, "default")
	v, ok := l.pick(key)
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(v.raw, 10, 64)
	if err != nil || n <= 0 {
		return v.errorf(key, "want a positive whole number")
	}
	*dst = n
	l.set(key, v.src)
	return nil
}
