// Command alldeps drains stdin like bench/drain, but links every package
// ccotel links, so its run time is the floor any `ccotel hook` pays for its
// dependencies alone: loading a larger binary and running every package's
// init. `go run ./bench` times it beside the hook.
package main

import (
	"io"
	"os"

	_ "github.com/ccotel/ccotel/hook"
	_ "github.com/ccotel/ccotel/internal/redact"
	_ "github.com/ccotel/ccotel/internal/settings"
	_ "github.com/ccotel/ccotel/internal/usage"
	_ "github.com/ccotel/ccotel/state"
	_ "github.com/ccotel/ccotel/tracing"
)

func main() {
	io.Copy(io.Discard, os.Stdin)
}
