// Command minimal drains stdin like bench/drain, but links what a hook
// binary needs without the OpenTelemetry SDK and exporter: net/http and
// crypto/tls (a hand-written OTLP/HTTP client), protowire (hand-encoded
// OTLP protobuf), bbolt, TOML and encoding/json. Its run time estimates the
// floor ccotel would have if the flusher did not link otlptracehttp.
package main

import (
	"io"
	"os"

	_ "compress/gzip"
	_ "crypto/tls"
	_ "crypto/x509"
	_ "encoding/json"
	_ "net/http"
	_ "regexp"

	_ "github.com/BurntSushi/toml"
	_ "go.etcd.io/bbolt"
	_ "google.golang.org/protobuf/encoding/protowire"
)

func main() {
	io.Copy(io.Discard, os.Stdin)
}
