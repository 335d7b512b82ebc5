package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/authsift/authsift/ingest/internal/backoff"
)

// GroupConsumer consumes a Kafka consumer group with kafka-go's
// ConsumerGroup and one Reader per assigned partition. It exists for one
// guarantee kafka-go's group Reader cannot give: a rebalance waits for the
// batches in flight.
//
// The group Reader rejoins the group as soon as a rebalance starts, while
// the pipeline may still be writing a batch of the partitions it loses; the
// next owner reads them again from the last commit and writes them beside
// it. ClickHouse's events table folds the twin rows (same coordinates), but
// the per-minute rollup, fed by a materialized view on every insert, counts
// both. Here, when a generation ends (a replica joins or leaves, a broker
// restarts, the service stops), fetching stops, the pipeline is told to
// store and commit at once what it was handed (Revoked), and the member
// rejoins only after those commits: the next owner of a partition starts
// after the last stored message, never beside a batch being written. When
// the commits do not come within the revoke timeout (ClickHouse down or
// slow), the pipeline is told to give up what it holds (Abandon) before the
// member rejoins: the next owner stores it instead.
type GroupConsumer struct {
	cfg    Config
	topics []string
	group  *kafkago.ConsumerGroup
	logger *slog.Logger
	// revokeTimeout bounds how long a rebalance waits for the pipeline's
	// commits (Config.RevokeTimeout). It stays under the session timeout:
	// kafka-go stops heartbeating once a rebalance starts.
	revokeTimeout time.Duration
	queueCap      int

	closed    chan struct{} // closed by Close
	closeOnce sync.Once
	revoked   chan struct{}      // a token: flush now
	abandon   chan chan struct{} // give up what you hold, then close the channel
	committed chan struct{}      // a token after each commit

	mu    sync.Mutex
	ready chan struct{} // a token when msgs grew
	space chan struct{} // closed and replaced when msgs shrank
	msgs  []kafkago.Message
	parts map[partitionKey]*groupPartition
}

// partitionKey names a partition of a topic.
type partitionKey struct {
	topic     string
	partition int
}

// groupPartition is a partition of the current or the ending generation.
type groupPartition struct {
	gen       *kafkago.Generation
	delivered int64 // highest offset Take returned, -1 none
	committed int64 // highest offset committed, -1 none
}

// Kafka consumer-group timings: a rebalance settles within seconds, and the
// pipeline's commit of what it holds (one batch store, normally well under
// a second) fits inside the session timeout.
const (
	groupSessionTimeout = 10 * time.Second
	groupRevokeTimeout  = 7 * time.Second // + groupMaxWait for the readers to stop: under the session timeout
	groupQueued         = 4096            // messages between the partition readers and the pipeline
	groupReadersQueued  = 2000            // messages in kafka-go's partition readers, together (at least 100 each)
	// groupMaxWait is the partition readers' fetch wait. kafka-go gives the
	// broker this wait minus a margin for the round trip and drops the
	// connection (then reconnects after a backoff) when the answer is not
	// read within the whole wait. The margin is a quarter of waits under a
	// second and a full second above: 250 ms left a broker 62 ms, and a
	// loaded two-core machine missed it every few seconds, so fetching
	// stopped for 0.6-1 s at a time; 1.5 s leaves it a second (the broker
	// waits 0.5 s when the partition is idle; data is answered at once).
	groupMaxWait = 1500 * time.Millisecond
)

// MaxBuffered is the most messages a GroupConsumer assigned up to 20
// partitions holds between the brokers and the pipeline: kafka-go's
// partition readers' queues together (at least 100 each, so more with more
// partitions), and its own queue.
const MaxBuffered = groupReadersQueued + groupQueued

// NewGroupConsumer joins cfg.Group for topics. Close leaves the group.
func NewGroupConsumer(cfg Config, topics []string, logger *slog.Logger) (*GroupConsumer, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 16 << 20
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = groupMaxWait
	}
	if cfg.RevokeTimeout <= 0 {
		cfg.RevokeTimeout = groupRevokeTimeout
	}
	g, err := kafkago.NewConsumerGroup(kafkago.ConsumerGroupConfig{
		ID:                cfg.Group,
		Brokers:           cfg.Brokers,
		Dialer:            cfg.dialer(),
		Topics:            topics,
		HeartbeatInterval: time.Second,
		SessionTimeout:    groupSessionTimeout,
		RebalanceTimeout:  groupSessionTimeout,
		JoinGroupBackoff:  time.Second,
		StartOffset:       kafkago.FirstOffset,
		Timeout:           10 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("kafka consumer group: %w", err)
	}
	return &GroupConsumer{cfg: cfg, topics: topics, group: g, logger: logger,
		revokeTimeout: cfg.RevokeTimeout, queueCap: groupQueued,
		closed: make(chan struct{}), revoked: make(chan struct{}, 1), abandon: make(chan chan struct{}), committed: make(chan struct{}, 1),
		ready: make(chan struct{}, 1), space: make(chan struct{}),
		parts: map[partitionKey]*groupPartition{}}, nil
}

// Close leaves the group and stops the partition readers.
func (c *GroupConsumer) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.group.Close()
}

// Run takes part in the group's generations until ctx ends: for each, one
// reader per assigned partition, and a settling step when it ends.
func (c *GroupConsumer) Run(ctx context.Context) {
	retry := backoff.New(100*time.Millisecond, 5*time.Second)
	for {
		gen, err := c.group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafkago.ErrGroupClosed) {
				return
			}
			c.logger.Warn("kafka consumer group: joining failed; retrying", "err", err, "backoff", retry.Delay())
			if !retry.Wait(ctx) {
				return
			}
			continue
		}
		retry.Reset()
		c.generation(ctx, gen)
	}
}

// generation starts the readers of gen's partitions and the step that
// settles them when gen ends.
func (c *GroupConsumer) generation(ctx context.Context, gen *kafkago.Generation) {
	var readers sync.WaitGroup
	n := 0
	for _, assigned := range gen.Assignments {
		n += len(assigned)
	}
	// kafka-go's readers queue messages each; together about as many as
	// the group reader's one queue held.
	queued := max(100, groupReadersQueued/max(n, 1))
	c.mu.Lock()
	clear(c.parts)
	for topic, assigned := range gen.Assignments {
		for _, a := range assigned {
			k := partitionKey{topic, a.ID}
			c.parts[k] = &groupPartition{gen: gen, delivered: -1, committed: -1}
			readers.Add(1)
			gen.Start(func(gctx context.Context) {
				defer readers.Done()
				c.read(ctx, gctx, k, a.Offset, queued)
			})
		}
	}
	c.mu.Unlock()
	c.logger.Info("kafka consumer group: generation started", "generation", gen.ID, "member", gen.MemberID, "partitions", n)
	gen.Start(func(gctx context.Context) {
		select {
		case <-gctx.Done():
		case <-ctx.Done():
		}
		readers.Wait()
		c.settle(ctx, gen)
	})
}

// read fetches one partition from offset (or the first offset when the
// group has none committed) into the queue until the generation or ctx
// ends. It returns only then: kafka-go ends the generation when any of its
// functions returns.
func (c *GroupConsumer) read(ctx, gctx context.Context, k partitionKey, offset int64, queued int) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(gctx, cancel)
	defer stop()
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:       c.cfg.Brokers,
		Topic:         k.topic,
		Partition:     k.partition,
		MinBytes:      1,
		MaxBytes:      c.cfg.MaxBytes,
		MaxWait:       c.cfg.MaxWait,
		QueueCapacity: queued,
		Dialer:        c.cfg.dialer(),
		// kafka-go retries what goes wrong inside a reader (a timed-out
		// fetch, a lost connection) on its own; say so, or a stall has no
		// trace.
		ErrorLogger: kafkago.LoggerFunc(func(msg string, args ...any) {
			c.logger.Warn("kafka reader: "+fmt.Sprintf(msg, args...), "topic", k.topic, "partition", k.partition)
		}),
	})
	defer r.Close()
	if offset < 0 {
		offset = kafkago.FirstOffset
	}
	if err := r.SetOffset(offset); err != nil {
		c.logger.Error("kafka: cannot set the partition's offset", "topic", k.topic, "partition", k.partition, "offset", offset, "err", err)
	}
	retry := backoff.New(100*time.Millisecond, 5*time.Second)
	for {
		m, err := r.FetchMessage(rctx)
		if err != nil {
			if rctx.Err() != nil {
				return
			}
			c.logger.Warn("kafka fetch failed; retrying", "topic", k.topic, "partition", k.partition, "err", err, "backoff", retry.Delay())
			if !retry.Wait(rctx) {
				return
			}
			continue
		}
		retry.Reset()
		if !c.push(rctx, m) {
			return
		}
	}
}

// push queues m, waiting while the queue is full.
func (c *GroupConsumer) push(ctx context.Context, m kafkago.Message) bool {
	c.mu.Lock()
	for len(c.msgs) >= c.queueCap {
		space := c.space
		c.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return false
		}
		c.mu.Lock()
	}
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
	return true
}

// Ready gives a token when messages were queued.
func (c *GroupConsumer) Ready() <-chan struct{} { return c.ready }

// Take returns the queued messages and keeps buf, emptied, as the queue:
// one lock for the slice, and a map lookup per run of one partition.
func (c *GroupConsumer) Take(buf []kafkago.Message) []kafkago.Message {
	clear(buf)
	c.mu.Lock()
	defer c.mu.Unlock()
	msgs := c.msgs
	c.msgs = buf[:0]
	var last *groupPartition
	for i := range msgs {
		m := &msgs[i]
		if i == 0 || m.Partition != msgs[i-1].Partition || m.Topic != msgs[i-1].Topic {
			last = c.parts[partitionKey{m.Topic, m.Partition}]
		}
		if last != nil {
			last.delivered = max(last.delivered, m.Offset)
		}
	}
	if len(msgs) >= c.queueCap {
		// Readers may be waiting for space.
		close(c.space)
		c.space = make(chan struct{})
	}
	return msgs
}

// CommitMessages commits each message's offset (the next one to read) with
// the generation that delivered its partition. A commit for a generation
// that ended fails: the messages are read again by the next owner, which
// skips what is stored.
func (c *GroupConsumer) CommitMessages(_ context.Context, msgs ...kafkago.Message) error {
	byGen := map[*kafkago.Generation]map[string]map[int]int64{}
	c.mu.Lock()
	for _, m := range msgs {
		p := c.parts[partitionKey{m.Topic, m.Partition}]
		if p == nil {
			c.mu.Unlock()
			return fmt.Errorf("commit %s/%d: the partition is no longer assigned to this member", m.Topic, m.Partition)
		}
		if byGen[p.gen] == nil {
			byGen[p.gen] = map[string]map[int]int64{}
		}
		if byGen[p.gen][m.Topic] == nil {
			byGen[p.gen][m.Topic] = map[int]int64{}
		}
		byGen[p.gen][m.Topic][m.Partition] = m.Offset + 1
	}
	c.mu.Unlock()
	var errs []error
	for gen, offsets := range byGen {
		if err := gen.CommitOffsets(offsets); err != nil {
			errs = append(errs, err)
			continue
		}
		c.mu.Lock()
		for topic, parts := range offsets {
			for partition, next := range parts {
				if p := c.parts[partitionKey{topic, partition}]; p != nil && p.gen == gen {
					p.committed = max(p.committed, next-1)
				}
			}
		}
		c.mu.Unlock()
	}
	select {
	case c.committed <- struct{}{}:
	default:
	}
	return errors.Join(errs...)
}

// Revoked signals that the group is rebalancing: the pipeline stores and
// commits what it holds at once.
func (c *GroupConsumer) Revoked() <-chan struct{} { return c.revoked }

// Abandon hands the pipeline a channel to close once it dropped everything
// it holds, stored or not: the rebalance could not wait longer, and the
// partitions' next owner reads those messages again.
func (c *GroupConsumer) Abandon() <-chan chan struct{} { return c.abandon }

// settle runs when gen ends, after its readers stopped: it drops the queued
// messages the pipeline did not take, asks the pipeline to commit what it
// took and waits for those commits (or gives up after the revoke timeout)
// before kafka-go may rejoin the group.
func (c *GroupConsumer) settle(ctx context.Context, gen *kafkago.Generation) {
	c.mu.Lock()
	dropped := len(c.msgs)
	clear(c.msgs)
	c.msgs = c.msgs[:0]
	close(c.space)
	c.space = make(chan struct{})
	c.mu.Unlock()
	select {
	case c.revoked <- struct{}{}:
	default:
	}
	start := time.Now()
	deadline := time.NewTimer(c.revokeTimeout)
	defer deadline.Stop()
	for {
		pending := c.pending(gen)
		if pending == 0 {
			c.logger.Info("kafka consumer group: generation ended; everything handed out is stored and committed",
				"generation", gen.ID, "waited", time.Since(start).Round(time.Millisecond), "unread_dropped", dropped)
			return
		}
		select {
		case <-c.committed:
			continue
		case <-c.closed:
			return
		case <-deadline.C:
		}
		if ctx.Err() != nil {
			// Shutting down: the pipeline's drain goes on storing and
			// committing; the member leaves the group after it.
			return
		}
		c.logger.Warn("kafka consumer group: the rebalance cannot wait for the batches in flight; giving them up for the next owner to read again",
			"generation", gen.ID, "partitions_uncommitted", pending, "waited", c.revokeTimeout)
		done := make(chan struct{})
		select {
		case c.abandon <- done:
			<-done
		case <-ctx.Done():
		case <-c.closed:
		}
		return
	}
}

// pending counts gen's partitions with delivered messages not committed.
func (c *GroupConsumer) pending(gen *kafkago.Generation) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, p := range c.parts {
		if p.gen == gen && p.delivered > p.committed {
			n++
		}
	}
	return n
}
