package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// benchSize reports the stripped binary's size, whether it is static, and
// the peak RSS of the hook (ordinary and 5 MB PostToolUse) and of the
// flusher (`flush --wait` of b.spans queued spans), measured under GNU time.
func (b *bench) benchSize() error {
	fmt.Println()
	fmt.Println("### 6. Binary size, static linking, peak RSS")
	fmt.Println()
	fi, err := os.Stat(b.ccotel)
	if err != nil {
		return err
	}
	mb := float64(fi.Size()) / (1 << 20)
	fileOut := "`file` not installed"
	static := false
	if out, err := exec.Command("file", "-b", b.ccotel).Output(); err == nil {
		// Keep what matters: format, linking, stripped; drop build IDs.
		var keep []string
		for _, part := range strings.Split(strings.TrimSpace(string(out)), ", ") {
			if !strings.Contains(part, "BuildID") {
				keep = append(keep, part)
			}
		}
		fileOut = strings.Join(keep, ", ")
		static = strings.Contains(fileOut, "statically linked")
	}
	fmt.Println("Built with `CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\"`. Peak RSS is GNU time's %M (max of several runs):")
	fmt.Println("the rusage os/exec reports would include the harness's own RSS, because Go starts children with")
	fmt.Println("clone(CLONE_VM|CLONE_VFORK) and Linux carries the parent's high-water mark into the child at exec.")
	fmt.Println()
	fmt.Println("| figure | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| stripped binary | %d bytes (%.2f MiB) |\n", fi.Size(), mb)
	fmt.Printf("| `file` | %s |\n", fileOut)
	b.verdict("static binary ≤ 20 MB stripped", fmt.Sprintf("%.2f MiB, %s", mb, map[bool]string{true: "static", false: "NOT static"}[static]), mb <= 20 && static)

	if gnuTime == "" {
		fmt.Println("| peak RSS | not measured: GNU time is not installed (apt-get install -y time) |")
		b.verdicts = append(b.verdicts, verdict{"peak RSS ≤ 30 MB", "GNU time missing", "not measured"})
		return nil
	}
	dir := b.stateDir("rss")
	h := b.hook(dir)
	s := newSession(b.tmp)
	if err := startSession(h, s); err != nil {
		return err
	}
	n := 0
	post := func(stdout string) func() []byte {
		return func() []byte {
			n++
			id := toolUseID("rss", n)
			h.run(s.PreToolUse(id))
			return s.PostToolUse(id, stdout)
		}
	}
	big := bigStdout(bigPayloadSize)
	drainRSS, err := maxRSS(5, b.drainProc(), post(smallStdout), b.tmp)
	if err != nil {
		return err
	}
	hookRSS, err := maxRSS(5, h, post(smallStdout), b.tmp)
	if err != nil {
		return err
	}
	bigRSS, err := maxRSS(3, h, post(big), b.tmp)
	if err != nil {
		return err
	}
	waitFlusherGone(dir, 30*time.Second)

	fdir := b.stateDir("rss-flush")
	ids, _, err := queueSpans(fdir, b.spans)
	if err != nil {
		return err
	}
	r, flushRSS, err := runRSS(b.ccotelCmd(fdir, "flush", "--wait"), nil, b.tmp)
	if err != nil || !r.ok() {
		return fmt.Errorf("flush under GNU time: %v %s", err, r)
	}
	fmt.Printf("| drain baseline peak RSS | %s |\n", kibMiB(drainRSS))
	fmt.Printf("| hook peak RSS, ordinary PostToolUse | %s |\n", kibMiB(hookRSS))
	fmt.Printf("| hook peak RSS, 5 MB PostToolUse | %s |\n", kibMiB(bigRSS))
	fmt.Printf("| flusher peak RSS (`flush --wait`, %d spans, %d delivered) | %s |\n", b.spans, len(ids)-b.missing(ids), kibMiB(flushRSS))
	const limit = 30 * 1024 // KiB
	b.verdict("hook peak RSS ≤ 30 MB", fmt.Sprintf("%.1f MiB (5 MB payload: %.1f MiB)", float64(hookRSS)/1024, float64(bigRSS)/1024), hookRSS <= limit && bigRSS <= limit)
	b.verdict("flusher peak RSS ≤ 30 MB", fmt.Sprintf("%.1f MiB", float64(flushRSS)/1024), flushRSS <= limit)
	return nil
}

func kibMiB(kib int64) string { return fmt.Sprintf("%d KiB (%.1f MiB)", kib, float64(kib)/1024) }
