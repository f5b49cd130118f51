package semconv

import (
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"

	otel "go.opentelemetry.io/otel/semconv/v1.41.0"
)

// Every name this package takes from the OpenTelemetry semantic conventions
// is spelled as they spell it. v1.41.0 is the newest Go package that has
// the GenAI conventions: go.opentelemetry.io/otel/semconv/v1.42.0 and later
// dropped every gen_ai.* name when the conventions moved to the
// semantic-conventions-genai project, which publishes no Go package.
//
// The test also parses this package and fails on a constant spelled like a
// convention's name (a dotted key outside claude_code.* and ccotel.*, an
// operation or provider name) that it does not check, so a new one cannot
// slip past it.
func TestConventions(t *testing.T) {
	checked := map[string][2]string{ // Go name: {ours, the conventions'}
		"SchemaURL": {SchemaURL, otel.SchemaURL},

		"GenAIOperationName":     {GenAIOperationName, string(otel.GenAIOperationNameKey)},
		"GenAIProviderName":      {GenAIProviderName, string(otel.GenAIProviderNameKey)},
		"GenAIConversationID":    {GenAIConversationID, string(otel.GenAIConversationIDKey)},
		"GenAIAgentName":         {GenAIAgentName, string(otel.GenAIAgentNameKey)},
		"GenAIAgentID":           {GenAIAgentID, string(otel.GenAIAgentIDKey)},
		"GenAIAgentDescription":  {GenAIAgentDescription, string(otel.GenAIAgentDescriptionKey)},
		"GenAIRequestModel":      {GenAIRequestModel, string(otel.GenAIRequestModelKey)},
		"GenAIResponseModel":     {GenAIResponseModel, string(otel.GenAIResponseModelKey)},
		"GenAIToolName":          {GenAIToolName, string(otel.GenAIToolNameKey)},
		"GenAIToolCallID":        {GenAIToolCallID, string(otel.GenAIToolCallIDKey)},
		"GenAIToolCallArguments": {GenAIToolCallArguments, string(otel.GenAIToolCallArgumentsKey)},
		"GenAIToolCallResult":    {GenAIToolCallResult, string(otel.GenAIToolCallResultKey)},

		"GenAIUsageInputTokens":              {GenAIUsageInputTokens, string(otel.GenAIUsageInputTokensKey)},
		"GenAIUsageOutputTokens":             {GenAIUsageOutputTokens, string(otel.GenAIUsageOutputTokensKey)},
		"GenAIUsageCacheReadInputTokens":     {GenAIUsageCacheReadInputTokens, string(otel.GenAIUsageCacheReadInputTokensKey)},
		"GenAIUsageCacheCreationInputTokens": {GenAIUsageCacheCreationInputTokens, string(otel.GenAIUsageCacheCreationInputTokensKey)},
		"ErrorType":                          {ErrorType, string(otel.ErrorTypeKey)},
		"HTTPResponseStatusCode":             {HTTPResponseStatusCode, string(otel.HTTPResponseStatusCodeKey)},
		"HTTPRequestResendCount":             {HTTPRequestResendCount, string(otel.HTTPRequestResendCountKey)},

		"OperationInvokeAgent":       {OperationInvokeAgent, otel.GenAIOperationNameInvokeAgent.Value.AsString()},
		"OperationExecuteTool":       {OperationExecuteTool, otel.GenAIOperationNameExecuteTool.Value.AsString()},
		"OperationChat":              {OperationChat, otel.GenAIOperationNameChat.Value.AsString()},
		"GenAIResponseID":            {GenAIResponseID, string(otel.GenAIResponseIDKey)},
		"GenAIResponseFinishReasons": {GenAIResponseFinishReasons, string(otel.GenAIResponseFinishReasonsKey)},
		"ProviderAnthropic":          {ProviderAnthropic, otel.GenAIProviderNameAnthropic.Value.AsString()},

		"ServiceName":          {ServiceName, string(otel.ServiceNameKey)},
		"ServiceVersion":       {ServiceVersion, string(otel.ServiceVersionKey)},
		"HostName":             {HostName, string(otel.HostNameKey)},
		"OSType":               {OSType, string(otel.OSTypeKey)},
		"ProcessOwner":         {ProcessOwner, string(otel.ProcessOwnerKey)},
		"UserName":             {UserName, string(otel.UserNameKey)},
		"TelemetrySDKName":     {TelemetrySDKName, string(otel.TelemetrySDKNameKey)},
		"TelemetrySDKLanguage": {TelemetrySDKLanguage, string(otel.TelemetrySDKLanguageKey)},
		"TelemetrySDKVersion":  {TelemetrySDKVersion, string(otel.TelemetrySDKVersionKey)},
	}
	for name, v := range checked {
		if v[0] != v[1] {
			t.Errorf("%s = %q, the semantic conventions say %q", name, v[0], v[1])
		}
	}

	consts := packageConsts(t)
	if len(consts) < len(checked) {
		t.Fatalf("found %d constants in the package, fewer than the %d checked", len(consts), len(checked))
	}
	seen := map[string]string{}
	for name, value := range consts {
		if other, dup := seen[value]; dup && strings.Contains(value, ".") {
			t.Errorf("%s and %s are both %q", name, other, value)
		}
		seen[value] = name
		_, ok := checked[name]
		if conventional(name, value) && !ok {
			t.Errorf("%s = %q looks like a semantic-conventions name but is not checked", name, value)
		}
	}
}

// conventional reports whether a constant is spelled after the semantic
// conventions rather than chosen by ccotel. mcp_server.* is Claude Code's
// own payload field (the conventions have no MCP server name).
func conventional(name, value string) bool {
	if strings.HasPrefix(name, "Operation") || strings.HasPrefix(name, "Provider") {
		return true
	}
	return strings.Contains(value, ".") &&
		!strings.HasPrefix(value, "claude_code.") && !strings.HasPrefix(value, "ccotel.") &&
		!strings.HasPrefix(value, "mcp_server.")
}

// packageConsts returns the value of every string constant declared in
// this package's non-test files.
func packageConsts(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	pkg, err := (&types.Config{Importer: importer.Default()}).Check("semconv", fset, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if ok && c.Val().Kind() == constant.String {
			out[name] = constant.StringVal(c.Val())
		}
	}
	return out
}
