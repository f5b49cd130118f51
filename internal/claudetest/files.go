package claudetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"
)

// ReadJSONL decodes a JSONL file (a transcript, events.jsonl) into one
// generic object per line. Numbers stay json.Number, so token counts and
// costs keep every digit.
func ReadJSONL(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return out, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// HookTiming is one hook run as Claude Code's --debug-file log reports it.
type HookTiming struct {
	At       time.Time
	Event    string // with its matcher, e.g. "PreToolUse:Bash", "SessionStart:startup"
	Command  string
	Status   int
	Duration time.Duration // -1 when the log gives none (SessionEnd)
}

// "…Z [DEBUG] Hooks: PreToolUse:Bash [cmd args] finished with status 0 (27ms)"
// "…Z [DEBUG] SessionEnd:other [cmd args] completed with status 0"
var hookLine = regexp.MustCompile(`^(\S+) \[DEBUG\] (?:Hooks: )?(\S+) \[(.*)\] (?:finished|completed) with status (-?\d+)(?: \((\d+)ms\))?`)

// HookTimings reads every hook run from a --debug-file log.
func HookTimings(path string) ([]HookTiming, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []HookTiming
	for _, line := range bytes.Split(b, []byte("\n")) {
		m := hookLine.FindSubmatch(line)
		if m == nil {
			continue
		}
		at, _ := time.Parse(time.RFC3339Nano, string(m[1]))
		status, _ := strconv.Atoi(string(m[4]))
		d := time.Duration(-1)
		if len(m[5]) > 0 {
			ms, _ := strconv.Atoi(string(m[5]))
			d = time.Duration(ms) * time.Millisecond
		}
		out = append(out, HookTiming{At: at, Event: string(m[2]), Command: string(m[3]), Status: status, Duration: d})
	}
	return out, nil
}
