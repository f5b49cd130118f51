package tracing

import (
	"os"
	"testing"

	"github.com/ccotel/ccotel/internal/otlptest"
)

// TestLoadClientPairCombinedFile: one PEM file holding the certificate
// and then the key (a common way to ship a client identity) works as both
// client_cert and client_key, as tls.X509KeyPair allows.
func TestLoadClientPairCombinedFile(t *testing.T) {
	p := otlptest.MustPKI(t)
	certPEM, err := os.ReadFile(p.ClientCert)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(p.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	both := t.TempDir() + "/client.pem"
	if err := os.WriteFile(both, append(certPEM, keyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadClientPair(both, both); err != nil {
		t.Errorf("combined cert+key file: %v", err)
	}
}
