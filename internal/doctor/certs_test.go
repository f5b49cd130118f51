package doctor

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/certs"
	"github.com/ccotel/ccotel/internal/otlptest"
)

// A client certificate from the team CA, on a laptop without the CA key,
// that expires within 30 days (then has expired): doctor points at a new
// request to the admin, never at `ccotel certs renew` (which needs the CA
// key) or init.
func TestDoctorPointsATeamCertificateAtARequest(t *testing.T) {
	p := otlptest.MustPKI(t)
	c := otlptest.MustStart(t, p)
	dir := t.TempDir()
	ca, err := certs.NewCA(certs.CAOptions{Dir: filepath.Join(dir, "ca")})
	if err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(dir, "dev")
	req, err := certs.Request(certs.RequestOptions{Dir: dev, CommonName: "bob@corp"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := certs.Sign(certs.SignOptions{CADir: ca.Dir, CSR: req.CSR, Validity: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	in, err := certs.Install(certs.InstallOptions{Dir: dev, File: s.Out})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, c, p)
	cfg.ClientCert, cfg.ClientKey = in.Cert, in.Key
	for _, tc := range []struct {
		now  time.Time
		want Severity
	}{{time.Now(), Warn}, {time.Now().Add(11 * 24 * time.Hour), Fail}} {
		d := Diagnose(context.Background(), cfg, Options{Offline: true, Now: func() time.Time { return tc.now }})
		found := false
		for _, f := range d.Findings {
			if f.Section != "Certificates" || !strings.Contains(f.Message, "client certificate "+in.Cert) {
				continue
			}
			found = true
			if f.Severity != tc.want || !strings.Contains(f.Fix, "run `ccotel certs request` and send the CSR it writes to your admin (the issuer: CN=ccotel team client CA,O=ccotel)") ||
				strings.Contains(f.Fix, "certs renew") || strings.Contains(f.Fix, "certs init") {
				t.Errorf("at %v: finding %+v: want severity %v pointing at a request to the admin", tc.now, f, tc.want)
			}
		}
		if !found {
			t.Errorf("no finding about %s in %+v", in.Cert, d.Findings)
		}
	}
}
