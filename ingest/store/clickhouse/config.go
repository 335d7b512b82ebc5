package clickhouse

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	clickhousego "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/authsift/authsift/ingest/internal/creds"
	"github.com/authsift/authsift/ingest/redact"
)

// ClickHouse defaults and the environment variable of the password.
const (
	DefaultDatabase    = "authsift"
	DefaultDialTimeout = 10 * time.Second
	DefaultReadTimeout = 5 * time.Minute
	// PasswordEnv holds the password when no password file is
	// configured. There is no flag for the password itself: a flag value
	// shows in ps, in shell history and in unit files.
	PasswordEnv = "AUTHSIFT_CLICKHOUSE_PASSWORD"
)

// Compression methods of the native protocol.
const (
	CompressionLZ4  = "lz4"
	CompressionZSTD = "zstd"
	CompressionNone = "none"
)

// Config says how to reach ClickHouse.
type Config struct {
	// Addrs are host:port addresses of the native protocol (9000, or 9440
	// with TLS); the connection fails over in order.
	Addrs []string
	// Database holds authsift's tables (default "authsift").
	Database string
	// User is the user name (empty: the server's default user).
	User string
	// PasswordFile names a file whose content (without a trailing newline) is
	// the password. When empty the password is $AUTHSIFT_CLICKHOUSE_PASSWORD.
	PasswordFile string

	// TLS connects with TLS, verifying the server against the system roots
	// or TLSCAFile.
	TLS                   bool
	TLSCAFile             string
	TLSInsecureSkipVerify bool

	// DialTimeout bounds connecting; ReadTimeout bounds waiting for the server
	// on a connection (a query or an insert).
	DialTimeout time.Duration
	ReadTimeout time.Duration

	// Compression is the native protocol's block compression: lz4 (the
	// default), zstd or none.
	Compression string

	// Cluster, when set, is the cluster (remote_servers) the schema is
	// replicated on: migrations run ON CLUSTER, events are written through a
	// Distributed table. See migrate.go.
	Cluster string
	// TTL, when positive, gives the tables a TTL of that many days on servers
	// that have TTL, fixed when the tables are created. See Schema.TTL.
	TTL time.Duration

	// Redactor redacts the free-text event fields (reason, debug,
	// redirect_uri, detail) before they are stored. Pass the pipeline's, so
	// the hashes match those in Row.Raw; nil draws a random key.
	Redactor *redact.Redactor
}

// plainName says s is letters, digits, _ and the extra bytes, not starting
// with a digit: Database and Cluster are written into DDL as they are.
func plainName(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch == '_', strings.IndexByte(extra, ch) >= 0:
		case ch >= '0' && ch <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// Validate reports a config that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Addrs) == 0 {
		errs = append(errs, errors.New("clickhouse: no address"))
	}
	for _, a := range c.Addrs {
		if !strings.Contains(a, ":") {
			errs = append(errs, fmt.Errorf("clickhouse: address %q: want host:port", a))
		}
	}
	if c.Database != "" && !plainName(c.Database, "") {
		errs = append(errs, fmt.Errorf("clickhouse: database %q: want letters, digits and _, not starting with a digit", c.Database))
	}
	if c.Cluster != "" && !plainName(c.Cluster, ".-") {
		errs = append(errs, fmt.Errorf("clickhouse: cluster %q: want letters, digits, _, . and -, not starting with a digit", c.Cluster))
	}
	if !c.TLS && (c.TLSCAFile != "" || c.TLSInsecureSkipVerify) {
		errs = append(errs, errors.New("clickhouse: TLS CA file or insecure-skip-verify given without TLS"))
	}
	switch c.Compression {
	case "", CompressionLZ4, CompressionZSTD, CompressionNone:
	default:
		errs = append(errs, fmt.Errorf("clickhouse: compression %q: want lz4, zstd or none", c.Compression))
	}
	if c.DialTimeout < 0 || c.ReadTimeout < 0 || c.TTL < 0 {
		errs = append(errs, errors.New("clickhouse: negative timeout or TTL"))
	}
	return errors.Join(errs...)
}

// Password returns the password from PasswordFile, else from
// $AUTHSIFT_CLICKHOUSE_PASSWORD (empty when neither is set).
func (c *Config) Password() (string, error) {
	return creds.Password("clickhouse", c.PasswordFile, PasswordEnv)
}

func (c *Config) tlsConfig() (*tls.Config, error) {
	if !c.TLS {
		return nil, nil
	}
	return creds.TLS("clickhouse", c.TLSCAFile, c.TLSInsecureSkipVerify)
}

func compression(method string) *clickhousego.Compression {
	switch method {
	case CompressionNone:
		return nil
	case CompressionZSTD:
		return &clickhousego.Compression{Method: clickhousego.CompressionZSTD}
	}
	return &clickhousego.Compression{Method: clickhousego.CompressionLZ4}
}
