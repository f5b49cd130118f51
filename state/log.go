package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxLogSize is the size past which ccotel.log is rotated to ccotel.log.1
// (one generation kept: the directory holds at most about 2 MiB of log).
const maxLogSize = 1 << 20

// Logf appends one timestamped line to <dir>/ccotel.log (0600), rotating it
// to ccotel.log.1 past 1 MiB. It never returns an error and never writes to
// stdout or stderr: it is the hook's only diagnostic channel.
//
// The line is "<RFC 3339 time, ms> <pid> <message>\n", written with one
// O_APPEND write so lines of concurrent processes do not interleave.
// Newlines inside the message are replaced by spaces.
func Logf(dir, format string, args ...any) {
	if dir == "" {
		return
	}
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\r\n")
	msg = strings.ReplaceAll(msg, "\n", " ")
	line := make([]byte, 0, 64+len(msg))
	line = time.Now().AppendFormat(line, "2006-01-02T15:04:05.000Z07:00")
	line = append(line, ' ')
	line = strconv.AppendInt(line, int64(os.Getpid()), 10)
	line = append(line, ' ')
	line = append(line, msg...)
	line = append(line, '\n')

	path := filepath.Join(dir, logName)
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		if os.MkdirAll(dir, 0o700) != nil {
			return
		}
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
			return
		}
	}
	f.Write(line)
	f.Close()
}

// NoteLostEvent counts one hook event that could not be recorded because
// the database was unavailable (lock timeout, unwritable directory). It
// does not need the database lock: it appends one byte to <dir>/lost-events
// (O_APPEND), whose size is the count; Counters().LostEvents includes it.
func NoteLostEvent(dir string) {
	if dir == "" {
		return
	}
	path := filepath.Join(dir, lostName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		if os.MkdirAll(dir, 0o700) != nil {
			return
		}
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
			return
		}
	}
	f.Write([]byte{'.'})
	f.Close()
}
