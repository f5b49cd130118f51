// Command ccotel turns Claude Code hook events into OpenTelemetry traces.
//
// Claude Code runs `ccotel hook` once per hook event with the event's JSON
// on stdin. See README.md and docs/ARCHITECTURE.md; the commands live in
// internal/cli.
package main

import (
	"os"

	"github.com/ccotel/ccotel/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
