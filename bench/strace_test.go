package main

import "testing"

// A trace shaped like strace -f output of a Go hook: the main thread
// starts runtime threads (CLONE_THREAD), one of them calls fdatasync, and
// the hook starts a flusher (clone without CLONE_THREAD, then execve) whose
// own thread calls fdatasync twice.
const sampleTrace = `100   execve("/tmp/ccotel", ["ccotel", "hook"], 0x7ffd /* 30 vars */) = 0
100   clone(child_stack=0xc000060000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS, tls=0xc000058090) = 101
100   clone(child_stack=0xc000062000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS <unfinished ...>
101   fdatasync(3 <unfinished ...>
100   <... clone resumed>, tls=0xc000058490) = 102
101   <... fdatasync resumed>)          = 0
102   clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD <unfinished ...>
200   execve("/tmp/ccotel", ["ccotel", "flush", "--background"], 0x7ffd /* 30 vars */ <unfinished ...>
102   <... clone resumed>)              = 200
200   <... execve resumed>)             = 0
200   clone(child_stack=0xc000060000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS, tls=0xc000058090) = 201
201   fdatasync(5)                      = 0
200   fdatasync(5)                      = 0
100   +++ exited with 0 +++
`

func TestParseSyncTraceAttributesCallsPerProcess(t *testing.T) {
	c := parseSyncTrace([]byte(sampleTrace))
	if c.hookTotal() != 1 || c.Hook["fdatasync"] != 1 {
		t.Errorf("hook calls %v, want fdatasync×1", c.Hook)
	}
	if c.childTotal() != 2 {
		t.Errorf("child calls %v, want fdatasync×2", c.Child)
	}
	if c.Threads != 3 || c.Others != 1 {
		t.Errorf("threads %d others %d, want 3 and 1", c.Threads, c.Others)
	}
}
