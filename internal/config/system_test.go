package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The system-wide file applies to every user below their own file, key by
// key; "~" in it is each user's home, a relative path is taken from the
// system directory, and Sources names the file each value came from.
func TestSystemConfigFile(t *testing.T) {
	sys := t.TempDir()
	body := `endpoint = "https://otel.example.com"
client_cert = "~/.config/ccotel/client.pem"
client_key = "~/.config/ccotel/client-key.pem"
ca = "ca.pem"
retry_for = "48h"
mystery = 1

[resource]
team = "payments"
`
	if err := os.WriteFile(filepath.Join(sys, "config.toml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	sysSrc := "file " + filepath.Join(sys, "config.toml")
	for _, user := range []string{"alice", "bob"} {
		home := filepath.Join(t.TempDir(), user)
		c, err := Load(LoadOptions{Getenv: envOf(home, "CCOTEL_SYSTEM_DIR", sys)})
		if err != nil {
			t.Fatal(err)
		}
		if c.Endpoint != "https://otel.example.com/v1/traces" || c.ClientCert != filepath.Join(home, ".config/ccotel/client.pem") ||
			c.ClientKey != filepath.Join(home, ".config/ccotel/client-key.pem") || c.CA != filepath.Join(sys, "ca.pem") ||
			c.ResourceAttrs["team"] != "payments" || c.RetryFor.Hours() != 48 {
			t.Errorf("%s: %+v", user, c)
		}
		for _, k := range []string{"endpoint", "client_cert", "client_key", "ca", "resource", "retry_for"} {
			if c.Sources[k] != sysSrc {
				t.Errorf("%s: Sources[%s] = %q, want %q", user, k, c.Sources[k], sysSrc)
			}
		}
		if c.SystemConfigFile != filepath.Join(sys, "config.toml") || c.ConfigFile != "" {
			t.Errorf("%s: files %q %q", user, c.SystemConfigFile, c.ConfigFile)
		}
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "mystery") {
			t.Errorf("%s: warnings %q", user, c.Warnings)
		}
	}

	// The user's own file wins, key by key; CCOTEL_* wins over both.
	home := t.TempDir()
	user := writeConfig(t, home, "endpoint = \"https://mine.example.com\"\n[resource]\nteam = \"infra\"\n")
	c, err := Load(LoadOptions{Getenv: envOf(home, "CCOTEL_SYSTEM_DIR", sys, "CCOTEL_CA", "/etc/ssl/corp.pem")})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "https://mine.example.com/v1/traces" || c.Sources["endpoint"] != "file "+user ||
		c.ResourceAttrs["team"] != "infra" || c.Sources["resource"] != "file "+user ||
		c.ClientCert != filepath.Join(home, ".config/ccotel/client.pem") || c.Sources["client_cert"] != sysSrc ||
		c.CA != "/etc/ssl/corp.pem" || c.Sources["ca"] != "env CCOTEL_CA" {
		t.Errorf("precedence: %+v", c)
	}
}

// A system file that does not parse stops Load as the user's does; one
// that cannot be read is a warning.
func TestSystemConfigFileErrors(t *testing.T) {
	sys := t.TempDir()
	os.WriteFile(filepath.Join(sys, "config.toml"), []byte("endpoint = \n"), 0o644)
	if _, err := Load(LoadOptions{Getenv: envOf(t.TempDir(), "CCOTEL_SYSTEM_DIR", sys)}); err == nil || !strings.Contains(err.Error(), "system config file") {
		t.Errorf("a broken system file: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "config.toml") // a directory named like the file: unreadable
	os.MkdirAll(filepath.Join(dir, "config.toml"), 0o755)
	c, err := Load(LoadOptions{Getenv: envOf(t.TempDir(), "CCOTEL_SYSTEM_DIR", dir)})
	if err != nil || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "cannot be read") {
		t.Errorf("an unreadable system file: %v %v", c, err)
	}
	if SystemConfigPath(envOf("/home/x")) != "/home/x/etc-ccotel/config.toml" || SystemConfigPath(func(string) (string, bool) { return "", false }) != "/etc/ccotel/config.toml" {
		t.Error("SystemConfigPath")
	}
}
