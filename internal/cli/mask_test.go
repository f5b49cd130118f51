package cli

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEndpointPasswordMasked: a password in the endpoint URL is never
// printed by status, status --json, doctor or flush, nor logged.
func TestEndpointPasswordMasked(t *testing.T) {
	home := isolateEnv(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("CCOTEL_ENDPOINT", "http://alice:hunter2@"+addr)
	stdin, _ := os.Open(os.DevNull)
	defer stdin.Close()
	for _, args := range [][]string{{"status"}, {"status", "--json"}, {"doctor"}, {"flush"}} {
		var out, errOut bytes.Buffer
		Main(args, stdin, &out, &errOut)
		all := out.String() + errOut.String()
		if strings.Contains(all, "hunter2") {
			t.Errorf("ccotel %s prints the password:\n%s", strings.Join(args, " "), all)
		}
		if args[0] == "status" && !strings.Contains(all, "alice:xxxxx@") {
			t.Errorf("ccotel %s does not show the masked endpoint:\n%s", strings.Join(args, " "), all)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(home, ".state", "ccotel", "ccotel.log*"))
	for _, l := range logs {
		if b, _ := os.ReadFile(l); bytes.Contains(b, []byte("hunter2")) {
			t.Errorf("%s holds the password:\n%s", l, b)
		}
	}
}
