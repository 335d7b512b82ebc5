package gen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// TestKeys: every request has a key, and every line of it holds the key.
func TestKeys(t *testing.T) {
	g, err := NewWithConfig(Config{Seed: 9, Scenarios: Scenarios()})
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for i := 0; i < 20000; i++ {
		b = g.Append(b[:0])
		k := g.Key()
		if len(k) == 0 {
			t.Fatalf("no key for %s", b)
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if !bytes.Contains(l, k) {
				t.Fatalf("key %s not in line %s", k, l)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"baseline", Config{Seed: 7}},
		{"all scenarios", Config{Seed: 7, Scenarios: Scenarios(), Client: "payroll", After: 5 * time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gen := func(seed int64) []byte {
				cfg := c.cfg
				cfg.Seed = seed
				g, err := NewWithConfig(cfg)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if _, err := g.Generate(context.Background(), &buf, Run{Lines: 5000}); err != nil {
					t.Fatal(err)
				}
				return buf.Bytes()
			}
			a, b := gen(c.cfg.Seed), gen(c.cfg.Seed)
			if !bytes.Equal(a, b) {
				t.Fatal("same seed, different output")
			}
			if bytes.Equal(a, gen(c.cfg.Seed+1)) {
				t.Fatal("another seed, same output")
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown scenario", Config{Scenarios: []string{"meteor"}}, `unknown scenario "meteor"`},
		{"negative start", Config{After: -time.Second}, "must not be negative"},
		{"client breaking JSON", Config{Client: `a"b`}, "scenario client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewWithConfig(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// memWriter is a MessageWriter in memory; fail makes a write fail, cancel
// ends the run's context on the n-th write.
type memWriter struct {
	mu       sync.Mutex
	msgs     []kafka.Message
	writes   int
	fail     error
	cancel   func()
	cancelAt int
}

func (w *memWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if w.fail != nil {
		return w.fail
	}
	for _, m := range msgs {
		w.msgs = append(w.msgs, kafka.Message{Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)})
	}
	if w.cancel != nil && w.writes == w.cancelAt {
		w.cancel()
	}
	return nil
}

func TestRun(t *testing.T) {
	cases := []struct {
		name     string
		run      Run
		kafka    bool
		lines    [2]int64 // least, most
		elapsed  time.Duration
		progress int // progress lines (the summary included)
	}{
		{name: "lines to a writer", run: Run{Lines: 1234}, lines: [2]int64{1234, 1234}},
		{name: "lines to kafka", run: Run{Lines: 10000}, kafka: true, lines: [2]int64{10000, 10000}},
		{name: "bytes", run: Run{Bytes: 100_000}, lines: [2]int64{60, 400}},
		{name: "rate for a duration", run: Run{Rate: 200, Duration: 10 * time.Second}, lines: [2]int64{1996, 2004}, elapsed: 10 * time.Second},
		{name: "rate to kafka with progress", kafka: true, lines: [2]int64{497, 503}, elapsed: 5 * time.Second, progress: 6,
			run: Run{Rate: 100, Duration: 5 * time.Second, Lines: 0, ProgressEvery: time.Second}},
		{name: "slow rate", run: Run{Rate: 0.5, Lines: 3}, lines: [2]int64{3, 3}, elapsed: 4 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := New(1)
				var out bytes.Buffer
				var prog bytes.Buffer
				run := c.run
				if c.progress > 0 {
					run.Progress = &prog
				}
				var st Stats
				var err error
				var mw memWriter
				start := time.Now()
				if c.kafka {
					st, err = g.Produce(context.Background(), &mw, run)
				} else {
					st, err = g.Generate(context.Background(), &out, run)
				}
				if err != nil {
					t.Fatal(err)
				}
				if st.Lines < c.lines[0] || st.Lines > c.lines[1] {
					t.Errorf("%d lines, want %d to %d", st.Lines, c.lines[0], c.lines[1])
				}
				if c.kafka {
					if int64(len(mw.msgs)) != st.Lines {
						t.Errorf("%d messages, stats say %d", len(mw.msgs), st.Lines)
					}
				} else {
					if n := int64(bytes.Count(out.Bytes(), []byte("\n"))); n != st.Lines || int64(out.Len()) != st.Bytes {
						t.Errorf("wrote %d lines / %d bytes, stats say %d / %d", n, out.Len(), st.Lines, st.Bytes)
					}
					if c.run.Bytes > 0 && (st.Bytes < c.run.Bytes || st.Bytes > c.run.Bytes+4096) {
						t.Errorf("%d bytes, want just over %d", st.Bytes, c.run.Bytes)
					}
				}
				if got := time.Since(start); c.elapsed > 0 && (got < c.elapsed-50*time.Millisecond || got > c.elapsed+50*time.Millisecond) {
					t.Errorf("took %v, want %v", got, c.elapsed)
				}
				if c.progress > 0 {
					lines := strings.Split(strings.TrimSpace(prog.String()), "\n")
					if len(lines) != c.progress || !strings.HasPrefix(lines[len(lines)-1], "gen: done, "+strconv.FormatInt(st.Lines, 10)+" lines") ||
						!regexp.MustCompile(`^gen: \d+ lines sent, \d+ lines/s$`).MatchString(lines[1]) {
						t.Errorf("progress:\n%s", prog.String())
					}
				}
			})
		})
	}
}

func TestRunStops(t *testing.T) {
	errBroker := errors.New("kafka: broker not available")
	t.Run("write error", func(t *testing.T) {
		_, err := New(1).Produce(context.Background(), &memWriter{fail: errBroker}, Run{Lines: 10})
		if !errors.Is(err, errBroker) || !strings.HasPrefix(err.Error(), "write to kafka: ") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("broken pipe", func(t *testing.T) {
		_, err := New(1).Generate(context.Background(), failWriter{}, Run{})
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("context ends the run, the last batch is delivered", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := &memWriter{cancel: cancel, cancelAt: 3}
		st, err := New(1).Produce(ctx, w, Run{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Lines != int64(len(w.msgs)) || st.Lines < 3*batchLines {
			t.Fatalf("stats %d lines, %d messages written", st.Lines, len(w.msgs))
		}
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, net.ErrClosed }

// BenchmarkGenerate: generated lines to a discard writer (bytes/s and lines/s).
func BenchmarkGenerate(b *testing.B) {
	g, err := NewWithConfig(Config{Seed: 1, Scenarios: Scenarios(), After: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	st, err := g.Generate(context.Background(), io.Discard, Run{Lines: int64(b.N)})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Bytes / int64(b.N))
	b.ReportMetric(float64(st.Lines)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkGenerateKafka: generated lines to an in-process Kafka (kfake),
// one message per line.
func BenchmarkGenerateKafka(b *testing.B) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "auth-logs"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w := NewKafkaWriter(c.ListenAddrs(), "auth-logs")
	defer w.Close()
	g := New(1)
	b.ResetTimer()
	st, err := g.Produce(context.Background(), w, Run{Lines: int64(b.N)})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Bytes / int64(b.N))
	b.ReportMetric(float64(st.Lines)/b.Elapsed().Seconds(), "lines/s")
}
