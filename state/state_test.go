package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%+v): %v", opts, err)
	}
	return s
}

// update opens the store, runs fn in one Update and closes it.
func update(t *testing.T, opts Options, fn func(*Tx) error) {
	t.Helper()
	s := open(t, opts)
	defer s.Close()
	if err := s.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func counters(t *testing.T, opts Options) Counters {
	t.Helper()
	s := open(t, opts)
	defer s.Close()
	var c Counters
	if err := s.View(func(tx *Tx) error { c = tx.Counters(); return nil }); err != nil {
		t.Fatalf("View: %v", err)
	}
	return c
}

func peekAll(t *testing.T, opts Options) []Entry {
	t.Helper()
	s := open(t, opts)
	defer s.Close()
	var es []Entry
	if err := s.View(func(tx *Tx) error {
		var err error
		es, err = tx.Peek(1 << 30)
		return err
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	return es
}

func values(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.Value))
	}
	return out
}

func TestSessions(t *testing.T) {
	opts := Options{Dir: t.TempDir()}
	update(t, opts, func(tx *Tx) error {
		if got := tx.Session("a"); got != nil {
			t.Errorf("Session(a) on empty store = %q", got)
		}
		if err := tx.PutSession("a", []byte("one")); err != nil {
			return err
		}
		return tx.PutSession("b", []byte("two"))
	})
	update(t, opts, func(tx *Tx) error {
		if got := string(tx.Session("a")); got != "one" {
			t.Errorf("Session(a) = %q, want one", got)
		}
		return tx.DeleteSession("a")
	})
	s := open(t, opts)
	defer s.Close()
	s.View(func(tx *Tx) error {
		seen := map[string]string{}
		tx.ForEachSession(func(id string, b []byte) error { seen[id] = string(b); return nil })
		if len(seen) != 1 || seen["b"] != "two" {
			t.Errorf("sessions = %v, want only b=two", seen)
		}
		if err := tx.PutSession("c", nil); err == nil {
			t.Errorf("PutSession in View succeeded")
		}
		return nil
	})
}

// A session's span records are found by session and span ID, and
// DeleteSession removes them with the head, and no other session's: "a"
// must not take the records of "ab", nor "a" those of "a\x00".
func TestSpanRecords(t *testing.T) {
	opts := Options{Dir: t.TempDir()}
	ids := []string{"a", "ab", "a\x00"}
	update(t, opts, func(tx *Tx) error {
		for _, id := range ids {
			if err := tx.PutSession(id, []byte("head "+id)); err != nil {
				return err
			}
			for i := range 3 {
				if err := tx.PutSpan(id, [8]byte{byte(i)}, []byte(fmt.Sprint(id, i))); err != nil {
					return err
				}
			}
		}
		return tx.DeleteSpan("ab", [8]byte{1})
	})
	update(t, opts, func(tx *Tx) error {
		if got := string(tx.Span("ab", [8]byte{2})); got != "ab2" {
			t.Errorf("Span(ab, 2) = %q", got)
		}
		if got := tx.Span("ab", [8]byte{1}); got != nil {
			t.Errorf("deleted span record still there: %q", got)
		}
		if err := tx.DeleteSession("a"); err != nil {
			return err
		}
		return nil
	})
	s := open(t, opts)
	defer s.Close()
	s.View(func(tx *Tx) error {
		for _, id := range []string{"a"} {
			if tx.Session(id) != nil || tx.Span(id, [8]byte{0}) != nil || tx.Span(id, [8]byte{2}) != nil {
				t.Errorf("session %q: head or records left after DeleteSession", id)
			}
		}
		for _, id := range []string{"ab", "a\x00"} {
			if string(tx.Span(id, [8]byte{0})) != id+"0" || string(tx.Span(id, [8]byte{2})) != id+"2" {
				t.Errorf("session %q lost span records to another's DeleteSession", id)
			}
		}
		if err := tx.PutSpan("b", [8]byte{}, nil); err == nil {
			t.Errorf("PutSpan in View succeeded")
		}
		return nil
	})
}

func TestOutboxOrderPeekReplaceRemove(t *testing.T) {
	opts := Options{Dir: t.TempDir()}
	before := time.Now()
	for i := 0; i < 5; i++ {
		update(t, opts, func(tx *Tx) error { return tx.Enqueue([]byte(fmt.Sprintf("span%d", i))) })
	}
	es := peekAll(t, opts)
	if got, want := strings.Join(values(es), ","), "span0,span1,span2,span3,span4"; got != want {
		t.Fatalf("outbox = %s, want %s", got, want)
	}
	for i := 1; i < len(es); i++ {
		if es[i].Key <= es[i-1].Key {
			t.Fatalf("keys not increasing: %v", es)
		}
	}
	c := counters(t, opts)
	if c.Queued != 5 || c.QueuedBytes != 25 || c.Enqueued != 5 {
		t.Errorf("counters after enqueue = %+v", c)
	}
	if c.OldestQueued.Before(before.Add(-time.Second)) || c.OldestQueued.After(time.Now()) {
		t.Errorf("OldestQueued = %v, want about %v", c.OldestQueued, before)
	}

	// Peek copies: values survive the transaction.
	s := open(t, opts)
	var two []Entry
	s.View(func(tx *Tx) error { two, _ = tx.Peek(2); return nil })
	s.Close()
	if got := strings.Join(values(two), ","); got != "span0,span1" {
		t.Errorf("Peek(2) = %s", got)
	}

	oldest := c.OldestQueued
	update(t, opts, func(tx *Tx) error {
		if err := tx.Replace(es[0].Key, []byte("span0-with-usage")); err != nil {
			return err
		}
		if err := tx.Replace(1<<40, []byte("gone")); err != nil { // no such key: no-op
			return err
		}
		return tx.Remove([]uint64{es[1].Key, es[3].Key, 1 << 41})
	})
	if got, want := strings.Join(values(peekAll(t, opts)), ","), "span0-with-usage,span2,span4"; got != want {
		t.Errorf("outbox = %s, want %s", got, want)
	}
	c = counters(t, opts)
	if c.Queued != 3 || c.QueuedBytes != 16+5+5 || c.Exported != 2 || c.Enqueued != 5 || c.Dropped != 0 {
		t.Errorf("counters after replace/remove = %+v", c)
	}
	if !c.OldestQueued.Equal(oldest) {
		t.Errorf("Replace changed the enqueue time: %v, was %v", c.OldestQueued, oldest)
	}

	update(t, opts, func(tx *Tx) error {
		es, _ := tx.Peek(10)
		var keys []uint64
		for _, e := range es {
			keys = append(keys, e.Key)
		}
		return tx.Remove(keys)
	})
	c = counters(t, opts)
	if c.Queued != 0 || c.QueuedBytes != 0 || !c.OldestQueued.IsZero() || c.Exported != 5 {
		t.Errorf("counters after draining = %+v", c)
	}
	// Keys keep increasing after the outbox was emptied.
	update(t, opts, func(tx *Tx) error { return tx.Enqueue([]byte("late")) })
	if es2 := peekAll(t, opts); len(es2) != 1 || es2[0].Key <= es[4].Key {
		t.Errorf("after refill: %v (last old key %d)", es2, es[4].Key)
	}
}

func TestOutboxCap(t *testing.T) {
	t.Run("spans", func(t *testing.T) {
		opts := Options{Dir: t.TempDir(), OutboxMaxSpans: 3}
		update(t, opts, func(tx *Tx) error {
			for i := 0; i < 5; i++ {
				if err := tx.Enqueue([]byte{byte('a' + i)}); err != nil {
					return err
				}
			}
			return nil
		})
		update(t, opts, func(tx *Tx) error { return tx.Enqueue([]byte("f")) })
		if got := strings.Join(values(peekAll(t, opts)), ""); got != "def" {
			t.Errorf("outbox = %q, want def", got)
		}
		c := counters(t, opts)
		if c.Queued != 3 || c.QueuedBytes != 3 || c.Dropped != 3 || c.Enqueued != 6 {
			t.Errorf("counters = %+v", c)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		opts := Options{Dir: t.TempDir(), OutboxMaxBytes: 100}
		update(t, opts, func(tx *Tx) error {
			for i := 0; i < 4; i++ {
				if err := tx.Enqueue(bytes.Repeat([]byte{byte('a' + i)}, 40)); err != nil {
					return err
				}
			}
			return nil
		})
		es := peekAll(t, opts)
		if len(es) != 2 || es[0].Value[0] != 'c' || es[1].Value[0] != 'd' {
			t.Errorf("outbox = %q, want c…, d…", values(es))
		}
		c := counters(t, opts)
		if c.Queued != 2 || c.QueuedBytes != 80 || c.Dropped != 2 {
			t.Errorf("counters = %+v", c)
		}
		// One entry larger than the whole cap cannot fit: it is dropped too.
		update(t, opts, func(tx *Tx) error { return tx.Enqueue(make([]byte, 101)) })
		c = counters(t, opts)
		if c.Queued != 0 || c.QueuedBytes != 0 || c.Dropped != 5 {
			t.Errorf("counters after oversized entry = %+v", c)
		}
	})
}

func TestRecordExportAndLostEvents(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir}
	t0 := time.Unix(1_800_000_000, 123)
	next := t0.Add(4 * time.Second)
	long := errors.New(strings.Repeat("é", 400))
	update(t, opts, func(tx *Tx) error { return tx.RecordExport(t0, long, next) })
	update(t, opts, func(tx *Tx) error { return tx.RecordExport(t0, errors.New("refused"), next) })
	c := counters(t, opts)
	if c.Failures != 2 || c.LastExportOK || c.LastExportError != "refused" ||
		!c.LastExport.Equal(t0) || !c.NextAttempt.Equal(next) {
		t.Errorf("after two failures: %+v", c)
	}
	update(t, opts, func(tx *Tx) error { return tx.RecordExport(t0, long, next) })
	if c := counters(t, opts); len(c.LastExportError) > maxErrorLen || !strings.HasPrefix(long.Error(), c.LastExportError) || len(c.LastExportError) < maxErrorLen-1 {
		t.Errorf("stored error has %d bytes, want a prefix of at most %d", len(c.LastExportError), maxErrorLen)
	}
	update(t, opts, func(tx *Tx) error { return tx.RecordExport(t0.Add(time.Second), nil, time.Time{}) })
	c = counters(t, opts)
	if c.Failures != 0 || !c.LastExportOK || c.LastExportError != "" || !c.NextAttempt.IsZero() {
		t.Errorf("after success: %+v", c)
	}

	update(t, opts, func(tx *Tx) error { return tx.AddLostEvents(2) })
	NoteLostEvent(dir)
	NoteLostEvent(dir)
	NoteLostEvent(dir)
	if c := counters(t, opts); c.LostEvents != 5 {
		t.Errorf("LostEvents = %d, want 5", c.LostEvents)
	}
	// NoteLostEvent creates a missing directory.
	fresh := filepath.Join(t.TempDir(), "a", "b")
	NoteLostEvent(fresh)
	if fi, err := os.Stat(filepath.Join(fresh, lostName)); err != nil || fi.Size() != 1 {
		t.Errorf("lost-events in a new dir: %v, %v", fi, err)
	}
}

func TestLockTimeout(t *testing.T) {
	dir := t.TempDir()
	holder := open(t, Options{Dir: dir})

	start := time.Now()
	_, err := Open(Options{Dir: dir, LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open while locked: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
		t.Errorf("Open gave up after %v, want about 50ms", d)
	}
	if _, err := Open(Options{Dir: dir, ReadOnly: true, LockTimeout: 20 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("read-only Open while locked: %v, want ErrLocked", err)
	}

	// A waiter is woken as soon as the holder closes, and gets the lock.
	got := make(chan error, 1)
	go func() {
		s, err := Open(Options{Dir: dir, LockTimeout: 5 * time.Second})
		if err == nil {
			err = s.Update(func(tx *Tx) error { return tx.Enqueue([]byte("x")) })
			s.Close()
		}
		got <- err
	}()
	time.Sleep(30 * time.Millisecond)
	released := time.Now()
	holder.Close()
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if d := time.Since(released); d > 1500*time.Millisecond {
		t.Errorf("waiter took %v after release", d)
	}
}

// The goroutine left blocked in flock after a timeout must release the
// lock and close its file when it finally gets the lock.
func TestLockAbandonedWaiterReleases(t *testing.T) {
	dir := t.TempDir()
	baseFDs := countFDs(t)
	holder := open(t, Options{Dir: dir})
	for i := 0; i < 3; i++ {
		if _, err := Open(Options{Dir: dir, LockTimeout: 10 * time.Millisecond}); !errors.Is(err, ErrLocked) {
			t.Fatalf("Open %d while locked: %v", i, err)
		}
	}
	holder.Close()

	// The abandoned waiters get the lock one after the other and drop it:
	// a new Open must succeed well within its timeout.
	s, err := Open(Options{Dir: dir, LockTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("Open after the holder closed: %v", err)
	}
	s.Close()

	deadline := time.Now().Add(2 * time.Second)
	for countFDs(t) > baseFDs {
		if time.Now().After(deadline) {
			t.Fatalf("open files: %d, want %d (abandoned waiters leak their lock file)", countFDs(t), baseFDs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(es)
}

func TestReadOnly(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "never-created")
		s := open(t, Options{Dir: dir, ReadOnly: true})
		defer s.Close()
		err := s.View(func(tx *Tx) error {
			if c := tx.Counters(); c != (Counters{}) {
				t.Errorf("Counters = %+v, want zero", c)
			}
			if es, err := tx.Peek(10); err != nil || len(es) != 0 {
				t.Errorf("Peek = %v, %v", es, err)
			}
			if tx.Session("x") != nil {
				t.Errorf("Session found")
			}
			n := 0
			tx.ForEachSession(func(string, []byte) error { n++; return nil })
			if n != 0 {
				t.Errorf("ForEachSession saw %d", n)
			}
			if err := tx.Enqueue([]byte("x")); err == nil {
				t.Errorf("Enqueue in read-only View succeeded")
			}
			return nil
		})
		if err != nil {
			t.Fatalf("View: %v", err)
		}
		if err := s.Update(func(*Tx) error { return nil }); err == nil {
			t.Errorf("Update on a read-only store succeeded")
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("read-only Open created the directory: %v", err)
		}
	})
	t.Run("lost events only", func(t *testing.T) {
		dir := t.TempDir()
		NoteLostEvent(dir)
		if c := counters(t, Options{Dir: dir, ReadOnly: true}); c.LostEvents != 1 {
			t.Errorf("LostEvents = %d, want 1", c.LostEvents)
		}
	})
	t.Run("existing", func(t *testing.T) {
		dir := t.TempDir()
		update(t, Options{Dir: dir}, func(tx *Tx) error { return tx.Enqueue([]byte("a")) })
		st, _ := os.Stat(filepath.Join(dir, dbName))
		r1 := open(t, Options{Dir: dir, ReadOnly: true})
		r2 := open(t, Options{Dir: dir, ReadOnly: true}) // shared lock: readers coexist
		if err := r2.View(func(tx *Tx) error {
			if c := tx.Counters(); c.Queued != 1 {
				t.Errorf("Queued = %d", c.Queued)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r1.Close()
		r2.Close()
		st2, _ := os.Stat(filepath.Join(dir, dbName))
		if !st2.ModTime().Equal(st.ModTime()) || st2.Size() != st.Size() {
			t.Errorf("read-only use modified the database")
		}
	})
	t.Run("fresh db has no buckets until written", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, Options{Dir: dir})
		s.Close()
		c := counters(t, Options{Dir: dir, ReadOnly: true})
		if c != (Counters{}) {
			t.Errorf("Counters = %+v", c)
		}
	})
}

func TestCorruptDatabaseMovedAside(t *testing.T) {
	valid := func(t *testing.T) []byte {
		dir := t.TempDir()
		update(t, Options{Dir: dir}, func(tx *Tx) error {
			for i := 0; i < 200; i++ {
				if err := tx.Enqueue(bytes.Repeat([]byte("x"), 500)); err != nil {
					return err
				}
			}
			return nil
		})
		b, err := os.ReadFile(filepath.Join(dir, dbName))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}(t)

	cases := map[string][]byte{
		"garbage":       bytes.Repeat([]byte("not a bbolt database "), 1000),
		"tiny":          []byte("x"),
		"truncated":     valid[:len(valid)/3],
		"meta only":     valid[:2*4096],
		"zeroed middle": append(append(append([]byte(nil), valid[:2*4096]...), make([]byte, len(valid)-4*4096)...), valid[len(valid)-2*4096:]...),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, dbName)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			// Open may already see the damage; otherwise the first
			// transaction hits it, moves the file aside and fails.
			s, err := Open(Options{Dir: dir})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			var peekErr error
			err = s.Update(func(tx *Tx) error {
				_, peekErr = tx.Peek(1000)
				return tx.Enqueue([]byte("new"))
			})
			s.Close()
			if err != nil {
				t.Logf("first Update failed (expected when the damage is found late): %v", err)
				update(t, Options{Dir: dir}, func(tx *Tx) error { return tx.Enqueue([]byte("new")) })
			}
			_ = peekErr
			asides, _ := filepath.Glob(path + ".corrupt-*")
			if len(asides) != 1 {
				t.Fatalf("corrupt copies: %v, want 1", asides)
			}
			if b, _ := os.ReadFile(asides[0]); !bytes.Equal(b, content) {
				t.Errorf("moved-aside file differs from the corrupt one")
			}
			if got := strings.Join(values(peekAll(t, Options{Dir: dir})), ","); got != "new" {
				t.Errorf("fresh outbox = %q, want new", got)
			}
			log, _ := os.ReadFile(filepath.Join(dir, logName))
			if !bytes.Contains(log, []byte("corrupt")) {
				t.Errorf("log does not mention the corruption: %q", log)
			}
		})
	}
}

func TestUnusableDirectory(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the fallback log and count
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	for _, opts := range []Options{{Dir: filepath.Join(file, "state")}, {Dir: file}} {
		if s, err := Open(opts); err == nil {
			s.Close()
			t.Errorf("Open(%s) succeeded", opts.Dir)
		}
	}
	// Logging and counting into it quietly do nothing.
	Logf(file, "hello")
	NoteLostEvent(file)

	if os.Geteuid() == 0 {
		t.Log("running as root: skipping the read-only directory case")
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if s, err := Open(Options{Dir: dir}); err == nil {
		s.Close()
		t.Errorf("Open in a read-only directory succeeded")
	}
}

func TestConcurrentUpdates(t *testing.T) {
	dir := t.TempDir()
	const workers, each = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				s, err := Open(Options{Dir: dir, LockTimeout: 10 * time.Second})
				if err != nil {
					errs <- err
					return
				}
				err = s.Update(func(tx *Tx) error {
					id := fmt.Sprintf("s%d", w)
					n := len(tx.Session(id))
					if err := tx.PutSession(id, bytes.Repeat([]byte("."), n+1)); err != nil {
						return err
					}
					return tx.Enqueue([]byte(fmt.Sprintf("%d/%d", w, i)))
				})
				s.Close()
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, v := range values(peekAll(t, Options{Dir: dir})) {
		seen[v] = true
	}
	if len(seen) != workers*each {
		t.Errorf("outbox holds %d distinct entries, want %d", len(seen), workers*each)
	}
	s := open(t, Options{Dir: dir})
	defer s.Close()
	s.View(func(tx *Tx) error {
		for w := 0; w < workers; w++ {
			if n := len(tx.Session(fmt.Sprintf("s%d", w))); n != each {
				t.Errorf("session s%d saw %d updates, want %d", w, n, each)
			}
		}
		if c := tx.Counters(); c.Queued != workers*each || c.Enqueued != workers*each {
			t.Errorf("counters = %+v", c)
		}
		return nil
	})
}

func TestPanicInCallerIsNotCorruption(t *testing.T) {
	dir := t.TempDir()
	update(t, Options{Dir: dir}, func(tx *Tx) error { return tx.Enqueue([]byte("keep")) })
	s := open(t, Options{Dir: dir})
	err := s.Update(func(tx *Tx) error {
		tx.Enqueue([]byte("rolled back"))
		var m map[string]int
		m["x"] = 1 //lint:ignore SA5000 the caller's bug this test is about
		return nil
	})
	s.Close()
	if err == nil || errors.Is(err, errCorruptPanic) {
		t.Fatalf("Update with a panicking fn: %v", err)
	}
	if asides, _ := filepath.Glob(filepath.Join(dir, dbName+".corrupt-*")); len(asides) != 0 {
		t.Errorf("database moved aside for a caller's panic: %v", asides)
	}
	if got := strings.Join(values(peekAll(t, Options{Dir: dir})), ","); got != "keep" {
		t.Errorf("outbox = %q, want keep", got)
	}
}

func TestLogRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	Logf(dir, "first %d\nsecond line", 1)
	b, err := os.ReadFile(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	line := string(b)
	prefix := fmt.Sprintf(" %d first 1 second line\n", os.Getpid())
	if !strings.HasSuffix(line, prefix) || strings.Count(line, "\n") != 1 {
		t.Errorf("log line %q, want <time>%s", line, prefix)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", strings.SplitN(line, " ", 2)[0]); err != nil {
		t.Errorf("log time: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, logName)); fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v", fi.Mode())
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", fi.Mode())
	}

	big := strings.Repeat("x", 1000)
	for i := 0; i < 1100; i++ {
		Logf(dir, "%s", big)
	}
	cur, _ := os.Stat(filepath.Join(dir, logName))
	old, err := os.Stat(filepath.Join(dir, logName+".1"))
	if err != nil {
		t.Fatalf("no rotated log: %v", err)
	}
	if cur.Size() > maxLogSize+2000 || old.Size() > maxLogSize+2000 || old.Size() < maxLogSize {
		t.Errorf("sizes: log %d, log.1 %d", cur.Size(), old.Size())
	}
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	update(t, Options{Dir: dir}, func(tx *Tx) error { return tx.Enqueue([]byte("x")) })
	for name, want := range map[string]os.FileMode{"": 0o700, dbName: 0o600, lockName: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir}
	update(t, opts, func(tx *Tx) error {
		for i := 0; i < 2000; i++ {
			if err := tx.Enqueue(bytes.Repeat([]byte{byte(i)}, 1000)); err != nil {
				return err
			}
		}
		return tx.PutSession("s", []byte("live"))
	})
	update(t, opts, func(tx *Tx) error {
		es, _ := tx.Peek(1990)
		var keys []uint64
		for _, e := range es {
			keys = append(keys, e.Key)
		}
		return tx.Remove(keys)
	})
	path := filepath.Join(dir, dbName)
	before, _ := os.Stat(path)

	s := open(t, opts)
	if err := s.Compact(before.Size() * 2); err != nil { // under the threshold: nothing
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Size() != before.Size() {
		t.Fatalf("compacted below the threshold")
	}
	if err := s.Compact(1 << 10); err != nil {
		t.Fatal(err)
	}
	compacted, _ := os.Stat(path)
	if err := s.Compact(1 << 10); err != nil { // now mostly live data: nothing
		t.Fatal(err)
	}
	if again, _ := os.Stat(path); !os.SameFile(again, compacted) {
		t.Errorf("a compacted database was rewritten again")
	}
	// The store stays usable after compaction.
	if err := s.Update(func(tx *Tx) error { return tx.Enqueue([]byte("after")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	after, _ := os.Stat(path)
	if after.Size()*4 > before.Size() {
		t.Errorf("size %d → %d, want a real reduction", before.Size(), after.Size())
	}
	es := peekAll(t, opts)
	if len(es) != 11 || string(es[10].Value) != "after" || es[10].Key <= es[9].Key {
		t.Errorf("outbox after compaction: %d entries", len(es))
	}
	c := counters(t, opts)
	if c.Queued != 11 || c.Exported != 1990 {
		t.Errorf("counters after compaction = %+v", c)
	}
	if _, err := os.Stat(path + compactSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
}

// A memory fault on the mapped file (pages cut off behind bbolt's back)
// must come back as an error, not kill the process.
func TestFaultOnMappedFileIsRecovered(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir}
	update(t, opts, func(tx *Tx) error {
		for i := 0; i < 300; i++ {
			if err := tx.Enqueue(bytes.Repeat([]byte("y"), 700)); err != nil {
				return err
			}
		}
		return nil
	})
	s := open(t, opts)
	if err := os.Truncate(filepath.Join(dir, dbName), 4*4096); err != nil {
		t.Fatal(err)
	}
	err := s.Update(func(tx *Tx) error {
		_, err := tx.Peek(1000)
		return err
	})
	s.Close()
	if !errors.Is(err, errCorruptPanic) {
		t.Fatalf("Update over a truncated file: %v, want a corruption error", err)
	}
	t.Log(err)
	update(t, opts, func(tx *Tx) error { return tx.Enqueue([]byte("fresh")) })
	if got := strings.Join(values(peekAll(t, opts)), ","); got != "fresh" {
		t.Errorf("outbox = %q, want fresh", got)
	}
}

func TestReadOnlyCorruptIsLeftInPlace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, dbName)
	os.WriteFile(filepath.Join(dir, lockName), nil, 0o600)
	os.WriteFile(path, bytes.Repeat([]byte("junk"), 4096), 0o600)
	if s, err := Open(Options{Dir: dir, ReadOnly: true}); err == nil {
		s.Close()
		t.Fatalf("read-only Open of a corrupt file succeeded")
	}
	if asides, _ := filepath.Glob(path + ".corrupt-*"); len(asides) != 0 {
		t.Errorf("read-only Open moved the file: %v", asides)
	}
}

// Without the counters record (lost, or never written), Queued and
// QueuedBytes are recounted from the outbox.
func TestCountersRecountedWithoutRecord(t *testing.T) {
	opts := Options{Dir: t.TempDir()}
	update(t, opts, func(tx *Tx) error {
		tx.Enqueue([]byte("abc"))
		tx.Enqueue([]byte("de"))
		return nil
	})
	update(t, opts, func(tx *Tx) error { return tx.btx.Bucket(bucketMeta).Delete(keyCounters) })
	if c := counters(t, opts); c.Queued != 2 || c.QueuedBytes != 5 {
		t.Errorf("recounted in View: %+v", c)
	}
	update(t, opts, func(tx *Tx) error { return tx.Remove([]uint64{1}) })
	if c := counters(t, opts); c.Queued != 1 || c.QueuedBytes != 2 || c.Exported != 1 {
		t.Errorf("after Remove: %+v", c)
	}
}

// A flipped bit in the counters record (queued_bytes here) is found by
// its checksum: the figures are recounted from the outbox, nothing is
// evicted as "outbox full", and the damage is counted. Random counters
// never show as negative totals.
func TestDamagedCountersRecounted(t *testing.T) {
	opts := Options{Dir: t.TempDir(), OutboxMaxBytes: 1000}
	update(t, opts, func(tx *Tx) error {
		for range 20 {
			if err := tx.Enqueue([]byte("span")); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, opts, func(tx *Tx) error {
		m := tx.btx.Bucket(bucketMeta)
		b := bytes.Clone(m.Get(keyCounters))
		b[8] ^= 0x40 // queued_bytes' high bits: 2^62 bytes
		return m.Put(keyCounters, b)
	})
	update(t, opts, func(tx *Tx) error { return tx.Enqueue([]byte("span")) })
	c := counters(t, opts)
	if c.Queued != 21 || c.QueuedBytes != 84 || c.Dropped != 0 || c.Damaged != 1 {
		t.Errorf("after a flipped bit: %+v, want 21 queued (84 bytes), 0 dropped, 1 damaged", c)
	}
	update(t, opts, func(tx *Tx) error {
		rnd := make([]byte, 8*12+4)
		for i := range rnd {
			rnd[i] = byte(i*37 + 0x91)
		}
		return tx.btx.Bucket(bucketMeta).Put(keyCounters, rnd)
	})
	c = counters(t, opts)
	for name, v := range map[string]int64{"queued": int64(c.Queued), "bytes": c.QueuedBytes, "enqueued": c.Enqueued,
		"exported": c.Exported, "dropped": c.Dropped, "rejected": c.Rejected, "lost": c.LostEvents, "failures": int64(c.Failures)} {
		if v < 0 || v > 1<<48 {
			t.Errorf("random counters: %s = %d", name, v)
		}
	}
	if c.Queued != 21 || c.QueuedBytes != 84 {
		t.Errorf("random counters: %d queued (%d bytes), want 21 (84)", c.Queued, c.QueuedBytes)
	}
}
