//go:build integration

package ingest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/gen"
	"github.com/authsift/authsift/ingest/kafkatest"
)

// The integration suite's tools: the authsift binary run as its own
// process, traffic produced to real Kafka, the expected rows computed from
// what Kafka holds, and the check of what ClickHouse stored.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// authsiftBinary is $AUTHSIFT_BIN, else the binary built from ../cmd/authsift
// once per test run.
func authsiftBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("AUTHSIFT_BIN"); b != "" {
		return b
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "authsift-it-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "authsift")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/authsift").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// service is one `authsift serve` process.
type service struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	url     string
	logPath string
	done    chan struct{}
	err     error
}

// serveArgs are the flags of a service reading topic as group and storing
// into database db of ClickHouse at chAddr.
type serveArgs struct {
	brokers   []string
	topic     string
	group     string
	chAddr    string
	db        string
	batchRows int
	extra     []string
	env       []string
}

func (a serveArgs) flags(port int) []string {
	rows := a.batchRows
	if rows == 0 {
		rows = 2000
	}
	args := []string{"serve", "--kafka.brokers", strings.Join(a.brokers, ","), "--kafka.topic", a.topic,
		"--kafka.group", a.group, "--clickhouse.addr", a.chAddr, "--clickhouse.database", a.db, "--migrate",
		"--batch.rows", strconv.Itoa(rows), "--batch.interval", "200ms",
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", port), "--log.level", "info", "--shutdown-timeout", "20s"}
	return append(args, a.extra...)
}

// startService runs authsift serve and waits until its HTTP endpoint answers.
func startService(t *testing.T, name string, a serveArgs) *service {
	t.Helper()
	port := freeTCPPort(t)
	s := &service{t: t, name: name, url: fmt.Sprintf("http://127.0.0.1:%d", port),
		logPath: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	logf, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(authsiftBinary(t), a.flags(port)...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.Env = append(os.Environ(), a.env...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); logf.Close(); close(s.done) }()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("%s log tail:\n%s", name, tail(s.logPath, 25))
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get(s.url + "/-/healthy"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("%s exited at start-up (%v):\n%s", name, s.err, tail(s.logPath, 25))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within a minute:\n%s", name, tail(s.logPath, 25))
		}
	}
}

func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kill sends SIGKILL and waits for the process.
func (s *service) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// stop sends SIGTERM (store and commit the pending batch, leave the group)
// and wants a clean exit.
func (s *service) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		s.kill()
		s.t.Fatalf("%s did not stop within a minute of SIGTERM", s.name)
	}
	if s.err != nil {
		s.t.Fatalf("%s exited with %v:\n%s", s.name, s.err, tail(s.logPath, 25))
	}
}

func (s *service) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// status is the HTTP status of GET path, -1 when the service does not answer.
func (s *service) status(path string) int {
	resp, err := http.Get(s.url + path)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}

// metric sums the samples of a metric (every label set); -1 when the
// service does not answer.
func (s *service) metric(name string) float64 {
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, name) || len(l) == len(name) || (l[len(name)] != '{' && l[len(name)] != ' ') {
			continue
		}
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// waitFor polls cond every 100 ms until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// producer writes generated traffic, one line per message, keyed by the id
// that relates lines (so correlation works per partition).
type producer struct {
	t   *testing.T
	w   *kafka.Writer
	gen *gen.Generator
	buf []kafka.Message
}

func newProducer(t *testing.T, brokers []string, topic string, seed int64) *producer {
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchSize: 500, BatchBytes: 16 << 20, BatchTimeout: 5 * time.Millisecond, MaxAttempts: 20,
		WriteBackoffMin: 50 * time.Millisecond, WriteBackoffMax: 500 * time.Millisecond}
	t.Cleanup(func() { w.Close() })
	return &producer{t: t, w: w, gen: gen.New(seed)}
}

// produce writes n messages. A write that fails (a broker is down) is tried
// again until a minute has passed: the expected rows are read back from
// Kafka, so a message written twice is only expected twice.
func (p *producer) produce(n int) {
	p.t.Helper()
	p.buf = p.buf[:0]
	for len(p.buf) < n {
		b := p.gen.Append(nil)
		key := append([]byte(nil), p.gen.Key()...)
		for _, l := range splitLines(b) {
			if len(p.buf) < n {
				p.buf = append(p.buf, kafka.Message{Key: key, Value: l})
			}
		}
	}
	p.write(p.buf...)
}

func (p *producer) write(msgs ...kafka.Message) {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := p.w.WriteMessages(context.Background(), msgs...)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Errorf("produce %d messages: %v", len(msgs), err)
			return
		}
		var failed []kafka.Message
		if we, ok := err.(kafka.WriteErrors); ok {
			for i, e := range we {
				if e != nil {
					failed = append(failed, msgs[i])
				}
			}
			msgs = failed
		}
		time.Sleep(200 * time.Millisecond) // back off before the next try
	}
}

type msgKey struct {
	partition int
	offset    int64
}

// expected reads the topic back and returns how many rows each message
// must give, by the pipeline's rules: oversized, binary and non-UTF-8
// messages give none, every line that is an auth event (or matched by a
// rule) gives one, in a per-partition stream as the pipeline keeps it.
type expectation struct {
	rows  map[msgKey]int
	total int
	msgs  int64
}

func expectedRows(t *testing.T, brokers []string, topic string, partitions int) expectation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	end, err := kafkatest.EndOffsets(ctx, brokers, topic, partitions)
	if err != nil {
		t.Fatal(err)
	}
	engine := defaultEngine(t)
	e := expectation{rows: map[msgKey]int{}}
	for p := range partitions {
		e.msgs += end[p]
		if end[p] == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxBytes: 32 << 20, MaxWait: 100 * time.Millisecond})
		stream, _ := NewStream(engine, FormatAuto, classify.DefaultTrackerConfig(), nil)
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read back %s/%d: %v", topic, p, err)
			}
			if n := rowsOf(stream, m.Value); n > 0 {
				e.rows[msgKey{p, m.Offset}] = n
				e.total += n
			}
			if m.Offset >= end[p]-1 {
				break
			}
		}
		r.Close()
	}
	return e
}

// stored is what ClickHouse holds for a topic, against the expectation.
type stored struct {
	want     int // rows expected
	rows     int // count() without FINAL: every insert not yet merged away
	distinct int // distinct (partition, offset, seq) keys
	final    int // count() FINAL
	rollup   int // sum(events) of the events_1m rollup
	lost     int // expected keys not stored
	doubled  int // rows inserted more than once and not yet merged (the rollup keeps them all)
	phantom  int // keys stored that no message gives
}

func (s stored) String() string {
	return fmt.Sprintf("want=%d rows=%d distinct=%d final=%d rollup=%d lost=%d doubled=%d phantom=%d",
		s.want, s.rows, s.distinct, s.final, s.rollup, s.lost, s.doubled, s.phantom)
}

// exact says every message's rows are stored exactly once, also in the rollup.
func (s stored) exact() bool {
	return s.lost == 0 && s.doubled == 0 && s.phantom == 0 && s.rows == s.want && s.final == s.want && s.rollup == s.want
}

func checkStored(t *testing.T, srv *chtest.Server, db, topic string, e expectation) stored {
	t.Helper()
	out, err := srv.Query(t.Context(), fmt.Sprintf("SELECT kafka_partition, kafka_offset, count(), uniqExact(kafka_seq), max(kafka_seq) "+
		"FROM %s.events WHERE kafka_topic = '%s' GROUP BY kafka_partition, kafka_offset FORMAT TabSeparated", db, topic))
	if err != nil {
		t.Fatal(err)
	}
	s := stored{want: e.total}
	seen := map[msgKey]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		f := strings.Split(l, "\t")
		p, _ := strconv.Atoi(f[0])
		off, _ := strconv.ParseInt(f[1], 10, 64)
		n, _ := strconv.Atoi(f[2])
		uniq, _ := strconv.Atoi(f[3])
		maxSeq, _ := strconv.Atoi(f[4])
		k := msgKey{p, off}
		seen[k] = true
		s.rows += n
		s.distinct += uniq
		s.doubled += n - uniq
		want := e.rows[k]
		if uniq > want || maxSeq >= want {
			s.phantom += max(uniq-want, 1)
		}
		if uniq < want {
			s.lost += want - uniq
		}
	}
	for k, n := range e.rows {
		if !seen[k] {
			s.lost += n
		}
	}
	s.final = countRows(t, srv, fmt.Sprintf("SELECT count() FROM %s.events FINAL WHERE kafka_topic = '%s'", db, topic))
	s.rollup = countRows(t, srv, fmt.Sprintf("SELECT sum(events) FROM %s.events_1m", db))
	return s
}

// waitDrained waits until the group committed every message of the topic.
func waitDrained(t *testing.T, brokers []string, group, topic string, partitions int, limit time.Duration) {
	t.Helper()
	var last string
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		end, err1 := kafkatest.EndOffsets(ctx, brokers, topic, partitions)
		got, err2 := kafkatest.Committed(ctx, brokers, group, topic, partitions)
		cancel()
		if err1 == nil && err2 == nil {
			done := true
			for p := range partitions {
				if got[p] < end[p] {
					done = false
				}
			}
			if done {
				return
			}
			last = fmt.Sprintf("committed %v, end %v", got, end)
		} else {
			last = fmt.Sprintf("%v %v", err1, err2)
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s did not commit all of %s within %s: %s", group, topic, limit, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// delayProxy forwards TCP to target; every chunk the target sends back
// reaches the client delay later (order kept): a slow server.
type delayProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	delay  time.Duration
	target string
}

func newDelayProxy(t *testing.T, target string, delay time.Duration) *delayProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &delayProxy{ln: ln, delay: delay, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(up, c); up.Close() }()
			go p.delayed(c, up)
		}
	}()
	return p
}

func (p *delayProxy) addr() string { return p.ln.Addr().String() }

func (p *delayProxy) setDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

type chunk struct {
	data []byte
	at   time.Time
}

// delayed copies from up to c, each chunk held until its time has come.
func (p *delayProxy) delayed(c, up net.Conn) {
	ch := make(chan chunk, 1024)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 64<<10)
			n, err := up.Read(buf)
			if n > 0 {
				p.mu.Lock()
				d := p.delay
				p.mu.Unlock()
				ch <- chunk{buf[:n], time.Now().Add(d)}
			}
			if err != nil {
				return
			}
		}
	}()
	defer c.Close()
	for k := range ch {
		time.Sleep(time.Until(k.at)) // the delay is the fault being simulated
		if _, err := c.Write(k.data); err != nil {
			up.Close()
			return
		}
	}
}

// procRSS returns the resident and peak resident set of a process in MiB.
func procRSS(pid int) (rss, hwm float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = v / 1024
		case "VmHWM:":
			hwm = v / 1024
		}
	}
	return rss, hwm
}
