// Package cli is ccotel's command line: one file per command, each
// resolving the configuration (internal/config) and handing the work to
// the package that owns it. Commands print for people and choose exit
// codes; they hold no policy of their own.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit codes of every command but hook, which always exits 0.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"hook", "handle one Claude Code hook event from stdin (what settings.json runs)", runHook},
		{"replay", "feed recorded hook events through the pipeline and print the trace", runReplay},
		{"import", "turn past sessions' transcripts into traces and queue them", runImport},
		{"doctor", "check configuration, certificates and the collector; explain failures", runDoctor},
		{"flush", "send the queued spans now", runFlush},
		{"status", "show open sessions, the outbox and the last export", runStatus},
		{"install", "add ccotel's hooks to Claude Code's settings.json", runInstall},
		{"uninstall", "remove ccotel's hooks from settings.json", runUninstall},
		{"certs", "client certificates for mutual TLS: a team CA, requests, signing, revocation", runCerts},
		{"version", "print version, commit and Go version", runVersion},
	}
}

// Main runs the command named by args[0] and returns the exit code. With
// no arguments and stdin not a terminal it is the hook (what Claude Code
// runs).
func Main(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		// Claude Code runs hooks with stdin as a pipe; a person at a
		// terminal gets the usage text instead of a hung read.
		if fi, err := stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice == 0 {
			return runHook(nil, stdin, stdout, stderr)
		}
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "ccotel: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, "ccotel turns Claude Code hook events into OpenTelemetry traces (OTLP/HTTP, mTLS).\n\nUsage:\n  ccotel <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'ccotel <command> --help' for a command's flags.\n")
}

// parseFlags parses a command's flags. --help prints the command's usage
// text on stdout, followed by the flags' defaults when they are documented,
// and returns ok=false with exit 0; a bad flag prints the error and a hint
// on stderr and returns ok=false with exitUsage.
func parseFlags(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		io.WriteString(stdout, usage)
		documented := false
		fs.VisitAll(func(f *flag.Flag) { documented = documented || f.Usage != "" })
		if documented {
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		return exitOK, false
	}
	fmt.Fprintf(stderr, "ccotel %s: %v\nRun 'ccotel %s --help' for usage.\n", fs.Name(), err, fs.Name())
	return exitUsage, false
}
