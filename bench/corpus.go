package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// A synthetic corpus of Claude Code transcripts for the import benchmark:
// a recorded real-client session (testdata/claude/subagent-foreground,
// with its subagent) repeated, every id renewed (session, prompts,
// messages, requests, tool calls, subagents) and every timestamp moved,
// so each session reads as distinct work.

// tmpl is a transcript cut at every id and timestamp: literal bytes,
// then a slot to fill.
type tmpl struct {
	segs       []tseg
	tail       []byte
	first, end time.Time // its earliest and latest timestamps
}

type tseg struct {
	lit  []byte
	slot string // the original id, or a whole "timestamp":"…" member
}

var idPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?:toolu|msg|req)_[A-Za-z0-9]+|"timestamp":"[^"]+"|\ba[0-9a-f]{16}\b`)

func parseTmpl(b []byte) *tmpl {
	t := &tmpl{}
	last := 0
	for _, m := range idPattern.FindAllIndex(b, -1) {
		slot := string(b[m[0]:m[1]])
		t.segs = append(t.segs, tseg{lit: b[last:m[0]], slot: slot})
		last = m[1]
		if ts, ok := strings.CutPrefix(slot, `"timestamp":"`); ok {
			if at, err := time.Parse(time.RFC3339Nano, strings.TrimSuffix(ts, `"`)); err == nil {
				if t.first.IsZero() || at.Before(t.first) {
					t.first = at
				}
				if at.After(t.end) {
					t.end = at
				}
			}
		}
	}
	t.tail = b[last:]
	return t
}

// renew maps an original id to its value in one copy of one session.
type renew struct {
	session, origSession string
	copy                 int
	shift                time.Duration
}

func (r *renew) id(orig string) string {
	switch {
	case orig == r.origSession:
		return r.session
	case strings.HasPrefix(orig, `"timestamp":"`):
		at, err := time.Parse(time.RFC3339Nano, strings.TrimSuffix(strings.TrimPrefix(orig, `"timestamp":"`), `"`))
		if err != nil {
			return orig
		}
		return `"timestamp":"` + at.Add(r.shift).UTC().Format("2006-01-02T15:04:05.000Z") + `"`
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%s", r.session, r.copy, orig)))
	x := hex.EncodeToString(h[:])
	switch {
	case strings.Contains(orig, "_"):
		p, _, _ := strings.Cut(orig, "_")
		return p + "_" + x[:len(orig)-len(p)-1]
	case len(orig) == 17:
		return "a" + x[:16]
	}
	return x[:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}

func (t *tmpl) write(w *bytes.Buffer, r *renew) {
	for _, s := range t.segs {
		w.Write(s.lit)
		w.WriteString(r.id(s.slot))
	}
	w.Write(t.tail)
}

// corpus writes sessions transcripts of about total bytes under
// dir/projects and returns the bytes written and the copies of the
// recorded session in each.
func corpus(src, dir string, sessions int, total int64) (written int64, copies int, err error) {
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(src, name)) }
	mainB, err := read("transcript.jsonl")
	if err != nil {
		return 0, 0, err
	}
	subs, _ := filepath.Glob(filepath.Join(src, "subagents", "agent-*.jsonl"))
	if len(subs) != 1 {
		return 0, 0, fmt.Errorf("%s: want one subagent", src)
	}
	subB, err := os.ReadFile(subs[0])
	if err != nil {
		return 0, 0, err
	}
	metaB, err := os.ReadFile(strings.TrimSuffix(subs[0], ".jsonl") + ".meta.json")
	if err != nil {
		return 0, 0, err
	}
	m := regexp.MustCompile(`"sessionId":"([^"]+)"`).FindSubmatch(mainB)
	if m == nil {
		return 0, 0, fmt.Errorf("%s: no sessionId", src)
	}
	origSession := string(m[1])
	agent := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(subs[0]), "agent-"), ".jsonl")
	main, sub, meta := parseTmpl(mainB), parseTmpl(subB), parseTmpl(metaB)
	span := main.end.Sub(main.first) + time.Minute
	copies = int(max(1, total/int64(sessions)/int64(len(mainB)+len(subB)+len(metaB))))
	base := time.Now().Add(-20 * 24 * time.Hour)
	var buf bytes.Buffer
	for i := range sessions {
		sid := uuid()
		proj := filepath.Join(dir, "projects", fmt.Sprintf("-bench-project-%d", i%20))
		subDir := filepath.Join(proj, sid, "subagents")
		if err := os.MkdirAll(subDir, 0o700); err != nil {
			return written, copies, err
		}
		buf.Reset()
		start := base.Add(time.Duration(i) * 10 * time.Minute)
		for c := range copies {
			r := &renew{session: sid, origSession: origSession, copy: c, shift: start.Add(time.Duration(c) * span).Sub(main.first)}
			main.write(&buf, r)
			var sb bytes.Buffer
			sub.write(&sb, r)
			name := filepath.Join(subDir, "agent-"+r.id(agent))
			if err := os.WriteFile(name+".jsonl", sb.Bytes(), 0o600); err != nil {
				return written, copies, err
			}
			sb.Reset()
			meta.write(&sb, r)
			if err := os.WriteFile(name+".meta.json", sb.Bytes(), 0o600); err != nil {
				return written, copies, err
			}
			written += int64(len(subB) + len(metaB))
		}
		if err := os.WriteFile(filepath.Join(proj, sid+".jsonl"), buf.Bytes(), 0o600); err != nil {
			return written, copies, err
		}
		written += int64(buf.Len())
	}
	return written, copies, nil
}
