// Package examples holds no code, only the tests of the files under
// examples/: every YAML file parses, the Kubernetes Ingress says what the
// nginx configuration of the end-to-end test says (client certificates
// required, verify depth 1, body size, path, backend port), the collector
// configurations listen on the port the Ingress targets, the cert-manager
// objects make a client CA and client certificates, and the collector
// configuration runs in a real OpenTelemetry Collector (collector_test.go).
package examples

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ccotel/ccotel/internal/certs"
	"go.yaml.in/yaml/v3"
)

// doc is one YAML document: decoded, and its node tree for quoting checks.
type doc struct {
	file string
	v    map[string]any
	node *yaml.Node
}

func (d doc) kind() string { return str(d.v, "kind") }
func (d doc) name() string { return str(d.v, "metadata", "name") }

// readYAML decodes every document of a YAML file.
func readYAML(t *testing.T, path string) []doc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []doc
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var v map[string]any
		if err := n.Decode(&v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if v != nil {
			docs = append(docs, doc{file: path, v: v, node: &n})
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML document", path)
	}
	return docs
}

// get walks maps by key and lists by index ("0").
func get(v any, path ...string) any {
	for _, k := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func num(v any, path ...string) int {
	n, _ := get(v, path...).(int)
	return n
}

func find(t *testing.T, docs []doc, kind, name string) doc {
	t.Helper()
	for _, d := range docs {
		if d.kind() == kind && (name == "" || d.name() == name) {
			return d
		}
	}
	t.Fatalf("%s: no %s %q", docs[0].file, kind, name)
	return doc{}
}

func TestEveryYAMLFileParses(t *testing.T) {
	n := 0
	err := filepath.WalkDir(".", func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return nil
		}
		n++
		for _, d := range readYAML(t, p) {
			// A Kubernetes object names its kind and version; the other
			// files (collector configurations, Helm values) do not.
			if _, isObj := d.v["kind"]; isObj && str(d.v, "apiVersion") == "" {
				t.Errorf("%s: %s %q has no apiVersion", p, d.kind(), d.name())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 6 {
		t.Errorf("found %d YAML files under examples/, want at least 6", n)
	}
}

// nginxConf is what the end-to-end test's nginx is told.
type nginxConf struct {
	verifyClient, verifyDepth, bodySize string
	clientCA                            string
	upstreamPort                        int
	proxyScheme                         string
	locations                           []string // the paths the one proxying location matches
}

func readNginx(t *testing.T) nginxConf {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("nginx", "ccotel.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var c nginxConf
	directive := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s*`+name+`\s+([^;{}\n]+);`).FindAllStringSubmatch(string(b), -1)
		if len(m) != 1 {
			t.Fatalf("examples/nginx/ccotel.conf: %d %s directives, want 1", len(m), name)
		}
		return strings.TrimSpace(m[0][1])
	}
	c.verifyClient = directive("ssl_verify_client")
	c.verifyDepth = directive("ssl_verify_depth")
	c.bodySize = directive("client_max_body_size")
	c.clientCA = directive("ssl_client_certificate")
	up := directive("server") // the upstream's; "server {" and server_name do not match
	_, port, err := net.SplitHostPort(strings.Fields(up)[0])
	if err != nil {
		t.Fatalf("upstream server %q: %v", up, err)
	}
	c.upstreamPort, _ = strconv.Atoi(port)
	pass := directive("proxy_pass")
	c.proxyScheme, _, _ = strings.Cut(pass, "://")
	// location = /v1/traces, or location ~ ^/v1/(traces|metrics|logs)$
	loc := regexp.MustCompile(`(?m)^\s*location\s*(=|~)\s*(\S+)\s*\{[^}]*proxy_pass`).FindAllStringSubmatch(string(b), -1)
	if len(loc) != 1 {
		t.Fatalf("examples/nginx/ccotel.conf: %d locations that proxy, want 1", len(loc))
	}
	c.locations = []string{loc[0][2]}
	if loc[0][1] == "~" {
		m := regexp.MustCompile(`^\^(/[^(]*)\(([^)]+)\)\$$`).FindStringSubmatch(loc[0][2])
		if m == nil {
			t.Fatalf("examples/nginx/ccotel.conf: location ~ %s: want the form ^/prefix/(a|b)$", loc[0][2])
		}
		c.locations = nil
		for _, alt := range strings.Split(m[2], "|") {
			c.locations = append(c.locations, m[1]+alt)
		}
	}
	return c
}

// annotation returns an Ingress annotation's value and fails unless YAML
// keeps it a string even for a YAML 1.1 parser (as Kubernetes' is): "on",
// "true", "1" must be quoted.
func annotation(t *testing.T, ing doc, key string) string {
	t.Helper()
	meta := mapNode(ing.node.Content[0], "metadata")
	ann := mapNode(meta, "annotations")
	v := mapNode(ann, key)
	if v == nil {
		t.Errorf("%s: no annotation %s", ing.file, key)
		return ""
	}
	if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 && yaml11NonString.MatchString(v.Value) {
		t.Errorf("%s: annotation %s: %s must be quoted (\"%s\"): Kubernetes reads it as a boolean or number", ing.file, key, v.Value, v.Value)
	}
	return v.Value
}

var yaml11NonString = regexp.MustCompile(`^(?i:y|n|yes|no|on|off|true|false|~|null|[-+]?[0-9][0-9_.]*)$`)

func mapNode(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func ingress(t *testing.T) doc {
	return find(t, readYAML(t, filepath.Join("kubernetes", "ingress.yaml")), "Ingress", "")
}

const ann = "nginx.ingress.kubernetes.io/"

// TestIngressSaysWhatNginxSays: examples/nginx/ccotel.conf and
// examples/kubernetes/ingress.yaml are the same setup in two dialects;
// docs/DEPLOY.md tells how ingress-nginx renders one into the other.
func TestIngressSaysWhatNginxSays(t *testing.T) {
	ng := readNginx(t)
	ing := ingress(t)

	// ssl_verify_client on <=> auth-tls-verify-client "on"
	if got := annotation(t, ing, ann+"auth-tls-verify-client"); got != ng.verifyClient {
		t.Errorf("auth-tls-verify-client %q, nginx says ssl_verify_client %s", got, ng.verifyClient)
	}
	if ng.verifyClient != "on" {
		t.Errorf("nginx: ssl_verify_client %s, want on", ng.verifyClient)
	}
	// ssl_verify_depth 1 <=> auth-tls-verify-depth "1"
	if got := annotation(t, ing, ann+"auth-tls-verify-depth"); got != ng.verifyDepth {
		t.Errorf("auth-tls-verify-depth %q, nginx says ssl_verify_depth %s", got, ng.verifyDepth)
	}
	if ng.verifyDepth != "1" {
		t.Errorf("nginx: ssl_verify_depth %s, want 1", ng.verifyDepth)
	}
	// ssl_client_certificate <=> auth-tls-secret (the secret's ca.crt).
	secret := annotation(t, ing, ann+"auth-tls-secret")
	if ns, _, _ := strings.Cut(secret, "/"); ns != str(ing.v, "metadata", "namespace") {
		t.Errorf("auth-tls-secret %s is not in the Ingress's namespace %s", secret, str(ing.v, "metadata", "namespace"))
	}
	if !strings.HasSuffix(ng.clientCA, "client-ca.pem") {
		t.Errorf("nginx: ssl_client_certificate %s, want the client CA (client-ca.pem, as ccotel certs init names it)", ng.clientCA)
	}
	// client_max_body_size <=> proxy-body-size
	if got := annotation(t, ing, ann+"proxy-body-size"); got != ng.bodySize {
		t.Errorf("proxy-body-size %q, nginx says client_max_body_size %s", got, ng.bodySize)
	}
	// proxy_pass http:// <=> backend-protocol "HTTP"
	if got := annotation(t, ing, ann+"backend-protocol"); !strings.EqualFold(got, ng.proxyScheme) {
		t.Errorf("backend-protocol %q, nginx proxies with %s://", got, ng.proxyScheme)
	}
	// What `ccotel certs init` prints is what the Ingress has.
	for k, v := range certs.IngressAnnotations() {
		if got := annotation(t, ing, k); got != v {
			t.Errorf("%s: %q, ccotel certs init prints %q", k, got, v)
		}
	}

	// The paths nginx proxies, upstream port <=> the rule's paths and
	// backends: /v1/traces (ccotel) and /v1/metrics, /v1/logs (Claude
	// Code's own telemetry).
	paths, _ := get(ing.v, "spec", "rules", "0", "http", "paths").([]any)
	var got []string
	for _, p := range paths {
		got = append(got, str(p, "path"))
		if str(p, "pathType") != "Exact" {
			t.Errorf("Ingress path %s: pathType %s, want Exact", str(p, "path"), str(p, "pathType"))
		}
		if port := num(p, "backend", "service", "port", "number"); port != ng.upstreamPort {
			t.Errorf("Ingress path %s: backend port %d, nginx's upstream is port %d", str(p, "path"), port, ng.upstreamPort)
		}
	}
	if !reflect.DeepEqual(got, ng.locations) {
		t.Errorf("Ingress paths %v, nginx proxies %v", got, ng.locations)
	}
	for _, want := range []string{"/v1/traces", "/v1/metrics", "/v1/logs"} {
		if !slices.Contains(got, want) {
			t.Errorf("Ingress does not route %s", want)
		}
	}
	// TLS for the rule's host.
	host := str(ing.v, "spec", "rules", "0", "host")
	if got := str(ing.v, "spec", "tls", "0", "hosts", "0"); got != host || str(ing.v, "spec", "tls", "0", "secretName") == "" {
		t.Errorf("Ingress TLS: hosts[0] %q secret %q, want the rule's host %q and a secret", got, str(ing.v, "spec", "tls", "0", "secretName"), host)
	}
	if got := annotation(t, ing, ann+"ssl-redirect"); got != "true" {
		t.Errorf("ssl-redirect %q", got)
	}
}

// listenPort is the port of an OTLP receiver endpoint, defaults of
// ${env:NAME:-host:port} included.
func listenPort(t *testing.T, endpoint string) int {
	t.Helper()
	if m := regexp.MustCompile(`^\$\{env:[A-Za-z_][A-Za-z0-9_]*:-(.+)\}$`).FindStringSubmatch(endpoint); m != nil {
		endpoint = m[1]
	}
	_, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		t.Fatalf("receiver endpoint %q: %v", endpoint, err)
	}
	n, _ := strconv.Atoi(port)
	return n
}

// otelcolConfig reads examples/otelcol/config.yaml.
func otelcolConfig(t *testing.T) map[string]any {
	return readYAML(t, filepath.Join("otelcol", "config.yaml"))[0].v
}

// checkOtelcolConfig checks an OpenTelemetry Collector configuration:
// the OTLP/HTTP receiver on port, into the identity processors
// (identity_test.go) and batch, out to Tempo.
func checkOtelcolConfig(t *testing.T, where string, c map[string]any, port int) {
	t.Helper()
	if got := listenPort(t, str(c, "receivers", "otlp", "protocols", "http", "endpoint")); got != port {
		t.Errorf("%s: the OTLP/HTTP receiver listens on %d, the Ingress targets %d", where, got, port)
	}
	pipe, _ := get(c, "service", "pipelines", "traces").(map[string]any)
	want := map[string]any{"receivers": []any{"otlp"}, "processors": []any{"resource/identity", "attributes/identity", "batch"}, "exporters": []any{"otlp_http/tempo"}}
	if !reflect.DeepEqual(pipe, want) {
		t.Errorf("%s: traces pipeline %v, want %v", where, pipe, want)
	}
	if ep := str(c, "exporters", "otlp_http/tempo", "endpoint"); !strings.Contains(ep, "tempo.observability.svc.cluster.local:4318") {
		t.Errorf("%s: Tempo endpoint %q", where, ep)
	}
}

func TestCollectorConfigsListenWhereTheIngressSends(t *testing.T) {
	ing := ingress(t)
	port := num(ing.v, "spec", "rules", "0", "http", "paths", "0", "backend", "service", "port", "number")
	backend := str(ing.v, "spec", "rules", "0", "http", "paths", "0", "backend", "service", "name")
	ns := str(ing.v, "metadata", "namespace")
	if port == 0 {
		t.Fatal("no backend port in the Ingress")
	}

	// The collector configuration a user runs as is, and its copy in the
	// Kubernetes ConfigMap: the same configuration.
	cfg := otelcolConfig(t)
	checkOtelcolConfig(t, "examples/otelcol/config.yaml", cfg, port)
	k := readYAML(t, filepath.Join("kubernetes", "otelcol", "otelcol.yaml"))
	cm := find(t, k, "ConfigMap", "otel-collector-config")
	var inCM map[string]any
	if err := yaml.Unmarshal([]byte(str(cm.v, "data", "config.yaml")), &inCM); err != nil {
		t.Fatalf("otelcol.yaml ConfigMap config.yaml: %v", err)
	}
	if !reflect.DeepEqual(inCM, cfg) {
		t.Errorf("the ConfigMap in kubernetes/otelcol/otelcol.yaml differs from examples/otelcol/config.yaml:\n%v\nvs\n%v", inCM, cfg)
	}
	checkOtelcolConfig(t, "kubernetes/otelcol/otelcol.yaml", inCM, port)
	// Its Deployment mounts that ConfigMap and runs that key; its Service
	// (the Ingress's backend when it runs instead of Alloy) has the port.
	dep := find(t, k, "Deployment", "otel-collector")
	ctr := get(dep.v, "spec", "template", "spec", "containers", "0")
	if got := str(dep.v, "spec", "template", "spec", "volumes", "0", "configMap", "name"); got != cm.name() {
		t.Errorf("Deployment mounts ConfigMap %q, want %q", got, cm.name())
	}
	mount := str(ctr, "volumeMounts", "0", "mountPath")
	if args := fmt.Sprint(get(ctr, "args")); !strings.Contains(args, "--config="+mount+"/config.yaml") {
		t.Errorf("Deployment args %s do not name %s/config.yaml", args, mount)
	}
	if got := num(ctr, "ports", "0", "containerPort"); got != port {
		t.Errorf("Deployment containerPort %d, want %d", got, port)
	}
	svc := find(t, k, "Service", "otel-collector")
	if got := num(svc.v, "spec", "ports", "0", "port"); got != port {
		t.Errorf("otel-collector Service port %d, the Ingress targets %d", got, port)
	}
	if got := str(svc.v, "spec", "ports", "0", "targetPort"); got != str(ctr, "ports", "0", "name") {
		t.Errorf("Service targetPort %q is not the container's port name %q", got, str(ctr, "ports", "0", "name"))
	}
	for _, d := range k {
		if got := str(d.v, "metadata", "namespace"); got != ns {
			t.Errorf("otelcol.yaml: %s %s in namespace %q, the Ingress is in %q", d.kind(), d.name(), got, ns)
		}
	}

	// Alloy: the ConfigMap's receiver, and the Helm values that expose it.
	a := find(t, readYAML(t, filepath.Join("kubernetes", "alloy.yaml")), "ConfigMap", "alloy-config")
	vals := readYAML(t, filepath.Join("kubernetes", "helm", "alloy-values.yaml"))[0].v
	key := str(vals, "alloy", "configMap", "key")
	if str(vals, "alloy", "configMap", "name") != a.name() || get(vals, "alloy", "configMap", "create") != false {
		t.Errorf("Helm values use ConfigMap %q (create %v), want the existing %q", str(vals, "alloy", "configMap", "name"), get(vals, "alloy", "configMap", "create"), a.name())
	}
	river := str(a.v, "data", key)
	if river == "" {
		t.Fatalf("alloy.yaml: no %q in the ConfigMap's data", key)
	}
	recv := alloyBlock(t, river, `otelcol.receiver.otlp "ccotel"`)
	if got := listenPort(t, alloyAttr(t, alloyBlock(t, recv, "http"), "endpoint")); got != port {
		t.Errorf("Alloy's OTLP receiver listens on %d, the Ingress targets %d", got, port)
	}
	if !strings.Contains(alloyBlock(t, recv, "output"), "otelcol.processor.attributes.identity.input") {
		t.Error("Alloy: the receiver does not feed the identity processors (identity_test.go)")
	}
	if !strings.Contains(alloyBlock(t, river, `otelcol.processor.batch "ccotel"`), "otelcol.exporter.otlp.tempo.input") {
		t.Error("Alloy: the batch processor does not feed the Tempo exporter")
	}
	exp := alloyBlock(t, alloyBlock(t, river, `otelcol.exporter.otlp "tempo"`), "client")
	if got := alloyAttr(t, exp, "endpoint"); !strings.HasPrefix(got, "tempo.observability.svc.cluster.local:") {
		t.Errorf("Alloy exports to %q", got)
	}
	var exposed bool
	for _, p := range get(vals, "alloy", "extraPorts").([]any) {
		if num(p, "port") == port && num(p, "targetPort") == port {
			exposed = true
		}
	}
	if !exposed {
		t.Errorf("helm/alloy-values.yaml does not expose port %d (extraPorts)", port)
	}
	if backend != "alloy" {
		t.Errorf("the Ingress's backend is %q; the Alloy chart's Service (release alloy) is \"alloy\"", backend)
	}
}

// alloyBlock returns the body of the first block `header {` in an Alloy
// configuration (braces matched; comments and strings do not hold braces
// in these files).
func alloyBlock(t *testing.T, src, header string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(header) + `\s*\{`).FindStringIndex(src)
	if m == nil {
		t.Fatalf("Alloy config: no block %s", header)
	}
	depth := 0
	for i := m[1] - 1; i < len(src); i++ {
		switch src[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return src[m[1]:i]
			}
		}
	}
	t.Fatalf("Alloy config: block %s is not closed", header)
	return ""
}

func alloyAttr(t *testing.T, block, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + name + `\s*=\s*"([^"]*)"`).FindStringSubmatch(block)
	if m == nil {
		t.Fatalf("Alloy config: no %s = \"…\" in %q", name, block)
	}
	return m[1]
}

func TestCertManagerMakesAClientCAAndClientCertificates(t *testing.T) {
	docs := readYAML(t, filepath.Join("kubernetes", "cert-manager", "cert-manager.yaml"))
	ing := ingress(t)
	ns, secret, _ := strings.Cut(annotation(t, ing, ann+"auth-tls-secret"), "/")

	var ca, client []doc
	issuers := map[string]doc{}
	for _, d := range docs {
		if !strings.HasPrefix(str(d.v, "apiVersion"), "cert-manager.io/") {
			t.Errorf("%s %s: apiVersion %s", d.kind(), d.name(), str(d.v, "apiVersion"))
		}
		if got := str(d.v, "metadata", "namespace"); got != ns {
			t.Errorf("%s %s in namespace %q, the Ingress reads its secret from %q", d.kind(), d.name(), got, ns)
		}
		switch d.kind() {
		case "Issuer":
			issuers[d.name()] = d
		case "Certificate":
			if get(d.v, "spec", "isCA") == true {
				ca = append(ca, d)
			} else {
				client = append(client, d)
			}
		default:
			t.Errorf("unexpected %s", d.kind())
		}
	}
	if len(ca) != 1 || len(client) < 1 {
		t.Fatalf("%d CA and %d client Certificates, want 1 and at least 1", len(ca), len(client))
	}
	if got := str(ca[0].v, "spec", "secretName"); got != secret || got != certs.SecretName {
		t.Errorf("the CA Certificate's secret is %q; the Ingress's auth-tls-secret names %q", got, secret)
	}
	if iss, ok := issuers[str(ca[0].v, "spec", "issuerRef", "name")]; !ok || get(iss.v, "spec", "selfSigned") == nil {
		t.Errorf("the CA Certificate is not issued by a self-signed Issuer of this file")
	}
	for _, c := range client {
		iss, ok := issuers[str(c.v, "spec", "issuerRef", "name")]
		if !ok || str(iss.v, "spec", "ca", "secretName") != secret {
			t.Errorf("client Certificate %s is not issued by a CA Issuer signing with %s", c.name(), secret)
		}
		var usages []string
		for _, u := range get(c.v, "spec", "usages").([]any) {
			usages = append(usages, u.(string))
		}
		if !contains(usages, "client auth") || contains(usages, "server auth") {
			t.Errorf("client Certificate %s: usages %v, want client auth (and no server auth)", c.name(), usages)
		}
		if str(c.v, "spec", "privateKey", "rotationPolicy") != "Always" {
			t.Errorf("client Certificate %s keeps its key on renewal", c.name())
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
