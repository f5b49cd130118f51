package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// benchFsync counts the fsync-family calls of one PostToolUse hook
// invocation on an existing database, by default and with
// CCOTEL_DURABILITY=full.
func (b *bench) benchFsync() error {
	fmt.Println()
	fmt.Println("### 2. fsync-family system calls of one `ccotel hook` (PostToolUse, existing database)")
	fmt.Println()
	if _, err := exec.LookPath("strace"); err != nil {
		fmt.Println("strace is not installed (apt-get install -y strace): not measured.")
		b.verdicts = append(b.verdicts, verdict{"0 fsync-family calls in a default hook", "strace missing", "not measured"})
		return nil
	}
	fmt.Println("`strace -f -e trace=" + strings.Join(syncCalls, ",") + ",clone,clone3,fork,vfork,execve`, calls attributed per process:")
	fmt.Println("threads of the hook (clone with CLONE_THREAD) count as the hook, the detached flusher it starts does not")
	fmt.Println("(strace without -f would miss calls made on the Go runtime's other threads).")
	fmt.Println()
	fmt.Println("| durability | hook process (threads) | flusher started by it (for comparison) |")
	fmt.Println("|---|---|---|")
	for _, mode := range []string{"default", "full"} {
		dir := b.stateDir("fsync-" + mode)
		h := b.hook(dir)
		if mode == "full" {
			h = h.withEnv("CCOTEL_DURABILITY=full")
		}
		s := newSession(b.tmp)
		if err := startSession(h, s); err != nil {
			return err
		}
		id := toolUseID("fsync", 0)
		if r := h.run(s.PreToolUse(id)); !r.silentOK() {
			return fmt.Errorf("PreToolUse: %s", r)
		}
		// Let the flusher started by the setup finish, so the traced hook
		// starts its own and the database already exists.
		waitFlusherGone(dir, 30*time.Second)
		c, err := traceSyncs(h, s.PostToolUse(id, smallStdout), filepath.Join(b.tmp, "strace-"+mode+".txt"))
		if err != nil {
			return err
		}
		fmt.Printf("| %s | **%d** (%s; %d threads) | %d (%s; %d process(es)) |\n", mode, c.hookTotal(), fmtCalls(c.Hook), c.Threads, c.childTotal(), fmtCalls(c.Child), c.Others)
		if mode == "default" {
			b.verdict("0 fsync-family calls in a default hook", fmt.Sprintf("%d (%s)", c.hookTotal(), fmtCalls(c.Hook)), c.hookTotal() == 0)
		}
	}
	return nil
}
