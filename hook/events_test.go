package hook

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/ccotel/ccotel/internal/claudetest"
	"github.com/ccotel/ccotel/tracing"
)

var updateDoc = flag.Bool("update", false, "rewrite the events section of doc.go from EventTable")

// EventTable is the one place an event is declared: it holds every event
// Claude Code accepts, once; README.md lists exactly its wired events, in
// install's order; doc.go's events section is generated from it; and the
// machine handles every row (its handler or a span event, and the restart
// of an ended session the row says). internal/settings checks that install
// writes exactly the wired rows.
func TestEventTable(t *testing.T) {
	var names, wired []string
	for _, e := range EventTable {
		if slices.Contains(names, e.Name) {
			t.Errorf("%s: twice in EventTable", e.Name)
		}
		names = append(names, e.Name)
		switch {
		case e.Wired() == (e.NotWired != ""):
			t.Errorf("%s: wired (timeout %d) and a reason not to be (%q): one or the other", e.Name, e.Timeout, e.NotWired)
		case !e.Wired() && e.Matcher != "":
			t.Errorf("%s: a matcher but not wired", e.Name)
		case e.Matcher != "" && e.Matcher != "*":
			t.Errorf("%s: matcher %q: ccotel wants every call of a tool event", e.Name, e.Matcher)
		}
		if e.Wired() {
			wired = append(wired, e.Name)
		}
	}
	if got, want := names, claudetest.HookEvents; !sameSet(got, want) {
		t.Errorf("EventTable lacks %v; Claude Code does not accept %v", minus(want, got), minus(got, want))
	}
	if got := readmeEvents(t); !slices.Equal(got, wired) {
		t.Errorf("README.md's Events list lacks %v and has %v that install does not wire; in install's order it is\n%s",
			minus(wired, got), minus(got, wired), strings.Join(wired, ", "))
	}
	checkDoc(t)
}

func sameSet(a, b []string) bool { return len(minus(a, b))+len(minus(b, a)) == 0 }

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// readmeEvents returns the events README.md's install section lists:
// "Events: A, B, …, Z. Tool events get …".
func readmeEvents(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)\nEvents: (.*?)\. Tool events`).FindSubmatch(b)
	if m == nil {
		t.Fatal(`README.md: no "Events: … . Tool events" paragraph`)
	}
	return strings.Split(strings.Join(strings.Fields(string(m[1])), " "), ", ")
}

const docBegin, docEnd = "//\tevent ", "//\n// (Generated from EventTable.)\n"

// checkDoc compares doc.go's events table with EventTable (or rewrites it
// with -update).
func checkDoc(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(b, []byte(docBegin)), bytes.Index(b, []byte(docEnd))
	if i < 0 || j < i {
		t.Fatalf("doc.go: no events table (from %q to %q)", docBegin, docEnd)
	}
	want := docTable()
	if string(b[i:j]) == want {
		return
	}
	if !*updateDoc {
		t.Errorf("doc.go's events table is not EventTable's (go test ./hook -run TestEventTable -update rewrites it); want\n%s", want)
		return
	}
	if err := os.WriteFile("doc.go", slices.Concat(b[:i], []byte(want), b[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
}

// docTable is the events table of doc.go, as comment lines.
func docTable() string {
	var tb bytes.Buffer
	w := tabwriter.NewWriter(&tb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "event\thandler\trestarts an ended session\tpre-lock I/O\tinstall")
	var why []string
	for _, e := range EventTable {
		install := "no"
		if e.Wired() {
			install = fmt.Sprintf("%d s", e.Timeout)
			if e.Matcher != "" {
				install = strconv.Quote(e.Matcher) + ", " + install
			}
		} else {
			why = append(why, fmt.Sprintf("%s: %s.", e.Name, e.NotWired))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Name, strings.TrimPrefix(e.Handler(), "machine."), e.Restart, e.PreLock, install)
	}
	w.Flush()
	var out strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(tb.String(), "\n"), "\n") {
		out.WriteString("//\t" + strings.TrimRight(l, " ") + "\n")
	}
	out.WriteString("//\n// Not wired (handled all the same when wired by hand):\n//\n")
	for _, l := range why {
		out.WriteString("//   - " + l + "\n")
	}
	return out.String()
}

// The machine does for every row what the row says: its handler or a span
// event named after the event, and, in an ended session, a new run or a
// late event.
func TestEventTableMachine(t *testing.T) {
	for _, e := range EventTable {
		payload := func(run string) string {
			return ev(e.Name, "tool_use_id", "tu-"+run, "tool_name", "Read", "agent_id", "ag-"+run, "prompt_id", "p-"+run)
		}
		s := &sim{t: t}
		s.at(0, ev(SessionStart))
		s.at(1, payload("1"))
		s.at(2, ev(SessionEnd))
		root := s.spans[len(s.spans)-1]
		hasEvent := slices.ContainsFunc(root.Events, func(x tracing.Event) bool { return x.Name == e.Name })
		if e.handle == nil && !hasEvent {
			t.Errorf("%s: no span event on the root %v", e.Name, root.Events)
		}
		s.late = 0
		s.at(3, payload("2")) // calls and subagents not seen before
		if late := s.late == 1; late != (e.Restart == RestartNever) {
			t.Errorf("%s in an ended session: late=%v, its row says restart %q", e.Name, late, e.Restart)
		}
	}
}

// No non-test Go file of ccotel spells an event name but the table's
// constants: a new event goes into EventTable, or it is nowhere. Payload
// generators that stand for Claude Code itself are excepted.
func TestNoEventNameLiterals(t *testing.T) {
	except := map[string]bool{
		"hook/events.go":  true, // the constants
		"bench/events.go": true, // payloads as Claude Code writes them
	}
	// internal/claudetest drives and records the real client; it knows
	// nothing of ccotel (its list of the events Claude Code accepts is
	// checked against the table above) and spells events as the client does.
	exceptDirs := []string{"internal/claudetest/"}
	names := map[string]bool{}
	for _, e := range EventTable {
		names[strconv.Quote(e.Name)] = true
	}
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel("..", p)
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && rel != "."):
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || except[filepath.ToSlash(rel)] || hasAnyPrefix(filepath.ToSlash(rel), exceptDirs):
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && names[lit.Value] {
				t.Errorf("%s: event name %s: use the constant of hook.EventTable", rel, lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
