package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/usage"
)

// env builds a LoadOptions.Getenv from pairs; HOME is always set to home.
func envOf(home string, kv ...string) func(string) (string, bool) {
	// No system-wide file unless a test writes one there.
	m := map[string]string{"HOME": home, "CCOTEL_SYSTEM_DIR": filepath.Join(home, "etc-ccotel")}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, ".config", "ccotel", "config.toml")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDefaults(t *testing.T) {
	home := t.TempDir()
	c, err := Load(LoadOptions{Getenv: envOf(home)})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Protocol: "http/protobuf", Compression: "gzip", Timeout: 10 * time.Second,
		ServiceName: "claude-code", StateDir: filepath.Join(home, ".local/state/ccotel"),
		Durability: "default", LockTimeout: 2 * time.Second, OutboxMaxSpans: 100000,
		OutboxMaxBytes: 64 << 20, IdleTimeout: 24 * time.Hour, Capture: "metadata", MaxAttrLen: 4096,
		TraceSplit: "session", RetryFor: 24 * time.Hour, RetryMax: 4 * time.Minute,
	}
	got := *c
	got.Sources, got.ResourceAttrs = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if c.Endpoint != "" || c.ConfigFile != "" {
		t.Errorf("endpoint %q file %q, want none", c.Endpoint, c.ConfigFile)
	}
	for _, k := range ConfigKeys {
		if c.Sources[k] == "" {
			t.Errorf("Sources[%q] empty", k)
		}
	}
}

func TestLoadEndpointRules(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		file string
		want string
		src  string
	}{
		{env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318"}, want: "https://c:4318/v1/traces", src: "env OTEL_EXPORTER_OTLP_ENDPOINT"},
		{env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318/"}, want: "https://c:4318/v1/traces"},
		{env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c/otlp"}, want: "https://c/otlp/v1/traces"},
		{env: []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://c/custom/path"}, want: "https://c/custom/path", src: "env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{env: []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://c:4318"}, want: "https://c:4318"},
		{env: []string{"CCOTEL_ENDPOINT", "https://c:4318"}, want: "https://c:4318/v1/traces", src: "env CCOTEL_ENDPOINT"},
		{env: []string{"CCOTEL_ENDPOINT", "https://c:4318/v1/traces"}, want: "https://c:4318/v1/traces"},
		{env: []string{"CCOTEL_ENDPOINT", "https://c/otlp"}, want: "https://c/otlp/v1/traces"},
		{env: []string{"CCOTEL_ENDPOINT", "http://127.0.0.1:4318"}, want: "http://127.0.0.1:4318/v1/traces"},
		{file: `endpoint = "https://file:4318"`, want: "https://file:4318/v1/traces", src: "file"},
		// precedence: CCOTEL > TRACES > base > file
		{env: []string{"CCOTEL_ENDPOINT", "https://a", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://b/x", "OTEL_EXPORTER_OTLP_ENDPOINT", "https://c"}, file: `endpoint = "https://d"`, want: "https://a/v1/traces"},
		{env: []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://b/x", "OTEL_EXPORTER_OTLP_ENDPOINT", "https://c"}, file: `endpoint = "https://d"`, want: "https://b/x"},
		{env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c"}, file: `endpoint = "https://d"`, want: "https://c/v1/traces"},
		{env: []string{"CCOTEL_ENDPOINT", "  "}, file: `endpoint = "https://d"`, want: "https://d/v1/traces"},
	} {
		home := t.TempDir()
		if tc.file != "" {
			writeConfig(t, home, tc.file)
		}
		c, err := Load(LoadOptions{Getenv: envOf(home, tc.env...)})
		if err != nil {
			t.Errorf("%v: %v", tc.env, err)
			continue
		}
		if c.Endpoint != tc.want {
			t.Errorf("%v %q: endpoint %q, want %q", tc.env, tc.file, c.Endpoint, tc.want)
		}
		if tc.src != "" && !strings.HasPrefix(c.Sources["endpoint"], tc.src) {
			t.Errorf("%v: source %q, want %q", tc.env, c.Sources["endpoint"], tc.src)
		}
	}
	c, err := Load(LoadOptions{Getenv: envOf(t.TempDir(), "CCOTEL_ENDPOINT", "https://a"), Flags: map[string]string{"endpoint": "https://flag:1"}})
	if err != nil || c.Endpoint != "https://flag:1/v1/traces" || c.Sources["endpoint"] != "flag --endpoint" {
		t.Errorf("flag: %v %q %q", err, c.Endpoint, c.Sources["endpoint"])
	}
	for _, bad := range []string{"collector:4318", "ftp://c", "https://", "://x"} {
		if _, err := Load(LoadOptions{Getenv: envOf(t.TempDir(), "CCOTEL_ENDPOINT", bad)}); err == nil {
			t.Errorf("endpoint %q accepted", bad)
		}
	}
}

// TestLoadVariables checks every variable sets its key, with its source.
func TestLoadVariables(t *testing.T) {
	home := t.TempDir()
	type check func(*Config) bool
	for _, tc := range []struct {
		name, value, key string
		ok               check
	}{
		{"CCOTEL_PROTOCOL", "http/json", "protocol", func(c *Config) bool { return c.Protocol == "http/json" }},
		{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", "protocol", func(c *Config) bool { return c.Protocol == "http/json" }},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/JSON", "protocol", func(c *Config) bool { return c.Protocol == "http/json" }},
		{"CCOTEL_COMPRESSION", "none", "compression", func(c *Config) bool { return c.Compression == "none" }},
		{"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none", "compression", func(c *Config) bool { return c.Compression == "none" }},
		{"OTEL_EXPORTER_OTLP_COMPRESSION", "none", "compression", func(c *Config) bool { return c.Compression == "none" }},
		{"CCOTEL_HEADERS", "a=1,b=x%20y", "headers", func(c *Config) bool { return reflect.DeepEqual(c.Headers, map[string]string{"a": "1", "b": "x y"}) }},
		{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "Authorization=Bearer%20t", "headers", func(c *Config) bool { return c.Headers["Authorization"] == "Bearer t" }},
		{"OTEL_EXPORTER_OTLP_HEADERS", " k = v , ", "headers", func(c *Config) bool { return reflect.DeepEqual(c.Headers, map[string]string{"k": "v"}) }},
		{"CCOTEL_TIMEOUT", "3s", "timeout", func(c *Config) bool { return c.Timeout == 3*time.Second }},
		{"CCOTEL_TIMEOUT", "2500", "timeout", func(c *Config) bool { return c.Timeout == 2500*time.Millisecond }},
		{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1500", "timeout", func(c *Config) bool { return c.Timeout == 1500*time.Millisecond }},
		{"OTEL_EXPORTER_OTLP_TIMEOUT", "500", "timeout", func(c *Config) bool { return c.Timeout == 500*time.Millisecond }},
		{"CCOTEL_CLIENT_CERT", "~/c.pem", "client_cert", func(c *Config) bool { return c.ClientCert == filepath.Join(home, "c.pem") }},
		{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "/t/c.pem", "client_cert", func(c *Config) bool { return c.ClientCert == "/t/c.pem" }},
		{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/o/c.pem", "client_cert", func(c *Config) bool { return c.ClientCert == "/o/c.pem" }},
		{"OTLP_CLIENT_CERTIFICATE", "~/seed.pem", "client_cert", func(c *Config) bool { return c.ClientCert == filepath.Join(home, "seed.pem") }},
		{"CCOTEL_CLIENT_KEY", "~/k.pem", "client_key", func(c *Config) bool { return c.ClientKey == filepath.Join(home, "k.pem") }},
		{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/t/k.pem", "client_key", func(c *Config) bool { return c.ClientKey == "/t/k.pem" }},
		{"OTEL_EXPORTER_OTLP_CLIENT_KEY", "/o/k.pem", "client_key", func(c *Config) bool { return c.ClientKey == "/o/k.pem" }},
		{"OTLP_CLIENT_KEY", "/s/k.pem", "client_key", func(c *Config) bool { return c.ClientKey == "/s/k.pem" }},
		{"CCOTEL_CA", "~/ca.pem", "ca", func(c *Config) bool { return c.CA == filepath.Join(home, "ca.pem") }},
		{"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/t/ca.pem", "ca", func(c *Config) bool { return c.CA == "/t/ca.pem" }},
		{"OTEL_EXPORTER_OTLP_CERTIFICATE", "/o/ca.pem", "ca", func(c *Config) bool { return c.CA == "/o/ca.pem" }},
		{"REQUESTS_CA_BUNDLE", "/s/ca.pem", "ca", func(c *Config) bool { return c.CA == "/s/ca.pem" }},
		{"CCOTEL_DISABLED", "true", "disabled", func(c *Config) bool { return c.Disabled }},
		{"OTEL_SDK_DISABLED", "TRUE", "disabled", func(c *Config) bool { return c.Disabled }},
		{"CCOTEL_SERVICE_NAME", "svc", "service_name", func(c *Config) bool { return c.ServiceName == "svc" }},
		{"OTEL_SERVICE_NAME", "osvc", "service_name", func(c *Config) bool { return c.ServiceName == "osvc" }},
		{"CCOTEL_RESOURCE_ATTRIBUTES", "team=pay,env=dev", "resource", func(c *Config) bool {
			return reflect.DeepEqual(c.ResourceAttrs, map[string]string{"team": "pay", "env": "dev"})
		}},
		{"OTEL_RESOURCE_ATTRIBUTES", "team=x%2Cy", "resource", func(c *Config) bool { return c.ResourceAttrs["team"] == "x,y" }},
		{"CCOTEL_STATE_DIR", "~/st", "state_dir", func(c *Config) bool { return c.StateDir == filepath.Join(home, "st") }},
		{"CCOTEL_SYNC", "1", "sync", func(c *Config) bool { return c.Sync }},
		{"CCOTEL_DURABILITY", "full", "durability", func(c *Config) bool { return c.Durability == "full" }},
		{"CCOTEL_CAPTURE", "Details", "capture", func(c *Config) bool { return c.Capture == "details" }},
		{"CCOTEL_TRACE_SPLIT", "turn", "trace_split", func(c *Config) bool { return c.TraceSplit == "turn" }},
		{"CCOTEL_IDLE_TIMEOUT", "1h", "idle_timeout", func(c *Config) bool { return c.IdleTimeout == time.Hour }},
		{"CCOTEL_RETRY_FOR", "168h", "retry_for", func(c *Config) bool { return c.RetryFor == 168*time.Hour }},
		{"CCOTEL_RETRY_MAX_INTERVAL", "10s", "retry_max_interval", func(c *Config) bool { return c.RetryMax == 10*time.Second }},
		{"CCOTEL_LOCK_TIMEOUT", "250ms", "lock_timeout", func(c *Config) bool { return c.LockTimeout == 250*time.Millisecond }},
	} {
		c, err := Load(LoadOptions{Getenv: envOf(home, tc.name, tc.value)})
		if err != nil {
			t.Errorf("%s=%s: %v", tc.name, tc.value, err)
			continue
		}
		if !tc.ok(c) {
			t.Errorf("%s=%s: not applied: %+v", tc.name, tc.value, c)
		}
		if src := c.Sources[tc.key]; src != "env "+tc.name {
			t.Errorf("%s: Sources[%s] = %q", tc.name, tc.key, src)
		}
	}
}

func TestLoadPrecedenceChains(t *testing.T) {
	home := t.TempDir()
	writeConfig(t, home, `
client_cert = "file-cert.pem"
client_key = "/abs/file-key.pem"
ca = "~/file-ca.pem"
timeout = "7s"
service_name = "file-svc"
[headers]
x-file = "1"
[resource]
team = "file"
region = "eu"
`)
	fileDir := filepath.Join(home, ".config", "ccotel")
	for _, tc := range []struct {
		env  []string
		get  func(*Config) string
		want string
	}{
		{nil, func(c *Config) string { return c.ClientCert }, filepath.Join(fileDir, "file-cert.pem")},
		{[]string{"OTLP_CLIENT_CERTIFICATE", "/seed"}, func(c *Config) string { return c.ClientCert }, "/seed"},
		{[]string{"OTLP_CLIENT_CERTIFICATE", "/seed", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/otel"}, func(c *Config) string { return c.ClientCert }, "/otel"},
		{[]string{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/otel", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "/traces"}, func(c *Config) string { return c.ClientCert }, "/traces"},
		{[]string{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "/traces", "CCOTEL_CLIENT_CERT", "/cc"}, func(c *Config) string { return c.ClientCert }, "/cc"},
		{nil, func(c *Config) string { return c.ClientKey }, "/abs/file-key.pem"},
		{[]string{"OTLP_CLIENT_KEY", "/seedk"}, func(c *Config) string { return c.ClientKey }, "/seedk"},
		{nil, func(c *Config) string { return c.CA }, filepath.Join(home, "file-ca.pem")},
		{[]string{"REQUESTS_CA_BUNDLE", "/r"}, func(c *Config) string { return c.CA }, "/r"},
		{[]string{"REQUESTS_CA_BUNDLE", "/r", "OTEL_EXPORTER_OTLP_CERTIFICATE", "/o"}, func(c *Config) string { return c.CA }, "/o"},
		{nil, func(c *Config) string { return c.Timeout.String() }, "7s"},
		{[]string{"OTEL_EXPORTER_OTLP_TIMEOUT", "1000"}, func(c *Config) string { return c.Timeout.String() }, "1s"},
		{[]string{"OTEL_EXPORTER_OTLP_TIMEOUT", "1000", "CCOTEL_TIMEOUT", "2s"}, func(c *Config) string { return c.Timeout.String() }, "2s"},
		{nil, func(c *Config) string { return c.ServiceName }, "file-svc"},
		{[]string{"OTEL_SERVICE_NAME", "o", "CCOTEL_SERVICE_NAME", "c"}, func(c *Config) string { return c.ServiceName }, "c"},
		{nil, func(c *Config) string { return c.Headers["x-file"] }, "1"},
		{[]string{"OTEL_EXPORTER_OTLP_HEADERS", "x-env=2"}, func(c *Config) string { return c.Headers["x-file"] + "|" + c.Headers["x-env"] }, "|2"},
		{nil, func(c *Config) string { return c.ResourceAttrs["team"] + "," + c.ResourceAttrs["region"] }, "file,eu"},
		{[]string{"OTEL_RESOURCE_ATTRIBUTES", "team=otel", "CCOTEL_RESOURCE_ATTRIBUTES", "region=us"}, func(c *Config) string { return c.ResourceAttrs["team"] + "," + c.ResourceAttrs["region"] }, "otel,us"},
	} {
		c, err := Load(LoadOptions{Getenv: envOf(home, tc.env...)})
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if got := tc.get(c); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.env, got, tc.want)
		}
	}
	c, err := Load(LoadOptions{Getenv: envOf(home, "CCOTEL_CLIENT_CERT", "/cc"), Flags: map[string]string{"client_cert": "~/flag.pem", "resource": "team=flag"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientCert != filepath.Join(home, "flag.pem") || c.Sources["client_cert"] != "flag --client-cert" {
		t.Errorf("flag: %q from %q", c.ClientCert, c.Sources["client_cert"])
	}
	if c.ResourceAttrs["team"] != "flag" || c.ResourceAttrs["region"] != "eu" {
		t.Errorf("resource merge: %v", c.ResourceAttrs)
	}
}

func TestLoadConfigFile(t *testing.T) {
	home := t.TempDir()
	path := writeConfig(t, home, `
endpoint = "https://collector.example.com:4318"
protocol = "http/json"
compression = "none"
timeout = "5s"
insecure_skip_verify = true
disabled = false
state_dir = "~/state"
sync = true
durability = "full"
lock_timeout = "1s"
outbox_max_spans = 10
outbox_max_bytes = 2048
idle_timeout = "2h"
retry_for = "72h"
retry_max_interval = "90s"
capture = "content"
max_attr_len = 100
redact = ["foo[0-9]+", "bar"]
parent_from_traceparent = true
trace_split = "turn"
unknown_thing = 1

[prices."claude-x"]
input = 3
output = 15.5
cache_read = 0.3
`)
	c, err := Load(LoadOptions{Getenv: envOf(home)})
	if err != nil {
		t.Fatal(err)
	}
	if c.ConfigFile != path {
		t.Errorf("ConfigFile %q", c.ConfigFile)
	}
	want := &Config{
		Endpoint: "https://collector.example.com:4318/v1/traces", Protocol: "http/json", Compression: "none",
		Timeout: 5 * time.Second, InsecureSkipVerify: true, ServiceName: "claude-code", ResourceAttrs: map[string]string{},
		StateDir: filepath.Join(home, "state"), Sync: true, Durability: "full", LockTimeout: time.Second,
		OutboxMaxSpans: 10, OutboxMaxBytes: 2048, IdleTimeout: 2 * time.Hour, Capture: "content", MaxAttrLen: 100,
		RetryFor: 72 * time.Hour, RetryMax: 90 * time.Second,
		RedactPatterns: []string{"foo[0-9]+", "bar"}, ParentFromTraceparent: true, TraceSplit: "turn",
		Prices:     map[string]usage.Price{"claude-x": {Input: 3, Output: 15.5, CacheRead: 0.3}},
		ConfigFile: path,
	}
	got := *c
	got.Sources, got.Warnings = nil, nil
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("file:\n got %+v\nwant %+v", &got, want)
	}
	for _, k := range []string{"endpoint", "insecure_skip_verify", "redact", "prices", "outbox_max_bytes", "retry_for", "retry_max_interval"} {
		if c.Sources[k] != "file "+path {
			t.Errorf("Sources[%s] = %q", k, c.Sources[k])
		}
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "unknown_thing") {
		t.Errorf("warnings %q", c.Warnings)
	}

	// $CCOTEL_CONFIG beats $XDG_CONFIG_HOME beats ~/.config.
	other := filepath.Join(t.TempDir(), "other.toml")
	os.WriteFile(other, []byte(`endpoint = "https://other"`), 0o600)
	xdg := t.TempDir()
	os.MkdirAll(filepath.Join(xdg, "ccotel"), 0o700)
	os.WriteFile(filepath.Join(xdg, "ccotel", "config.toml"), []byte(`endpoint = "https://xdg"`), 0o600)
	c, _ = Load(LoadOptions{Getenv: envOf(home, "XDG_CONFIG_HOME", xdg)})
	if c.Endpoint != "https://xdg/v1/traces" {
		t.Errorf("xdg: %q", c.Endpoint)
	}
	c, _ = Load(LoadOptions{Getenv: envOf(home, "XDG_CONFIG_HOME", xdg, "CCOTEL_CONFIG", other)})
	if c.Endpoint != "https://other/v1/traces" || c.ConfigFile != other {
		t.Errorf("CCOTEL_CONFIG: %q %q", c.Endpoint, c.ConfigFile)
	}
	c, err = Load(LoadOptions{Getenv: envOf(home, "CCOTEL_CONFIG", filepath.Join(home, "missing.toml"))})
	if err != nil || c.Endpoint != "" || len(c.Warnings) != 1 {
		t.Errorf("missing named file: %v %q %q", err, c.Endpoint, c.Warnings)
	}
	if ConfigFilePath(envOf(home, "XDG_CONFIG_HOME", xdg)) != filepath.Join(xdg, "ccotel", "config.toml") {
		t.Error("ConfigFilePath ignores XDG_CONFIG_HOME")
	}
	if ConfigFilePath(envOf(home)) != path {
		t.Error("ConfigFilePath default")
	}
}

func TestLoadXDGStateHome(t *testing.T) {
	xdg := t.TempDir()
	c, err := Load(LoadOptions{Getenv: envOf(t.TempDir(), "XDG_STATE_HOME", xdg)})
	if err != nil || c.StateDir != filepath.Join(xdg, "ccotel") {
		t.Errorf("%v %q", err, c.StateDir)
	}
}

func TestLoadServiceNameFromResource(t *testing.T) {
	home := t.TempDir()
	c, _ := Load(LoadOptions{Getenv: envOf(home, "OTEL_RESOURCE_ATTRIBUTES", "service.name=fromres,team=a")})
	if c.ServiceName != "fromres" {
		t.Errorf("service.name in resource ignored: %q", c.ServiceName)
	}
	if _, ok := c.ResourceAttrs["service.name"]; ok {
		t.Error("service.name left in ResourceAttrs")
	}
	c, _ = Load(LoadOptions{Getenv: envOf(home, "OTEL_RESOURCE_ATTRIBUTES", "service.name=fromres", "OTEL_SERVICE_NAME", "explicit")})
	if c.ServiceName != "explicit" {
		t.Errorf("OTEL_SERVICE_NAME must win: %q", c.ServiceName)
	}
}

func TestLoadInvalid(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		file string
	}{
		{env: []string{"CCOTEL_PROTOCOL", "grpc"}},
		{env: []string{"CCOTEL_PROTOCOL", "thrift"}},
		{env: []string{"CCOTEL_COMPRESSION", "zstd"}},
		{env: []string{"CCOTEL_TIMEOUT", "soon"}},
		{env: []string{"CCOTEL_TIMEOUT", "-1s"}},
		{env: []string{"CCOTEL_SYNC", "maybe"}},
		{env: []string{"CCOTEL_CAPTURE", "everything"}},
		{env: []string{"CCOTEL_DURABILITY", "paranoid"}},
		{env: []string{"CCOTEL_HEADERS", "novalue"}},
		{env: []string{"OTEL_RESOURCE_ATTRIBUTES", "a=%zz"}},
		{file: `endpoint = `},
		{file: `protocol = "grpc"`},
		{file: `insecure_skip_verify = "yes"`},
		{file: `redact = "x"`},
		{file: `outbox_max_spans = -3`},
		{file: "[prices.m]\ninput = \"cheap\""},
		{file: `resource = 3`},
	} {
		home := t.TempDir()
		if tc.file != "" {
			writeConfig(t, home, tc.file)
		}
		if c, err := Load(LoadOptions{Getenv: envOf(home, tc.env...)}); err == nil {
			t.Errorf("%v %q accepted: %+v", tc.env, tc.file, c)
		}
	}
	if _, err := Load(LoadOptions{Getenv: envOf(t.TempDir()), Flags: map[string]string{"no_such_key": "1"}}); err == nil {
		t.Error("unknown flag key accepted")
	}
}

func TestLoadStandardEnvWarnings(t *testing.T) {
	home := t.TempDir()
	c, err := Load(LoadOptions{Getenv: envOf(home, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_INSECURE", "true")})
	if err != nil {
		t.Fatal(err)
	}
	if c.Protocol != "http/protobuf" || len(c.Warnings) != 2 {
		t.Errorf("protocol %q warnings %q", c.Protocol, c.Warnings)
	}
	// A gRPC value from the OTEL variable falls through to the file.
	writeConfig(t, home, `protocol = "http/json"`)
	c, _ = Load(LoadOptions{Getenv: envOf(home, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")})
	if c.Protocol != "http/json" {
		t.Errorf("protocol %q, want the file's", c.Protocol)
	}
}

func TestLoadHeaderErrorHidesSecret(t *testing.T) {
	_, err := Load(LoadOptions{Getenv: envOf(t.TempDir(), "CCOTEL_HEADERS", "Authorization:Bearer-supersecret")})
	if err == nil || strings.Contains(err.Error(), "supersecret") {
		t.Errorf("error %v", err)
	}
}

func BenchmarkLoad(b *testing.B) {
	home := b.TempDir()
	p := filepath.Join(home, ".config", "ccotel", "config.toml")
	os.MkdirAll(filepath.Dir(p), 0o700)
	os.WriteFile(p, []byte(`endpoint = "https://collector.example.com:4318"
client_cert = "~/.config/ccotel/client.pem"
client_key = "~/.config/ccotel/client-key.pem"
ca = "~/.config/ccotel/ca.pem"
[resource]
team = "payments"
`), 0o600)
	get := envOf(home, "CCOTEL_CAPTURE", "details")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(LoadOptions{Getenv: get}); err != nil {
			b.Fatal(err)
		}
	}
}

// REQUESTS_CA_BUNDLE is ambient (set for Python): it must not undo the
// config file's private CA, so both are trusted.
func TestLoadRequestsCABundleKeepsFileCA(t *testing.T) {
	home := t.TempDir()
	writeConfig(t, home, `ca = "/etc/private-ca.pem"`)
	c, err := Load(LoadOptions{Getenv: envOf(home, "REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")})
	if err != nil {
		t.Fatal(err)
	}
	if c.CA != "/etc/ssl/bundle.pem" || c.CAAlso != "/etc/private-ca.pem" || !strings.Contains(c.Sources["ca"], "env REQUESTS_CA_BUNDLE + file") {
		t.Errorf("CA %q also %q from %q", c.CA, c.CAAlso, c.Sources["ca"])
	}
	c, _ = Load(LoadOptions{Getenv: envOf(home, "CCOTEL_CA", "/x.pem", "REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")})
	if c.CA != "/x.pem" || c.CAAlso != "" {
		t.Errorf("explicit CCOTEL_CA: %q also %q", c.CA, c.CAAlso)
	}
}
