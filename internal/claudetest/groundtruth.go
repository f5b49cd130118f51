package claudetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Ground truth of a played scenario, as committed in testdata/claude/<name>/:
//
//	events.jsonl              the hook payloads, in the order the hooks ran, one a line, as sent
//	transcript.jsonl          the session's transcript (all runs; a resume appends to it)
//	transcript-run<N>.jsonl   the transcript of run N when it wrote another session (--fork-session)
//	subagents/agent-<id>.jsonl, agent-<id>.meta.json
//	api.json                  the scenario and, per request, what the scripted API declared
//
// Temporary paths are replaced by placeholders ($HOME, $CWD, $TMPDIR, $ROOT,
// $PROJECT for the transcript directory name, $RECORDER for the hook
// command), and in transcript lines other than user and assistant ones
// (attachments, api-request-shape, api-request-blob, …) every string longer
// than LongString is cut: Claude Code's own system prompt and tool
// descriptions make up nine tenths of a transcript's bytes. User and
// assistant lines, and the payloads in events.jsonl, are never cut.

// LongString is the length above which WriteGroundTruth cuts a string.
const LongString = 300

// Placeholders replaces the sandbox's temporary paths in s.
func (p *Play) Placeholders() *strings.Replacer {
	sb := p.Sandbox
	exe, _ := os.Executable()
	project := regexp.MustCompile(`[^a-zA-Z0-9]`).ReplaceAllString(sb.Cwd, "-")
	pairs := []string{}
	if exe != "" {
		pairs = append(pairs, exe, "$RECORDER")
	}
	pairs = append(pairs,
		filepath.Join(sb.Tmp, "claude-"+strconv.Itoa(os.Getuid())), "$TMPDIR/claude-$UID",
		sb.Home, "$HOME",
		sb.Cwd, "$CWD",
		sb.Tmp, "$TMPDIR",
		sb.Root, "$ROOT",
		project, "$PROJECT",
	)
	return strings.NewReplacer(pairs...)
}

// WriteGroundTruth replaces dir with the ground truth of p.
func WriteGroundTruth(dir string, p *Play) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ph := p.Placeholders()

	var ev bytes.Buffer
	for _, e := range p.Events {
		ev.WriteString(ph.Replace(string(e.Payload)))
		ev.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "events.jsonl"), ev.Bytes(), 0o644); err != nil {
		return err
	}

	seen := map[string]bool{}
	for i, r := range p.Runs {
		for k, id := range r.Sessions {
			if path, _ := p.Sandbox.Transcripts(id); path != "" {
				if err := copyTranscript(filepath.Join(dir, fmt.Sprintf("transcript-clear%d.jsonl", k+1)), path, ph); err != nil {
					return err
				}
			}
		}
		if r.Transcript == "" || seen[r.Transcript] {
			continue
		}
		seen[r.Transcript] = true
		name := "transcript.jsonl"
		if r.SessionID != p.Scenario.SessionID {
			name = fmt.Sprintf("transcript-run%d.jsonl", i+1)
		}
		if err := copyTranscript(filepath.Join(dir, name), r.Transcript, ph); err != nil {
			return err
		}
		for _, sub := range r.Subagents {
			if seen[sub] {
				continue
			}
			seen[sub] = true
			if err := os.MkdirAll(filepath.Join(dir, "subagents"), 0o755); err != nil {
				return err
			}
			if err := copyTranscript(filepath.Join(dir, "subagents", filepath.Base(sub)), sub, ph); err != nil {
				return err
			}
			meta := strings.TrimSuffix(sub, ".jsonl") + ".meta.json"
			if b, err := os.ReadFile(meta); err == nil {
				if err := os.WriteFile(filepath.Join(dir, "subagents", filepath.Base(meta)), []byte(ph.Replace(string(b))), 0o644); err != nil {
					return err
				}
			}
		}
	}

	b, err := json.MarshalIndent(p.apiRecord(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "api.json"), append(b, '\n'), 0o644)
}

// APIRecord is api.json: the scenario as played and, per request in
// arrival order, what the scripted API declared.
type APIRecord struct {
	Scenario   string          `json:"scenario"`
	Doc        string          `json:"doc"`
	ClaudeCode string          `json:"claude_code"`
	SessionID  string          `json:"session_id"`
	Model      string          `json:"model_flag,omitempty"`
	Runs       []APIRun        `json:"runs"`
	Requests   []APIRequestRec `json:"requests"`
}

// APIRun is one run of a scenario in api.json.
type APIRun struct {
	Prompt         string       `json:"prompt,omitempty"`
	Input          []string     `json:"input,omitempty"`
	TUI            []Action     `json:"tui,omitempty"`
	PermissionMode string       `json:"permission_mode,omitempty"`
	MCP            bool         `json:"mcp,omitempty"`
	Interrupt      *Interrupt   `json:"interrupt,omitempty"`
	DurationMS     int64        `json:"duration_ms"`
	CostState      []CostRecord `json:"cost_state,omitempty"`
	Args           []string     `json:"args,omitempty"`
	PauseMS        int64        `json:"pause_ms,omitempty"`
	SessionID      string       `json:"session_id"`
	ExitCode       int          `json:"exit_code"`
	Script         Script       `json:"script"`
}

// APIRequestRec is one request in api.json.
type APIRequestRec struct {
	Run            int    `json:"run"` // 1-based
	Method         string `json:"method"`
	Path           string `json:"path"`
	Query          string `json:"query,omitempty"`
	Kind           Kind   `json:"kind,omitempty"`
	Index          int    `json:"index"` // in its script (main or subagent), -1 if none
	RequestedModel string `json:"requested_model,omitempty"`
	Status         int    `json:"status"`
	Error          string `json:"error,omitempty"`
	// AtMS and DurationMS: when the attempt arrived (milliseconds since the
	// scenario started) and how long its answer took, failed attempts too.
	AtMS       int64 `json:"at_ms"`
	DurationMS int64 `json:"duration_ms"`
	// APIError is the scripted error this attempt was answered with.
	APIError   *APIError  `json:"api_error,omitempty"`
	Aborted    bool       `json:"aborted,omitempty"` // the client went away mid-answer
	MessageID  string     `json:"message_id,omitempty"`
	RequestID  string     `json:"request_id,omitempty"`
	Model      string     `json:"model,omitempty"` // declared in the response
	StopReason string     `json:"stop_reason,omitempty"`
	Usage      *Usage     `json:"usage,omitempty"`
	Blocks     []APIBlock `json:"blocks,omitempty"`
}

// APIBlock names one content block of a response in api.json.
type APIBlock struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

func (p *Play) apiRecord() APIRecord {
	sc := p.Scenario
	rec := APIRecord{Scenario: sc.Name, Doc: sc.Doc, ClaudeCode: Version, SessionID: sc.SessionID, Model: sc.Model}
	for i, st := range sc.Runs {
		r := APIRun{Prompt: st.Prompt, Input: st.Input, TUI: st.TUI, PermissionMode: st.PermissionMode, MCP: st.MCP,
			Interrupt: st.Interrupt, Args: st.Args, PauseMS: st.Pause.Milliseconds(), Script: st.Script}
		if i < len(p.Runs) {
			run := p.Runs[i]
			r.SessionID, r.ExitCode, r.DurationMS = run.SessionID, run.ExitCode, run.Duration.Milliseconds()
			// The last cost-state of a transcript is the session's total at
			// the end of the last run that wrote it.
			if last := slices.IndexFunc(p.Runs[i+1:], func(l *Result) bool { return l.SessionID == run.SessionID }); last < 0 {
				r.CostState = p.costRecords(run)
			}
		}
		rec.Runs = append(rec.Runs, r)
	}
	for i, q := range p.Requests {
		r := APIRequestRec{Method: q.Method, Path: q.Path, Query: q.Query, Kind: q.Kind, Index: q.Index,
			RequestedModel: q.Model, Status: q.Status, Error: q.Error, MessageID: q.MsgID, RequestID: q.ReqID}
		if i < len(p.RunOf) {
			r.Run = p.RunOf[i] + 1
		}
		r.AtMS = q.Received.Sub(p.StartedAt).Milliseconds()
		if !q.Finished.IsZero() {
			r.DurationMS = q.Finished.Sub(q.Received).Milliseconds()
		}
		r.Aborted = q.Aborted
		if q.Response != nil && q.Response.Error != nil {
			r.APIError = q.Response.Error
		} else if q.Response != nil {
			r.Model, r.StopReason = q.Response.Model, q.Response.stopReason()
			u := q.Response.Usage
			r.Usage = &u
			for _, b := range q.Response.Blocks {
				if b.Tool != "" {
					r.Blocks = append(r.Blocks, APIBlock{Type: "tool_use", ID: b.ID, Name: b.Tool})
				} else {
					r.Blocks = append(r.Blocks, APIBlock{Type: "text"})
				}
			}
		}
		rec.Requests = append(rec.Requests, r)
	}
	return rec
}

// copyTranscript copies a JSONL transcript with placeholders in and long
// strings cut. A line that is not JSON is copied as it is.
func copyTranscript(dst, src string, ph *strings.Replacer) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		line := []byte(ph.Replace(sc.Text()))
		var kind struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(line, &kind) == nil && kind.Type != "user" && kind.Type != "assistant" {
			if c, err := CutLongStrings(line, LongString); err == nil {
				line = c
			}
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return os.WriteFile(dst, out.Bytes(), 0o644)
}

// CutLongStrings re-encodes one JSON value, keeping its member order, with
// every string longer than max runes cut to its first max/4 runes and a note
// of how much was cut.
func CutLongStrings(doc []byte, max int) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out bytes.Buffer
	// Each open container: its kind, and whether the next token is a key
	// (objects) and whether a comma is due.
	type frame struct {
		object, wantKey, comma bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			break
		}
		if err != nil {
			return nil, err
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			out.WriteByte(byte(d))
			stack = stack[:top]
			continue
		}
		// A value or a key follows: separators first.
		if top >= 0 {
			f := &stack[top]
			switch {
			case f.object && f.wantKey:
				if f.comma {
					out.WriteByte(',')
				}
				f.comma, f.wantKey = true, false
			case f.object:
				out.WriteByte(':')
				f.wantKey = true
			default:
				if f.comma {
					out.WriteByte(',')
				}
				f.comma = true
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(v))
			stack = append(stack, frame{object: v == '{', wantKey: v == '{'})
		case string:
			if r := []rune(v); len(r) > max {
				v = string(r[:max/4]) + fmt.Sprintf("…[claudetest: %d of %d characters cut]", len(r)-max/4, len(r))
			}
			// As json.Marshal, but "<", ">" and "&" stay as they are.
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(v)
			out.Truncate(out.Len() - 1) // Encode's newline
		case json.Number:
			out.WriteString(v.String())
		case bool:
			out.WriteString(strconv.FormatBool(v))
		case nil:
			out.WriteString("null")
		}
	}
	return out.Bytes(), nil
}

// CostRecord is Claude Code's own account of a session's cost at the end of
// a run: its last cost-state line's totalCostUSD and modelUsage (tokens and
// costUSD per model), the figure /cost and stream-json's total_cost_usd
// report. It includes the calls no assistant line records (compaction).
type CostRecord struct {
	SessionID    string         `json:"session_id"`
	TotalCostUSD json.Number    `json:"totalCostUSD"`
	ModelUsage   map[string]any `json:"modelUsage"`
}

// costRecords reads the last cost-state line of each transcript the run
// wrote (its session, then the sessions /clear started).
func (p *Play) costRecords(r *Result) []CostRecord {
	var out []CostRecord
	for _, id := range append([]string{r.SessionID}, r.Sessions...) {
		path, _ := p.Sandbox.Transcripts(id)
		lines, err := ReadJSONL(path)
		if err != nil {
			continue
		}
		for i := len(lines) - 1; i >= 0; i-- {
			if lines[i]["type"] == "cost-state" {
				total, _ := lines[i]["totalCostUSD"].(json.Number)
				mu, _ := lines[i]["modelUsage"].(map[string]any)
				out = append(out, CostRecord{SessionID: id, TotalCostUSD: total, ModelUsage: mu})
				break
			}
		}
	}
	return out
}
