// Package creds loads what connects authsift to Kafka and ClickHouse: a TLS
// configuration with an optional CA file, and a password from a file or an
// environment variable.
package creds

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// TLS returns a TLS 1.2+ client configuration that trusts the PEM
// certificates of caFile (none: the system's roots). name says what it is
// for in errors ("kafka", "clickhouse").
func TLS(name, caFile string, insecureSkipVerify bool) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecureSkipVerify} //nolint:gosec // asked for
	if caFile == "" {
		return t, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read %s CA file: %w", name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read %s CA file %s: no PEM certificate", name, caFile)
	}
	t.RootCAs = pool
	return t, nil
}

// Password returns the content of file without its line ending, else the
// value of the environment variable env (empty when neither is set).
func Password(name, file, env string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read %s password file: %w", name, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
