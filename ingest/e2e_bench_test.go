package ingest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/gen"
)

// TestBenchE2E is `make bench-e2e`: the service binary (AUTHSIFT_BIN) as its
// own process, reading an in-process kfake cluster and writing to the real
// ClickHouse server on loopback. Phase 1 pre-fills the topic and measures
// throughput (per CPU-second of the service and per wall-second) and peak
// RSS; phase 2 produces at half that rate and measures the time from a
// message's produce to its rows being queryable. It only runs when
// AUTHSIFT_BENCH_E2E=1; it reports numbers, it asserts no speed.
func TestBenchE2E(t *testing.T) {
	if os.Getenv("AUTHSIFT_BENCH_E2E") != "1" {
		t.Skip("set AUTHSIFT_BENCH_E2E=1 (make bench-e2e)")
	}
	bin := os.Getenv("AUTHSIFT_BIN")
	if bin == "" {
		t.Fatal("AUTHSIFT_BIN must name the authsift binary")
	}
	lines := 1_000_000
	if s := os.Getenv("AUTHSIFT_BENCH_LINES"); s != "" {
		lines, _ = strconv.Atoi(s)
	}
	const partitions = 4
	srv := chtest.Start(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()

	// Phase 1: pre-fill.
	start := time.Now()
	writers := make([]*kafka.Writer, partitions)
	for p := range writers {
		writers[p] = &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "auth", Balancer: fixedPartition(p),
			BatchSize: 1000, BatchBytes: 1 << 20, BatchTimeout: time.Millisecond}
		defer writers[p].Close()
	}
	g := gen.New(42)
	var bytesIn int64
	batch := make([][]kafka.Message, partitions)
	sent := 0
	for sent < lines {
		for _, l := range splitLines(g.Append(nil)) {
			p := sent % partitions
			batch[p] = append(batch[p], kafka.Message{Value: l})
			bytesIn += int64(len(l))
			sent++
		}
		if sent%20000 < 4 || sent >= lines {
			for p := range batch {
				if len(batch[p]) > 0 {
					if err := writers[p].WriteMessages(context.Background(), batch[p]...); err != nil {
						t.Fatal(err)
					}
					batch[p] = batch[p][:0]
				}
			}
		}
	}
	t.Logf("pre-filled %d messages (%.1f MB) in %s", sent, float64(bytesIn)/1e6, time.Since(start).Round(time.Millisecond))

	port := freeTCPPort(t)
	args := []string{"serve", "--kafka.brokers", strings.Join(brokers, ","), "--kafka.topic", "auth",
		"--kafka.group", "bench", "--clickhouse.addr", srv.TCP, "--clickhouse.database", "bench", "--migrate",
		"--batch.rows", "20000", "--batch.interval", "250ms", "--web.listen-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--log.level", "info"}
	// AUTHSIFT_BENCH_ARGS adds serve flags, e.g. "--clickhouse.compression=none".
	args = append(args, strings.Fields(os.Getenv("AUTHSIFT_BENCH_ARGS"))...)
	t.Logf("serve flags: %s", strings.Join(args[1:], " "))
	cmd := exec.Command(bin, args...)
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logf, _ := os.Create(logPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	t.Cleanup(func() {
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("serve log:\n%s", data)
			if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port)); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				for _, l := range strings.Split(string(body), "\n") {
					if strings.HasPrefix(l, "authsift_") && !strings.HasSuffix(l, " 0") && !strings.Contains(l, "_bucket") {
						t.Log(l)
					}
				}
			}
		}
	})
	start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	t.Logf("serve metrics on http://127.0.0.1:%d/metrics", port)
	if out := os.Getenv("AUTHSIFT_BENCH_PROFILE"); out != "" {
		go saveProfile(t, fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=10", port), out)
	}
	waitCommitted(t, brokers, "bench", int64(sent), partitions, benchWait())
	wall := time.Since(start)
	cpu := procCPU(t, cmd.Process.Pid)
	rss := procHWM(t, cmd.Process.Pid)
	rows, _ := srv.Query(context.Background(), "SELECT count() FROM bench.events")
	rowsN, _ := strconv.Atoi(strings.TrimSpace(rows))
	perCPU := float64(sent) / cpu.Seconds()
	t.Logf("phase 1: %d messages (%d rows stored) in %s wall, %s service CPU", sent, rowsN, wall.Round(time.Millisecond), cpu.Round(time.Millisecond))
	t.Logf("RESULT events_per_cpu_second=%.0f events_per_wall_second=%.0f rows_per_wall_second=%.0f peak_rss_mib=%.1f",
		perCPU, float64(sent)/wall.Seconds(), float64(rowsN)/wall.Seconds(), float64(rss)/1024)

	// Phase 2: latency at half the measured whole-machine rate. The
	// producer notes when the last message of each batch was acknowledged;
	// a poller notes when ClickHouse's highest stored offset per partition
	// passed it (a partition is processed in order, so everything up to it
	// is queryable), from the offsets table.
	rate := float64(sent) / wall.Seconds() / 2
	if r, err := strconv.ParseFloat(os.Getenv("AUTHSIFT_BENCH_RATE"), 64); err == nil && r > 0 {
		rate = r // AUTHSIFT_BENCH_RATE overrides half of phase 1's rate
	}
	type mark struct {
		partition int
		offset    int64
		at        time.Time
	}
	type observation struct {
		at     time.Time
		stored [partitions]int64
	}
	var marks []mark
	var obs []observation
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			// The offsets table gets a batch's marks right after its events
			// (conservative: the events are queryable a little earlier).
			// Scanning events itself 50 times a second loaded the server
			// more than the service did.
			out, err := srv.Query(context.Background(), "SELECT kafka_partition, max(kafka_offset) FROM bench.offsets GROUP BY kafka_partition")
			if err == nil {
				o := observation{at: time.Now()}
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					f := strings.Split(l, "\t")
					if len(f) == 2 {
						p, _ := strconv.Atoi(f[0])
						off, _ := strconv.ParseInt(f[1], 10, 64)
						if p < partitions {
							o.stored[p] = off
						}
					}
				}
				obs = append(obs, o)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	next := make([]int64, partitions)
	for p := range next {
		next[p] = endOffset(t, brokers, p)
	}
	merges, _ := srv.Query(context.Background(), "SELECT count() FROM system.merges")
	parts, _ := srv.Query(context.Background(), "SELECT count() FROM system.parts WHERE active AND database = 'bench'")
	chPid := serverPid(srv.Dir)
	cpu2, testCPU2 := procCPU(t, cmd.Process.Pid), procCPU(t, os.Getpid())
	var chCPU2 time.Duration
	if chPid != 0 {
		chCPU2 = procCPU(t, chPid)
	}
	const duration, tick = 20 * time.Second, 50 * time.Millisecond
	perTick := int(rate * tick.Seconds())
	phase := time.Now()
	for time.Since(phase) < duration {
		t0 := time.Now()
		for p := range batch {
			batch[p] = batch[p][:0]
		}
		for i := 0; i < perTick; {
			for _, l := range splitLines(g.Append(nil)) {
				p := i % partitions
				batch[p] = append(batch[p], kafka.Message{Value: l})
				i++
			}
		}
		for p := range batch {
			if len(batch[p]) == 0 {
				continue
			}
			if err := writers[p].WriteMessages(context.Background(), batch[p]...); err != nil {
				t.Fatal(err)
			}
			next[p] += int64(len(batch[p]))
			marks = append(marks, mark{p, next[p] - 1, time.Now()})
		}
		if d := tick - time.Since(t0); d > 0 {
			time.Sleep(d)
		}
	}
	produced := time.Since(phase)
	share := func(pid int, before time.Duration) string {
		if pid == 0 {
			return "an unknown share" // the server's process was not found
		}
		return fmt.Sprintf("%.0f%%", 100*(procCPU(t, pid)-before).Seconds()/produced.Seconds())
	}
	t.Logf("phase 2: at its start clickhouse ran %s merges over %s active parts; during it the service used %s of a core, clickhouse %s, this test (producer and kfake) %s",
		strings.TrimSpace(merges), strings.TrimSpace(parts), share(cmd.Process.Pid, cpu2), share(chPid, chCPU2), share(os.Getpid(), testCPU2))
	time.Sleep(5 * time.Second) // let the tail be stored; the poller keeps observing
	close(stop)
	<-polled
	var lat []time.Duration
	var slowest mark
	var slowestLat time.Duration
	for _, m := range marks {
		for _, o := range obs {
			if o.at.After(m.at) && o.stored[m.partition] >= m.offset {
				if d := o.at.Sub(m.at); d > slowestLat {
					slowest, slowestLat = m, d
				}
				lat = append(lat, o.at.Sub(m.at))
				break
			}
		}
	}
	if len(lat) == 0 {
		t.Fatal("no produced batch was observed in clickhouse")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) time.Duration { return lat[int(f*float64(len(lat)-1))].Round(time.Millisecond) }
	t.Logf("phase 2: %.0f messages/s for %s, %d of %d batches observed (the last batch of a partition may end in lines that store nothing)",
		rate, produced.Round(time.Second), len(lat), len(marks))
	t.Logf("RESULT latency_p50=%s latency_p99=%s latency_max=%s rate=%.0f/s (the slowest batch was produced %s into the phase)",
		q(0.5), q(0.99), lat[len(lat)-1].Round(time.Millisecond), rate, slowest.at.Sub(phase).Round(100*time.Millisecond))
	if data, err := os.ReadFile(logPath); err == nil {
		t.Logf("serve log: %d warnings of kafka-go's partition readers (timed-out fetches, lost connections: each stops a partition's fetching for a backoff)",
			strings.Count(string(data), `msg="kafka reader: `))
	}
	t.Logf("RESULT peak_rss_mib_after_phase2=%.1f", float64(procHWM(t, cmd.Process.Pid))/1024)
	m := scrape(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	t.Logf("RESULT flushes=%.0f mean_flush=%.0fms mean_batch_rows=%.0f mean_commit=%.0fms (whole run)", m["authsift_flush_duration_seconds_count"],
		1000*m["authsift_flush_duration_seconds_sum"]/m["authsift_flush_duration_seconds_count"],
		m["authsift_batch_rows_sum"]/m["authsift_batch_rows_count"],
		1000*m["authsift_kafka_commit_duration_seconds_sum"]/m["authsift_kafka_commit_duration_seconds_count"])
}

// scrape reads the unlabelled samples of a /metrics page.
func scrape(t *testing.T, url string) map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get(url)
	if err != nil {
		t.Logf("scrape: %v", err)
		return out
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(body), "\n") {
		if f := strings.Fields(l); len(f) == 2 && !strings.HasPrefix(l, "#") {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	return out
}

type fixedPartition int

func (f fixedPartition) Balance(_ kafka.Message, partitions ...int) int {
	return partitions[int(f)%len(partitions)]
}

// saveProfile writes a CPU profile of the service (taken while phase 1 runs)
// to out, for `make bench-e2e AUTHSIFT_BENCH_PROFILE=cpu.pprof`.
func saveProfile(t *testing.T, url, out string) {
	time.Sleep(3 * time.Second) // past start-up and migrations
	resp, err := http.Get(url)
	if err != nil {
		t.Logf("profile: %v", err)
		return
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(out, data, 0o644)
	}
	if err != nil {
		t.Logf("profile: %v", err)
		return
	}
	t.Logf("phase 1 CPU profile (10 s) written to %s", out)
}

func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitCommitted(t *testing.T, brokers []string, group string, want int64, partitions int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	for {
		resp, err := c.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{"auth": parts}})
		if err == nil {
			var total int64
			for _, p := range resp.Topics["auth"] {
				if p.CommittedOffset > 0 {
					total += p.CommittedOffset
				}
			}
			if total >= want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all %d messages committed within %s", want, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func endOffset(t *testing.T, brokers []string, partition int) int64 {
	conn, err := kafka.DialLeader(context.Background(), "tcp", brokers[0], "auth", partition)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	off, err := conn.ReadLastOffset()
	if err != nil {
		t.Fatal(err)
	}
	return off
}

// procCPU is the user+system CPU time of a process (Linux /proc).
func procCPU(t *testing.T, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// serverPid finds the ClickHouse server whose command line names dir (0:
// none).
func serverPid(dir string) int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if data, err := os.ReadFile(p); err == nil && strings.Contains(string(data), dir) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	return 0
}

// procHWM is the peak resident set of a process in KiB.
func procHWM(t *testing.T, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			n, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return n
		}
	}
	return 0
}

func benchWait() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("AUTHSIFT_BENCH_WAIT")); err == nil {
		return d
	}
	return 10 * time.Minute
}
