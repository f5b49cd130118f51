package main

import "io"

// runStatus is a placeholder until its owner lands the command.
func runStatus(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	io.WriteString(stderr, "ccotel: not implemented yet\n")
	return exitFailure
}
