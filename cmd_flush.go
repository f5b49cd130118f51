package main

import "io"

// runFlush is a placeholder until its owner lands the command.
func runFlush(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	io.WriteString(stderr, "ccotel: not implemented yet\n")
	return exitFailure
}
