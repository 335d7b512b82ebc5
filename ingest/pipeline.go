package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/authsift/authsift/ingest/internal/backoff"
	"github.com/authsift/authsift/ingest/redact"
	"github.com/authsift/authsift/ingest/store"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/authsift/authsift/classify"
)

// Fetcher is the Kafka consumer the pipeline reads (kafka.GroupConsumer). It
// hands out what it fetched in slices: one lock and one wake-up per slice,
// not per message.
type Fetcher interface {
	// Ready gives a token when messages may be waiting.
	Ready() <-chan struct{}
	// Take returns the messages waiting (possibly none) and keeps buf,
	// emptied, for the next ones.
	Take(buf []kafka.Message) []kafka.Message
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
}

// A Rebalancer is a Fetcher in a consumer group that waits, when partitions
// are revoked, for the pipeline to store and commit what it was handed
// (kafka.GroupConsumer).
type Rebalancer interface {
	// Revoked gives a token when a rebalance starts: store and commit now.
	Revoked() <-chan struct{}
	// Abandon gives a channel when the rebalance cannot wait longer: drop
	// every batch held (the partitions' next owner reads them again), then
	// close it.
	Abandon() <-chan chan struct{}
}

// errAbandoned ends the store of a batch given up in a rebalance.
var errAbandoned = errors.New("batch given up: its partitions were revoked before it could be stored")

// Sink stores rows. Write returns only when every row is stored (nil) or
// none may be assumed stored (error); the caller retries a failed batch.
type Sink interface {
	Write(ctx context.Context, rows []store.Row) error
}

// HighWaterer is a Sink that knows the highest offset it stored for a
// partition, so that a replay of stored but uncommitted messages is skipped.
type HighWaterer interface {
	HighWater(ctx context.Context, topic string, partition int32) (int64, bool, error)
}

// RecentHighWaterer is a HighWaterer with a cheaper, possibly lagging, read
// of the same mark, for the check before every write.
type RecentHighWaterer interface {
	RecentHighWater(ctx context.Context, topic string, partition int32) (int64, bool, error)
}

// A RollupRepairer is a Sink whose rollup can be checked against the events
// of one partition (clickhouse.Store).
type RollupRepairer interface {
	// RepairRollup makes the rollup of the minutes of the partition's
	// messages first..last agree with the stored events, and returns how
	// many events it added.
	RepairRollup(ctx context.Context, topic string, partition int32, first, last int64) (int64, error)
}

// MessageWriter takes dead letters (kafka-go's *kafka.Writer).
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// PipelineConfig tunes the pipeline; zero values take the defaults.
type PipelineConfig struct {
	// Formats pins the format per topic; topics not listed are auto-detected.
	Formats         map[string]string
	BatchRows       int           // flush when this many rows are pending (default 10000)
	FlushInterval   time.Duration // flush at least this often when rows are pending (default 1s)
	MaxMessageBytes int           // larger messages go to the dead-letter topic (default 1 MiB)
	MinBackoff      time.Duration // first retry delay of a failed write (default 100ms)
	MaxBackoff      time.Duration // longest retry delay (default 30s)
	Tracker         classify.TrackerConfig
	// CorrelationKey hashes the correlation keys of the streams (the
	// redaction key; nil: a random key per stream).
	CorrelationKey []byte
}

func (c *PipelineConfig) defaults() {
	if c.BatchRows <= 0 {
		c.BatchRows = 10000
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 1 << 20
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.Tracker.Entries <= 0 {
		c.Tracker = classify.DefaultTrackerConfig()
	}
}

// Pipeline is the service loop: fetch from Kafka, decode and classify,
// batch, store, then commit the offsets of what was stored. Offsets are
// committed only after the sink accepted every row up to them
// (at-least-once); the high-water check and the rows' coordinates make a
// replay harmless.
type Pipeline struct {
	cfg     PipelineConfig
	fetcher Fetcher
	sink    Sink
	dlq     MessageWriter
	metrics *Metrics
	logger  *slog.Logger
	red     *redact.Redactor
	engine  atomic.Pointer[classify.Engine]

	parts map[partitionKey]*partitionState
	// cur is the batch being filled; while flushing, the previous one is
	// being stored (and then committed) by another goroutine, which reports
	// on flushed; spare is the free one.
	cur, spare *batch
	flushing   bool
	flushed    chan error
	// commitParts are the partitions with messages in cur.
	commitParts []*partitionState
	// The stores of one epoch share a context; giving up the batches in a
	// rebalance cancels it (abandonStores) and starts the next epoch.
	storeMu     sync.Mutex
	storeCtx    context.Context
	storeCancel context.CancelCauseFunc
	abandoned   bool // a store was given up: cur is dropped, not stored
	started     time.Time
	evicted     uint64
}

// batch is what one flush stores and commits: its rows, dead letters, the
// last offset of each of its partitions and how many messages it holds.
type batch struct {
	rows     []store.Row
	dead     []kafka.Message
	commits  []kafka.Message
	messages int
	// attempted: a write failed; it may have landed all the same, so the
	// next try checks the exact high-water mark.
	attempted bool
	// replayed: per partition, the first and last offset of the messages
	// skipped because the sink held them uncommitted; their rollup is
	// checked once the batch is stored (RollupRepairer).
	replayed map[partitionKey][2]int64
}

// replay notes that offset of k was skipped as already stored.
func (b *batch) replay(k partitionKey, offset int64) {
	if b.replayed == nil {
		b.replayed = map[partitionKey][2]int64{}
	}
	r, ok := b.replayed[k]
	if !ok {
		r = [2]int64{offset, offset}
	}
	b.replayed[k] = [2]int64{min(r[0], offset), max(r[1], offset)}
}

func (b *batch) reset() {
	clear(b.rows) // drop references to the events' strings
	clear(b.dead)
	b.rows, b.dead, b.commits, b.messages, b.attempted = b.rows[:0], b.dead[:0], b.commits[:0], 0, false
	clear(b.replayed)
}

type partitionKey struct {
	topic     string
	partition int
}

type partitionState struct {
	stream  *Stream
	engine  *classify.Engine
	next    int64 // the offset expected next; another one means a jump (rebalance, restart)
	hw      int64 // highest offset the sink already holds, -1 if none
	hwKnown bool
	// lastMessage is when the partition last gave a message: a partition
	// idle for partitionIdle (moved to another replica, or quiet) has its lag
	// series and state dropped.
	lastMessage time.Time
	// seen is the highest offset this process has taken into a batch: a
	// message Kafka delivers again (a rebalance restarts from the committed
	// offset) is either stored or in the pending batch already.
	seen int64
	// the partition's series, looked up once
	lag      prometheus.Gauge
	messages prometheus.Counter
	// commit: the pending batch holds messages of this partition, up to
	// commitOffset
	commit       bool
	commitOffset int64
	key          partitionKey
}

// NewPipeline wires a pipeline. dlq may be nil: undecodable messages are then
// only stored as malformed rows and counted.
func NewPipeline(cfg PipelineConfig, engine *classify.Engine, fetcher Fetcher, sink Sink, dlq MessageWriter,
	metrics *Metrics, red *redact.Redactor, logger *slog.Logger) *Pipeline {
	cfg.defaults()
	p := &Pipeline{cfg: cfg, fetcher: fetcher, sink: sink, dlq: dlq, metrics: metrics, red: red,
		logger: logger.With("component", "pipeline"), parts: map[partitionKey]*partitionState{},
		cur: &batch{}, spare: &batch{}, flushed: make(chan error, 1)}
	p.engine.Store(engine)
	return p
}

// SetEngine swaps the catalog (a reload); correlation state is kept.
func (p *Pipeline) SetEngine(e *classify.Engine) { p.engine.Store(e) }

// Engine returns the live engine.
func (p *Pipeline) Engine() *classify.Engine { return p.engine.Load() }

// Run consumes until ctx is done, then stores and commits what it holds
// within shutdown (a fresh deadline) and returns. A batch is stored while
// the next one is decoded; at most two are held.
func (p *Pipeline) Run(ctx context.Context, shutdown time.Duration) error {
	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	// Stores outlive ctx: at shutdown the one in flight finishes, within
	// the shutdown deadline.
	storeBase, stopStore := context.WithCancel(context.WithoutCancel(ctx))
	defer stopStore()
	p.newStoreEpoch(storeBase)
	var revoked <-chan struct{}
	abandons := make(chan chan struct{})
	if r, ok := p.fetcher.(Rebalancer); ok {
		revoked = r.Revoked()
		go p.watchAbandon(fetchCtx, r, abandons)
	}
	tick := time.NewTicker(p.cfg.FlushInterval / 4)
	defer tick.Stop()
	var buf []kafka.Message
	// take handles what the fetcher queued.
	take := func() error {
		msgs := p.fetcher.Take(buf)
		buf = msgs
		now := time.Now().UTC()
		for i := range msgs {
			p.handle(ctx, &msgs[i], now)
			if len(p.cur.rows) >= p.cfg.BatchRows || p.cur.messages >= 4*p.cfg.BatchRows {
				if err := p.flush(p.epoch()); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return p.drain(stopStore, shutdown)
		case err := <-p.flushed:
			if err := p.finished(err); err != nil {
				return err
			}
		case <-p.fetcher.Ready():
			if err := take(); err != nil {
				return err
			}
		case <-revoked:
			// A rebalance waits for this: store and commit everything
			// taken so far, now.
			if err := take(); err != nil {
				return err
			}
			if err := p.flush(p.epoch()); err != nil {
				return err
			}
		case done := <-abandons:
			if err := p.dropAll(storeBase); err != nil {
				close(done)
				return err
			}
			close(done)
		case <-tick.C:
			if p.cur.messages > 0 && time.Since(p.started) >= p.cfg.FlushInterval {
				if err := p.flush(p.epoch()); err != nil {
					return err
				}
			}
		}
	}
}

// newStoreEpoch starts the context the next stores share.
func (p *Pipeline) newStoreEpoch(base context.Context) {
	ctx, cancel := context.WithCancelCause(base)
	p.storeMu.Lock()
	p.storeCtx, p.storeCancel = ctx, cancel
	p.storeMu.Unlock()
}

func (p *Pipeline) epoch() context.Context {
	p.storeMu.Lock()
	defer p.storeMu.Unlock()
	return p.storeCtx
}

// watchAbandon passes the rebalancer's requests to give up the batches on
// to the pipeline loop, after cancelling the stores in flight: the loop may
// be waiting for one (ClickHouse down).
func (p *Pipeline) watchAbandon(ctx context.Context, r Rebalancer, to chan<- chan struct{}) {
	for {
		select {
		case done := <-r.Abandon():
			p.storeMu.Lock()
			p.storeCancel(errAbandoned)
			p.storeMu.Unlock()
			select {
			case to <- done:
			case <-ctx.Done():
				close(done)
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// dropAll gives up every batch held and what is queued: their partitions
// went to another member, which reads them again from the last commit. The
// partitions' states forget where they were, so that a partition given
// back asks the sink for its high-water mark again.
func (p *Pipeline) dropAll(base context.Context) error {
	if err := p.wait(); err != nil {
		return err
	}
	dropped := p.cur.messages
	p.cur.reset()
	p.abandoned = false
	msgs := p.fetcher.Take(nil)
	dropped += len(msgs)
	clear(msgs)
	for _, st := range p.commitParts {
		st.commit = false
	}
	clear(p.commitParts)
	p.commitParts = p.commitParts[:0]
	for _, st := range p.parts {
		st.next, st.seen, st.hwKnown = -1, -1, false
	}
	p.newStoreEpoch(base)
	p.metrics.RebalanceDropped.Add(float64(dropped))
	p.logger.Warn("rebalance: batches given up for the partitions' next owner", "messages", dropped)
	return nil
}

// flush hands the current batch to a goroutine that stores and commits it,
// after waiting for the one before (the order of commits is the order of
// batches).
func (p *Pipeline) flush(ctx context.Context) error {
	if err := p.wait(); err != nil {
		return err
	}
	if p.cur.messages == 0 || p.abandoned {
		return nil
	}
	b := p.cur
	for _, st := range p.commitParts {
		b.commits = append(b.commits, kafka.Message{Topic: st.key.topic, Partition: st.key.partition, Offset: st.commitOffset})
		st.commit = false
	}
	clear(p.commitParts)
	p.commitParts = p.commitParts[:0]
	p.cur, p.spare = p.spare, b
	p.flushing = true
	go func() { p.flushed <- p.store(ctx, b) }()
	return nil
}

// wait waits for the batch in flight, if any.
func (p *Pipeline) wait() error {
	if !p.flushing {
		return nil
	}
	return p.finished(<-p.flushed)
}

// finished takes the result of the batch that was in flight.
func (p *Pipeline) finished(err error) error {
	p.flushing = false
	if errors.Is(err, errAbandoned) {
		p.abandoned = true // the loop drops the rest when it takes the request
		err = nil
	}
	if err != nil {
		return err
	}
	p.spare.reset()
	p.updateStateMetrics()
	return nil
}

// drain stores and commits the batch in flight and the pending one before
// an exit, within timeout.
func (p *Pipeline) drain(stop context.CancelFunc, timeout time.Duration) error {
	t := time.AfterFunc(timeout, stop)
	defer t.Stop()
	inFlight := p.flushing
	err := p.wait()
	if err == nil {
		err = p.flush(p.epoch())
	}
	if err == nil {
		err = p.wait()
	}
	if err != nil {
		lost := p.cur.messages
		if p.flushing || inFlight {
			lost += p.spare.messages
		}
		return fmt.Errorf("flush at shutdown (%d messages stay uncommitted and will be read again): %w", lost, err)
	}
	p.logger.Info("flushed at shutdown")
	return nil
}

func (p *Pipeline) partition(ctx context.Context, m *kafka.Message, now time.Time) *partitionState {
	k := partitionKey{m.Topic, m.Partition}
	st := p.parts[k]
	engine := p.engine.Load()
	if st == nil {
		s, err := NewStream(engine, p.cfg.Formats[m.Topic], p.cfg.Tracker, p.cfg.CorrelationKey)
		if err != nil { // formats are validated at start-up: not expected
			p.logger.Warn("format of topic unknown: its sources are detected per message", "topic", m.Topic, "err", err)
			s = mustStream(NewStream(engine, FormatAuto, p.cfg.Tracker, p.cfg.CorrelationKey))
		}
		st = &partitionState{stream: s, engine: engine, next: -1, seen: -1, key: k,
			lag:      p.metrics.Lag.WithLabelValues(m.Topic, strconv.Itoa(m.Partition)),
			messages: p.metrics.Messages.WithLabelValues(m.Topic)}
		p.parts[k] = st
	}
	if st.engine != engine {
		st.stream.Tracker().SetEngine(engine)
		st.engine = engine
	}
	if st.next != m.Offset {
		st.hwKnown = false // first message, or a jump: ask the sink again
		st.stream.Tracker().Gap()
	}
	if !st.hwKnown {
		st.hw = -1
		if hw, ok := p.sink.(HighWaterer); ok {
			off, found, err := hw.HighWater(ctx, m.Topic, int32(m.Partition))
			switch {
			case err != nil:
				p.metrics.HighWaterErrors.WithLabelValues(errorCategory(err)).Inc()
				p.logger.Warn("read of the stored high-water mark failed: asked again at the partition's next message, checked again before the flush",
					"topic", m.Topic, "partition", m.Partition, "err", err)
			case found:
				st.hw = off
			}
			st.hwKnown = err == nil
		}
	}
	st.next = m.Offset + 1
	st.lastMessage = now
	return st
}

// partitionIdle is how long a partition may give no message before its lag
// series and its correlation state are dropped.
const partitionIdle = 5 * time.Minute

// handle decodes, classifies and counts one message into the pending batch;
// now is when its slice of messages was taken.
func (p *Pipeline) handle(ctx context.Context, m *kafka.Message, now time.Time) {
	if p.cur.messages == 0 {
		p.started = now
	}
	st := p.partition(ctx, m, now)
	st.messages.Inc()
	if m.HighWaterMark > 0 {
		st.lag.Set(float64(max(m.HighWaterMark-m.Offset-1, 0)))
	}
	p.cur.messages++
	if !st.commit {
		st.commit = true
		p.commitParts = append(p.commitParts, st)
	}
	st.commitOffset = m.Offset
	if m.Offset <= st.seen { // delivered again: this process holds it
		p.metrics.ReplaySkipped.Inc()
		return
	}
	if m.Offset <= st.hw { // stored by a writer that did not commit it
		p.metrics.ReplaySkipped.Inc()
		p.cur.replay(st.key, m.Offset)
		return
	}
	st.seen = m.Offset
	switch {
	case len(m.Value) > p.cfg.MaxMessageBytes:
		p.deadLetter(m, "too_large", fmt.Sprintf("message of %d bytes, limit %d", len(m.Value), p.cfg.MaxMessageBytes))
		return
	case bytes.IndexByte(m.Value, 0) >= 0 || !utf8.Valid(m.Value):
		p.deadLetter(m, "binary", "message is not UTF-8 text")
		return
	}
	seq := 0
	dead := false
	value := m.Value
	for len(value) > 0 {
		line := value
		if i := bytes.IndexByte(value, '\n'); i >= 0 {
			line, value = value[:i], value[i+1:]
		} else {
			value = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		st.stream.Line(seq, line, false, func(r *Record) {
			if r.Event == nil {
				return // not an auth event
			}
			v := r.Verdict
			p.metrics.Observe(r.Event, &v)
			if !store.Keeps(v) {
				return
			}
			if v.Outcome == classify.Malformed && !dead {
				dead = true
				p.deadLetter(m, "malformed", r.Event.Detail)
			}
			row := store.Row{Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset, Seq: uint16(seq),
				IngestTime: now, Event: *r.Event, Verdict: v}
			if v.Outcome == classify.Failure || v.Outcome == classify.Malformed {
				row.Raw = p.red.Redact(toString(line[:min(len(line), store.MaxRawBytes)]))
			}
			p.cur.rows = append(p.cur.rows, row)
			seq++
		})
	}
}

func (p *Pipeline) deadLetter(m *kafka.Message, reason, detail string) {
	p.metrics.DLQ.WithLabelValues(reason).Inc()
	if p.dlq == nil {
		return
	}
	p.cur.dead = append(p.cur.dead, kafka.Message{Key: m.Key, Value: m.Value, Headers: []kafka.Header{
		{Key: "authsift-reason", Value: []byte(reason)},
		{Key: "authsift-detail", Value: []byte(detail)},
		{Key: "authsift-source-topic", Value: []byte(m.Topic)},
		{Key: "authsift-source-partition", Value: []byte(strconv.Itoa(m.Partition))},
		{Key: "authsift-source-offset", Value: []byte(strconv.FormatInt(m.Offset, 10))},
	}})
}

// store stores b's rows and dead letters, retrying with backoff until they
// are accepted or ctx ends, then commits its offsets. It runs beside the
// pipeline loop: it touches only b, the sink, the fetcher's commit and the
// metrics.
func (p *Pipeline) store(ctx context.Context, b *batch) (err error) {
	defer func() {
		if err != nil && errors.Is(context.Cause(ctx), errAbandoned) {
			err = errAbandoned
		}
	}()
	start := time.Now()
	if len(b.dead) > 0 {
		if err := p.retry(ctx, func() error { return p.dlq.WriteMessages(ctx, b.dead...) }, func(error) { p.metrics.DLQErrors.Inc() }); err != nil {
			return fmt.Errorf("write dead letters: %w", err)
		}
		clear(b.dead)
		b.dead = b.dead[:0] // written: a retry of the batch does not send them again
	}
	if len(b.rows) > 0 {
		err := p.retry(ctx, func() error {
			// Drop what the sink already holds: after a rebalance another
			// replica may have stored part of this batch (it read the
			// partition from the last commit while this one still held it),
			// and a failed try may have landed all the same.
			if err := p.dropStored(ctx, b); err != nil {
				return err
			}
			if len(b.rows) == 0 {
				return nil
			}
			b.attempted = true
			return p.sink.Write(ctx, b.rows)
		}, func(err error) {
			p.metrics.FlushErrors.WithLabelValues(errorCategory(err)).Inc()
		})
		if err != nil {
			return fmt.Errorf("store batch: %w", err)
		}
		p.metrics.Flushes.Inc()
		p.metrics.BatchRows.Observe(float64(len(b.rows)))
		p.metrics.FlushDuration.Observe(time.Since(start).Seconds())
	}
	if err := p.repairRollup(ctx, b); err != nil {
		return err
	}
	cs := time.Now()
	if err := p.fetcher.CommitMessages(ctx, b.commits...); err != nil {
		// The rows are stored: after a rebalance or restart these messages
		// are read again and skipped by the high-water check.
		p.metrics.CommitErrors.Inc()
		p.logger.Warn("offset commit failed; the batch will be read again and skipped", "err", err, "messages", b.messages)
	} else {
		p.metrics.CommitDuration.Observe(time.Since(cs).Seconds())
	}
	p.metrics.LastProcessed.Set(float64(time.Now().Unix()))
	return nil
}

// repairRollup checks the rollup of the messages b skipped as stored by a
// writer that did not commit them: that writer may have been cut between
// the events and the rollup (RollupRepairer). It runs between this
// partition's inserts, as the repair needs.
func (p *Pipeline) repairRollup(ctx context.Context, b *batch) error {
	rr, ok := p.sink.(RollupRepairer)
	if !ok {
		return nil
	}
	for k, r := range b.replayed {
		err := p.retry(ctx, func() error {
			added, err := rr.RepairRollup(ctx, k.topic, int32(k.partition), r[0], r[1])
			if added > 0 {
				p.metrics.RollupRepaired.Add(float64(added))
				p.logger.Warn("rollup repaired: a replayed batch was in events but not in the rollup (ClickHouse stopped mid-insert)",
					"topic", k.topic, "partition", k.partition, "offsets", fmt.Sprintf("%d-%d", r[0], r[1]), "events_added", added)
			}
			return err
		}, func(err error) {
			p.metrics.FlushErrors.WithLabelValues(errorCategory(err)).Inc()
		})
		if err != nil {
			return fmt.Errorf("repair rollup: %w", err)
		}
		delete(b.replayed, k)
	}
	return nil
}

// dropStored removes from b the rows the sink already holds (by the
// high-water mark of their partition).
func (p *Pipeline) dropStored(ctx context.Context, b *batch) error {
	hw, ok := p.sink.(HighWaterer)
	if !ok {
		return nil
	}
	read := hw.HighWater
	if recent, ok := p.sink.(RecentHighWaterer); ok && !b.attempted {
		read = recent.RecentHighWater
	}
	marks := map[partitionKey]int64{}
	kept := b.rows[:0]
	for _, r := range b.rows {
		k := partitionKey{r.Topic, int(r.Partition)}
		mark, known := marks[k]
		if !known {
			off, found, err := read(ctx, r.Topic, r.Partition)
			if err != nil {
				return err
			}
			mark = -1
			if found {
				mark = off
			}
			marks[k] = mark
		}
		if r.Offset > mark {
			kept = append(kept, r)
		} else {
			p.metrics.ReplaySkipped.Inc()
			b.replay(k, r.Offset)
		}
	}
	clear(b.rows[len(kept):])
	b.rows = kept
	return nil
}

func (p *Pipeline) updateStateMetrics() {
	n, ev := 0, uint64(0)
	for k, st := range p.parts {
		if time.Since(st.lastMessage) > partitionIdle {
			p.metrics.Lag.DeleteLabelValues(k.topic, strconv.Itoa(k.partition))
			p.evicted -= min(p.evicted, st.stream.Tracker().Evicted())
			p.metrics.ForgetCorrelation(st.stream.Tracker())
			delete(p.parts, k)
			continue
		}
		n += st.stream.Tracker().Len()
		ev += st.stream.Tracker().Evicted()
		p.metrics.ObserveCorrelation(st.stream.Tracker())
	}
	p.metrics.CorrelationState.Set(float64(n))
	if ev > p.evicted {
		p.metrics.CorrelationEvict.Add(float64(ev - p.evicted))
		p.evicted = ev
	}
}

// retry calls fn until it succeeds or ctx ends, backing off exponentially.
func (p *Pipeline) retry(ctx context.Context, fn func() error, failed func(error)) error {
	delay := backoff.New(p.cfg.MinBackoff, p.cfg.MaxBackoff)
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			if attempt > 1 {
				p.logger.Info("write recovered", "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err()) // shutting down: the drain tries again
		}
		failed(err)
		if attempt == 1 || attempt%10 == 0 {
			p.logger.Warn("write failed; fetching paused, retrying", "err", err, "attempt", attempt, "backoff", delay.Delay())
		}
		if !delay.Wait(ctx) {
			return errors.Join(err, ctx.Err())
		}
	}
}

// errorCategory maps an error to a closed set of metric label values.
func errorCategory(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &ne):
		return "network"
	}
	s := err.Error()
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
	switch {
	case has("connection refused", "EOF", "broken pipe", "connection reset", "no route to host"):
		return "network"
	case has("code: 60,", "code: 16,", "code: 47,", "UNKNOWN_TABLE", "NO_SUCH_COLUMN", "Unknown identifier"):
		return "schema"
	case has("code: "):
		return "server"
	}
	return "other"
}
