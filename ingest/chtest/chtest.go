// Package chtest starts a throwaway ClickHouse server for tests, with the
// three-state gate of ch-go's cht. AUTHSIFT_TEST_CLICKHOUSE:
//
//   - unset: start the local server binary if there is one, skip otherwise;
//   - "required": start it, and fail (not skip) when that is impossible (CI);
//   - "off": skip.
//
// The binary is $AUTHSIFT_TEST_CLICKHOUSE_BIN, else clickhouse-server (the
// Debian package: /usr/sbin/clickhouse-server, 18.16.1), else clickhouse
// (the single binary of current releases, run as `clickhouse server`).
//
// The server (package localch) runs as a child process of the test with a
// config, users, data and logs in t.TempDir(), listening on 127.0.0.1 only on
// free ports; it is killed when the test ends (and by the kernel when the
// test binary dies, on Linux).
package chtest

import (
	"os"
	"testing"

	"github.com/authsift/authsift/ingest/localch"
)

// Environment variables.
const (
	EnvGate   = "AUTHSIFT_TEST_CLICKHOUSE"
	EnvBinary = "AUTHSIFT_TEST_CLICKHOUSE_BIN"
)

// Users of the server: the default user has no password; User has Password.
const (
	User     = localch.User
	Password = localch.Password
)

// Server is a running ClickHouse server.
type Server = localch.Server

// Start starts a server for the test, or skips or fails it as the gate says.
func Start(t testing.TB) *Server {
	t.Helper()
	var bin string
	var args []string
	Gate(t, EnvGate, func() error {
		var err error
		bin, args, err = localch.Binary(os.Getenv(EnvBinary))
		return err
	})
	// A free port can be taken between choosing it and the server binding
	// it: try again with others.
	var last error
	for range 3 {
		s, portTaken, err := localch.Start(t.TempDir(), bin, args)
		if err == nil {
			t.Cleanup(func() {
				s.Stop()
				if t.Failed() {
					t.Logf("clickhouse server log tail:\n%s", s.LogTail())
				}
			})
			return s
		}
		last = err
		if !portTaken {
			break
		}
	}
	t.Fatalf("start clickhouse (%s): %v", bin, last)
	return nil
}

// Gate is the three-state gate of ch-go's cht for the component that
// available checks: env unset runs the test when the component is there and
// skips it otherwise; "required" fails instead of skipping (CI); "off" skips.
func Gate(t testing.TB, env string, available func() error) {
	t.Helper()
	gate := os.Getenv(env)
	switch gate {
	case "", "required":
	case "off":
		t.Skipf("%s=off", env)
	default:
		t.Fatalf("%s=%q: want unset, required or off", env, gate)
	}
	if err := available(); err != nil {
		if gate == "required" {
			t.Fatalf("%s=required: %v (.ci/run installs what the tests need)", env, err)
		}
		t.Skipf("%v; set %s=required to fail instead", err, env)
	}
}

// EnvZooKeeperJar overrides the ZooKeeper server jar of StartCluster.
const EnvZooKeeperJar = "AUTHSIFT_TEST_ZOOKEEPER_JAR"

// Cluster is a ClickHouse cluster of one shard with replicated tables, and
// the ZooKeeper it coordinates through.
type Cluster struct {
	Name      string
	Replicas  []*Server
	ZooKeeper *localch.ZooKeeper
}

// StartCluster starts a ZooKeeper and n ClickHouse servers configured as the
// replicas of one shard of the cluster name. The gate is that of Start, and
// ZooKeeper (Debian's zookeeper package, run with java) is required with the
// server.
func StartCluster(t testing.TB, name string, n int) *Cluster {
	t.Helper()
	var bin, jar string
	var args []string
	Gate(t, EnvGate, func() error {
		var err error
		if bin, args, err = localch.Binary(os.Getenv(EnvBinary)); err != nil {
			return err
		}
		jar, err = localch.ZooKeeperJar(os.Getenv(EnvZooKeeperJar))
		return err
	})
	zk, err := localch.StartZooKeeper(t.TempDir(), jar)
	if err != nil {
		t.Fatalf("start zookeeper: %v", err)
	}
	t.Cleanup(func() {
		zk.Stop()
		if t.Failed() {
			t.Logf("zookeeper log tail:\n%s", zk.LogTail())
		}
	})
	c := &Cluster{Name: name, ZooKeeper: zk}
	cfgs := make([]localch.Config, n)
	ports := make([]int, n)
	for i := range cfgs {
		if err := cfgs[i].FreePorts(); err != nil {
			t.Fatal(err)
		}
		ports[i] = cfgs[i].TCP
	}
	for i := range n {
		cfg, err := localch.ClusterConfig(name, zk, ports, i)
		if err != nil {
			t.Fatal(err)
		}
		cfg.HTTP, cfg.TLS = cfgs[i].HTTP, cfgs[i].TLS
		s, _, err := localch.StartConfig(t.TempDir(), bin, args, cfg)
		if err != nil {
			t.Fatalf("start clickhouse replica %d: %v", i+1, err)
		}
		t.Cleanup(func() {
			s.Stop()
			if t.Failed() {
				t.Logf("clickhouse replica %d log tail:\n%s", i+1, s.LogTail())
			}
		})
		c.Replicas = append(c.Replicas, s)
	}
	return c
}
