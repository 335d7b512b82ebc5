//go:build integration

package ingest

import (
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/gen"
	"github.com/authsift/authsift/ingest/kafkatest"
)

// TestLoadSustained is `make bench-load`: the authsift binary consumes
// generated traffic from a real Kafka 4.x broker at a steady rate for
// minutes, writing to the real ClickHouse server, all on this machine. Every
// 10 s it samples the service's resident memory and consumer lag. It fails
// when memory grows through the run (the last third's peak above the first
// third's by more than 25 %), when lag does not stay bounded, or when rows
// are lost or doubled; the numbers go to BENCHMARKS.md. Only with
// AUTHSIFT_BENCH_LOAD=1; AUTHSIFT_LOAD_RATE (messages/s, default 15000) and
// AUTHSIFT_LOAD_DURATION (default 5m) set the load.
func TestLoadSustained(t *testing.T) {
	if os.Getenv("AUTHSIFT_BENCH_LOAD") != "1" {
		t.Skip("set AUTHSIFT_BENCH_LOAD=1 (make bench-load)")
	}
	rate := 15000
	if s := os.Getenv("AUTHSIFT_LOAD_RATE"); s != "" {
		rate, _ = strconv.Atoi(s)
	}
	duration := 5 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("AUTHSIFT_LOAD_DURATION")); err == nil {
		duration = d
	}
	const topic, partitions = "load", 4
	srv := chtest.Start(t)
	kc := kafkatest.Start(t, kafkatest.Options{})
	kc.CreateTopic(t, topic, partitions, nil)
	brokers := kc.Bootstrap()
	svc := startService(t, "load", serveArgs{brokers: brokers, topic: topic, group: "load", chAddr: srv.TCP, db: "load",
		batchRows: 20000})
	pid := svc.cmd.Process.Pid

	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireOne,
		BatchSize: 1000, BatchBytes: 1 << 20, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	g := gen.New(11)
	type sample struct {
		at       time.Duration
		rss, lag float64
	}
	var samples []sample
	const tick = 100 * time.Millisecond
	perTick := rate / int(time.Second/tick)
	start := time.Now()
	nextSample := 10 * time.Second
	sent := 0
	msgs := make([]kafka.Message, 0, perTick+16)
	for time.Since(start) < duration {
		t0 := time.Now()
		msgs = msgs[:0]
		for len(msgs) < perTick {
			b := g.Append(nil)
			key := append([]byte(nil), g.Key()...)
			for _, l := range splitLines(b) {
				msgs = append(msgs, kafka.Message{Key: key, Value: l})
			}
		}
		if err := w.WriteMessages(t.Context(), msgs...); err != nil {
			t.Fatalf("produce: %v", err)
		}
		sent += len(msgs)
		if el := time.Since(start); el >= nextSample {
			rss, _ := procRSS(pid)
			samples = append(samples, sample{el.Round(time.Second), rss, svc.metric("authsift_kafka_consumer_lag")})
			nextSample += 10 * time.Second
		}
		if d := tick - time.Since(t0); d > 0 {
			time.Sleep(d)
		}
	}
	produced := time.Since(start)
	waitDrained(t, brokers, "load", topic, partitions, 2*time.Minute)
	drained := time.Since(start) - produced
	_, hwm := procRSS(pid)
	for _, s := range samples {
		t.Logf("sample t=%s rss_mib=%.0f lag=%.0f", s.at, s.rss, s.lag)
	}
	if len(samples) < 6 {
		t.Fatalf("only %d samples: run for a minute at least", len(samples))
	}
	third := len(samples) / 3
	peak := func(ss []sample) float64 {
		m := 0.0
		for _, s := range ss {
			m = max(m, s.rss)
		}
		return m
	}
	first, last := peak(samples[:third]), peak(samples[len(samples)-third:])
	lags := make([]float64, len(samples))
	for i, s := range samples {
		lags[i] = s.lag
	}
	sort.Float64s(lags)
	t.Logf("RESULT load_rate=%.0f/s for %s (%d messages), drained %s after the producer stopped", float64(sent)/produced.Seconds(),
		produced.Round(time.Second), sent, drained.Round(100*time.Millisecond))
	t.Logf("RESULT rss_first_third_peak_mib=%.0f rss_last_third_peak_mib=%.0f peak_rss_mib=%.0f lag_median=%.0f lag_max=%.0f",
		first, last, hwm, lags[len(lags)/2], lags[len(lags)-1])
	if last > first*1.25 {
		t.Errorf("memory grew through the run: peak %.0f MiB in the first third, %.0f MiB in the last", first, last)
	}
	if lags[len(lags)-1] > float64(rate)*30 {
		t.Errorf("lag reached %.0f messages (%s of traffic): the service did not keep up", lags[len(lags)-1],
			time.Duration(lags[len(lags)-1]/float64(rate)*float64(time.Second)).Round(time.Second))
	}
	e := expectedRows(t, brokers, topic, partitions)
	if got := checkStored(t, srv, "load", topic, e); !got.exact() {
		t.Errorf("stored rows after the load: %s", got)
	}
}
