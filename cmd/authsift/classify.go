package main

import (
	"bufio"
	"context"
	"fmt"
	"github.com/authsift/authsift/ingest/redact"
	"io"
	"os"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest"
)

type classifyOptions struct {
	output  string
	format  string
	keyFile string
	files   []string
	corr    correlationOptions
}

func runClassify(ctx context.Context, g *globalOptions, o *classifyOptions, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	engine, err := g.engine()
	if err != nil {
		return exitUsage, err
	}
	var key []byte
	if o.keyFile != "" {
		if key, err = os.ReadFile(o.keyFile); err != nil {
			return exitIOError, fmt.Errorf("read redaction key: %w", err)
		}
	}
	red := redact.New(key)
	tracker, err := o.corr.config()
	if err != nil {
		return exitUsage, err
	}
	out := bufio.NewWriterSize(stdout, 256<<10)
	summary := ingest.NewSummary()
	var buf []byte
	lastLine := 0
	emit := func(r *ingest.Record) {
		if r.Line != lastLine {
			lastLine = r.Line
			summary.Lines++
			if r.Event == nil {
				summary.IgnoredLines++
			}
		}
		if o.output == "jsonl" {
			buf = ingest.AppendJSON(buf[:0], r, red)
			buf = append(buf, '\n')
			out.Write(buf)
			return
		}
		summary.Add(r, red)
	}
	files := o.files
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return exitIOError, err
		}
		label := ""
		if len(files) > 1 {
			label = name
		}
		lastLine = 0
		if err := classifyFile(ctx, name, label, stdin, o, engine, key, tracker, emit); err != nil {
			out.Flush()
			return exitIOError, err
		}
	}
	if o.output == "table" {
		if err := summary.WriteTable(out); err != nil {
			return exitIOError, err
		}
	}
	if err := out.Flush(); err != nil {
		return exitIOError, fmt.Errorf("write output: %w", err)
	}
	return exitOK, nil
}

func classifyFile(ctx context.Context, name, label string, stdin io.Reader, o *classifyOptions, engine *classify.Engine,
	key []byte, tracker classify.TrackerConfig, emit func(*ingest.Record)) error {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("open input: %w", err)
		}
		defer f.Close()
		r = f
	}
	r = ctxReader{ctx, r}
	if err := ingest.ClassifyReaderWith(r, label, engine, o.format, key, tracker, emit); err != nil {
		return fmt.Errorf("classify %s: %w", name, err)
	}
	return nil
}

// ctxReader stops reading when the context is done (Ctrl-C on a pipe).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
