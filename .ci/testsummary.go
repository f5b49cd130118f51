//go:build ignore

// testsummary reads `go test -json` on stdin and prints what `go test`
// without -json prints (one line per package, the output of what failed),
// then a summary: the lines of the tests that -tests selects, in the
// packages -pkg (a regular expression, anchored), that match -lines. .ci/run uses it to run the README's test
// command once and still show what the end-to-end tests checked.
//
//	go test -json ./... | go run .ci/testsummary.go -pkg RE -tests RE -lines RE
//
// It exits 1 if a package or a test failed, or if the input holds no
// package result at all.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
)

type event struct {
	Action, Package, Test, Output string
}

type summary struct {
	pkg          *regexp.Regexp
	tests, lines *regexp.Regexp
	out          map[string][]string // package + "\x00" + test: its output so far
	picked       []string
	packages     int
	failed       bool
}

func (s *summary) add(e event) {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "build-output": // a package that does not compile
		fmt.Print(e.Output)
	case "output":
		s.out[key] = append(s.out[key], e.Output)
		if s.pkg.MatchString(e.Package) && e.Test != "" && s.tests.MatchString(e.Test) && s.lines.MatchString(e.Output) {
			s.picked = append(s.picked, e.Output)
		}
		if e.Test == "" && isResult(e.Output) {
			fmt.Print(e.Output)
		}
	case "fail":
		s.failed = true
		if e.Test != "" {
			fmt.Print(strings.Join(s.out[key], ""))
		} else {
			s.packages++
			fmt.Print(strings.Join(nonResults(s.out[key]), ""))
		}
		delete(s.out, key)
	case "pass", "skip":
		if e.Test == "" {
			s.packages++
		}
		delete(s.out, key)
	}
}

// isResult: a package's closing line, as `go test ./...` prints it.
func isResult(line string) bool {
	for _, p := range []string{"ok  \t", "FAIL\t", "?   \t", "ok \t"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

func nonResults(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !isResult(l) {
			out = append(out, l)
		}
	}
	return out
}

func main() {
	pkg := flag.String("pkg", "", "the packages whose test lines are summarised (regular expression)")
	tests := flag.String("tests", ".", "which of its tests (regexp on the test name)")
	lines := flag.String("lines", ".", "which of their output lines (regexp)")
	flag.Parse()
	s := &summary{pkg: regexp.MustCompile("^(" + *pkg + ")$"), tests: regexp.MustCompile(*tests), lines: regexp.MustCompile(*lines), out: map[string][]string{}}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for in.Scan() {
		var e event
		if err := json.Unmarshal(in.Bytes(), &e); err != nil {
			fmt.Println(in.Text()) // build errors come as plain text
			continue
		}
		s.add(e)
	}
	fmt.Printf("\n--- %s, %s:\n%s", s.pkg, *tests, strings.Join(s.picked, ""))
	if s.failed || s.packages == 0 || in.Err() != nil {
		os.Exit(1)
	}
}
