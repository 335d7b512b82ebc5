package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/gen"
	askafka "github.com/authsift/authsift/ingest/kafka"
	"github.com/authsift/authsift/ingest/redact"
	"github.com/authsift/authsift/ingest/store"
	"github.com/authsift/authsift/rules"
)

// memSink is an in-memory Sink keyed by the rows' coordinates; it counts
// rows written twice, so a test can prove a replay did not double-store.
type memSink struct {
	mu         sync.Mutex
	rows       map[[4]int64]store.Row
	duplicates int
	failures   int // fail this many writes first
	// lostAcks: store this many batches but report an error (the insert
	// landed, the answer timed out)
	lostAcks int
	writes   int
	// hwFailures: fail this many high-water reads first
	hwFailures int
}

func newMemSink() *memSink { return &memSink{rows: map[[4]int64]store.Row{}} }

func key(topic string, r *store.Row) [4]int64 {
	var h int64
	for _, c := range topic {
		h = h*31 + int64(c)
	}
	return [4]int64{h, int64(r.Partition), r.Offset, int64(r.Seq)}
}

func (s *memSink) Write(_ context.Context, rows []store.Row) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.failures > 0 {
		s.failures--
		return errors.New("dial tcp 127.0.0.1:9000: connect: connection refused")
	}
	for i := range rows {
		k := key(rows[i].Topic, &rows[i])
		if _, ok := s.rows[k]; ok {
			s.duplicates++
		}
		s.rows[k] = rows[i]
	}
	if s.lostAcks > 0 {
		s.lostAcks--
		return context.DeadlineExceeded
	}
	return nil
}

func (s *memSink) HighWater(_ context.Context, topic string, partition int32) (int64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hwFailures > 0 {
		s.hwFailures--
		return 0, false, errors.New("dial tcp 127.0.0.1:9000: connect: connection refused")
	}
	best, found := int64(-1), false
	for _, r := range s.rows {
		if r.Topic == topic && r.Partition == partition && r.Offset > best {
			best, found = r.Offset, true
		}
	}
	return best, found, nil
}

func (s *memSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows)
}

// noCommit forgets commits: a crash between the insert and the commit.
type noCommit struct{ *askafka.GroupConsumer }

func (noCommit) CommitMessages(context.Context, ...kafka.Message) error { return nil }

type harness struct {
	t       *testing.T
	brokers []string
	engine  *classify.Engine
}

func newHarness(t *testing.T, topics ...string) *harness {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &harness{t: t, brokers: c.ListenAddrs(), engine: defaultEngine(t)}
}

// produce writes one message per line, keyed so that related lines share a partition.
func (h *harness) produce(topic string, lines [][]byte) {
	h.t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(h.brokers...), Topic: topic, Balancer: &kafka.Hash{}, BatchSize: 500, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	msgs := make([]kafka.Message, len(lines))
	for i, l := range lines {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprint(i % 7)), Value: l}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		h.t.Fatal(err)
	}
}

// reader joins group as the service does.
func (h *harness) reader(group string, topics ...string) *askafka.GroupConsumer {
	h.t.Helper()
	c, err := askafka.NewGroupConsumer(askafka.Config{Brokers: h.brokers, Group: group, RevokeTimeout: 2 * time.Second}, topics,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		h.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(context.Background())
	}()
	h.t.Cleanup(func() {
		c.Close()
		<-done
	})
	return c
}

type running struct {
	cancel  context.CancelFunc
	done    chan error
	metrics *Metrics
	reg     *prometheus.Registry
	p       *Pipeline
	fetcher Fetcher
}

func (h *harness) run(f Fetcher, sink Sink, dlq MessageWriter, cfg PipelineConfig) *running {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, h.engine.Catalog(), 100, nil)
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = 50 * time.Millisecond
	}
	cfg.MinBackoff = 5 * time.Millisecond
	cfg.MaxBackoff = 20 * time.Millisecond
	p := NewPipeline(cfg, h.engine, f, sink, dlq, m, redact.New([]byte("k")), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), metrics: m, reg: reg, p: p, fetcher: f}
	go func() { r.done <- p.Run(ctx, 5*time.Second) }()
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	if c, ok := r.fetcher.(io.Closer); ok {
		c.Close() // leave the group now, not after a session timeout
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// A bound, not a speed: under -race on a busy 2-core machine a 10 MB
	// message or a scenario's flush can take tens of seconds.
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sampleTraffic returns generated lines and how many rows they must give.
func sampleTraffic(t *testing.T, engine *classify.Engine, n int) ([][]byte, int) {
	t.Helper()
	g := gen.New(11)
	var lines [][]byte
	for len(lines) < n {
		lines = append(lines, splitLines(g.Append(nil))...)
	}
	want := 0
	var all bytes.Buffer
	for _, l := range lines {
		all.Write(l)
		all.WriteByte('\n')
	}
	// Correlation state spans a partition, not the whole input: count
	// stored rows only, which do not depend on it.
	first := 0 // the first line that gives a row
	err := ClassifyReader(&all, "", engine, FormatAuto, func(r *Record) {
		if r.Event != nil && (r.Verdict.Outcome != classify.Ignored || r.Verdict.Rule != nil) {
			want++
			if first == 0 {
				first = r.Line
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Start with a line that gives a row: the offset of a leading line
	// without one may be committed before anything reaches ClickHouse.
	return lines[max(first-1, 0):], want
}

func committed(t *testing.T, brokers []string, group, topic string) int64 {
	t.Helper()
	return committedOn(t, brokers, group, topic, 3)
}

func TestPipelineStoresThenCommits(t *testing.T) {
	h := newHarness(t, "auth")
	lines, want := sampleTraffic(t, h.engine, 3000)
	h.produce("auth", lines)
	sink := newMemSink()
	r := h.run(h.reader("g1", "auth"), sink, nil, PipelineConfig{BatchRows: 500})
	eventually(t, "every row stored", func() bool { return sink.count() == want })
	eventually(t, "every offset committed", func() bool { return committed(t, h.brokers, "g1", "auth") == int64(len(lines)) })
	r.stop(t)
	if sink.duplicates != 0 {
		t.Fatalf("%d rows stored twice", sink.duplicates)
	}
	failures := testutil.ToFloat64(r.metrics.Events.WithLabelValues("keycloak", "failure")) +
		testutil.ToFloat64(r.metrics.Events.WithLabelValues("hydra", "failure"))
	if failures == 0 || testutil.ToFloat64(r.metrics.Flushes) == 0 {
		t.Fatal("metrics did not move")
	}
	if n, _ := testutil.GatherAndCount(r.reg, "authsift_failures_total"); n < 10 {
		t.Fatalf("only %d failure series", n)
	}
}

func TestPipelineReplayAfterCrashIsSkipped(t *testing.T) {
	h := newHarness(t, "auth")
	lines, want := sampleTraffic(t, h.engine, 1000)
	h.produce("auth", lines)
	sink := newMemSink()
	// First run stores everything but its commits are lost (killed between insert and commit).
	r := h.run(noCommit{h.reader("g2", "auth")}, sink, nil, PipelineConfig{BatchRows: 200})
	eventually(t, "rows stored", func() bool { return sink.count() == want })
	r.stop(t)
	if committed(t, h.brokers, "g2", "auth") != 0 {
		t.Fatal("commits were not suppressed")
	}
	// The restart reads everything again: nothing may be stored twice.
	r = h.run(h.reader("g2", "auth"), sink, nil, PipelineConfig{BatchRows: 200})
	eventually(t, "replay committed", func() bool { return committed(t, h.brokers, "g2", "auth") == int64(len(lines)) })
	r.stop(t)
	if sink.duplicates != 0 {
		t.Fatalf("replay stored %d rows twice", sink.duplicates)
	}
	if got := testutil.ToFloat64(r.metrics.ReplaySkipped); got == 0 {
		t.Fatal("no message was recognised as replayed")
	}
}

func TestPipelineSurvivesSinkOutage(t *testing.T) {
	h := newHarness(t, "auth")
	lines, want := sampleTraffic(t, h.engine, 800)
	h.produce("auth", lines)
	sink := newMemSink()
	sink.failures = 6
	r := h.run(h.reader("g3", "auth"), sink, nil, PipelineConfig{BatchRows: 100})
	eventually(t, "rows stored after the outage", func() bool { return sink.count() == want })
	eventually(t, "offsets committed", func() bool { return committed(t, h.brokers, "g3", "auth") == int64(len(lines)) })
	r.stop(t)
	if got := testutil.ToFloat64(r.metrics.FlushErrors.WithLabelValues("network")); got != 6 {
		t.Fatalf("write errors counted %v, want 6", got)
	}
	if sink.duplicates != 0 {
		t.Fatalf("%d duplicates", sink.duplicates)
	}
}

// TestPipelineHighWaterReadFails: a failed read of a partition's stored
// high-water mark is counted as such (not as a write error) and the rows are
// still stored exactly once.
func TestPipelineHighWaterReadFails(t *testing.T) {
	h := newHarness(t, "auth")
	lines, want := sampleTraffic(t, h.engine, 300)
	h.produce("auth", lines)
	sink := newMemSink()
	sink.hwFailures = 1
	r := h.run(h.reader("g8", "auth"), sink, nil, PipelineConfig{BatchRows: 100})
	eventually(t, "offsets committed", func() bool { return committed(t, h.brokers, "g8", "auth") == int64(len(lines)) })
	r.stop(t)
	if sink.count() != want || sink.duplicates != 0 {
		t.Fatalf("stored %d rows (want %d), %d of them twice", sink.count(), want, sink.duplicates)
	}
	if got := testutil.ToFloat64(r.metrics.HighWaterErrors.WithLabelValues("network")); got != 1 {
		t.Fatalf("high-water read errors counted %v, want 1", got)
	}
	if got := testutil.ToFloat64(r.metrics.FlushErrors.WithLabelValues("network")); got != 0 {
		t.Fatalf("a high-water read error was counted as %v write errors", got)
	}
}

func TestPipelineLostAckIsNotStoredTwice(t *testing.T) {
	h := newHarness(t, "auth")
	lines, want := sampleTraffic(t, h.engine, 600)
	h.produce("auth", lines)
	sink := newMemSink()
	sink.lostAcks = 3
	r := h.run(h.reader("g7", "auth"), sink, nil, PipelineConfig{BatchRows: 100})
	eventually(t, "offsets committed", func() bool { return committed(t, h.brokers, "g7", "auth") == int64(len(lines)) })
	r.stop(t)
	if sink.count() != want || sink.duplicates != 0 {
		t.Fatalf("stored %d rows (want %d), %d of them twice", sink.count(), want, sink.duplicates)
	}
	if got := testutil.ToFloat64(r.metrics.FlushErrors.WithLabelValues("timeout")); got != 3 {
		t.Fatalf("timeouts counted %v, want 3", got)
	}
}

func TestPipelinePoisonGoesToDLQ(t *testing.T) {
	h := newHarness(t, "auth", "auth.dlq")
	good := []byte(`{"error":"invalid_scope","error_description":"bad scope","endpoint":"/token","status":400,"client_id":"web"}`)
	poison := [][]byte{
		{0xff, 0xfe, 0x00, 0x01, 0x02},
		[]byte(`{"error":"invalid_gr`),
		bytes.Repeat([]byte("x"), 3000),
	}
	h.produce("auth", append(append([][]byte{good}, poison...), good))
	dlq := askafka.NewDLQWriter(askafka.Config{Brokers: h.brokers, DLQTopic: "auth.dlq"})
	defer dlq.Close()
	sink := newMemSink()
	r := h.run(h.reader("g4", "auth"), sink, dlq, PipelineConfig{BatchRows: 10, MaxMessageBytes: 2048})
	eventually(t, "offsets committed past the poison", func() bool { return committed(t, h.brokers, "g4", "auth") == 5 })
	r.stop(t)
	reasons := map[string]bool{}
	for p := 0; p < 3; p++ {
		rp := kafka.NewReader(kafka.ReaderConfig{Brokers: h.brokers, Topic: "auth.dlq", Partition: p, MaxWait: 50 * time.Millisecond})
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			m, err := rp.ReadMessage(ctx)
			cancel()
			if err != nil {
				break
			}
			for _, hd := range m.Headers {
				if hd.Key == "authsift-reason" {
					reasons[string(hd.Value)] = true
				}
			}
		}
		rp.Close()
	}
	for _, want := range []string{"binary", "malformed", "too_large"} {
		if !reasons[want] {
			t.Errorf("no dead letter with reason %s (got %v)", want, reasons)
		}
	}
	failures := 0
	for _, row := range sink.rows {
		if row.Verdict.Outcome == classify.Failure {
			failures++
		}
	}
	if failures != 2 {
		t.Fatalf("the good messages around the poison gave %d failures, want 2", failures)
	}
}

func TestPipelineShutdownFlushes(t *testing.T) {
	h := newHarness(t, "auth")
	lines, want := sampleTraffic(t, h.engine, 300)
	h.produce("auth", lines)
	sink := newMemSink()
	r := h.run(h.reader("g5", "auth"), sink, nil, PipelineConfig{BatchRows: 1 << 20, FlushInterval: time.Hour})
	eventually(t, "all fetched", func() bool {
		return testutil.ToFloat64(r.metrics.Messages.WithLabelValues("auth")) == float64(len(lines))
	})
	if sink.count() != 0 {
		t.Fatal("flushed before shutdown")
	}
	r.stop(t)
	if sink.count() != want {
		t.Fatalf("shutdown stored %d rows, want %d", sink.count(), want)
	}
	if got := committed(t, h.brokers, "g5", "auth"); got != int64(len(lines)) {
		t.Fatalf("shutdown committed %d, want %d", got, len(lines))
	}
}

func TestPipelineReloadSwapsCatalog(t *testing.T) {
	h := newHarness(t, "auth")
	line := []byte(`{"error":"invalid_scope","error_description":"bad scope","endpoint":"/token","status":400,"client_id":"web"}`)
	h.produce("auth", [][]byte{line})
	sink := newMemSink()
	r := h.run(h.reader("g6", "auth"), sink, nil, PipelineConfig{BatchRows: 1})
	eventually(t, "first row", func() bool { return sink.count() == 1 })
	files, err := rules.DefaultFiles()
	if err != nil {
		t.Fatal(err)
	}
	over := "rules:\n  - id: generic.scope.test_override\n    source: generic\n    class: scope_not_allowed\n    match: {error: invalid_scope, reason: bad scope}\n    ref: test\n"
	cat, err := rules.Parse(append(files, rules.File{Name: "over.yaml", Data: []byte(over)})...)
	if err != nil {
		t.Fatal(err)
	}
	r.p.SetEngine(classify.New(cat))
	h.produce("auth", [][]byte{line})
	eventually(t, "second row", func() bool { return sink.count() == 2 })
	r.stop(t)
	classes := map[string]int{}
	for _, row := range sink.rows {
		classes[row.Verdict.Class.ID]++
	}
	if classes["scope_not_allowed"] != 1 || len(classes) != 2 {
		t.Fatalf("classes after reload: %v", classes)
	}
}

// TestPipelineRebalance: a second consumer joins mid-stream, then the first
// leaves; nothing is lost and the stored result counts every row once.
func TestPipelineRebalance(t *testing.T) {
	h := newHarness(t, "auth")
	lines, want := sampleTraffic(t, h.engine, 6000)
	sink := newMemSink()
	first := h.run(h.reader("g8", "auth"), sink, nil, PipelineConfig{BatchRows: 200})
	h.produce("auth", lines[:1000])
	eventually(t, "first consumer working", func() bool { return sink.count() > 0 })
	second := h.run(h.reader("g8", "auth"), sink, nil, PipelineConfig{BatchRows: 200})
	// Keep producing until the rebalance gave the second consumer partitions.
	next := 1000
	eventually(t, "second consumer got messages", func() bool {
		if next < 5000 {
			h.produce("auth", lines[next:next+50])
			next += 50
		}
		time.Sleep(100 * time.Millisecond) // pace the producer, not a wait for a condition
		return testutil.ToFloat64(second.metrics.Messages.WithLabelValues("auth")) > 0
	})
	first.stop(t)
	h.produce("auth", lines[next:])
	eventually(t, "all committed", func() bool { return committed(t, h.brokers, "g8", "auth") == int64(len(lines)) })
	second.stop(t)
	// The stored result, keyed by coordinates as ClickHouse's
	// ReplacingMergeTree and FINAL key it, holds every row once.
	if sink.count() != want {
		t.Fatalf("stored %d distinct rows, want %d", sink.count(), want)
	}
	// And no row was inserted twice: the rebalance waited for the batches
	// in flight, so the new owner started after the last stored message (a
	// twin insert is folded in events but counted twice by the rollup).
	if sink.duplicates != 0 {
		t.Fatalf("%d of %d rows inserted twice", sink.duplicates, want)
	}
	if testutil.ToFloat64(first.metrics.Messages.WithLabelValues("auth")) == 0 {
		t.Fatal("the first consumer read nothing")
	}
}
