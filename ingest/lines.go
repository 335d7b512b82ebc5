package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLine is the longest line decoded; a longer one is reported as
// malformed (its head is kept) and reading goes on with the next line.
const DefaultMaxLine = 1 << 20

// LineFunc receives each line (without its newline) and its 1-based number.
// truncated is true when the line was longer than the limit; line then holds
// its first bytes. The slice is only valid during the call.
type LineFunc func(n int, line []byte, truncated bool) error

// ReadLines streams the lines of r in constant memory.
func ReadLines(r io.Reader, maxLine int, fn LineFunc) error {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	br := bufio.NewReaderSize(r, maxLine)
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		truncated := false
		if errors.Is(err, bufio.ErrBufferFull) {
			truncated = true
			head := append([]byte(nil), line[:min(len(line), 4096)]...)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			line = head
		}
		if len(line) > 0 {
			n++
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			if ferr := fn(n, line, truncated); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read line %d: %w", n+1, err)
		}
	}
}
