package delivery

import (
	"os"
	"path/filepath"
)

// RejectedSpansName is the file in the state directory whose size is the
// number of spans dropped after the collector refused them for good.
const RejectedSpansName = "rejected-spans"

// RejectedSpans returns how many spans were dropped as refused for good.
func RejectedSpans(stateDir string) int64 {
	fi, err := os.Stat(filepath.Join(stateDir, RejectedSpansName))
	if err != nil {
		return 0
	}
	return fi.Size()
}

func noteRejected(stateDir string, n int) {
	if n <= 0 {
		return
	}
	f, err := os.OpenFile(filepath.Join(stateDir, RejectedSpansName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	f.Write(make([]byte, n))
	f.Close()
}
