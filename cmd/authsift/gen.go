package main

import (
	"bufio"
	"context"
	"io"

	"github.com/alecthomas/units"

	"github.com/authsift/authsift/ingest"
)

type genOptions struct {
	lines int
	bytes units.Base2Bytes
	seed  int64
}

func runGen(ctx context.Context, o *genOptions, stdout io.Writer) (int, error) {
	w := bufio.NewWriterSize(stdout, 256<<10)
	g := ingest.NewGenerator(o.seed)
	var written int64
	var buf []byte
	for n := 0; ; n++ {
		if o.bytes > 0 {
			if written >= int64(o.bytes) {
				break
			}
		} else if n >= o.lines {
			break
		}
		if n%4096 == 0 && ctx.Err() != nil {
			break
		}
		buf = g.Append(buf[:0])
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return exitIOError, err
		}
		written += int64(len(buf))
	}
	if err := w.Flush(); err != nil {
		return exitIOError, err
	}
	return exitOK, nil
}
