package ingest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/crypto/bcrypt"

	"github.com/authsift/authsift/ingest/kafka"
)

// writeTestCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns their paths.
func writeTestCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "authsift-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// TestServiceWebConfig: with --web.config.file the endpoints are served over
// TLS and want basic auth; wrong or missing credentials are refused, and
// POST /-/reload is refused unless lifecycle endpoints are enabled.
func TestServiceWebConfig(t *testing.T) {
	kf, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	defer kf.Close()
	dir := t.TempDir()
	certFile, keyFile := writeTestCert(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	os.WriteFile(webConfig, fmt.Appendf(nil, "tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n",
		certFile, keyFile, hash), 0o600)
	pem, _ := os.ReadFile(certFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	for _, lifecycle := range []bool{false, true} {
		t.Run(fmt.Sprintf("lifecycle=%v", lifecycle), func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
			svc, err := NewService(t.Context(), ServiceConfig{
				Kafka:         kafka.Config{Brokers: kf.ListenAddrs(), Group: "web", Topics: []string{"auth"}},
				ListenAddress: addr, WebConfigFile: webConfig, EnableLifecycle: lifecycle, Version: "test",
			}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- svc.Run(ctx, nil) }()
			defer func() { cancel(); <-done }()
			do := func(c *http.Client, scheme, method, path, user, pass string) int {
				req, _ := http.NewRequest(method, scheme+"://"+addr+path, nil)
				if user != "" {
					req.SetBasicAuth(user, pass)
				}
				resp, err := c.Do(req)
				if err != nil {
					return -1
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			waitUntil(t, time.Minute, "service listening", func() bool { return do(client, "https", "GET", "/metrics", "prometheus", "s3cret") == 200 })
			cases := []struct {
				name, scheme, method, path, user, pass string
				want                                   int
			}{
				{"no credentials", "https", "GET", "/metrics", "", "", 401},
				{"wrong password", "https", "GET", "/metrics", "prometheus", "wrong", 401},
				{"unknown user", "https", "GET", "/metrics", "admin", "s3cret", 401},
				{"pprof without credentials", "https", "GET", "/debug/pprof/", "", "", 401},
				{"reload without credentials", "https", "POST", "/-/reload", "", "", 401},
				{"plain http", "http", "GET", "/metrics", "prometheus", "s3cret", 400},
				{"health with credentials", "https", "GET", "/-/healthy", "prometheus", "s3cret", 200},
				{"reload with credentials", "https", "POST", "/-/reload", "prometheus", "s3cret", map[bool]int{false: 403, true: 200}[lifecycle]},
			}
			for _, c := range cases {
				if got := do(client, c.scheme, c.method, c.path, c.user, c.pass); got != c.want {
					t.Errorf("%s: %s %s -> %d, want %d", c.name, c.method, c.path, got, c.want)
				}
			}
		})
	}
	if _, err := NewService(t.Context(), ServiceConfig{Kafka: kafka.Config{Brokers: kf.ListenAddrs(), Group: "web", Topics: []string{"auth"}},
		WebConfigFile: filepath.Join(dir, "missing.yml")}, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil ||
		!strings.Contains(err.Error(), "web config") {
		t.Fatalf("a missing web config file: %v", err)
	}
}
