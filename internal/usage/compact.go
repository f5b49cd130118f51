package usage

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// A compact span (the hook's, PreCompact → PostCompact) gets what Claude
// Code wrote of the compaction: the compact_boundary line's
// compactMetadata. Its model call, with the tokens and cost, is the chat
// span the run's finisher puts under it (ledger.go): only the run's
// cost-state knows those.

// boundaryMarker is in every compact_boundary line.
var boundaryMarker = []byte(`"compact_boundary"`)

// maxBoundarySearch bounds how far back from the transcript's end the
// compaction's line is looked for.
const maxBoundarySearch = 64 << 20

// finishCompact sets the compactMetadata of the compact_boundary line
// written while s ran (its timestamp from s's start to a second after its
// end) on s. Until that line is there, it asks again, at most MaxWait
// after s's end; then s goes without.
func (f *finisher) finishCompact(s *tracing.Span, ref *Ref, now time.Time) (bool, time.Time) {
	m, err := boundaryBetween(ref.Path, s.Start, s.End.Add(time.Second))
	if err != nil {
		f.opts.Logf("span %s (compact %s): %v", s.SpanID, ref.Path, err)
	}
	if m == nil && err == nil && !f.opts.NoWait && now.Before(s.End.Add(f.opts.MaxWait)) {
		return false, now.Add(time.Second)
	}
	if m != nil {
		s.SetAttr(tracing.Int(semconv.CompactPreTokens, m.PreTokens))
		s.SetAttr(tracing.Int(semconv.CompactPostTokens, m.PostTokens))
		s.SetAttr(tracing.Int(semconv.CompactDurationMs, m.DurationMs))
	}
	s.Pending = nil
	return true, time.Time{}
}

// boundaryBetween finds, from the end of path back, the compact_boundary
// line whose timestamp is in [from, to], or nil.
func boundaryBetween(path string, from, to time.Time) (*compactV, error) {
	f, fi, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	floor := max(0, fi.Size()-maxBoundarySearch)
	for end := fi.Size(); end > floor; {
		at := lastMarker(f, boundaryMarker, floor, end)
		if at < 0 {
			return nil, nil
		}
		end = at
		e := lineAround(f, at, fi.Size())
		if e == nil || e.Subtype != "compact_boundary" || e.CompactMetadata == nil {
			continue
		}
		switch t := e.time(); {
		case t.Before(from):
			return nil, nil // older than the compaction: it is not written yet
		case !t.After(to):
			return e.CompactMetadata, nil
		}
	}
	return nil, nil
}

// lineAround decodes the line holding byte at (within a MiB of it
// either way: a compact_boundary line is a few KiB), or nil.
func lineAround(f *os.File, at, size int64) *entry {
	const window = 1 << 20
	lo := max(0, at-window)
	b := make([]byte, min(size, at+window)-lo)
	n, err := f.ReadAt(b, lo)
	if err != nil && err != io.EOF {
		return nil
	}
	b = b[:n]
	i := at - lo
	start := bytes.LastIndexByte(b[:i], '\n') + 1
	stop := bytes.IndexByte(b[i:], '\n')
	if stop < 0 {
		return nil // being written
	}
	var e entry
	if json.Unmarshal(b[start:i+int64(stop)], &e) != nil {
		return nil
	}
	return &e
}
