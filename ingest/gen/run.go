package gen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// Writing: a run of the generator to an io.Writer or to Kafka, paced and bounded.

// Run says how much a generator run writes and how fast.
type Run struct {
	Lines    int64         // stop after this many lines (0: no limit)
	Bytes    int64         // stop once this many bytes are written (0: no limit)
	Duration time.Duration // stop after this much wall-clock time (0: no limit)
	Rate     float64       // lines per second (0: as fast as possible)
	// Progress, when set, gets a line every ProgressEvery (default 5s) with
	// the lines sent and the rate, and a summary at the end.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Stats is what a run delivered.
type Stats struct {
	Lines, Bytes int64
	Elapsed      time.Duration
}

// Generate writes lines to w, each ended by a newline, until a limit of run
// is reached or ctx ends (which is not an error).
func (g *Generator) Generate(ctx context.Context, w io.Writer, run Run) (Stats, error) {
	return g.run(ctx, &lineSink{w: bufio.NewWriterSize(w, 256<<10)}, run)
}

// MessageWriter takes the Kafka messages of Produce (kafka-go's *kafka.Writer).
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Produce sends lines through w, one Kafka message per line keyed by Key
// (related lines share a partition and keep their order), until a limit of
// run is reached or ctx ends (which is not an error). Lines are sent in
// batches of up to batchLines per WriteMessages call.
func (g *Generator) Produce(ctx context.Context, w MessageWriter, run Run) (Stats, error) {
	return g.run(ctx, &msgSink{w: w}, run)
}

// NewKafkaWriter returns the writer Produce is meant for: keys hashed to
// partitions, leader acks, a short batch timeout so that a synchronous write
// of one batch is not held back.
func NewKafkaWriter(brokers []string, topic string) *kafka.Writer {
	return &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Topic:                  topic,
		Balancer:               &kafka.Hash{},
		BatchSize:              batchLines,
		BatchBytes:             requestBytes,
		BatchTimeout:           2 * time.Millisecond,
		RequiredAcks:           kafka.RequireOne,
		AllowAutoTopicCreation: true,
	}
}

const (
	batchLines = 4096
	batchBytes = 8 << 20
	// requestBytes bounds one produce request per partition: a broker's
	// default message.max.bytes is 1 MiB, and a batch of large lines (Okta
	// events are ~1.3 kB) above it is refused (MESSAGE_TOO_LARGE).
	requestBytes = 1 << 20
	flushWait    = 10 * time.Second // the last batch after ctx ended
)

// sink takes the lines of a run.
type sink interface {
	line(l, key []byte)
	full() bool
	// flush delivers what is buffered and says how many lines and bytes
	// (newlines included) that was.
	flush(ctx context.Context) (lines, bytes int64, err error)
}

type lineSink struct {
	w             *bufio.Writer
	lines, nbytes int64
	err           error
}

func (s *lineSink) line(l, _ []byte) {
	if _, err := s.w.Write(l); err != nil && s.err == nil {
		s.err = err
	}
	s.w.WriteByte('\n')
	s.lines++
	s.nbytes += int64(len(l)) + 1
}

func (s *lineSink) full() bool { return s.err != nil }

func (s *lineSink) flush(context.Context) (int64, int64, error) {
	n, nb := s.lines, s.nbytes
	s.lines, s.nbytes = 0, 0
	if err := s.w.Flush(); err != nil {
		return 0, 0, fmt.Errorf("write lines: %w", err)
	}
	if s.err != nil {
		return 0, 0, fmt.Errorf("write lines: %w", s.err)
	}
	return n, nb, nil
}

type msgSink struct {
	w      MessageWriter
	arena  []byte
	offs   [][3]int // key start, value start, value end in arena
	msgs   []kafka.Message
	nbytes int64
}

func (s *msgSink) line(l, key []byte) {
	k := len(s.arena)
	s.arena = append(s.arena, key...)
	v := len(s.arena)
	s.arena = append(s.arena, l...)
	s.offs = append(s.offs, [3]int{k, v, len(s.arena)})
	s.nbytes += int64(len(l)) + 1
}

func (s *msgSink) full() bool { return len(s.offs) >= batchLines || len(s.arena) >= batchBytes }

func (s *msgSink) flush(ctx context.Context) (int64, int64, error) {
	if len(s.offs) == 0 {
		return 0, 0, nil
	}
	s.msgs = s.msgs[:0]
	for _, o := range s.offs {
		s.msgs = append(s.msgs, kafka.Message{Key: s.arena[o[0]:o[1]:o[1]], Value: s.arena[o[1]:o[2]:o[2]]})
	}
	n, nb := int64(len(s.offs)), s.nbytes
	s.offs, s.arena, s.nbytes = s.offs[:0], s.arena[:0], 0
	if err := s.w.WriteMessages(ctx, s.msgs...); err != nil {
		return 0, 0, fmt.Errorf("write to kafka: %w", err)
	}
	return n, nb, nil
}

func (g *Generator) run(ctx context.Context, s sink, run Run) (Stats, error) {
	start := time.Now()
	var sent atomic.Int64 // read by the progress writer
	var sentBytes int64
	if run.Progress != nil {
		stop := progress(run.Progress, run.ProgressEvery, start, &sent)
		defer stop()
	}
	var deadline <-chan time.Time
	if run.Duration > 0 {
		t := time.NewTimer(run.Duration)
		defer t.Stop()
		deadline = t.C
	}
	ended := func() bool {
		select {
		case <-ctx.Done():
			return true
		case <-deadline:
			deadline = closedChan()
			return true
		default:
			return false
		}
	}
	deliver := func(ctx context.Context) error {
		n, nb, err := s.flush(ctx)
		sent.Add(n)
		sentBytes += nb
		return err
	}
	stats := func() Stats { return Stats{Lines: sent.Load(), Bytes: sentBytes, Elapsed: time.Since(start)} }
	var perTick int64 = 1 // lines between two looks at the clock when paced: at most 50 waits a second
	if run.Rate > 0 {
		perTick = max(1, int64(run.Rate/50))
	}
	nextPace := perTick
	var lines, nbytes int64
	var buf []byte
loop:
	for i := 0; ; i++ {
		if i&63 == 0 && ended() {
			break
		}
		buf = g.Append(buf[:0])
		key := g.Key()
		for rest := buf; len(rest) > 0; {
			l := rest
			if j := bytes.IndexByte(rest, '\n'); j >= 0 {
				l, rest = rest[:j], rest[j+1:]
			} else {
				rest = nil
			}
			s.line(l, key)
			lines++
			nbytes += int64(len(l)) + 1
			if run.Lines > 0 && lines >= run.Lines || run.Bytes > 0 && nbytes >= run.Bytes {
				break loop
			}
			if run.Rate <= 0 || lines < nextPace {
				continue
			}
			nextPace = lines + perTick
			if wait := time.Until(start.Add(time.Duration(float64(lines) / run.Rate * float64(time.Second)))); wait > 0 {
				if err := deliver(ctx); err != nil {
					if ended() {
						return stats(), nil
					}
					return stats(), err
				}
				if !sleep(ctx, deadline, wait) {
					break loop
				}
			}
		}
		if s.full() {
			if err := deliver(ctx); err != nil {
				if ended() {
					return stats(), nil
				}
				return stats(), err
			}
		}
	}
	fctx := ctx
	if ctx.Err() != nil { // deliver what was generated all the same
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), flushWait)
		defer cancel()
	}
	err := deliver(fctx)
	return stats(), err
}

func closedChan() <-chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}

// sleep waits d; false when ctx or the deadline ended it.
func sleep(ctx context.Context, deadline <-chan time.Time, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-deadline:
	}
	return false
}

// progress writes a progress line every interval until stop, which
// writes the summary.
func progress(w io.Writer, every time.Duration, start time.Time, sent *atomic.Int64) (stop func()) {
	if every <= 0 {
		every = 5 * time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				n := sent.Load()
				fmt.Fprintf(w, "gen: %d lines sent, %.0f lines/s\n", n, float64(n-last)/now.Sub(lastAt).Seconds())
				last, lastAt = n, now
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		el := time.Since(start)
		n := sent.Load()
		fmt.Fprintf(w, "gen: done, %d lines in %s (%.0f lines/s)\n", n, el.Round(time.Millisecond), float64(n)/max(el.Seconds(), 1e-9))
	}
}
