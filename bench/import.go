package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// benchImport measures `ccotel import` on a synthetic corpus (corpus.go:
// b.importMB of transcripts over b.importSessions sessions) against
// reading the same files with cat, then the flusher that sends what it
// queued (token usage read from the same transcripts), each with its
// peak RSS.
func (b *bench) benchImport() error {
	fmt.Println()
	fmt.Printf("### 11. Import: %d MB of transcripts over %d sessions, `ccotel import` against `cat`\n", b.importMB, b.importSessions)
	fmt.Println()
	dir := filepath.Join(b.tmp, "import-corpus")
	start := time.Now()
	size, copies, err := corpus(filepath.Join(b.root, "testdata", "claude", "subagent-foreground"), dir, b.importSessions, int64(b.importMB)<<20)
	if err != nil {
		return err
	}
	gen := time.Since(start)
	projects := filepath.Join(dir, "projects")
	cat := proc{bin: "sh", args: []string{"-c", "find \"$0\" -type f -name '*.jsonl' -print0 | xargs -0 cat > /dev/null", projects}, env: b.base}
	cat.run(nil) // warm the page cache: both read from memory
	var cats series
	for range 3 {
		cats.add(cat.run(nil))
	}
	catWall := median(cats.walls())

	// The import alone: the flusher held off (flusher.lock), and an
	// outbox large enough for the whole corpus (an import fills at most
	// half of it, then waits for the flusher).
	state := b.stateDir("import")
	release, err := holdFlusherLock(state) // the flusher is measured on its own below
	if err != nil {
		return err
	}
	conf := filepath.Join(b.tmp, "import-config.toml")
	if err := os.WriteFile(conf, []byte("outbox_max_spans = 1000000\noutbox_max_bytes = 2147483648\n"), 0o600); err != nil {
		return err
	}
	alone := b.ccotelCmd(state, "import", "--settled", "0", projects).withEnv("CCOTEL_CONFIG=" + conf)
	imp, impRSS, err := runRSS(alone, nil, b.tmp)
	again := alone.run(nil)
	release()
	if err != nil {
		return err
	}
	if !imp.ok() || !again.ok() {
		return fmt.Errorf("import: %s / %s", imp, again)
	}
	spans := summaryInt(imp.Stdout, `(\d+) spans queued`)
	before := b.rec.Stats()
	fl, flRSS, err := runRSS(b.ccotelCmd(state, "flush", "--wait", "--timeout", "20m"), nil, b.tmp)
	if err != nil {
		return err
	}
	sent := b.rec.Stats().Total - before.Total
	// As a user runs it: the default outbox, the flusher the import starts
	// sending while it imports.
	paced := b.stateDir("import-paced")
	pacedStart, pacedBefore := time.Now(), b.rec.Stats()
	pacedRun := b.ccotelCmd(paced, "import", "--settled", "0", projects).run(nil)
	if !waitFlusherGone(paced, 20*time.Minute) {
		return fmt.Errorf("the flusher of the paced import did not finish")
	}
	pacedAll, pacedSent := time.Since(pacedStart), b.rec.Stats().Total-pacedBefore.Total
	mbps := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }

	fmt.Printf("Corpus: %s in %d sessions (each the recorded session with its subagent, repeated %d times with new ids: %d runs), generated in %s.\n\n",
		mib(size), b.importSessions, copies, copies, gen.Round(time.Millisecond))
	fmt.Println("| step | wall | CPU | throughput | peak RSS | result |")
	fmt.Println("|---|---|---|---|---|---|")
	fmt.Printf("| `cat` of every transcript (page cache warm, median of 3) | %s | %s | %.0f MB/s | – | – |\n", ms(catWall), ms(median(cats.cpus())), mbps(catWall))
	fmt.Printf("| `ccotel import` | %s | %s | **%.0f MB/s** (%.1f× cat's time) | %s | `%s` |\n", ms(imp.Wall), ms(imp.CPU), mbps(imp.Wall), float64(imp.Wall)/float64(catWall), kibMiB(impRSS), lastLine(imp.Stdout))
	fmt.Printf("| `ccotel import` again | %s | %s | – | – | `%s` |\n", ms(again.Wall), ms(again.CPU), lastLine(again.Stdout))
	fmt.Printf("| `ccotel flush --wait` of what it queued | %s | %s | %.0f spans/s | %s | %d spans delivered (the %d queued and their chat spans) |\n", ms(fl.Wall), ms(fl.CPU), float64(sent)/fl.Wall.Seconds(), kibMiB(flRSS), sent, spans)
	fmt.Printf("| `ccotel import` as a user runs it (default outbox: it fills half, then waits for the flusher it started) | %s | %s | %.0f MB/s | – | `%s`; all sent %s after the start: %d spans delivered |\n",
		ms(pacedRun.Wall), ms(pacedRun.CPU), mbps(pacedRun.Wall), lastLine(pacedRun.Stdout), ms(pacedAll), pacedSent)
	b.verdict("import ≥ 50 MB/s of transcripts", fmt.Sprintf("%.0f MB/s (cat: %.0f MB/s)", mbps(imp.Wall), mbps(catWall)), mbps(imp.Wall) >= 50)
	b.verdict("import peak RSS ≤ 64 MiB on a 1 GB corpus", kibMiB(impRSS), impRSS <= 64<<10)
	b.verdict("flusher peak RSS ≤ 64 MiB sending an import", kibMiB(flRSS), flRSS <= 64<<10 && fl.ok() && int(sent) >= spans)
	if !b.keep {
		os.RemoveAll(dir)
	}
	return nil
}

func summaryInt(s, pattern string) int {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
