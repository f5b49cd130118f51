package cli

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/delivery"

	"github.com/ccotel/ccotel/internal/binrec"
	"github.com/ccotel/ccotel/state"
	"github.com/rogpeppe/go-internal/testscript"
)

// ownercycle SESSION makes the first two open spans of SESSION's span
// index own each other (the top span owned by the turn, the turn by the
// top span), as a damaged index or a head written by an earlier version
// could. It parses the index in its documented form (hook/index.go).
func cmdOwnerCycle(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: ownercycle SESSION")
	}
	store, err := state.Open(state.Options{Dir: ts.Getenv("CCOTEL_STATE_DIR"), LockTimeout: 10 * time.Second})
	if err != nil {
		ts.Fatalf("open state: %v", err)
	}
	defer store.Close()
	err = store.Update(func(tx *state.Tx) error {
		var zero [8]byte
		b, err := binrec.Unseal(append([]byte(nil), tx.Span(args[0], zero)...))
		if err != nil {
			ts.Fatalf("index of %s: %v", args[0], err)
		}
		owners := indexOwners(ts, b)
		if len(owners) < 2 {
			ts.Fatalf("index of %s: %d spans, want 2 or more", args[0], len(owners))
		}
		top, turn := owners[0], owners[1]
		copy(b[top:top+8], b[turn+8:turn+16]) // the top's owner: the turn's ID
		copy(b[turn:turn+8], b[top+8:top+16]) // the turn's owner: the top's ID
		return tx.PutSpan(args[0], zero, binrec.Seal(b))
	})
	if err != nil {
		ts.Fatalf("%v", err)
	}
}

// indexOwners returns the offset of each span's owner field in an index.
func indexOwners(ts *testscript.TestScript, b []byte) []int {
	r := binrec.NewReader(b)
	n := r.Uvarint()
	var owners []int
	for range n {
		r.Byte()
		r.Byte()
		for range 4 {
			r.Str()
		}
		r.Time()
		r.Varint()
		owners = append(owners, len(b)-r.Left())
		var id [24]byte
		r.Fixed(id[:])
	}
	if err := r.Done(); err != nil {
		ts.Fatalf("index: %v", err)
	}
	return owners
}

// panicReader panics on its first read: a bug anywhere in the hook.
type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("bug") }

// A panic in the hook is a lost event: nothing printed, exit 0, and
// counted where status looks (it used to be logged only).
func TestHookPanicCounted(t *testing.T) {
	isolateEnv(t)
	dir := filepath.Join(t.TempDir(), "state")
	t.Setenv("CCOTEL_STATE_DIR", dir)
	t.Setenv("CCOTEL_ENDPOINT", "https://127.0.0.1:9")
	var out, errOut bytes.Buffer
	if code := runHook(nil, panicReader{}, &out, &errOut); code != exitOK || out.Len() != 0 || errOut.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	r, err := delivery.ReadStatus(dir, "https://127.0.0.1:9")
	if err != nil || r.LostEvents != 1 {
		t.Fatalf("status: %v, %d events lost, want 1", err, r.LostEvents)
	}
}
