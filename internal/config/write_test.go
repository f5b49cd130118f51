package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
)

func TestSetKeys(t *testing.T) {
	set := []Setting{{"endpoint", "https://c:4318"}, {"client_cert", `/p/with "quote" \ and é`}}
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "", configHeader + "endpoint = \"https://c:4318\"\nclient_cert = \"/p/with \\\"quote\\\" \\\\ and é\"\n"},
		{"replace and keep", `# mine
endpoint = "http://old"   # old one
capture = "details"

# headers for the ingress
[headers]
x-team = "a"
endpoint = "not the top-level one"
`, `# mine
endpoint = "https://c:4318"
capture = "details"
client_cert = "/p/with \"quote\" \\ and é"

# headers for the ingress
[headers]
x-team = "a"
endpoint = "not the top-level one"
`},
		{"quoted key, no newline at end", `"endpoint" = 'x'`, "endpoint = \"https://c:4318\"\nclient_cert = \"/p/with \\\"quote\\\" \\\\ and é\"\n"},
		{"only tables", "[resource]\nteam = \"x\"\n", "endpoint = \"https://c:4318\"\nclient_cert = \"/p/with \\\"quote\\\" \\\\ and é\"\n[resource]\nteam = \"x\"\n"},
	} {
		got, err := SetKeys([]byte(tc.src), set)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s:\n%s", tc.name, string(diff.Diff("want", []byte(tc.want), "got", got)))
		}
		if again, _ := SetKeys(got, set); string(again) != string(got) {
			t.Errorf("%s: second run changed it", tc.name)
		}
	}
	for _, bad := range []string{"endpoint = ", "endpoint = \"\"\"\nmulti\n\"\"\"\n"} {
		if _, err := SetKeys([]byte(bad), set); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCollectorSettings(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "client.pem")
	key := filepath.Join(dir, "client-key.pem")
	os.WriteFile(cert, []byte("cert"), 0o644)
	os.WriteFile(key, []byte("key"), 0o644)
	os.Chmod(key, 0o644)
	s, warn, err := Collector{Endpoint: "https://c:4318", ClientCert: cert, ClientKey: "~/client-key.pem"}.Settings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 3 || s[1] != (Setting{"client_cert", cert}) || s[2] != (Setting{"client_key", key}) {
		t.Errorf("settings %v", s)
	}
	if len(warn) != 1 || !strings.Contains(warn[0], "chmod 600 "+key) {
		t.Errorf("warnings %v", warn)
	}
	for _, c := range []Collector{
		{Endpoint: "collector:4318"},
		{Endpoint: "ftp://c"},
		{CA: filepath.Join(dir, "missing.pem")},
		{ClientCert: dir},
	} {
		if _, _, err := c.Settings(dir); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, warn, _ := (Collector{Endpoint: "http://c:4318", ClientCert: cert}).Settings(dir); len(warn) != 1 || !strings.Contains(warn[0], "plain http") {
		t.Errorf("plain http: %v", warn)
	}
}

func TestWriteFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "xdg", "ccotel", "config.toml")
	if _, err := WriteFile(path, []Setting{{"endpoint", "https://c"}}, false); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", di.Mode())
	}
	os.Chmod(path, 0o644)
	r, err := WriteFile(path, []Setting{{"endpoint", "https://d"}}, false)
	if err != nil || r.Backup == "" {
		t.Fatalf("%+v %v", r, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after rewrite", fi.Mode())
	}
}
