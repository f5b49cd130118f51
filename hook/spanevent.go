package hook

import (
	"encoding/json"

	"github.com/ccotel/ccotel/internal/semconv"
	"github.com/ccotel/ccotel/internal/utf8cut"
	"github.com/ccotel/ccotel/tracing"
)

// addEvent appends a span event to o, within MaxEventsPerSpan.
func (m *machine) addEvent(o *openSpan, name string, attrs []tracing.Attr) {
	m.load(o)
	m.touch(o, m.t)
	if o.NEvents >= MaxEventsPerSpan {
		o.Span.DroppedEvents++
		return
	}
	// Kept as JSON until the span ends: a span's record is decoded on
	// every event that touches it, its span events only once.
	b, err := json.Marshal(tracing.Event{Name: name, Time: m.t, Attrs: attrs})
	if err != nil {
		return
	}
	if len(o.Events) == 0 {
		o.Events = append(append(json.RawMessage{'['}, b...), ']')
	} else {
		o.Events = append(append(append(o.Events[:len(o.Events)-1:len(o.Events)-1], ','), b...), ']')
	}
	o.NEvents++
}

// eventAttrs are the attributes of a span event: low-risk enumerations
// always; names, paths and directories at details; free text at content.
func (m *machine) eventAttrs() []tracing.Attr {
	ev, o := m.ev, m.opts
	var a []tracing.Attr
	add := func(k, v string) {
		if v != "" {
			a = append(a, tracing.String(k, utf8cut.Prefix(v, 256)))
		}
	}
	add(semconv.GenAIToolName, ev.ToolName)
	add(semconv.EventSource, ev.Source)
	add(semconv.EventTrigger, ev.Trigger)
	add(semconv.EventNotificationType, ev.NotificationType)
	add(semconv.EventLoadReason, ev.LoadReason)
	add(semconv.EventMemoryType, ev.MemoryType)
	add(semconv.EventAction, ev.Action)
	add(semconv.EventMode, ev.Mode)
	add(semconv.EventTaskID, ev.TaskID)
	add(semconv.EventFileEvent, ev.FileEvent)
	add(semconv.EventExpansionType, ev.ExpansionType)
	add(semconv.EventCommandSource, ev.CommandSource)
	if ev.Name == SessionStart {
		add(semconv.GenAIRequestModel, ev.Model)
	}
	add(semconv.ModelFrom, ev.FromModel)
	add(semconv.ModelTo, ev.ToModel)
	add(semconv.ModelRequested, ev.RequestedModel)
	if ev.HasContextTokens {
		a = append(a, tracing.Int(semconv.ContextTokens, ev.ContextTokens))
	}
	if ev.HasPromptCacheWarm {
		a = append(a, tracing.Bool(semconv.PromptCacheWarm, ev.PromptCacheWarm))
	}
	if ev.HasEstimatedCacheWriteUSD {
		a = append(a, tracing.Float(semconv.EstimatedCacheWriteUSD, ev.EstimatedCacheWriteUSD))
	}
	if ev.Name == PostToolBatch {
		a = append(a, tracing.Int(semconv.EventToolBatchSize, int64(ev.ToolBatchSize)))
	}
	if !o.details() {
		return a
	}
	addClean := func(k, v string) {
		if v != "" {
			a = append(a, tracing.String(k, o.clean(v)))
		}
	}
	addClean(semconv.EventFilePath, ev.FilePath)
	addClean(semconv.EventNewCwd, ev.NewCwd)
	addClean(semconv.EventDirectory, ev.Directory)
	addClean(semconv.EventWorktreeName, ev.WorktreeName)
	addClean(semconv.EventWorktreePath, ev.WorktreePath)
	addClean(semconv.EventMCPServerName, ev.MCPServerName)
	addClean(semconv.EventCommandName, ev.CommandName)
	addClean(semconv.EventTeammateName, ev.TeammateName)
	if ev.Name == PermissionDenied || ev.Name == SessionEnd {
		addClean(semconv.EventReason, ev.Reason)
	}
	if !o.content() {
		return a
	}
	addClean(semconv.EventMessage, ev.Message)
	addClean(semconv.EventTitle, ev.Title)
	addClean(semconv.EventTaskSubject, ev.TaskSubject)
	if ev.Name == UserPromptExpansion {
		addClean(semconv.PromptText, ev.Prompt)
	}
	return a
}
