package usage

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// A scan asked again goes on from the byte after the last complete line
// it read: appended lines are read once, a line half-written at the first
// pass is read whole at the next, and the totals equal a fresh full scan.
func TestScanResumesWhereItStopped(t *testing.T) {
	all, err := os.ReadFile(filepath.Join(fixtures, "turns.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []scanOpts{{}, {stopAtRunEnd: true}} {
		// Cut in the middle of a line, as while Claude Code writes it.
		cut := bytes.IndexByte(all[len(all)/2:], '\n') + len(all)/2 + 40
		path := filepath.Join(t.TempDir(), "t.jsonl")
		if err := os.WriteFile(path, all[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		sc, err := scanWith(path, o)
		if err != nil {
			t.Fatal(err)
		}
		if !sc.partialTail || sc.pos >= int64(cut) {
			t.Fatalf("first pass: partial %v, pos %d (cut at %d)", sc.partialTail, sc.pos, cut)
		}
		firstPos, firstLines := sc.pos, sc.lines
		if err := os.WriteFile(path, all, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := sc.resume(path, false); err != nil {
			t.Fatal(err)
		}
		fresh, err := scanWith(path, o)
		if err != nil {
			t.Fatal(err)
		}
		if sc.pos != int64(len(all)) || sc.lines != fresh.lines || sc.lines <= firstLines || firstPos == 0 {
			t.Errorf("resumed: pos %d lines %d, fresh: lines %d (file %d bytes)", sc.pos, sc.lines, fresh.lines, len(all))
		}
		if !reflect.DeepEqual(sc.order, fresh.order) || len(sc.reqs) != len(fresh.reqs) {
			t.Errorf("resumed scan found %v, a fresh one %v", sc.order, fresh.order)
		}
		for k, r := range fresh.reqs {
			if got := sc.reqs[k]; got == nil || got.output != r.output || got.input != r.input {
				t.Errorf("request %s: resumed %+v, fresh %+v", k, got, r)
			}
		}
		// Nothing new: no read at all (the position and line count stay).
		pos, lines := sc.pos, sc.lines
		if err := sc.resume(path, false); err != nil || sc.pos != pos || sc.lines != lines {
			t.Errorf("unchanged file read again: pos %d→%d lines %d→%d (%v)", pos, sc.pos, lines, sc.lines, err)
		}
		// A file replaced by a shorter one is read again from the start.
		if err := os.WriteFile(path+".new", all[:cut/2], 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
		if err := sc.resume(path, false); err != nil || sc.pos > int64(cut/2) {
			t.Errorf("replaced file: pos %d, want at most %d (%v)", sc.pos, cut/2, err)
		}
	}
}
