// Package settings wires ccotel into Claude Code: it adds ccotel's hook
// entries to a settings.json and removes them again, knows where Claude
// Code's managed settings file lives and reads a settings file's env
// block. Its atomic file edit (EditFileMode) also serves internal/config,
// which owns ccotel's own config file.
//
// Editing settings.json keeps everything that is not ccotel's: every other
// key and hook, the order of keys, the exact text of every value (numbers
// such as 1e3 or 1.0, escapes such as \u00e9) and the whitespace of every
// part of the file that is not changed. New entries copy the layout of
// their neighbours (the file's indent unit, one entry per line or all on one
// line); a file with nothing to copy gets Claude Code's own layout, two
// spaces per level. Running Install on its own output changes nothing, byte
// for byte, and Uninstall after Install gives back the original bytes when
// Install only added entries. (One exception: an event list or "hooks"
// object that was empty before Install is removed by Uninstall, as nothing
// tells it from one Install created; to Claude Code both mean no hooks.)
//
// ccotel's entries are the command hooks whose command's base name is
// "ccotel" and whose first argument is "hook": the exec form
// {"command": "/path/ccotel", "args": ["hook"]} and the shell form
// "command": "ccotel hook" (or plain "ccotel", which also runs the hook when
// stdin is a pipe).
package settings

import (
	"fmt"
	"strings"

	"github.com/ccotel/ccotel/hook"
)

// Event is a hook event ccotel registers for.
type Event struct {
	Name    string
	Matcher string // "*" on tool events (their matcher filters on tool name); "" writes no matcher
	Timeout int    // seconds
}

// Events are the events ccotel's hook handles, in the order Install writes
// them: the wired rows of hook.EventTable, which says why each is wired or
// not, with its matcher and timeout.
var Events = wired(hook.EventTable)

func wired(table []hook.EventSpec) []Event {
	var out []Event
	for _, e := range table {
		if e.Wired() {
			out = append(out, Event{e.Name, e.Matcher, e.Timeout})
		}
	}
	return out
}

// Report says what an edit did, by event name.
type Report struct {
	Added   []string // events that got a new ccotel entry
	Updated []string // events whose ccotel entry was changed in place (command path, args, timeout)
	Removed []string // events that lost ccotel entries (duplicates, events ccotel does not use, uninstall)
}

// Changed reports whether the edit changed anything.
func (r Report) Changed() bool {
	return len(r.Added)+len(r.Updated)+len(r.Removed) > 0
}

// Install returns src with ccotel's entries for every event in Events, each
// running command with the argument "hook". An existing ccotel entry (any
// path, exec or shell form) in a group that matches everything is updated
// in place; other ccotel entries of the event are removed, as are ccotel
// entries on events not in Events. Empty src is an empty object. Invalid
// JSON is a *SyntaxError and a settings file whose "hooks" is not an object
// of arrays is an error; src is never partly edited.
func Install(src []byte, command string) ([]byte, Report, error) {
	var r Report
	ours := recognizer(command)
	d, err := parseDocument(src)
	if err != nil {
		return nil, r, err
	}
	he, _ := d.root.member("hooks")
	if he == nil {
		all := ordered{}
		for _, ev := range Events {
			all = append(all, member{ev.Name, array{group(ev, command)}})
			r.Added = append(r.Added, ev.Name)
		}
		d.appendElem(d.root, "hooks", all)
		return d.bytes(), r, nil
	}
	hooks := he.val
	if hooks.kind != kindObject {
		return nil, r, fmt.Errorf(`"hooks" is %s, expected an object of events; fix it by hand`, article(hooks))
	}
	wanted := map[string]bool{}
	for _, ev := range Events {
		wanted[ev.Name] = true
		if e, _ := hooks.member(ev.Name); e != nil && e.val.kind != kindArray {
			return nil, r, fmt.Errorf(`"hooks"."%s" is %s, expected an array; fix it by hand`, ev.Name, article(e.val))
		}
	}
	// ccotel entries on events it does not use go.
	for i := len(hooks.elems) - 1; i >= 0; i-- {
		e := hooks.elems[i]
		if wanted[e.name] || e.val.kind != kindArray {
			continue
		}
		if removeHandlers(e.val, nil, ours) > 0 {
			r.Removed = append([]string{e.name}, r.Removed...)
			if len(e.val.elems) == 0 {
				removeElem(hooks, i)
			}
		}
	}
	for _, ev := range Events {
		e, _ := hooks.member(ev.Name)
		if e == nil {
			d.appendElem(hooks, ev.Name, array{group(ev, command)})
			r.Added = append(r.Added, ev.Name)
			continue
		}
		keep := keeper(e.val, ours)
		if removeHandlers(e.val, keep, ours) > 0 {
			r.Removed = append(r.Removed, ev.Name)
		}
		if keep == nil {
			d.appendElem(e.val, "", group(ev, command))
			r.Added = append(r.Added, ev.Name)
			continue
		}
		changed := false
		for _, m := range handler(ev, command) {
			if me, _ := keep.member(m.key); me == nil {
				d.appendElem(keep, m.key, m.val)
				changed = true
			} else if !me.val.equal(m.val) {
				d.setValue(keep, me, m.val)
				changed = true
			}
		}
		if changed {
			r.Updated = append(r.Updated, ev.Name)
		}
	}
	if !r.Changed() {
		return src, r, nil
	}
	return d.bytes(), r, nil
}

// Uninstall returns src without ccotel's entries: those Install recognises,
// plus `C hook` for each C in commands (the running binary, which may
// not be named ccotel). A matcher group, an event and the "hooks" object
// that hold nothing once ccotel's entries are removed go too, so what
// Install created goes away; empty ones that held no ccotel entry stay.
// Without ccotel entries src is returned unchanged.
func Uninstall(src []byte, commands ...string) ([]byte, Report, error) {
	var r Report
	ours := recognizer(commands...)
	d, err := parseDocument(src)
	if err != nil {
		return nil, r, err
	}
	he, hi := d.root.member("hooks")
	if he == nil || he.val.kind != kindObject {
		return src, r, nil
	}
	hooks := he.val
	for i := len(hooks.elems) - 1; i >= 0; i-- {
		e := hooks.elems[i]
		if e.val.kind != kindArray || removeHandlers(e.val, nil, ours) == 0 {
			continue
		}
		r.Removed = append([]string{e.name}, r.Removed...)
		if len(e.val.elems) == 0 {
			removeElem(hooks, i)
		}
	}
	if !r.Changed() {
		return src, r, nil
	}
	if len(hooks.elems) == 0 {
		removeElem(d.root, hi)
	}
	return d.bytes(), r, nil
}

// Wiring is what a settings file says about ccotel's hooks.
type Wiring struct {
	Commands map[string]string // event → command of its ccotel entry
	Missing  []string          // events of Events without a ccotel entry
	UpToDate bool              // Install with the same command would change nothing
}

// Inspect reports which events of src run ccotel and whether Install with
// command would change anything. doctor uses it.
func Inspect(src []byte, command string) (Wiring, error) {
	w := Wiring{Commands: map[string]string{}}
	ours := recognizer(command)
	d, err := parseDocument(src)
	if err != nil {
		return w, err
	}
	if he, _ := d.root.member("hooks"); he != nil && he.val.kind == kindObject {
		for _, e := range he.val.elems {
			if e.val.kind != kindArray {
				continue
			}
			for _, g := range e.val.elems {
				for _, h := range handlers(g.val) {
					if ours(h.val) {
						c, _ := memberStr(h.val, "command")
						if _, seen := w.Commands[e.name]; !seen {
							w.Commands[e.name] = c
						}
					}
				}
			}
		}
	}
	for _, ev := range Events {
		if _, ok := w.Commands[ev.Name]; !ok {
			w.Missing = append(w.Missing, ev.Name)
		}
	}
	_, r, err := Install(src, command)
	w.UpToDate = err == nil && !r.Changed()
	return w, nil
}

func handler(ev Event, command string) ordered {
	return ordered{
		{"type", "command"},
		{"command", command},
		{"args", array{"hook"}},
		{"timeout", ev.Timeout},
	}
}

func group(ev Event, command string) ordered {
	g := ordered{}
	if ev.Matcher != "" {
		g = append(g, member{"matcher", ev.Matcher})
	}
	return append(g, member{"hooks", array{handler(ev, command)}})
}

// handlers returns the handler elements of a matcher group, or nil.
func handlers(g *node) []*elem {
	if hs := hooksArray(g); hs != nil {
		return hs.elems
	}
	return nil
}

func hooksArray(g *node) *node {
	if g.kind != kindObject {
		return nil
	}
	if e, _ := g.member("hooks"); e != nil && e.val.kind == kindArray {
		return e.val
	}
	return nil
}

// keeper returns the first ccotel handler of an event that sits in a group
// matching everything (no matcher, "" or "*"), or nil.
func keeper(event *node, ours func(*node) bool) *node {
	for _, g := range event.elems {
		if g.val.kind != kindObject {
			continue
		}
		if m, _ := g.val.member("matcher"); m != nil {
			if s, ok := m.val.str(); !ok || (s != "" && s != "*") {
				continue
			}
		}
		for _, h := range handlers(g.val) {
			if ours(h.val) {
				return h.val
			}
		}
	}
	return nil
}

// removeHandlers removes every ccotel handler of an event but keep, and the
// groups that held nothing else. It returns how many handlers it removed.
func removeHandlers(event *node, keep *node, ours func(*node) bool) int {
	removed := 0
	for gi := len(event.elems) - 1; gi >= 0; gi-- {
		hs := hooksArray(event.elems[gi].val)
		if hs == nil {
			continue
		}
		n := 0
		for hi := len(hs.elems) - 1; hi >= 0; hi-- {
			if h := hs.elems[hi].val; h != keep && ours(h) {
				removeElem(hs, hi)
				n++
			}
		}
		if n > 0 && len(hs.elems) == 0 {
			removeElem(event, gi)
		}
		removed += n
	}
	return removed
}

// isCcotel reports whether a handler runs `ccotel hook`.
func isCcotel(h *node) bool { return recognizer()(h) }

// recognizer returns a test for ccotel's handlers: command hooks running
// `hook` with a program named ccotel or one of commands, or a bare
// `ccotel` (which runs the hook when stdin is a pipe).
func recognizer(commands ...string) func(*node) bool {
	isOurs := func(program string) bool {
		if isCcotelPath(program) {
			return true
		}
		for _, c := range commands {
			if c != "" && c == program {
				return true
			}
		}
		return false
	}
	return func(h *node) bool {
		if h.kind != kindObject {
			return false
		}
		if t, _ := memberStr(h, "type"); t != "command" {
			return false
		}
		command, ok := memberStr(h, "command")
		if !ok {
			return false
		}
		if a, _ := h.member("args"); a != nil && a.val.kind == kindArray && len(a.val.elems) > 0 {
			arg, _ := a.val.elems[0].val.str()
			return arg == "hook" && isOurs(command)
		}
		f := shellFields(command)
		switch len(f) {
		case 0:
			return false
		case 1:
			return isCcotelPath(f[0])
		}
		return f[1] == "hook" && isOurs(f[0])
	}
}

func memberStr(n *node, name string) (string, bool) {
	e, _ := n.member(name)
	if e == nil {
		return "", false
	}
	return e.val.str()
}

func isCcotelPath(p string) bool {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	return p == "ccotel" || strings.EqualFold(p, "ccotel.exe")
}

// shellFields splits a shell command line on blanks, honouring single and
// double quotes (enough to find a program name and its first argument).
func shellFields(s string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

func article(n *node) string {
	switch k := n.kindName(); k {
	case "null":
		return "null"
	case "array", "object":
		return "an " + k
	default:
		return "a " + k
	}
}
