package claudetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Action is one thing a person does in the TUI (see [Step.TUI]).
type Action struct {
	// Do is what: "type" (Text, then Enter), "keys" (Text: tmux key
	// names separated by spaces), "screen" (wait until the screen shows
	// Text), "event" (wait until the recorder has N events named Text),
	// "answer" (press Keys until the screen no longer shows Text: a
	// dialog that may not take the first key while it is drawn),
	// "request" (wait until the scripted API has received N requests in
	// this run), "sleep" (N milliseconds), "exit" (type /exit and wait
	// for claude to end) or "exited" (wait for claude to end, e.g. after
	// C-c twice).
	Do   string `json:"do"`
	Text string `json:"text,omitempty"`
	N    int    `json:"n,omitempty"`
	Keys string `json:"keys,omitempty"`
}

// Answered is an Action that answers a dialog showing text with keys.
func Answered(text, keys string) Action { return Action{Do: "answer", Text: text, Keys: keys} }

// Typed is an Action that types text and presses Enter.
func Typed(text string) Action { return Action{Do: "type", Text: text} }

// Pressed is an Action that presses keys by tmux name.
func Pressed(keys string) Action { return Action{Do: "keys", Text: keys} }

// OnScreen is an Action that waits until the screen shows text.
func OnScreen(text string) Action { return Action{Do: "screen", Text: text} }

// AfterEvent is an Action that waits until the n-th event named name was
// recorded.
func AfterEvent(name string, n int) Action { return Action{Do: "event", Text: name, N: n} }

// AfterRequest is an Action that waits until the scripted API has received
// the n-th request of the run (the TUI shows no streamed text before a
// block is complete, so this is how to act while the model streams).
func AfterRequest(n int) Action { return Action{Do: "request", N: n} }

// Pause is an Action that waits d.
func Pause(d time.Duration) Action { return Action{Do: "sleep", N: int(d.Milliseconds())} }

// Exit is the Action that types /exit and waits for claude to end.
func Exit() Action { return Action{Do: "exit"} }

// Exited is the Action that waits for claude to end by itself.
func Exited() Action { return Action{Do: "exited"} }

// actionTimeout bounds each wait of a TUI step.
const actionTimeout = 20 * time.Second

// runTUI plays one TUI step: starts claude in tmux, does the actions in
// order, and returns what the run produced as a Result (no stream-json:
// Messages is empty). The tmux server is always killed before it returns.
func (sb *Sandbox) runTUI(ctx context.Context, o RunOptions, actions []Action, requests func() int) (*Result, error) {
	if err := sb.SeedClaudeJSON(); err != nil {
		return nil, err
	}
	res := &Result{Started: time.Now(), ExitCode: -1, SessionID: o.SessionID}
	tui, err := sb.StartTUI(ctx, o)
	if err != nil {
		return res, err
	}
	defer tui.Close()
	for i, a := range actions {
		if err := tui.do(ctx, a, requests); err != nil {
			res.Duration = time.Since(res.Started)
			res.Stderr, _ = os.ReadFile(filepath.Join(sb.Root, "tui.stderr"))
			res.Transcript, res.Subagents = sb.Transcripts(res.SessionID)
			return res, fmt.Errorf("TUI action %d %+v: %w", i+1, a, err)
		}
		if a.Do == "exit" || a.Do == "exited" {
			res.ExitCode, _ = tui.Wait(ctx, actionTimeout)
		}
	}
	res.Duration = time.Since(res.Started)
	res.Stderr, _ = os.ReadFile(filepath.Join(sb.Root, "tui.stderr"))
	res.Transcript, res.Subagents = sb.Transcripts(res.SessionID)
	res.Sessions = sb.clearedSessions()
	return res, nil
}

func (tui *TUI) do(ctx context.Context, a Action, requests func() int) error {
	switch a.Do {
	case "type":
		return tui.Type(a.Text)
	case "keys":
		return tui.Keys(strings.Fields(a.Text)...)
	case "screen":
		return tui.WaitFor(ctx, a.Text, actionTimeout)
	case "event":
		ctx, cancel := context.WithTimeout(ctx, actionTimeout)
		defer cancel()
		if !tui.sb.waitEvent(ctx, a.Text, max(a.N, 1)) {
			return fmt.Errorf("no %s #%d recorded after %s; screen:\n%s", a.Text, max(a.N, 1), actionTimeout, tui.Screen())
		}
		return nil
	case "answer":
		if err := tui.WaitFor(ctx, a.Text, actionTimeout); err != nil {
			return err
		}
		for try := 0; try < 5; try++ {
			sleep(ctx, 300*time.Millisecond)
			if err := tui.Keys(strings.Fields(a.Keys)...); err != nil {
				return err
			}
			if tui.waitGone(ctx, a.Text, 2*time.Second) {
				return nil
			}
		}
		return fmt.Errorf("the dialog %q did not take %q:\n%s", a.Text, a.Keys, tui.Screen())
	case "request":
		deadline := time.Now().Add(actionTimeout)
		for requests() < a.N {
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("no request #%d after %s; screen:\n%s", a.N, actionTimeout, tui.Screen())
			}
			sleep(ctx, 50*time.Millisecond)
		}
		return nil
	case "sleep":
		sleep(ctx, time.Duration(a.N)*time.Millisecond)
		return nil
	case "exit":
		return tui.Type("/exit")
	case "exited":
		return nil // runTUI waits
	}
	return fmt.Errorf("unknown TUI action %q", a.Do)
}

// clearedSessions are the session ids that /clear started, from the
// recorded SessionStart events with source "clear", in order.
func (sb *Sandbox) clearedSessions() []string {
	if sb.Events == "" {
		return nil
	}
	evs, _ := ReadEvents(sb.Events)
	var out []string
	for _, e := range evs {
		if e.Name() == "SessionStart" && e.String("source") == "clear" {
			out = append(out, e.String("session_id"))
		}
	}
	return out
}

// waitGone polls the screen until it no longer shows text; it reports
// whether that happened within timeout.
func (tui *TUI) waitGone(ctx context.Context, text string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if !strings.Contains(tui.Screen(), text) {
			return true
		}
		sleep(ctx, 100*time.Millisecond)
	}
	return false
}
