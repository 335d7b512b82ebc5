package ingest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

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
