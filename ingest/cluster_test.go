package ingest

import (
	"github.com/authsift/authsift/ingest/redact"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/store/clickhouse"
)

// TestClusterReplicaStopped runs the schema in cluster mode on two real
// ClickHouse 18.16 replicas of one shard (ReplicatedMergeTree behind
// Distributed tables, ON CLUSTER migrations through ZooKeeper) and kills
// the replica authsift writes to in the middle of the stream: the writes
// fail over to the other replica, no event is lost or counted twice, and the
// killed replica catches up when it is back.
func TestClusterReplicaStopped(t *testing.T) {
	const cluster, db = "authsift_test", "cl"
	c := chtest.StartCluster(t, cluster, 2)
	r1, r2 := c.Replicas[0], c.Replicas[1]

	ch, err := clickhouse.Open(t.Context(), clickhouse.Config{Addrs: []string{r1.TCP, r2.TCP}, Database: db, Cluster: cluster,
		DialTimeout: time.Second, ReadTimeout: 20 * time.Second, Redactor: redact.New([]byte("k"))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	if _, err := ch.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	// ON CLUSTER created every table on both replicas.
	wantTables := "classes\nevents\nevents_1m\nevents_1m_local\nevents_1m_mv\nevents_local\noffsets\nschema_migrations"
	for i, r := range c.Replicas {
		out, err := r.Query(t.Context(), "SELECT name FROM system.tables WHERE database = '"+db+"' ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(out); got != wantTables {
			t.Fatalf("replica %d tables:\n%s\nwant:\n%s", i+1, got, wantTables)
		}
	}

	h := newHarness(t, "auth")
	lines, want := sampleTraffic(t, h.engine, 3000)
	r := h.run(h.reader("cl", "auth"), ch, nil, PipelineConfig{BatchRows: 200, FlushInterval: 100 * time.Millisecond,
		MaxBackoff: 500 * time.Millisecond})
	h.produce("auth", lines[:1500])
	eventually(t, "first half stored", func() bool {
		return countRows(t, r2, "SELECT count() FROM "+db+".events_local") > 0
	})
	// The INSERT queries each server took: authsift writes to the first
	// address while it answers, so replica 1 took them before the kill and
	// replica 2 must take them after it.
	inserts := func(r *chtest.Server) int {
		return countRows(t, r, "SELECT toInt64(sum(value)) FROM system.events WHERE event = 'InsertQuery'")
	}
	before1, before2 := inserts(r1), inserts(r2)
	if before1 == 0 {
		t.Fatal("replica 1 took no insert before the kill: killing it would not cut the writer's replica")
	}
	r1.Stop() // kill -9 mid-stream
	h.produce("auth", lines[1500:])
	eventually(t, "everything committed with replica 1 down", func() bool {
		return committed(t, h.brokers, "cl", "auth") == int64(len(lines))
	})
	r.stop(t)
	after2 := inserts(r2)
	if after2 <= before2 {
		t.Errorf("replica 2 took no insert after replica 1 was killed (%d before, %d after): the writes did not fail over", before2, after2)
	}
	t.Logf("inserts: replica 1 took %d before the kill; replica 2 took %d before it and %d after it", before1, before2, after2-before2)
	// A write in flight at the kill fails and is retried; when the kill
	// falls between writes, clickhouse-go drops the dead connection before
	// using it and no write fails at all.
	t.Logf("writes failed at the kill: %.0f", testutil.ToFloat64(r.metrics.FlushErrors.WithLabelValues("network"))+
		testutil.ToFloat64(r.metrics.FlushErrors.WithLabelValues("other"))+testutil.ToFloat64(r.metrics.FlushErrors.WithLabelValues("timeout")))

	if got := countRows(t, r2, "SELECT count() FROM "+db+".events_local FINAL"); got != want {
		t.Errorf("replica 2 holds %d events (FINAL), want %d", got, want)
	}
	// The rollup is written by a materialized view inside the same INSERT,
	// but ClickHouse does not make the two atomic: a server killed in the
	// middle of an insert can keep the batch's events without their rollup
	// rows. The retry finds the events stored, skips them and repairs their
	// rollup: it is exact.
	rollup := countRows(t, r2, "SELECT sum(events) FROM "+db+".events_1m_local")
	if rollup != want {
		t.Errorf("replica 2's rollup counts %d events, want %d", rollup, want)
	}
	t.Logf("rollup events repaired after the kill: %.0f", testutil.ToFloat64(r.metrics.RollupRepaired))
	if err := r1.Restart(); err != nil {
		t.Fatal(err)
	}
	// Both tables replicate on their own: wait for each to match replica 2.
	for _, c := range []struct {
		q    string
		want int
	}{{"SELECT count() FROM " + db + ".events_local FINAL", want}, {"SELECT sum(events) FROM " + db + ".events_1m_local", rollup}} {
		eventually(t, "replica 1 caught up: "+c.q, func() bool {
			out, err := r1.Query(t.Context(), c.q)
			return err == nil && strings.TrimSpace(out) == strconv.Itoa(c.want)
		})
	}
	// Queries through the Distributed table see every row once.
	if got := countRows(t, r1, "SELECT count() FROM "+db+".events FINAL"); got != want {
		t.Errorf("the distributed events table holds %d rows, want %d", got, want)
	}
}
