package usage

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/tracing"
)

// Options configure the finisher.
type Options struct {
	// Prices overrides the built-in price table, by model id or prefix.
	Prices map[string]Price
	// MaxWait is how long after a span's end the finisher waits for its
	// transcript to settle before exporting what is there, marked
	// claude_code.usage.complete=false. Default 60s.
	MaxWait time.Duration
	// Quiet is how long a transcript must have gone unmodified to count
	// as settled when no line says the turn is over. Default 5s.
	Quiet time.Duration
	// NoWait treats transcripts as final at once (replay of recorded
	// sessions): no waiting, no completeness marker.
	NoWait bool
	// Logf receives diagnostics (nil: dropped).
	Logf func(format string, args ...any)
}

const (
	defaultMaxWait = 60 * time.Second
	defaultQuiet   = 5 * time.Second
)

// New returns a Finisher that completes spans whose Pending holds a Ref:
// it reads the transcript(s), and when the span's usage is final (see
// docs/TOKENS.md) sets the token, model and cost attributes and clears
// Pending. Until then it returns done=false with the time to ask again,
// never later than the span's end plus MaxWait.
//
// It never panics and never guesses: a missing or unreadable transcript,
// or a Ref it cannot decode, finishes the span without usage attributes
// and logs why.
func New(o Options) tracing.Finisher {
	if o.MaxWait <= 0 {
		o.MaxWait = defaultMaxWait
	}
	if o.Quiet <= 0 {
		o.Quiet = defaultQuiet
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	f := &finisher{opts: o, prices: NewPrices(o.Prices)}
	return f.finish
}

type finisher struct {
	opts   Options
	prices *Prices
}

func (f *finisher) finish(s *tracing.Span, now time.Time) (done bool, retryAt time.Time) {
	if len(s.Pending) == 0 {
		return true, time.Time{}
	}
	defer func() {
		if p := recover(); p != nil {
			f.opts.Logf("span %s: panic reading usage: %v", s.SpanID, p)
			s.Pending = nil
			done, retryAt = true, time.Time{}
		}
	}()
	var ref Ref
	if err := json.Unmarshal(s.Pending, &ref); err != nil {
		f.opts.Logf("span %s: undecodable usage reference: %v", s.SpanID, err)
		s.Pending = nil
		return true, time.Time{}
	}
	if !f.opts.NoWait && now.Before(s.ReadyAt) {
		return false, s.ReadyAt
	}
	res, err := f.read(&ref)
	if err != nil {
		f.opts.Logf("span %s (%s %s): no usage: %v", s.SpanID, ref.Scope, ref.Path, err)
		s.Pending = nil
		return true, time.Time{}
	}
	settled, lastWrite := res.settled, res.lastWrite
	if !settled && !f.opts.NoWait && !lastWrite.IsZero() && now.Sub(lastWrite) >= f.opts.Quiet {
		settled = true
	}
	if !settled && !f.opts.NoWait {
		end := s.End
		if end.IsZero() {
			end = s.ReadyAt
		}
		deadline := end.Add(f.opts.MaxWait)
		if now.Before(deadline) {
			retry := deadline
			if q := lastWrite.Add(f.opts.Quiet); q.After(now) && q.Before(retry) {
				retry = q
			}
			if min := now.Add(250 * time.Millisecond); retry.Before(min) {
				retry = min
			}
			return false, retry
		}
		f.opts.Logf("span %s (%s %s): transcript not settled %s after the span ended; exporting usage marked incomplete",
			s.SpanID, ref.Scope, ref.Path, f.opts.MaxWait)
	}
	complete := settled || f.opts.NoWait
	if res.tooLong > 0 {
		f.opts.Logf("span %s (%s %s): skipped %d transcript line(s) over %d bytes; usage marked incomplete",
			s.SpanID, ref.Scope, ref.Path, res.tooLong, MaxLine)
		complete = false
	}
	if len(res.unreadable) > 0 {
		f.opts.Logf("span %s (%s %s): unreadable subagent transcript(s) %s; usage marked incomplete",
			s.SpanID, ref.Scope, ref.Path, strings.Join(res.unreadable, "; "))
		complete = false
	}
	if res.malformed > 0 {
		f.opts.Logf("span %s (%s %s): skipped %d malformed transcript line(s)", s.SpanID, ref.Scope, ref.Path, res.malformed)
	}
	f.apply(s, res)
	if !complete {
		s.SetAttr(tracing.Bool(semconv.UsageComplete, false))
	}
	s.Pending = nil
	return true, time.Time{}
}

// result is the usage of one span, over one or more transcript files.
type result struct {
	reqs       []*request
	settled    bool      // every file's content says it is over
	lastWrite  time.Time // latest modification time of the files read
	malformed  int
	tooLong    int
	unreadable []string // subagent files that could not be read
}

// read scans the files of ref and tallies its requests.
func (f *finisher) read(ref *Ref) (*result, error) {
	if ref.Path == "" {
		return nil, fmt.Errorf("no transcript path")
	}
	if ref.Offset < 0 {
		return nil, fmt.Errorf("negative offset %d", ref.Offset)
	}
	res := &result{settled: true}
	merged := map[string]*request{}
	var order []string
	addScan := func(i int, sc *scan) {
		for _, k := range sc.order {
			r := sc.reqs[k]
			if strings.HasPrefix(k, "#") {
				// Ungroupable lines are distinct in every file.
				k += "@" + strconv.Itoa(i)
			}
			old, ok := merged[k]
			if !ok {
				merged[k] = r
				order = append(order, k)
			} else if r.output >= old.output {
				merged[k] = r
			}
		}
		if sc.modTime.After(res.lastWrite) {
			res.lastWrite = sc.modTime
		}
		res.malformed += sc.malformed
		res.tooLong += sc.tooLong
	}

	switch ref.Scope {
	case "turn":
		sc, err := scanFile(ref.Path, ref.Offset, &turnFilter{promptID: ref.PromptID})
		if err != nil {
			return nil, err
		}
		addScan(0, sc)
		res.settled = sc.ended || (!sc.partialTail && (sc.stopMarker || sc.terminal()))
	case "agent":
		sc, err := scanFile(ref.Path, ref.Offset, nil)
		if err != nil {
			return nil, err
		}
		addScan(0, sc)
		res.settled = sc.terminal()
	case "session":
		sc, err := scanFile(ref.Path, ref.Offset, nil)
		if err != nil {
			return nil, err
		}
		addScan(0, sc)
		res.settled = sc.terminal()
		if ref.SubagentDir != "" {
			files, _ := filepath.Glob(filepath.Join(ref.SubagentDir, "*.jsonl"))
			sort.Strings(files)
			for i, p := range files {
				sc, err := scanFile(p, 0, nil)
				if err != nil {
					// A subagent file that vanished or cannot be read:
					// the totals are short.
					res.unreadable = append(res.unreadable, fmt.Sprintf("%s: %v", filepath.Base(p), err))
					continue
				}
				addScan(i+1, sc)
				res.settled = res.settled && sc.terminal()
			}
		}
	default:
		return nil, fmt.Errorf("unknown scope %q", ref.Scope)
	}
	for _, k := range order {
		res.reqs = append(res.reqs, merged[k])
	}
	return res, nil
}

// apply sets the usage attributes of res on s.
func (f *finisher) apply(s *tracing.Span, res *result) {
	s.SetAttr(tracing.Int(semconv.UsageAPIRequests, int64(len(res.reqs))))
	if len(res.reqs) == 0 {
		return
	}
	var in, out, cr, cw, cw1h int64
	var cost float64
	costKnown := true
	var models []string
	seen := map[string]bool{}
	for _, r := range res.reqs {
		in += r.input
		out += r.output
		cr += r.cacheRead
		cw += r.cacheWrite
		cw1h += r.cache1h
		if r.model != "" && !seen[r.model] {
			seen[r.model] = true
			models = append(models, r.model)
		}
		if c, ok := f.prices.cost(r); ok && costKnown {
			cost += c
		} else {
			costKnown = false
		}
	}
	s.SetAttr(tracing.Int(semconv.GenAIUsageInputTokens, in+cr+cw))
	s.SetAttr(tracing.Int(semconv.GenAIUsageOutputTokens, out))
	s.SetAttr(tracing.Int(semconv.GenAIUsageCacheReadInputTokens, cr))
	s.SetAttr(tracing.Int(semconv.GenAIUsageCacheCreationInputTokens, cw))
	s.SetAttr(tracing.Int(semconv.UsageUncachedInputTokens, in))
	if cw1h > 0 {
		s.SetAttr(tracing.Int(semconv.UsageCacheCreation1hInputTokens, cw1h))
	}
	if len(models) > 0 {
		if _, ok := s.Attr(semconv.GenAIRequestModel); !ok {
			s.SetAttr(tracing.String(semconv.GenAIRequestModel, models[0]))
		}
		s.SetAttr(tracing.String(semconv.GenAIResponseModel, models[0]))
		if len(models) > 1 {
			s.SetAttr(tracing.Strings(semconv.UsageModels, models...))
		}
	}
	if costKnown {
		s.SetAttr(tracing.Float(semconv.UsageCostUSD, roundUSD(cost)))
	}
}

// roundUSD rounds to a billionth of a dollar, below the price of a single
// token (the cheapest is 3·10⁻⁸ $), so sums print without float noise.
func roundUSD(x float64) float64 { return math.Round(x*1e9) / 1e9 }
