//go:build integration

package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/authsift/authsift/ingest/chtest"
	askafka "github.com/authsift/authsift/ingest/kafka"
	"github.com/authsift/authsift/ingest/kafkatest"
	"github.com/authsift/authsift/ingest/store/clickhouse"
)

// The integration suite (make test-integration): real Apache Kafka 4.x
// (kafkatest, KRaft, started here), the real ClickHouse server (chtest) and
// `authsift serve` as its own process, faults included. Every test reads
// the topic back to know how many rows each message must give and checks
// that ClickHouse holds each of them exactly once: by its (partition,
// offset, seq) key, without and with FINAL, and in the events_1m rollup,
// where a double insert shows.

const partitions = 4

// fixture is the topic, group and database of one test.
type fixture struct {
	t       *testing.T
	kafka   *kafkatest.Cluster
	ch      *chtest.Server
	topic   string
	group   string
	db      string
	brokers []string
}

func newFixture(t *testing.T, k *kafkatest.Cluster, ch *chtest.Server, name string, topicConfig map[string]string) *fixture {
	t.Helper()
	f := &fixture{t: t, kafka: k, ch: ch, topic: "auth-" + name, group: "g-" + name, db: "it_" + name, brokers: k.Bootstrap()}
	k.CreateTopic(t, f.topic, partitions, topicConfig)
	return f
}

func (f *fixture) args() serveArgs {
	return serveArgs{brokers: f.brokers, topic: f.topic, group: f.group, chAddr: f.ch.TCP, db: f.db}
}

// check waits until the group committed everything, then compares what
// ClickHouse holds with what Kafka holds.
func (f *fixture) check(limit time.Duration) stored {
	f.t.Helper()
	waitDrained(f.t, f.brokers, f.group, f.topic, partitions, limit)
	e := expectedRows(f.t, f.brokers, f.topic, partitions)
	s := checkStored(f.t, f.ch, f.db, f.topic, e)
	f.t.Logf("%d messages: %s", e.msgs, s)
	return s
}

func (f *fixture) wantExact(limit time.Duration) stored {
	f.t.Helper()
	s := f.check(limit)
	if !s.exact() {
		f.t.Errorf("stored result is not exactly once: %s", s)
	}
	return s
}

func TestIntegration(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{})
	ch := chtest.Start(t)
	authsiftBinary(t)

	t.Run("baseline", func(t *testing.T) {
		f := newFixture(t, k, ch, "baseline", nil)
		newProducer(t, f.brokers, f.topic, 1).produce(20000)
		svc := startService(t, "authsift", f.args())
		f.wantExact(3 * time.Minute)
		svc.stop()
	})

	t.Run("rebalance", func(t *testing.T) {
		f := newFixture(t, k, ch, "rebalance", nil)
		p := newProducer(t, f.brokers, f.topic, 2)
		p.produce(5000)
		a := startService(t, "authsift-a", f.args())
		waitFor(t, time.Minute, "a consumes", func() bool { return a.metric("authsift_flushes_total") > 0 })
		b := startService(t, "authsift-b", f.args())
		// Keep producing until the rebalance gave b partitions.
		produced := 5000
		waitFor(t, 2*time.Minute, "b consumes", func() bool {
			p.produce(500)
			produced += 500
			return b.metric("authsift_kafka_messages_total") > 0
		})
		p.produce(5000)
		readA := a.metric("authsift_kafka_messages_total")
		a.stop() // a leaves: b takes its partitions over
		p.produce(5000)
		s := f.check(3 * time.Minute)
		t.Logf("a read %.0f, b read %.0f messages; %d produced", readA, b.metric("authsift_kafka_messages_total"), produced+10000)
		b.stop()
		// Nothing lost, nothing inserted twice, also in the rollup: each
		// rebalance waited for the batches in flight, so the new owner of a
		// partition started after the last stored message.
		if !s.exact() {
			t.Fatalf("rebalance: the stored result is not exactly once: %s", s)
		}
	})

	t.Run("authsift-kill-9-between-insert-and-commit", func(t *testing.T) {
		f := newFixture(t, k, ch, "kill", nil)
		newProducer(t, f.brokers, f.topic, 3).produce(30000)
		// ClickHouse answers late (each reply 300 ms): an insert has landed
		// for a while before authsift hears of it and commits, which is when
		// the kill -9 must come.
		proxy := newDelayProxy(t, ch.TCP, 300*time.Millisecond)
		args := f.args()
		args.chAddr = proxy.addr()
		args.batchRows = 1500
		rnd := rand.New(rand.NewPCG(7, 7))
		hits, kills := 0, 0
		for kills < 12 && (hits < 2 || kills < 4) {
			svc := startService(t, fmt.Sprintf("authsift-%d", kills), args)
			before := countRows(t, ch, "SELECT count() FROM "+f.db+".events")
			// Wait for an insert to land, then kill at a random moment.
			waitFor(t, time.Minute, "an insert", func() bool {
				return countRows(t, ch, "SELECT count() FROM "+f.db+".events") > before || svc.exited()
			})
			time.Sleep(time.Duration(rnd.IntN(400)) * time.Millisecond) // a random kill point, not a wait
			svc.kill()
			kills++
			if f.storedNotCommitted() {
				hits++
			}
		}
		t.Logf("%d kills, %d of them between an insert and its commit", kills, hits)
		if hits == 0 {
			t.Fatalf("no kill landed between an insert and its commit in %d tries", kills)
		}
		proxy.setDelay(0)
		svc := startService(t, "authsift-last", args)
		s := f.wantExact(3 * time.Minute)
		if s.exact() {
			t.Logf("replays skipped by the last run: %.0f messages", svc.metric("authsift_replay_skipped_messages_total"))
		}
		svc.stop()
	})

	t.Run("clickhouse-kill-9-and-restart", func(t *testing.T) {
		own := chtest.Start(t)
		f := newFixture(t, k, own, "chkill", nil)
		p := newProducer(t, f.brokers, f.topic, 4)
		p.produce(10000)
		svc := startService(t, "authsift", f.args())
		waitFor(t, time.Minute, "rows stored", func() bool { return countRows(t, own, "SELECT count() FROM "+f.db+".events") > 0 })
		own.Stop() // SIGKILL
		p.produce(10000)
		waitFor(t, time.Minute, "write errors while clickhouse is down", func() bool {
			return svc.metric("authsift_clickhouse_write_errors_total") > 0
		})
		if err := own.Restart(); err != nil {
			t.Fatal(err)
		}
		p.produce(5000)
		// Exact, also in the rollup: when the kill cut an insert between
		// events and the materialized view, the retry skips what events
		// holds and repairs the rollup of those messages.
		f.wantExact(3 * time.Minute)
		t.Logf("write errors while down: %.0f; rollup events repaired: %.0f",
			svc.metric("authsift_clickhouse_write_errors_total"), svc.metric("authsift_rollup_repaired_events_total"))
		svc.stop()
	})

	t.Run("clickhouse-tls-and-user", func(t *testing.T) {
		f := newFixture(t, k, ch, "chtls", nil)
		newProducer(t, f.brokers, f.topic, 10).produce(3000)
		passFile := filepath.Join(t.TempDir(), "clickhouse-password")
		os.WriteFile(passFile, []byte(chtest.Password+"\n"), 0o600)
		args := func(extra ...string) serveArgs {
			a := f.args()
			a.chAddr = ch.TLS
			a.extra = append([]string{"--clickhouse.tls", "--clickhouse.tls-ca-file", ch.CAFile, "--clickhouse.user", chtest.User}, extra...)
			return a
		}
		bad := args()
		bad.env = []string{clickhouse.PasswordEnv + "=not-the-password"}
		wantRefused(t, bad, "password")
		svc := startService(t, "authsift", args("--clickhouse.password-file", passFile))
		f.wantExact(2 * time.Minute)
		svc.stop()
	})

	t.Run("slow-clickhouse", func(t *testing.T) {
		const messages, batchRows = 15000, 1000
		f := newFixture(t, k, ch, "slow", nil)
		newProducer(t, f.brokers, f.topic, 5).produce(messages)
		// Each ClickHouse reply half a second late: an insert (prepare,
		// send, the offsets) takes seconds.
		proxy := newDelayProxy(t, ch.TCP, 500*time.Millisecond)
		args := f.args()
		args.chAddr = proxy.addr()
		args.batchRows = batchRows
		svc := startService(t, "authsift", args)
		// While inserts are slow, fetching pauses: what authsift holds
		// fetched but not committed stays within two batches (the one being
		// stored and the next; at most 4x batch.rows messages each),
		// kafka-go's partition readers' queues over the four partitions and
		// the consumer's queue (askafka.MaxBuffered).
		const bound = 2*4*batchRows + askafka.MaxBuffered + 100
		var peakInFlight, maxLag float64
		waitFor(t, 4*time.Minute, "all committed", func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			got, err := kafkatest.Committed(ctx, f.brokers, f.group, f.topic, partitions)
			cancel()
			fetched := svc.metric("authsift_kafka_messages_total")
			maxLag = max(maxLag, svc.metric("authsift_kafka_consumer_lag"))
			if err != nil || fetched < 0 {
				return false
			}
			var c int64
			for _, o := range got {
				c += o
			}
			peakInFlight = max(peakInFlight, fetched-float64(c))
			return c == messages
		})
		_, hwm := procRSS(svc.cmd.Process.Pid)
		t.Logf("slow clickhouse: peak fetched-not-committed %.0f messages (bound %d), max lag %.0f, peak RSS %.1f MiB, flushes %.0f",
			peakInFlight, bound, maxLag, hwm, svc.metric("authsift_flushes_total"))
		if peakInFlight > bound {
			t.Errorf("held %.0f fetched messages not committed, bound %d", peakInFlight, bound)
		}
		if hwm > 256 {
			t.Errorf("peak RSS %.1f MiB", hwm)
		}
		// The lag gauge moves only as messages are handled, and it is
		// sampled between inserts: a quarter of the topic behind proves the
		// backlog (runs saw 6,500-11,100 of 15,000).
		if maxLag < messages/4 {
			t.Errorf("max lag %.0f: clickhouse was not slow enough to build a backlog", maxLag)
		}
		waitFor(t, time.Minute, "lag back to 0", func() bool { return svc.metric("authsift_kafka_consumer_lag") == 0 })
		f.wantExact(time.Minute)
		svc.stop()
	})

	t.Run("poison-partition", func(t *testing.T) {
		f := newFixture(t, k, ch, "poison", map[string]string{"max.message.bytes": fmt.Sprint(12 << 20)})
		dlq := "dlq-poison"
		k.CreateTopic(t, dlq, 1, map[string]string{"max.message.bytes": fmt.Sprint(12 << 20)})
		p := newProducer(t, f.brokers, f.topic, 6)
		p.produce(5000)
		// Poison, all on one partition (one key), between good traffic.
		key := []byte("poison")
		poison := badInputs(rand.New(rand.NewPCG(1, 2)))
		var msgs []kafka.Message
		for _, b := range poison {
			msgs = append(msgs, kafka.Message{Key: key, Value: b.value})
		}
		p.write(msgs...)
		p.produce(5000)
		args := f.args()
		args.extra = []string{"--kafka.dlq-topic", dlq}
		svc := startService(t, "authsift", args)
		f.wantExact(3 * time.Minute)
		svc.stop()
		// Every dead letter is in the dead-letter topic, the 10 MB one cut
		// to fit.
		got := map[string]int{}
		truncated := 0
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: f.brokers, Topic: dlq, Partition: 0, MaxWait: 100 * time.Millisecond})
		defer r.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		want := map[string]int{}
		wantTruncated := 0
		for _, b := range poison {
			if b.reason != "" {
				want[b.reason]++
				if len(b.value) > askafka.DeadLetterMaxValue {
					wantTruncated++
				}
			}
		}
		for n := 0; n < len(poison) && sumOf(got) < sumOf(want); n++ {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatalf("read dead letters: %v (got %v, want %v)", err, got, want)
			}
			for _, h := range m.Headers {
				switch h.Key {
				case "authsift-reason":
					got[string(h.Value)]++
				case askafka.HeaderTruncatedFrom:
					truncated++
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || truncated != wantTruncated {
			t.Errorf("dead letters by reason %v, want %v; %d truncated, want %d", got, want, truncated, wantTruncated)
		}
	})

	// Last: it restarts the shared broker.
	t.Run("broker-restart", func(t *testing.T) {
		f := newFixture(t, k, ch, "brokerrestart", nil)
		p := newProducer(t, f.brokers, f.topic, 7)
		p.produce(10000)
		svc := startService(t, "authsift", f.args())
		waitFor(t, time.Minute, "rows stored", func() bool { return countRows(t, ch, "SELECT count() FROM "+f.db+".events") > 0 })
		k.Brokers[0].Stop()
		// Down long enough for authsift to notice (not ready). kafka-go may
		// hand a fetch an error meanwhile, which used to end the service.
		waitFor(t, time.Minute, "authsift not ready", func() bool { return svc.status("/-/ready") == http.StatusServiceUnavailable })

		if err := k.Brokers[0].Start(); err != nil {
			t.Fatal(err)
		}
		k.WaitLeaders(t, f.topic, partitions)
		p.produce(10000)
		f.wantExact(3 * time.Minute)
		if svc.exited() {
			t.Fatal("authsift exited during the broker restart")
		}
		logged, _ := os.ReadFile(svc.logPath)
		t.Logf("authsift logged %d failed kafka fetches while the broker was down", strings.Count(string(logged), "kafka fetch failed"))
		svc.stop()
	})
}

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// storedNotCommitted says ClickHouse holds a message of some partition that
// the group has not committed: authsift died between an insert and its commit.
func (f *fixture) storedNotCommitted() bool {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := kafkatest.Committed(ctx, f.brokers, f.group, f.topic, partitions)
	if err != nil {
		f.t.Fatal(err)
	}
	for p := range partitions {
		n := countRows(f.t, f.ch, fmt.Sprintf("SELECT count() FROM %s.events WHERE kafka_topic = '%s' AND kafka_partition = %d AND kafka_offset >= %d",
			f.db, f.topic, p, got[p]))
		if n > 0 {
			return true
		}
	}
	return false
}

// TestIntegrationThreeBrokers: three brokers, topics replicated three times
// with min.insync.replicas 2; the group coordinator is killed (-9) while
// authsift consumes and traffic keeps coming.
func TestIntegrationThreeBrokers(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{Brokers: 3})
	ch := chtest.Start(t)
	f := newFixture(t, k, ch, "three", nil)
	p := newProducer(t, f.brokers, f.topic, 8)
	p.produce(10000)
	svc := startService(t, "authsift", f.args())
	waitFor(t, time.Minute, "rows stored", func() bool { return countRows(t, ch, "SELECT count() FROM "+f.db+".events") > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	resp, err := (&kafka.Client{Addr: kafka.TCP(f.brokers...)}).FindCoordinator(ctx, &kafka.FindCoordinatorRequest{Key: f.group})
	cancel()
	if err != nil || resp.Error != nil {
		t.Fatalf("find the group coordinator: %v %v", err, resp)
	}
	victim := k.Brokers[resp.Coordinator.NodeID-1]
	victim.Kill()
	t.Logf("killed broker %d (the group coordinator)", victim.ID)
	p.produce(10000)
	f.brokers = k.Running()
	f.wantExact(3 * time.Minute)
	if victim.Running() {
		t.Fatal("the killed broker runs again")
	}
	svc.stop()
}
