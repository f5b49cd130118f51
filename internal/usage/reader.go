package usage

import (
	"io"
	"os"
)

// The transcript readers of file.go, for other readers of transcripts
// (ccotel import): one way of opening and reading a file that came from
// a hook payload or a directory listing.

// OpenTranscript opens path for reading if it is a regular file, without
// blocking on a FIFO or a device. A missing file is an error wrapping
// nothing in particular; its message says "transcript not found".
func OpenTranscript(path string) (*os.File, os.FileInfo, error) { return openRegular(path) }

// LineReader returns a file's complete lines, never holding more than
// MaxLine bytes of one.
type LineReader struct{ lr *lineReader }

// NewLineReader reads lines from r.
func NewLineReader(r io.Reader) *LineReader { return &LineReader{lr: newLineReader(r)} }

// Next returns the next line without its newline (valid until the next
// call). tooLong reports a line longer than MaxLine, whose content is
// dropped. At the end it returns io.EOF, or ErrPartialLine when bytes
// remain after the last newline.
func (l *LineReader) Next() (line []byte, tooLong bool, err error) { return l.lr.next() }

// Consumed is the number of bytes read so far, partial lines included:
// after Next, the offset just past the line it returned.
func (l *LineReader) Consumed() int64 { return l.lr.consumed }

// ErrPartialLine is Next's error for bytes after the last newline.
var ErrPartialLine = errPartial
