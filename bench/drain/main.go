// Command drain is the benchmark baseline: a static Go program that only
// reads stdin to EOF and exits 0, the least any hook process must do.
// `go run ./bench` builds it with CGO_ENABLED=0 and times `ccotel hook`
// against it.
package main

import (
	"io"
	"os"
)

func main() {
	io.Copy(io.Discard, os.Stdin)
}
