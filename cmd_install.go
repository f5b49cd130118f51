package main

import "io"

// runInstall is a placeholder until its owner lands the command.
func runInstall(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	io.WriteString(stderr, "ccotel: not implemented yet\n")
	return exitFailure
}

// runUninstall is a placeholder until its owner lands the command.
func runUninstall(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	io.WriteString(stderr, "ccotel: not implemented yet\n")
	return exitFailure
}
