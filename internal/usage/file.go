package usage

import (
	"bufio"
	"errors"
	"io"
	"os"

	"github.com/ccotel/ccotel/internal/regfile"
)

// Reading transcript files safely: only regular files, never blocking on
// a FIFO or a device, line by line with a cap on a line's size.

// openRegular opens path for reading if it is a regular file, without
// blocking on a FIFO or a device: a transcript_path is whatever a hook
// payload said.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, fi, err := regfile.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, errMissing
	}
	return f, fi, err
}

var errPartial = errors.New("partial last line")

// lineReader returns complete lines ('\n'-terminated), never holding more
// than MaxLine bytes of one line.
type lineReader struct {
	r        *bufio.Reader
	buf      []byte
	consumed int64 // bytes returned by the reader so far, partial lines included
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line without its newline. tooLong reports a line
// longer than MaxLine, whose content is dropped. At the end it returns
// io.EOF, or errPartial when bytes remain after the last newline.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.consumed += int64(len(chunk))
		if !tooLong {
			if len(lr.buf)+len(chunk) > MaxLine+1 {
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch err {
		case nil:
			if tooLong {
				return nil, true, nil
			}
			return lr.buf[:len(lr.buf)-1], false, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(lr.buf) > 0 || tooLong {
				return nil, false, errPartial
			}
			return nil, false, io.EOF
		default:
			return nil, false, err
		}
	}
}
