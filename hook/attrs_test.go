package hook

import (
	"testing"

	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
)

// The gen_ai.* keys are spelled out as strings so the hook does not link
// the semconv package; they must match it.
func TestSemconvKeys(t *testing.T) {
	for got, want := range map[string]string{
		keyOperationName:     string(semconv.GenAIOperationNameKey),
		keyProviderName:      string(semconv.GenAIProviderNameKey),
		keyAgentName:         string(semconv.GenAIAgentNameKey),
		keyAgentID:           string(semconv.GenAIAgentIDKey),
		keyAgentDescription:  string(semconv.GenAIAgentDescriptionKey),
		keyConversationID:    string(semconv.GenAIConversationIDKey),
		keyRequestModel:      string(semconv.GenAIRequestModelKey),
		keyToolName:          string(semconv.GenAIToolNameKey),
		keyToolCallID:        string(semconv.GenAIToolCallIDKey),
		keyToolCallArguments: string(semconv.GenAIToolCallArgumentsKey),
		keyToolCallResult:    string(semconv.GenAIToolCallResultKey),
		keyErrorType:         string(semconv.ErrorTypeKey),
		opInvokeAgent:        semconv.GenAIOperationNameInvokeAgent.Value.AsString(),
		opExecuteTool:        semconv.GenAIOperationNameExecuteTool.Value.AsString(),
		providerAnthropic:    semconv.GenAIProviderNameAnthropic.Value.AsString(),
	} {
		if got != want {
			t.Errorf("%q, semconv says %q", got, want)
		}
	}
}
