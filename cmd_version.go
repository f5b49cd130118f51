package main

import "io"

// runVersion is a placeholder until its owner lands the command.
func runVersion(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	io.WriteString(stderr, "ccotel: not implemented yet\n")
	return exitFailure
}
