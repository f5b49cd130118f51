package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/ccotel/ccotel/internal/buildinfo"
)

func runVersion(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	const usage = "Usage: ccotel version\n\nPrints ccotel's version, the commit and date it was built from, and the Go\nversion and platform.\n"
	if code, ok := parseFlags(fs, usage, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ccotel version: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	fmt.Fprintln(stdout, buildinfo.Current())
	return exitOK
}
