package localch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// debianZooKeeperJar is where Debian's zookeeper package puts the server
// (its dependencies are on the jar's manifest class path).
const debianZooKeeperJar = "/usr/share/java/zookeeper.jar"

// debianSLF4JSimple, when installed (libslf4j-java), gives ZooKeeper a log.
const debianSLF4JSimple = "/usr/share/java/slf4j-simple.jar"

// ZooKeeper is a running standalone ZooKeeper server, what replicated
// ClickHouse tables and ON CLUSTER DDL need.
type ZooKeeper struct {
	// Host and Port are the client address (127.0.0.1).
	Host string
	Port int
	Dir  string

	stop func()
}

// Stop kills the server and waits for it to exit.
func (z *ZooKeeper) Stop() { z.stop() }

// ZooKeeperJar finds the server jar: override when set, else Debian's.
func ZooKeeperJar(override string) (string, error) {
	jar := debianZooKeeperJar
	if override != "" {
		jar = override
	}
	if _, err := os.Stat(jar); err != nil {
		return "", fmt.Errorf("zookeeper: no server jar %s (apt-get install zookeeper): %w", jar, err)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return "", errors.New("zookeeper: java not found")
	}
	return jar, nil
}

// StartZooKeeper runs a standalone ZooKeeper from jar with its config, data
// and log in dir, on a free port of 127.0.0.1, without its admin server.
func StartZooKeeper(dir, jar string) (*ZooKeeper, error) {
	port, err := FreePort()
	if err != nil {
		return nil, fmt.Errorf("choose zookeeper port: %w", err)
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
		"admin.enableServer=false\nmaxClientCnxns=0\n4lw.commands.whitelist=ruok\nforceSync=no\n", data, port)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "zookeeper.log"))
	if err != nil {
		return nil, err
	}
	cp := jar
	if _, err := os.Stat(debianSLF4JSimple); err == nil {
		cp += ":" + debianSLF4JSimple // its log, on stderr
	}
	cmd := exec.Command("java", "-Xmx256m", "-cp", cp, "org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("run zookeeper: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); out.Close() }()
	z := &ZooKeeper{Host: "127.0.0.1", Port: port, Dir: dir, stop: func() {
		_ = cmd.Process.Kill()
		<-exited
	}}
	if err := z.wait(exited); err != nil {
		z.stop()
		return nil, fmt.Errorf("%v\n%s", err, z.LogTail())
	}
	return z, nil
}

// wait opens sessions until one is accepted within a second, the server
// exits or the start timeout passes. A server that answers ruok may still
// drop its first sessions while it warms up, and ClickHouse 18.16 gives up
// (and can crash) when its first connection fails.
func (z *ZooKeeper) wait(exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	addr := net.JoinHostPort(z.Host, strconv.Itoa(z.Port))
	for ok := 0; ok < 3; {
		if zkSession(addr) {
			ok++
			continue
		}
		ok = 0
		select {
		case err := <-exited:
			return fmt.Errorf("zookeeper exited before answering: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("zookeeper did not answer within %s", startTimeout)
		case <-tick.C:
		}
	}
	return nil
}

// zkSession sends ZooKeeper's connect request (protocol 0, a new session of
// 10 s, an empty password) and reports whether the answer came.
func zkSession(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	req := make([]byte, 48)
	binary.BigEndian.PutUint32(req[0:], 44)     // length
	binary.BigEndian.PutUint32(req[16:], 10000) // timeout, after protocol version and last zxid
	binary.BigEndian.PutUint32(req[28:], 16)    // password length, after the session id
	if _, err := c.Write(req); err != nil {
		return false
	}
	var n [4]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return false
	}
	resp := make([]byte, binary.BigEndian.Uint32(n[:]))
	_, err = io.ReadFull(c, resp)
	return err == nil && len(resp) >= 16
}

// LogTail returns the last lines of the server's log.
func (z *ZooKeeper) LogTail() string {
	log, _ := os.ReadFile(filepath.Join(z.Dir, "zookeeper.log"))
	return tail(string(log), 20)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ClusterConfig returns the Config of replica i (0-based) of a cluster with
// one shard and len(tcpPorts) replicas: the ZooKeeper it uses, the cluster's
// remote_servers entry, its macros ({shard} 01, {replica} r1, r2, ...), the
// ON CLUSTER DDL queue and a free port for replication (interserver HTTP).
// tcpPorts are every replica's native port.
func ClusterConfig(cluster string, zk *ZooKeeper, tcpPorts []int, i int) (Config, error) {
	interserver, err := FreePort()
	if err != nil {
		return Config{}, fmt.Errorf("choose interserver port: %w", err)
	}
	var replicas strings.Builder
	for _, p := range tcpPorts {
		fmt.Fprintf(&replicas, "        <replica><host>127.0.0.1</host><port>%d</port></replica>\n", p)
	}
	extra := fmt.Sprintf(`  <zookeeper>
    <node><host>%s</host><port>%d</port></node>
    <session_timeout_ms>10000</session_timeout_ms>
    <operation_timeout_ms>10000</operation_timeout_ms>
  </zookeeper>
  <remote_servers>
    <%s>
      <shard>
        <internal_replication>true</internal_replication>
%s      </shard>
    </%s>
  </remote_servers>
  <macros><shard>01</shard><replica>r%d</replica></macros>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <interserver_http_port>%d</interserver_http_port>`,
		zk.Host, zk.Port, cluster, replicas.String(), cluster, i+1, interserver)
	return Config{TCP: tcpPorts[i], Extra: extra}, nil
}
