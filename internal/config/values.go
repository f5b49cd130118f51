package config

import (
	"fmt"
	"strings"

	"github.com/ccotel/ccotel/tracing"
)

// DisplayEndpoint is the endpoint as everything shows it: the password
// of its userinfo masked (http://alice:xxxxx@host/v1/traces).
func (cfg *Config) DisplayEndpoint() string {
	return tracing.RedactURL(cfg.Endpoint)
}

// Values renders every configuration key's value as doctor prints it;
// header values are masked (they are secrets).
func (cfg *Config) Values() map[string]string {
	kv := func(m map[string]string, mask bool) string {
		var parts []string
		for _, k := range SortedKeys(m) {
			v := m[k]
			if mask {
				v = strings.Repeat("*", min(len(v), 8))
			}
			parts = append(parts, k+"="+v)
		}
		return strings.Join(parts, ", ")
	}
	or := func(s, alt string) string {
		if s == "" {
			return alt
		}
		return s
	}
	prices := make([]string, 0, len(cfg.Prices))
	for m := range cfg.Prices {
		prices = append(prices, m)
	}
	return map[string]string{
		"endpoint":                or(cfg.DisplayEndpoint(), "(none)"),
		"protocol":                cfg.Protocol,
		"compression":             cfg.Compression,
		"headers":                 or(kv(cfg.Headers, true), "(none)"),
		"timeout":                 cfg.Timeout.String(),
		"client_cert":             or(cfg.ClientCert, "(none)"),
		"client_key":              or(cfg.ClientKey, "(none)"),
		"ca":                      or(cfg.CA, "(system roots only)"),
		"insecure_skip_verify":    fmt.Sprint(cfg.InsecureSkipVerify),
		"disabled":                fmt.Sprint(cfg.Disabled),
		"service_name":            cfg.ServiceName,
		"resource":                or(kv(cfg.ResourceAttrs, false), "(none)"),
		"state_dir":               cfg.StateDir,
		"sync":                    fmt.Sprint(cfg.Sync),
		"durability":              cfg.Durability,
		"lock_timeout":            cfg.LockTimeout.String(),
		"outbox_max_spans":        fmt.Sprint(cfg.OutboxMaxSpans),
		"outbox_max_bytes":        fmt.Sprint(cfg.OutboxMaxBytes),
		"idle_timeout":            cfg.IdleTimeout.String(),
		"retry_for":               cfg.RetryFor.String(),
		"retry_max_interval":      cfg.RetryMax.String(),
		"capture":                 string(cfg.Capture),
		"trace_split":             cfg.TraceSplit,
		"max_attr_len":            fmt.Sprint(cfg.MaxAttrLen),
		"redact":                  or(fmt.Sprintf("%d pattern(s)", len(cfg.RedactPatterns)), ""),
		"parent_from_traceparent": fmt.Sprint(cfg.ParentFromTraceparent),
		"prices":                  or(strings.Join(prices, ", "), "(built-in table)"),
	}
}
