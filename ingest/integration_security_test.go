//go:build integration

package ingest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/kafka"
	"github.com/authsift/authsift/ingest/kafkatest"
)

// TestIntegrationKafkaSCRAM: the broker's client listener wants TLS and
// SASL/SCRAM-SHA-256 (the user is created when the storage is formatted);
// authsift with the right password, read from a file, stores everything
// exactly once; a wrong password or an untrusted certificate stops it at
// start with an error that says so.
func TestIntegrationKafkaSCRAM(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeTestCert(t, dir)
	cert, _ := os.ReadFile(certFile)
	key, _ := os.ReadFile(keyFile)
	keystore := filepath.Join(dir, "keystore.pem")
	if err := os.WriteFile(keystore, append(key, cert...), 0o600); err != nil {
		t.Fatal(err)
	}
	const user, password = "authsift", "it-scram-secret"
	k := kafkatest.Start(t, kafkatest.Options{
		Listener: "SASL_SSL",
		Config: []string{
			"sasl.enabled.mechanisms=SCRAM-SHA-256",
			"listener.name.client.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
			"listener.name.client.ssl.keystore.type=PEM",
			"listener.name.client.ssl.keystore.location=" + keystore,
		},
		FormatArgs: []string{"--add-scram", "SCRAM-SHA-256=[name=" + user + ",password=" + password + "]"},
	})
	ch := chtest.Start(t)
	f := newFixture(t, k, ch, "scram", nil)
	newProducer(t, f.brokers, f.topic, 9).produce(3000) // over the PLAINTEXT listener of the test
	passFile := filepath.Join(dir, "kafka-password")
	os.WriteFile(passFile, []byte(password+"\n"), 0o600)
	secure := func(extra ...string) serveArgs {
		a := f.args()
		a.brokers = k.ClientBootstrap()
		a.extra = append([]string{"--kafka.tls", "--kafka.sasl.mechanism", "scram-sha-256", "--kafka.sasl.username", user}, extra...)
		return a
	}

	t.Run("wrong password", func(t *testing.T) {
		a := secure("--kafka.tls-ca-file", certFile)
		a.env = []string{kafka.PasswordEnv + "=not-the-password"}
		wantRefused(t, a, "SASL Authentication Failed")
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		wantRefused(t, secure("--kafka.sasl.password-file", passFile), "certificate")
	})
	t.Run("right password", func(t *testing.T) {
		svc := startService(t, "authsift", secure("--kafka.tls-ca-file", certFile, "--kafka.sasl.password-file", passFile))
		f.wantExact(2 * time.Minute)
		svc.stop()
	})
}

// wantRefused runs authsift and wants it to exit non-zero at start with
// want in its log.
func wantRefused(t *testing.T, a serveArgs, want string) {
	t.Helper()
	port := freeTCPPort(t)
	out, err := runBinary(t, a.env, a.flags(port)...)
	if err == nil {
		t.Fatalf("authsift started; log:\n%s", out)
	}
	if !strings.Contains(out, want) {
		t.Fatalf("authsift failed without saying %q:\n%s", want, out)
	}
	t.Logf("refused: %s", lastLine(out))
}

// runBinary runs authsift to its end (at most a minute) and returns its output.
func runBinary(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, authsiftBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
