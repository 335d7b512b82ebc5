package ingest

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestGroupConsumerWithoutBroker: with no broker to reach, the consumer
// keeps trying to join until its context ends (Run does not return) and
// hands the pipeline nothing.
func TestGroupConsumerWithoutBroker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := NewGroupConsumer(KafkaConfig{Brokers: []string{addr}, Group: "g", MaxWait: 50 * time.Millisecond}, []string{"auth"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(t.Context())
	}()
	defer func() {
		c.Close()
		<-done
	}()
	select {
	case <-done:
		t.Fatal("Run returned while its context was live: the service would stop consuming")
	case <-c.Ready():
		if msgs := c.Take(nil); len(msgs) > 0 {
			t.Fatalf("took %d messages with no broker", len(msgs))
		}
	case <-time.After(3 * time.Second):
	}
}

// TestPipelineRebalanceWhileSinkDown: the sink fails every write when a
// second consumer joins. The first cannot store what it holds, so the
// rebalance gives its batches up (after the revoke timeout) instead of
// letting it store them later beside their next owner. When the sink is
// back, every row is stored once and everything is committed.
func TestPipelineRebalanceWhileSinkDown(t *testing.T) {
	h := newHarness(t, "auth")
	lines, want := sampleTraffic(t, h.engine, 3000)
	sink := newMemSink()
	first := h.run(h.reader("g9", "auth"), sink, nil, PipelineConfig{BatchRows: 200})
	h.produce("auth", lines[:1000])
	eventually(t, "first batch committed", func() bool { return committed(t, h.brokers, "g9", "auth") == 1000 })
	sink.mu.Lock()
	sink.failures = 1 << 30
	sink.mu.Unlock()
	h.produce("auth", lines[1000:1500])
	eventually(t, "the first consumer failing to store", func() bool {
		return testutil.ToFloat64(first.metrics.FlushErrors.WithLabelValues("network")) > 0
	})
	second := h.run(h.reader("g9", "auth"), sink, nil, PipelineConfig{BatchRows: 200})
	eventually(t, "the first consumer gave its batches up", func() bool {
		return testutil.ToFloat64(first.metrics.RebalanceDropped) > 0
	})
	sink.mu.Lock()
	sink.failures = 0
	sink.mu.Unlock()
	h.produce("auth", lines[1500:])
	eventually(t, "all committed", func() bool { return committed(t, h.brokers, "g9", "auth") == int64(len(lines)) })
	first.stop(t)
	second.stop(t)
	if sink.count() != want {
		t.Fatalf("stored %d distinct rows, want %d", sink.count(), want)
	}
	if sink.duplicates != 0 {
		t.Fatalf("%d of %d rows inserted twice", sink.duplicates, want)
	}
	t.Logf("given up in the rebalance: %.0f messages", testutil.ToFloat64(first.metrics.RebalanceDropped))
}
