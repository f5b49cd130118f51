package importer

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Session is a main transcript found: <project>/<session id>.jsonl.
type Session struct {
	ID, Path string
	Size     int64
	ModTime  time.Time
}

// Find lists the session transcripts under paths: a directory is walked
// (symbolic links are not followed; subagent transcripts, under
// <session>/subagents, are read with their session), a file is taken as
// a transcript. Only regular files named *.jsonl count. Oldest first.
func Find(paths []string) ([]Session, error) {
	var out []Session
	seen := map[string]bool{}
	add := func(path string, fi fs.FileInfo) {
		name := filepath.Base(path)
		if !fi.Mode().IsRegular() || !strings.HasSuffix(name, ".jsonl") || strings.HasPrefix(name, "agent-") || seen[path] {
			return
		}
		seen[path] = true
		out = append(out, Session{ID: strings.TrimSuffix(name, ".jsonl"), Path: path, Size: fi.Size(), ModTime: fi.ModTime()})
	}
	for _, root := range paths {
		fi, err := os.Lstat(root)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			add(root, fi)
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == root {
					return err
				}
				return nil // an unreadable directory of a project: the others still count
			}
			if d.IsDir() {
				if path != root && (d.Name() == "subagents" || d.Name() == "tool-results") {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".jsonl") {
				if fi, err := d.Info(); err == nil {
					add(path, fi)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ModTime.Before(out[j].ModTime) })
	return out, nil
}

// subagents lists the subagent transcripts of the session whose main
// transcript is path: <session>/subagents/agent-<id>.jsonl, regular files.
func subagents(path string) []string {
	dir := filepath.Join(strings.TrimSuffix(path, ".jsonl"), "subagents")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, "agent-") && strings.HasSuffix(n, ".jsonl") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}
