package ingest

import (
	"context"
	"github.com/authsift/authsift/ingest/redact"
	"syscall"
	"testing"
	"time"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/gen"
	"github.com/authsift/authsift/ingest/store"
	"github.com/authsift/authsift/ingest/store/clickhouse"
)

// BenchmarkClickHouseWrite inserts batches of 10,000 rows of the generator's
// mixed traffic into the real server and reports the client's CPU per row
// (cpu-ns/row, from getrusage: the server is another process) beside the
// wall time per batch.
func BenchmarkClickHouseWrite(b *testing.B) {
	srv := chtest.Start(b)
	red := redact.New([]byte("bench-key"))
	ch, err := clickhouse.Open(context.Background(), clickhouse.Config{Addrs: []string{srv.TCP}, Database: "bench", Redactor: red})
	if err != nil {
		b.Fatal(err)
	}
	defer ch.Close()
	if _, err := ch.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	const batch = 10000
	rows := benchRows(b, batch, red)
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range rows {
			rows[j].Offset = int64(i*batch + j)
		}
		if err := ch.Write(context.Background(), rows); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N*batch), "cpu-ns/row")
}

// benchRows classifies the generator's traffic into n rows the way the
// pipeline does.
func benchRows(b *testing.B, n int, red *redact.Redactor) []store.Row {
	s, err := NewStream(defaultEngine(b), FormatAuto, classify.DefaultTrackerConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	g := gen.New(7)
	now := time.Now().UTC()
	var rows []store.Row
	for i := 0; len(rows) < n; i++ {
		for _, line := range splitLines(g.Append(nil)) {
			s.Line(i, line, false, func(r *Record) {
				if r.Event == nil || (r.Verdict.Outcome == classify.Ignored && r.Verdict.Rule == nil) || len(rows) >= n {
					return
				}
				row := store.Row{Topic: "auth", Partition: 0, IngestTime: now, Event: *r.Event, Verdict: r.Verdict}
				if r.Verdict.Outcome == classify.Failure {
					row.Raw = red.Redact(string(line))
				}
				rows = append(rows, row)
			})
		}
	}
	return rows
}

// processCPU is the user + system CPU time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
