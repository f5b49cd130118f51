package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// syncCalls is the fsync family the hook must not call by default.
var syncCalls = []string{"fsync", "fdatasync", "sync_file_range", "msync", "sync", "syncfs"}

// syncCount is the outcome of tracing one hook invocation.
type syncCount struct {
	Hook    map[string]int // calls made by the hook process (all its threads)
	Child   map[string]int // calls made by processes it started (the flusher)
	Threads int            // threads of the hook process seen
	Others  int            // other processes seen
}

func (c syncCount) hookTotal() int  { return total(c.Hook) }
func (c syncCount) childTotal() int { return total(c.Child) }

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func fmtCalls(m map[string]int) string {
	var parts []string
	for _, k := range syncCalls {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// traceSyncs runs p under `strace -f` and counts fsync-family calls per
// process. A Go program makes system calls from several OS threads, so
// strace must follow threads (-f; without it, calls from any thread but
// the first are missed); -f also follows the detached flusher the hook
// starts, so calls are attributed by process: a clone with CLONE_THREAD
// stays in its parent's process, any other clone/fork starts a new one.
func traceSyncs(p proc, stdin []byte, outFile string) (syncCount, error) {
	args := append([]string{"-f", "-o", outFile, "-e", "trace=" + strings.Join(syncCalls, ",") + ",clone,clone3,fork,vfork,execve", p.bin}, p.args...)
	c := exec.Command("strace", args...)
	c.Env = p.env
	c.Stdin = bytes.NewReader(stdin)
	var errb bytes.Buffer
	c.Stderr = &errb
	if err := c.Run(); err != nil {
		return syncCount{}, fmt.Errorf("strace: %v: %s", err, errb.String())
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		return syncCount{}, err
	}
	return parseSyncTrace(b), nil
}

func parseSyncTrace(b []byte) syncCount {
	root := 0
	parent := map[int]int{}
	thread := map[int]bool{}
	calls := map[int]map[string]int{}
	pending := map[int]string{}
	seen := map[int]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		pidStr, rest, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil {
			continue
		}
		rest = strings.TrimSpace(rest)
		if root == 0 {
			root = pid
		}
		seen[pid] = true
		var name, full string
		switch {
		case strings.HasPrefix(rest, "<... "):
			name, _, _ = strings.Cut(strings.TrimPrefix(rest, "<... "), " ")
			full = pending[pid] + rest
			delete(pending, pid)
		case strings.HasSuffix(rest, "<unfinished ...>"):
			pending[pid] = rest
			continue
		default:
			name, _, _ = strings.Cut(rest, "(")
			full = rest
		}
		switch name {
		case "clone", "clone3", "fork", "vfork":
			i := strings.LastIndex(full, "= ")
			if i < 0 {
				continue
			}
			f := strings.Fields(full[i+2:])
			if len(f) == 0 {
				continue
			}
			if child, err := strconv.Atoi(f[0]); err == nil && child > 0 {
				parent[child] = pid
				thread[child] = strings.Contains(full, "CLONE_THREAD")
				seen[child] = true
			}
		default:
			for _, s := range syncCalls {
				if name == s {
					if calls[pid] == nil {
						calls[pid] = map[string]int{}
					}
					calls[pid][name]++
				}
			}
		}
	}
	// process returns the pid of the process (thread group leader) of t.
	process := func(t int) int {
		for thread[t] {
			t = parent[t]
		}
		return t
	}
	out := syncCount{Hook: map[string]int{}, Child: map[string]int{}}
	procs := map[int]bool{}
	for pid := range seen {
		if process(pid) == root {
			out.Threads++
		} else {
			procs[process(pid)] = true
		}
	}
	out.Others = len(procs)
	for pid, m := range calls {
		dst := out.Child
		if process(pid) == root {
			dst = out.Hook
		}
		for k, v := range m {
			dst[k] += v
		}
	}
	return out
}

// syscallRow is one line of `strace -c`.
type syscallRow struct {
	Name    string
	Calls   int
	Seconds float64
}

// traceSummary runs p under `strace -f -c -w` (wall time per call, all
// threads) and returns the summary rows, busiest first, and the total.
func traceSummary(p proc, stdin []byte, outFile string) ([]syscallRow, syscallRow, error) {
	args := append([]string{"-f", "-c", "-w", "-o", outFile, p.bin}, p.args...)
	c := exec.Command("strace", args...)
	c.Env = p.env
	c.Stdin = bytes.NewReader(stdin)
	var errb bytes.Buffer
	c.Stderr = &errb
	if err := c.Run(); err != nil {
		return nil, syscallRow{}, fmt.Errorf("strace: %v: %s", err, errb.String())
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		return nil, syscallRow{}, err
	}
	var rows []syscallRow
	var tot syscallRow
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || strings.HasPrefix(f[0], "%") || strings.HasPrefix(f[0], "-") {
			continue
		}
		secs, err1 := strconv.ParseFloat(f[1], 64)
		n, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		r := syscallRow{Name: f[len(f)-1], Calls: n, Seconds: secs}
		if r.Name == "total" {
			tot = r
			continue
		}
		rows = append(rows, r)
	}
	return rows, tot, nil
}
