package examples

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// identityHeader is the request header that carries the verified client
// certificate's subject DN from the ingress to the collector:
// ingress-nginx sets it itself when auth-tls is on (proxy_set_header
// ssl-client-subject-dn $ssl_client_s_dn in its template), and
// examples/nginx/ccotel.conf sets the same, so one collector configuration
// works behind either.
const identityHeader = "ssl-client-subject-dn"

// identityKeys are the attributes the identity processors own: a client's
// value under either never survives.
var identityKeys = []string{"enduser.id", "tls.client.subject"}

// TestNginxOverwritesTheIdentityHeader: every location of the nginx
// example that proxies sets the identity header with proxy_set_header
// (which replaces a client's header of that name; add_header or a
// pass-through would let the client speak), from $ssl_client_s_dn, and
// the file does not make nginx accept header names it would otherwise
// drop.
func TestNginxOverwritesTheIdentityHeader(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("nginx", "ccotel.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	locs := regexp.MustCompile(`(?m)^\s*location\s[^{]*\{[^}]*\}`).FindAllString(conf, -1)
	set := regexp.MustCompile(`(?m)^\s*proxy_set_header\s+` + regexp.QuoteMeta(identityHeader) + `\s+\$ssl_client_s_dn\s*;`)
	proxying := 0
	for _, l := range locs {
		if !strings.Contains(l, "proxy_pass") {
			continue
		}
		proxying++
		if !set.MatchString(l) {
			t.Errorf("nginx: a proxying location does not set %s from $ssl_client_s_dn with proxy_set_header:\n%s", identityHeader, l)
		}
	}
	if proxying == 0 {
		t.Fatal("nginx: no location proxies")
	}
	if regexp.MustCompile(`(?m)^\s*(underscores_in_headers\s+on|ignore_invalid_headers\s+off)`).MatchString(conf) {
		t.Error("nginx: the example lets through header names nginx drops by default")
	}
}

// identityActions is the attributes/identity processor's action list.
func identityActions(t *testing.T, cfg map[string]any) []map[string]string {
	t.Helper()
	raw, _ := get(cfg, "processors", "attributes/identity", "actions").([]any)
	if len(raw) == 0 {
		t.Fatal("collector: no attributes/identity actions")
	}
	var out []map[string]string
	for _, a := range raw {
		m := map[string]string{}
		for k, v := range a.(map[string]any) {
			m[k], _ = v.(string)
		}
		out = append(out, m)
	}
	return out
}

// TestCollectorIdentityProcessors: the collector example drops the
// client's identity keys (span and resource) before it inserts the
// verified ones from the identity header, and does so ahead of batch,
// which drops the request's metadata.
func TestCollectorIdentityProcessors(t *testing.T) {
	cfg := otelcolConfig(t)
	if get(cfg, "receivers", "otlp", "protocols", "http", "include_metadata") != true {
		t.Error("collector: the OTLP/HTTP receiver does not keep request headers (include_metadata: true)")
	}
	acts := identityActions(t, cfg)
	deleted := map[string]bool{}
	inserted := false
	for _, a := range acts {
		switch {
		case a["action"] == "delete":
			deleted[a["key"]] = true
		case a["from_context"] != "":
			if a["from_context"] != "metadata."+identityHeader || a["action"] != "insert" || a["key"] != "tls.client.subject" {
				t.Errorf("collector: identity from context %v, want tls.client.subject inserted from metadata.%s", a, identityHeader)
			}
			inserted = true
		case a["action"] == "insert" || a["action"] == "upsert" || a["action"] == "update":
			if !inserted {
				t.Errorf("collector: %v comes before the verified subject is in", a)
			}
		}
		for _, k := range identityKeys {
			if a["key"] == k && a["action"] != "delete" && !deleted[k] {
				t.Errorf("collector: %s is set (%v) before the client's %s is deleted", k, a, k)
			}
		}
	}
	if !inserted {
		t.Errorf("collector: attributes/identity never reads metadata.%s", identityHeader)
	}
	res, _ := get(cfg, "processors", "resource/identity", "attributes").([]any)
	resDeleted := map[string]bool{}
	for _, a := range res {
		if str(a, "action") == "delete" {
			resDeleted[str(a, "key")] = true
		}
	}
	for _, k := range identityKeys {
		if !resDeleted[k] {
			t.Errorf("collector: resource/identity does not delete the client's resource attribute %s", k)
		}
	}
}

// TestAlloyIdentityIsTheCollectors: Alloy's otelcol.processor.attributes
// "identity" runs the collector example's very actions, between the
// receiver and batch, with the client's resource attributes under the
// same keys deleted by otelcol.processor.transform "identity".
func TestAlloyIdentityIsTheCollectors(t *testing.T) {
	a := find(t, readYAML(t, filepath.Join("kubernetes", "alloy.yaml")), "ConfigMap", "alloy-config")
	river := str(a.v, "data", "config.alloy")
	attrs := alloyBlock(t, river, `otelcol.processor.attributes "identity"`)
	var got []map[string]string
	field := regexp.MustCompile("(?m)^\\s*(\\w+)\\s*=\\s*(?:\"([^\"]*)\"|`([^`]*)`)")
	for _, blk := range regexp.MustCompile(`(?s)action\s*\{(.*?)\}`).FindAllStringSubmatch(attrs, -1) {
		m := map[string]string{}
		for _, f := range field.FindAllStringSubmatch(blk[1], -1) {
			m[f[1]] = f[2] + f[3]
		}
		got = append(got, m)
	}
	if want := identityActions(t, otelcolConfig(t)); !reflect.DeepEqual(got, want) {
		t.Errorf("Alloy's identity actions differ from the collector's:\n%v\nvs\n%v", got, want)
	}
	if !strings.Contains(alloyBlock(t, attrs, "output"), "otelcol.processor.transform.identity.input") {
		t.Error("Alloy: attributes.identity does not feed transform.identity")
	}
	tr := alloyBlock(t, river, `otelcol.processor.transform "identity"`)
	stmts := alloyBlock(t, tr, "trace_statements")
	if alloyAttr(t, stmts, "context") != "resource" {
		t.Error("Alloy: transform.identity's statements are not in the resource context")
	}
	for _, k := range identityKeys {
		if !strings.Contains(stmts, `delete_key(attributes, "`+k+`")`) {
			t.Errorf("Alloy: transform.identity does not delete the resource attribute %s", k)
		}
	}
	if !strings.Contains(alloyBlock(t, tr, "output"), "otelcol.processor.batch.ccotel.input") {
		t.Error("Alloy: transform.identity does not feed the batch processor")
	}
}

// TestIdentityPattern runs the extract pattern of the collector example
// with Go's regexp, the engine the attributes processor compiles it with,
// over subject DNs as nginx prints $ssl_client_s_dn (RFC 2253: the last
// RDN first, ',' '+' '\' and the like escaped with a backslash).
func TestIdentityPattern(t *testing.T) {
	var pattern string
	for _, a := range identityActions(t, otelcolConfig(t)) {
		if a["action"] == "extract" {
			pattern = a["pattern"]
		}
	}
	re := regexp.MustCompile(pattern)
	if names := re.SubexpNames(); len(names) != 2 || names[1] != "ccotel_verified_cn" {
		t.Fatalf("pattern groups %q, want the one ccotel_verified_cn", names)
	}
	for _, tc := range []struct{ dn, cn string }{
		{"CN=alice@corp,O=ccotel", "alice@corp"},
		{"CN=dev laptop", "dev laptop"},
		{"OU=eng,O=corp,CN=bob", "bob"},
		// A CN= inside another RDN's value is no CN.
		{`O=x\,CN=ceo@corp,CN=carol`, "carol"},
		{`O=a\\,CN=dan`, "dan"}, // an escaped backslash ends the value
		{"XCN=ceo@corp,CN=erin", "erin"},
		{"UID=1+CN=ceo@corp,CN=frank", "frank"}, // only an RDN's first type counts
		{`CN=a\,b,O=x`, `a\,b`},
		{"CN=gina+UID=7", "gina"},
		{"O=ccotel", ""},
	} {
		got := ""
		if m := re.FindStringSubmatch(tc.dn); m != nil {
			got = m[1]
		}
		if got != tc.cn {
			t.Errorf("%s: CN %q, want %q", tc.dn, got, tc.cn)
		}
	}
}
