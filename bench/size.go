package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// benchSize reports the stripped binary's size, whether it is static, and
// the peak RSS figures gathered by the other benchmarks.
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
	fmt.Println("Built with `CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\"`.")
	fmt.Println()
	fmt.Println("| figure | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| stripped binary | %d bytes (%.2f MiB) |\n", fi.Size(), mb)
	fmt.Printf("| `file` | %s |\n", fileOut)
	rss := func(kib int64, what string) string {
		if kib == 0 {
			return "not measured (run with " + what + ")"
		}
		return fmt.Sprintf("%d KiB (%.1f MiB)", kib, float64(kib)/1024)
	}
	fmt.Printf("| hook peak RSS, ordinary PostToolUse | %s |\n", rss(b.hookRSS, "-only hook,…"))
	fmt.Printf("| hook peak RSS, 5 MB PostToolUse | %s |\n", rss(b.hookRSSBig, "-only big,…"))
	fmt.Printf("| flusher peak RSS (`flush --wait`, %d spans) | %s |\n", b.spans, rss(b.flushRSS, "-only flush,…"))
	b.verdict("static binary ≤ 20 MB stripped", fmt.Sprintf("%.2f MiB, %s", mb, map[bool]string{true: "static", false: "NOT static"}[static]), mb <= 20 && static)
	const limit = 30 * 1024 // KiB
	if b.hookRSS > 0 {
		b.verdict("hook peak RSS ≤ 30 MB", fmt.Sprintf("%.1f MiB (5 MB payload: %.1f MiB)", float64(b.hookRSS)/1024, float64(b.hookRSSBig)/1024), b.hookRSS <= limit && b.hookRSSBig <= limit)
	}
	if b.flushRSS > 0 {
		b.verdict("flusher peak RSS ≤ 30 MB", fmt.Sprintf("%.1f MiB", float64(b.flushRSS)/1024), b.flushRSS <= limit)
	}
	return nil
}
