// Package kafkatest runs real Apache Kafka 4.x brokers for the integration
// suite: one or three KRaft nodes (broker and controller in one JVM each) on
// free loopback ports, from the Maven Central jars that .ci/kafka resolves,
// run with `java`. Each broker is a child process of the test in its own
// process group, killed by the kernel when the test binary dies (Linux), and
// can be stopped (controlled shutdown), killed (-9) and started again on its
// data.
//
// The gate is the three-state one of ClickHouse's tests. AUTHSIFT_TEST_KAFKA:
//
//   - unset: run when java and the jars are available, skip otherwise;
//   - "required": fail (not skip) when a broker cannot start (CI);
//   - "off": skip.
//
// The jars: $AUTHSIFT_TEST_KAFKA_LIB, else the directory that
// `.ci/kafka/start --resolve` prints (it runs Maven once per pom.xml).
package kafkatest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/localch"
)

// Environment variables.
const (
	EnvGate = "AUTHSIFT_TEST_KAFKA"
	EnvLib  = "AUTHSIFT_TEST_KAFKA_LIB"
)

// startTimeout bounds the wait for a broker to say it started.
const startTimeout = 120 * time.Second

// Options shape a cluster; the zero value is one plain-text broker.
type Options struct {
	// Brokers is the number of nodes (default 1). With 3, internal topics
	// and new topics get replication factor 3 and min.insync.replicas 2.
	Brokers int
	// Config lines are appended to every node's server.properties.
	Config []string
	// Listener, when set, adds a client listener named CLIENT with this
	// security protocol (SASL_PLAINTEXT, SSL, SASL_SSL); Broker.ClientAddr is
	// its address. Brokers talk to each other over PLAINTEXT.
	Listener string
	// FormatArgs are passed to the storage format of every node, e.g.
	// "--add-scram", "SCRAM-SHA-256=[name=alice,password=secret]".
	FormatArgs []string
}

// Cluster is a running set of brokers.
type Cluster struct {
	Brokers []*Broker
	t       testing.TB
}

// Broker is one KRaft node.
type Broker struct {
	ID int
	// Addr is the PLAINTEXT listener; ClientAddr the CLIENT listener when
	// Options.Listener is set, else Addr.
	Addr, ClientAddr string
	Dir              string

	java   []string // the broker's command line, without the class and config file
	common []string // JVM options of every java run: logging and class path
	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
}

// Gate skips or fails the test as AUTHSIFT_TEST_KAFKA says when java or the
// jars are missing (the three-state gate of chtest), and returns the jar
// directory.
func Gate(t testing.TB) string {
	t.Helper()
	var lib string
	chtest.Gate(t, EnvGate, func() (err error) {
		lib, err = jars()
		return err
	})
	return lib
}

var (
	libOnce sync.Once
	libDir  string
	libErr  error
)

func jars() (string, error) {
	libOnce.Do(func() { libDir, libErr = resolveJars() })
	return libDir, libErr
}

func resolveJars() (string, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return "", errors.New("java not found (Kafka 4.x needs Java 17+)")
	}
	if lib := os.Getenv(EnvLib); lib != "" {
		return lib, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	script := ""
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".ci", "kafka", "start")); err == nil {
			script = filepath.Join(d, ".ci", "kafka", "start")
			break
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no .ci/kafka/start above %s and %s not set", wd, EnvLib)
		}
	}
	var stderr bytes.Buffer
	cmd := exec.Command(script, "--resolve")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("resolve kafka jars (%s --resolve): %v\n%s", script, err, stderr.String())
	}
	lib, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "lib=")
	if !ok {
		return "", fmt.Errorf("resolve kafka jars: unexpected output %q", out)
	}
	return lib, nil
}

// Start starts a cluster for the test (or skips or fails it as the gate
// says) and stops it when the test ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	lib := Gate(t)
	if opts.Brokers <= 0 {
		opts.Brokers = 1
	}
	var last error
	for range 3 { // a free port may be taken before the JVM binds it
		c, err := start(t, lib, opts)
		if err == nil {
			return c
		}
		last = err
		if !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	t.Fatalf("start kafka (%d brokers): %v", opts.Brokers, last)
	return nil
}

func start(t testing.TB, lib string, opts Options) (*Cluster, error) {
	n := opts.Brokers
	ports := make([]int, 0, 3*n)
	for len(ports) < 3*n {
		p, err := localch.FreePort()
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	var voters []string
	for i := range n {
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", i+1, ports[3*i+1]))
	}
	cid := clusterID()
	minISR := 1
	if n >= 3 {
		minISR = 2
	}
	c := &Cluster{t: t}
	root := t.TempDir()
	for i := range n {
		b := &Broker{ID: i + 1, Dir: filepath.Join(root, fmt.Sprintf("broker-%d", i+1))}
		port, cport, lport := ports[3*i], ports[3*i+1], ports[3*i+2]
		b.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		b.ClientAddr = b.Addr
		listeners := fmt.Sprintf("PLAINTEXT://%s,CONTROLLER://127.0.0.1:%d", b.Addr, cport)
		advertised := "PLAINTEXT://" + b.Addr
		protocols := "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
		if opts.Listener != "" {
			b.ClientAddr = fmt.Sprintf("127.0.0.1:%d", lport)
			listeners += ",CLIENT://" + b.ClientAddr
			advertised += ",CLIENT://" + b.ClientAddr
			protocols += ",CLIENT:" + opts.Listener
		}
		props := []string{
			"process.roles=broker,controller",
			fmt.Sprintf("node.id=%d", b.ID),
			"controller.quorum.voters=" + strings.Join(voters, ","),
			"listeners=" + listeners,
			"advertised.listeners=" + advertised,
			"controller.listener.names=CONTROLLER",
			"inter.broker.listener.name=PLAINTEXT",
			"listener.security.protocol.map=" + protocols,
			"log.dirs=" + filepath.Join(b.Dir, "data"),
			"num.partitions=1",
			fmt.Sprintf("default.replication.factor=%d", n),
			fmt.Sprintf("min.insync.replicas=%d", minISR),
			"auto.create.topics.enable=true",
			fmt.Sprintf("offsets.topic.replication.factor=%d", n),
			"offsets.topic.num.partitions=4",
			fmt.Sprintf("transaction.state.log.replication.factor=%d", n),
			fmt.Sprintf("transaction.state.log.min.isr=%d", minISR),
			fmt.Sprintf("share.coordinator.state.topic.replication.factor=%d", n),
			fmt.Sprintf("share.coordinator.state.topic.min.isr=%d", minISR),
			"group.initial.rebalance.delay.ms=0",
			// A small machine: few threads per broker.
			"num.network.threads=2",
			"num.io.threads=2",
			"num.recovery.threads.per.data.dir=1",
			"background.threads=2",
			"log.cleaner.enable=false",
		}
		props = append(props, opts.Config...)
		if err := os.MkdirAll(b.Dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(b.Dir, "server.properties"), []byte(strings.Join(props, "\n")+"\n"), 0o644); err != nil {
			return nil, err
		}
		logCfg := strings.ReplaceAll(log4j, "{dir}", b.Dir)
		if err := os.WriteFile(filepath.Join(b.Dir, "log4j2.properties"), []byte(logCfg), 0o644); err != nil {
			return nil, err
		}
		common := []string{"-Djava.awt.headless=true", "-Dlog4j2.configurationFile=" + filepath.Join(b.Dir, "log4j2.properties"),
			"-cp", filepath.Join(lib, "*")}
		// C1 only and a small serial-GC heap: the suite's loads are small,
		// start-up CPU on a shared machine is what costs.
		b.common = common
		b.java = append([]string{"java", "-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
			"-XX:-UsePerfData"}, common...)
		c.Brokers = append(c.Brokers, b)
	}
	// Format every node (in parallel: each is a JVM start).
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, b := range c.Brokers {
		wg.Go(func() { errs[i] = b.format(cid, opts.FormatArgs) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		for _, b := range c.Brokers {
			b.Kill()
		}
		if t.Failed() {
			for _, b := range c.Brokers {
				t.Logf("kafka broker %d log tail:\n%s", b.ID, b.LogTail(30))
			}
		}
	})
	for i, b := range c.Brokers {
		wg.Go(func() { errs[i] = b.Start() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, b := range c.Brokers {
			b.Kill()
		}
		return nil, err
	}
	return c, nil
}

const log4j = `status = warn
appender.file.type = File
appender.file.append = true
appender.file.name = file
appender.file.fileName = {dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
`

// clusterID is a random Kafka Uuid: 16 bytes as unpadded base64url, not
// starting with '-' (the format tool would take it for an option).
func clusterID() string {
	for {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		id := base64.RawURLEncoding.EncodeToString(b)
		if id[0] != '-' {
			return id
		}
	}
}

func (b *Broker) format(cid string, extra []string) error {
	args := append([]string{"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"}, b.common...)
	args = append(args, "kafka.tools.StorageTool", "format", "-t", cid, "-c", filepath.Join(b.Dir, "server.properties"))
	args = append(args, extra...)
	out, err := exec.Command("java", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("format broker %d storage: %v\n%s", b.ID, err, out)
	}
	return nil
}

// Start starts the broker (again, on its data) and waits until it logged
// that it started.
func (b *Broker) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil {
		return fmt.Errorf("broker %d is running", b.ID)
	}
	logPath := filepath.Join(b.Dir, "server.log")
	var base int64
	if fi, err := os.Stat(logPath); err == nil {
		base = fi.Size()
	}
	out, err := os.OpenFile(filepath.Join(b.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(b.java[0], append(b.java[1:], "kafka.Kafka", filepath.Join(b.Dir, "server.properties"))...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("run broker %d: %w", b.ID, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); out.Close(); close(done) }()
	b.cmd, b.done = cmd, done

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if started(logPath, base) {
			return nil
		}
		select {
		case <-done:
			b.cmd = nil
			return fmt.Errorf("broker %d exited during start-up:\n%s", b.ID, b.LogTail(30))
		case <-ctx.Done():
			b.kill()
			return fmt.Errorf("broker %d not started within %s:\n%s", b.ID, startTimeout, b.LogTail(30))
		case <-tick.C:
		}
	}
}

// started says the log has "Kafka Server started" after offset base.
func started(path string, base int64) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := f.Seek(base, 0); err != nil {
		return false
	}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		if bytes.Contains(s.Bytes(), []byte("Kafka Server started")) {
			return true
		}
	}
	return false
}

// Stop shuts the broker down (SIGTERM: controlled shutdown) and waits for
// it to exit; after a minute it kills it.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(time.Minute):
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
	}
	b.cmd = nil
}

// Kill kills the broker (-9, its whole process group) and waits for it.
func (b *Broker) Kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.kill()
}

func (b *Broker) kill() {
	if b.cmd == nil {
		return
	}
	_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	<-b.done
	b.cmd = nil
}

// Running says the broker process is up.
func (b *Broker) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cmd != nil
}

// LogTail returns the last n lines of the broker's log and JVM output.
func (b *Broker) LogTail(n int) string {
	var s strings.Builder
	for _, name := range []string{"stdout.log", "server.log"} {
		data, err := os.ReadFile(filepath.Join(b.Dir, name))
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&s, "== %s ==\n%s\n", name, strings.Join(lines, "\n"))
	}
	return s.String()
}

// Bootstrap returns the PLAINTEXT addresses of all brokers.
func (c *Cluster) Bootstrap() []string {
	var out []string
	for _, b := range c.Brokers {
		out = append(out, b.Addr)
	}
	return out
}

// ClientBootstrap returns the CLIENT listener addresses of all brokers.
func (c *Cluster) ClientBootstrap() []string {
	var out []string
	for _, b := range c.Brokers {
		out = append(out, b.ClientAddr)
	}
	return out
}

// Running returns the addresses of the running brokers.
func (c *Cluster) Running() []string {
	var out []string
	for _, b := range c.Brokers {
		if b.Running() {
			out = append(out, b.Addr)
		}
	}
	return out
}

// CreateTopic creates a topic with replication factor = the number of
// brokers and waits until every partition has a leader.
func (c *Cluster) CreateTopic(t testing.TB, name string, partitions int, config map[string]string) {
	t.Helper()
	var entries []kafka.ConfigEntry
	for k, v := range config {
		entries = append(entries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(c.Running()...), Timeout: 10 * time.Second}
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: name, NumPartitions: partitions, ReplicationFactor: len(c.Brokers), ConfigEntries: entries}}})
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	if err := resp.Errors[name]; err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	c.WaitLeaders(t, name, partitions)
}

// WaitLeaders waits until every partition of topic has a leader that runs
// and a full in-sync replica set.
func (c *Cluster) WaitLeaders(t testing.TB, topic string, partitions int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	running := map[int]bool{}
	for _, b := range c.Brokers {
		running[b.ID] = b.Running()
	}
	for {
		client := &kafka.Client{Addr: kafka.TCP(c.Running()...), Timeout: 5 * time.Second}
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err == nil && len(md.Topics) == 1 && md.Topics[0].Error == nil && len(md.Topics[0].Partitions) == partitions {
			ok := true
			for _, p := range md.Topics[0].Partitions {
				live := 0
				for _, r := range p.Isr {
					if running[r.ID] {
						live++
					}
				}
				if p.Error != nil || !running[p.Leader.ID] || live < len(c.Running()) {
					ok = false
				}
			}
			if ok {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topic %s: partitions without a running leader and full ISR after a minute (last metadata error: %v)", topic, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Committed returns the offsets the group committed on topic, by partition
// (partitions with no commit are absent).
func Committed(ctx context.Context, brokers []string, group, topic string, partitions int) (map[int]int64, error) {
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}
	resp, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, p.Error
		}
		if p.CommittedOffset >= 0 {
			out[p.Partition] = p.CommittedOffset
		}
	}
	return out, nil
}

// EndOffsets returns the next offset of each partition of topic.
func EndOffsets(ctx context.Context, brokers []string, topic string, partitions int) (map[int]int64, error) {
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}
	var req []kafka.OffsetRequest
	for p := range partitions {
		req = append(req, kafka.LastOffsetOf(p))
	}
	resp, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("partition %d: %w", p.Partition, p.Error)
		}
		out[p.Partition] = p.LastOffset
	}
	return out, nil
}
