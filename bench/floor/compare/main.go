// Command compare times programs against each other the way `go run ./bench`
// does, for floor programs the bench tool does not list: each round runs
// every program once, in a rotating order, with the same bytes on a stdin
// pipe, and the figures are medians over the rounds (wall time from start
// to reaped, CPU, minor page faults). Every program must exit 0.
//
//	go build -trimpath -ldflags '-s -w' -o /tmp/drain ./bench/drain
//	go build -trimpath -ldflags '-s -w' -o /tmp/prototypes ./bench/floor/prototypes
//	go run ./bench/floor/compare -runs 400 -stdin event.json /tmp/drain /tmp/prototypes
//
// A program is a path, optionally followed by arguments after a comma
// ("/tmp/ccotel,hook"); -env adds KEY=VALUE pairs to every program's
// environment.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

type prog struct {
	name  string
	argv  []string
	wall  []time.Duration
	cpu   []time.Duration
	fault []time.Duration // minor faults, kept as durations to share median
}

func main() {
	runs := flag.Int("runs", 200, "timed rounds (each runs every program once)")
	warm := flag.Int("warm", 5, "untimed rounds first")
	stdin := flag.String("stdin", "", "file whose bytes every program reads on stdin (default: none)")
	var env multi
	flag.Var(&env, "env", "KEY=VALUE added to the environment (repeatable)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: compare [-runs N] [-stdin file] [-env K=V] program[,arg...] ...")
		os.Exit(2)
	}
	var in []byte
	if *stdin != "" {
		var err error
		if in, err = os.ReadFile(*stdin); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
	}
	var progs []*prog
	for _, a := range flag.Args() {
		argv := strings.Split(a, ",")
		progs = append(progs, &prog{name: filepath.Base(argv[0]) + " " + strings.Join(argv[1:], " "), argv: argv})
	}
	environ := append(os.Environ(), env...)
	for i := -*warm; i < *runs; i++ {
		for k := range progs {
			p := progs[(k+i+len(progs)**warm)%len(progs)]
			wall, cpu, faults, err := run(p.argv, environ, in)
			if err != nil {
				fmt.Fprintf(os.Stderr, "compare: %s: %v\n", p.name, err)
				os.Exit(1)
			}
			if i >= 0 {
				p.wall = append(p.wall, wall)
				p.cpu = append(p.cpu, cpu)
				p.fault = append(p.fault, time.Duration(faults))
			}
		}
	}
	base := median(progs[0].wall)
	fmt.Printf("%d rounds, rotating order\n\n", *runs)
	fmt.Println("| program | size | wall median | p25 | p75 | − first | ÷ first | CPU median | minor faults |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, p := range progs {
		size := "—"
		if fi, err := os.Stat(p.argv[0]); err == nil {
			size = fmt.Sprintf("%.2f MiB", float64(fi.Size())/(1<<20))
		}
		m := median(p.wall)
		fmt.Printf("| %s | %s | %.3f ms | %.3f ms | %.3f ms | %+.3f ms | %.2f× | %.3f ms | %d |\n", p.name, size, msf(m),
			msf(quantile(p.wall, 0.25)), msf(quantile(p.wall, 0.75)), msf(m-base), float64(m)/float64(base),
			msf(median(p.cpu)), int64(median(p.fault)))
	}
}

func run(argv, env []string, in []byte) (wall, cpu time.Duration, faults int64, err error) {
	var out bytes.Buffer
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = env
	c.Stdin = bytes.NewReader(in)
	c.Stdout, c.Stderr = &out, &out
	start := time.Now()
	err = c.Run()
	wall = time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%v: %s", err, out.Bytes())
	}
	if out.Len() > 0 {
		return 0, 0, 0, fmt.Errorf("printed %q", out.Bytes())
	}
	ps := c.ProcessState
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		faults = ru.Minflt
	}
	return wall, ps.UserTime() + ps.SystemTime(), faults, nil
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, " ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func msf(d time.Duration) float64 { return float64(d) / 1e6 }

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func quantile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
