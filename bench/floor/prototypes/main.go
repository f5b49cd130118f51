// Command prototypes drains stdin like bench/drain, but links what
// tracing's protobuf encoder links: the generated OTLP trace types
// (go.opentelemetry.io/proto/otlp/trace/v1, with common/v1 and
// resource/v1) and google.golang.org/protobuf/proto's Marshal. The step
// from bench/drain to it is what encoding with the official types costs
// every process of the binary, hooks included, before any work: a larger
// binary to map and the protobuf packages' init (descriptor registration,
// internal/detrand hashing the executable).
//
// Marshal is called only when an argument is given, so that it is linked
// (a blank import alone would let the linker drop the codec) but never runs
// in a timed process.
package main

import (
	"io"
	"os"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

func main() {
	if len(os.Args) > 1 {
		b, err := proto.Marshal(&tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{SchemaUrl: os.Args[1]}}})
		if err != nil {
			os.Exit(1)
		}
		os.Stdout.Write(b)
		return
	}
	io.Copy(io.Discard, os.Stdin)
}
