package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ccotel/ccotel/internal/textsafe"
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
// Newlines inside the message are replaced by spaces, and what could
// drive a terminal that shows the log (escape sequences, control and bidi
// characters: a collector's answer quoted in an error) is removed
// (textsafe.Clean). The log is opened
// without following a symlink. When dir is not trusted (CheckDir) or
// cannot take the line (read-only, full), the line goes to the fallback
// log in the user's cache directory, prefixed with the state directory
// (ccotel.log-<hash> in ~/.cache/ccotel).
func Logf(dir, format string, args ...any) {
	if dir == "" {
		return
	}
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\r\n")
	msg = textsafe.Clean(strings.ReplaceAll(msg, "\n", " "))
	line := make([]byte, 0, 64+len(msg))
	line = time.Now().AppendFormat(line, "2006-01-02T15:04:05.000Z07:00")
	line = append(line, ' ')
	line = strconv.AppendInt(line, int64(os.Getpid()), 10)
	line = append(line, ' ')
	line = append(line, msg...)
	line = append(line, '\n')

	terr := CheckDir(dir)
	if terr == nil {
		path := filepath.Join(dir, logName)
		if fileSize(path) > maxLogSize {
			os.Rename(path, path+".1")
		}
		if appendFile(dir, logName, line, true) == nil {
			return
		}
	}
	for _, fb := range fallbackDirs() {
		if terr != nil {
			appendFile(fb, fallbackName(logName, dir), []byte(fmt.Sprintf("%s %d %v\n", time.Now().Format("2006-01-02T15:04:05.000Z07:00"), os.Getpid(), terr)), true)
		}
		if appendFile(fb, fallbackName(logName, dir), append([]byte(dir+": "), line...), true) == nil {
			return
		}
	}
}

// FallbackLog is the log file Logf writes to when dir cannot take a line.
func FallbackLog(dir string) string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "ccotel", fallbackName(logName, dir))
}

// NoteLostEvent counts one hook event that could not be recorded because
// the database was unavailable (lock timeout, unwritable directory). It
// does not need the database lock: it appends one byte to <dir>/lost-events
// (O_APPEND, O_NOFOLLOW), whose size is the count; Counters().LostEvents
// includes it. When dir is not trusted, or is read-only or full, the byte
// goes to lost-events-<hash of dir> in the user's cache directory, which
// Counters counts too; and when that cannot take it either (a read-only
// home directory holds both), in a directory of the user's own under
// $XDG_RUNTIME_DIR or the temporary directory: a loss is never silent.
func NoteLostEvent(dir string) {
	if dir == "" {
		return
	}
	if CheckDir(dir) == nil && appendFile(dir, lostName, []byte{'.'}, true) == nil {
		return
	}
	for _, fb := range fallbackDirs() {
		if appendFile(fb, fallbackName(lostName, dir), []byte{'.'}, true) == nil {
			return
		}
	}
}

// lostEvents is the count NoteLostEvent keeps for dir (both places).
func lostEvents(dir string) int64 {
	n := fileSize(filepath.Join(dir, lostName))
	if base, err := os.UserCacheDir(); err == nil {
		n += fileSize(filepath.Join(base, "ccotel", fallbackName(lostName, dir)))
	}
	return n + fileSize(filepath.Join(tempFallbackPath(), fallbackName(lostName, dir)))
}
