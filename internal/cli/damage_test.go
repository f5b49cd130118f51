package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

// A damaged database moved aside, and a session started over on damaged
// state, are counted and named by status and doctor (they used to say
// "0 dropped, 0 lost" and nothing).
func TestStatusAndDoctorNameDamage(t *testing.T) {
	isolateEnv(t)
	dir := filepath.Join(t.TempDir(), "state")
	t.Setenv("CCOTEL_STATE_DIR", dir)
	t.Setenv("CCOTEL_ENDPOINT", "https://127.0.0.1:9")
	st, err := state.Open(state.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	st.Update(func(tx *state.Tx) error {
		for range 3 {
			tx.Enqueue([]byte("a queued span"))
		}
		return nil
	})
	st.Close()
	aside := filepath.Join(dir, "ccotel.db.corrupt-20261207T120000Z")
	if err := os.Rename(filepath.Join(dir, "ccotel.db"), aside); err != nil {
		t.Fatal(err)
	}
	// A session whose head is damaged.
	st, _ = state.Open(state.Options{Dir: dir})
	st.Update(func(tx *state.Tx) error { return tx.PutSession("s-bad", []byte("\x02damaged head")) })
	st.Close()
	var out, errOut bytes.Buffer
	runHook(nil, strings.NewReader(`{"session_id":"s-bad","hook_event_name":"UserPromptSubmit","prompt_id":"p"}`), &out, &errOut)
	if out.Len()+errOut.Len() != 0 {
		t.Fatalf("hook printed %q %q", out.String(), errOut.String())
	}

	out.Reset()
	if code := runStatus(nil, nil, &out, &errOut); code != exitOK {
		t.Fatalf("status: exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"1 sessions reset", aside, "3 spans were queued in it", "Some data was lost"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status says no %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	runDoctor([]string{"--offline"}, nil, &out, &errOut)
	for _, want := range []string{"state database was damaged", "rm " + aside, "started it over"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor says no %q:\n%s", want, out.String())
		}
	}
}

// With a home directory that cannot be written (state and cache
// directories both in it), every hook event is dropped: each one is
// still counted (in a directory of the user's own under the temporary
// directory), status says so, and doctor fails naming why. Root ignores
// a read-only mode, so the home directory here is under a regular file.
func TestUnwritableHomeCounted(t *testing.T) {
	isolateEnv(t)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	home := filepath.Join(file, "home")
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no config file: a missing one
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("TMPDIR", t.TempDir())
	t.Setenv("CCOTEL_ENDPOINT", "https://127.0.0.1:9")
	var out, errOut bytes.Buffer
	for range 2 {
		if code := runHook(nil, strings.NewReader(`{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt_id":"p"}`), &out, &errOut); code != exitOK || out.Len()+errOut.Len() != 0 {
			t.Fatalf("hook: exit %d, printed %q %q", code, out.String(), errOut.String())
		}
	}
	if code := runStatus(nil, nil, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "2 hook events lost") {
		t.Errorf("status (exit %d):\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := runDoctor([]string{"--offline"}, nil, &out, &errOut); code == exitOK || !strings.Contains(out.String(), "cannot record events in the state directory") {
		t.Errorf("doctor (exit %d):\n%s", code, out.String())
	}
}
