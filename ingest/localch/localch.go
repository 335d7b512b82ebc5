// Package localch runs a throwaway ClickHouse server as a child process:
// Debian's clickhouse-server (18.16) or the single clickhouse binary of
// current releases, with its config, users, data and logs in a directory of
// the caller's, on free ports of 127.0.0.1 only. The tests (ingest/chtest)
// and `authsift demo` use it.
package localch

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Users of the server: the default user has no password; User has
// Password.
const (
	User     = "authsift"
	Password = "chtest-secret"
)

// startTimeout bounds the wait for the server to answer.
const startTimeout = 60 * time.Second

// Server is a running ClickHouse server.
type Server struct {
	// TCP, TLS and HTTP are the host:port of the native interface, the
	// native interface over TLS and the HTTP interface.
	TCP, TLS, HTTP string
	// CAFile is the PEM certificate the TLS interface presents (self-signed,
	// for 127.0.0.1).
	CAFile string
	// Dir holds the config, the data and the logs.
	Dir string

	cmd  []string // the server's command line
	stop func()
}

// Stop kills the server (SIGKILL: no clean shutdown) and waits for it to
// exit.
func (s *Server) Stop() { s.stop() }

// Binary finds the server: override (a path) when set, else
// clickhouse-server, else the single clickhouse binary run as `clickhouse server`.
func Binary(override string) (string, []string, error) {
	if b := override; b != "" {
		if filepath.Base(b) == "clickhouse" {
			return b, []string{"server"}, nil
		}
		return b, nil, nil
	}
	for _, b := range []string{"clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if p, err := exec.LookPath(b); err == nil {
			return p, nil, nil
		}
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return p, []string{"server"}, nil
	}
	return "", nil, errors.New("neither clickhouse-server nor clickhouse found")
}

// FreePort returns a TCP port of 127.0.0.1 that is free now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

const configXML = `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>{dir}/log/server.log</log>
    <errorlog>{dir}/log/server.err.log</errorlog>
    <size>100M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{tcp}</tcp_port>
  <http_port>{http}</http_port>
  <tcp_port_secure>{tls}</tcp_port_secure>
  <openSSL>
    <server>
      <certificateFile>{dir}/server.crt</certificateFile>
      <privateKeyFile>{dir}/server.key</privateKeyFile>
      <verificationMode>none</verificationMode>
      <loadDefaultCAFile>false</loadDefaultCAFile>
      <cacheSessions>true</cacheSessions>
      <disableProtocols>sslv2,sslv3</disableProtocols>
      <preferServerCiphers>true</preferServerCiphers>
    </server>
  </openSSL>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <users_config>{dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
{extra}
</yandex>
`

const usersXML = `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    <{user}>
      <password>{password}</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </{user}>
  </users>
  <quotas><default></default></quotas>
</yandex>
`

// Config sets up a server beyond the defaults: fixed ports (0: a free one)
// and extra configuration elements (ZooKeeper, remote_servers, macros)
// placed inside the top-level element of config.xml.
type Config struct {
	TCP, HTTP, TLS int
	Extra          string
}

// FreePorts fills the zero ports of c with free ones, so that a cluster's
// configs can name each other's ports before any server starts.
func (c *Config) FreePorts() error {
	for _, p := range []*int{&c.TCP, &c.HTTP, &c.TLS} {
		if *p == 0 {
			port, err := FreePort()
			if err != nil {
				return fmt.Errorf("choose port: %w", err)
			}
			*p = port
		}
	}
	return nil
}

// Start runs the server with its config, data and logs in dir (which must
// exist), on free ports of 127.0.0.1. portTaken says it failed because
// another process took one of its ports: try again.
func Start(dir, bin string, args []string) (s *Server, portTaken bool, err error) {
	return StartConfig(dir, bin, args, Config{})
}

// StartConfig is Start with a Config.
func StartConfig(dir, bin string, args []string, cfg Config) (s *Server, portTaken bool, err error) {
	if err := cfg.FreePorts(); err != nil {
		return nil, false, err
	}
	if err := writeCert(dir); err != nil {
		return nil, false, err
	}
	for _, d := range []string{"log", "data", "tmp", "user_files", "format_schemas"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, false, err
		}
	}
	config := strings.NewReplacer("{dir}", xmlText(dir), "{tcp}", strconv.Itoa(cfg.TCP), "{http}", strconv.Itoa(cfg.HTTP),
		"{tls}", strconv.Itoa(cfg.TLS), "{extra}", cfg.Extra).Replace(configXML)
	users := strings.NewReplacer("{user}", User, "{password}", xmlText(Password)).Replace(usersXML)
	configPath := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o644); err != nil {
		return nil, false, err
	}
	addr := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
	s = &Server{TCP: addr(cfg.TCP), TLS: addr(cfg.TLS), HTTP: addr(cfg.HTTP), CAFile: filepath.Join(dir, "server.crt"), Dir: dir,
		cmd: append([]string{bin}, append(args, "--config-file="+configPath)...)}
	if err := s.run(); err != nil {
		return nil, strings.Contains(err.Error(), "Address already in use"), err
	}
	return s, false, nil
}

// run starts the server process and waits until it answers.
func (s *Server) run() error {
	out, err := os.OpenFile(filepath.Join(s.Dir, "log", "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.cmd[0], s.cmd[1:]...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("run %s: %w", s.cmd[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); out.Close() }()
	stopped := false
	s.stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	if err := s.wait(exited); err != nil {
		s.stop()
		return fmt.Errorf("%v\n%s", err, s.LogTail())
	}
	return nil
}

// Restart starts the server again after Stop, with the same config, ports
// and data.
func (s *Server) Restart() error {
	s.stop()
	return s.run()
}

// wait polls the HTTP /ping until the server answers, exits or the start
// timeout passes.
func (s *Server) wait(exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.HTTP+"/ping", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("server exited before answering: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("server did not answer within %s", startTimeout)
		case <-tick.C:
		}
	}
}

// LogTail returns the last lines of the server's output and error log,
// without stack traces.
func (s *Server) LogTail() string {
	var b strings.Builder
	for _, name := range []string{"stdout.log", "server.err.log"} {
		data, err := os.ReadFile(filepath.Join(s.Dir, "log", name))
		if err != nil || len(data) == 0 {
			continue
		}
		var lines []string
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || l[0] >= '0' && l[0] <= '9' && strings.Contains(l, ". /") {
				continue
			}
			lines = append(lines, l)
		}
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		fmt.Fprintf(&b, "== %s ==\n%s\n", name, strings.Join(lines, "\n"))
	}
	return b.String()
}

// Query runs sql over the HTTP interface as the default user and returns
// the result in TabSeparated format.
func (s *Server) Query(ctx context.Context, sql string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.HTTP+"/", strings.NewReader(sql))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("query clickhouse: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read clickhouse answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("query clickhouse: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "authsift-localch"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "server.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}
