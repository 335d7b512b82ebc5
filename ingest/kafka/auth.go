package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/authsift/authsift/ingest/internal/creds"
)

// PasswordEnv holds the SASL password when no password file is
// configured. There is no flag for the password itself.
const PasswordEnv = "AUTHSIFT_KAFKA_PASSWORD"

// Auth says how to authenticate to Kafka: TLS and SASL (PLAIN or
// SCRAM). The zero value is plain text without authentication.
type Auth struct {
	TLS                   bool
	TLSCAFile             string
	TLSInsecureSkipVerify bool
	// Mechanism is "", "plain", "scram-sha-256" or "scram-sha-512".
	Mechanism string
	Username  string
	// PasswordFile holds the password (without a trailing newline); empty:
	// $AUTHSIFT_KAFKA_PASSWORD.
	PasswordFile string
}

// Validate reports settings that cannot work.
func (a *Auth) Validate() error {
	var errs []error
	switch a.Mechanism {
	case "", "plain", "scram-sha-256", "scram-sha-512":
	default:
		errs = append(errs, fmt.Errorf("kafka: SASL mechanism %q: want plain, scram-sha-256 or scram-sha-512", a.Mechanism))
	}
	if a.Mechanism == "" && (a.Username != "" || a.PasswordFile != "") {
		errs = append(errs, errors.New("kafka: SASL user or password file given without a SASL mechanism"))
	}
	if a.Mechanism != "" && a.Username == "" {
		errs = append(errs, errors.New("kafka: SASL needs a user name"))
	}
	if !a.TLS && (a.TLSCAFile != "" || a.TLSInsecureSkipVerify) {
		errs = append(errs, errors.New("kafka: TLS CA file or insecure-skip-verify given without TLS"))
	}
	return errors.Join(errs...)
}

// Apply sets the TLS config and the SASL mechanism of cfg.
func (a *Auth) Apply(cfg *Config) error {
	if a.TLS {
		t, err := creds.TLS("kafka", a.TLSCAFile, a.TLSInsecureSkipVerify)
		if err != nil {
			return err
		}
		cfg.TLS = t
	}
	if a.Mechanism == "" {
		return nil
	}
	password, err := creds.Password("kafka", a.PasswordFile, PasswordEnv)
	if err != nil {
		return err
	}
	var m sasl.Mechanism
	switch a.Mechanism {
	case "plain":
		m = plain.Mechanism{Username: a.Username, Password: password}
	case "scram-sha-256":
		m, err = scram.Mechanism(scram.SHA256, a.Username, password)
	case "scram-sha-512":
		m, err = scram.Mechanism(scram.SHA512, a.Username, password)
	}
	if err != nil {
		return fmt.Errorf("kafka SASL: %w", err)
	}
	cfg.SASL = m
	return nil
}

// CheckAuth connects to the brokers once with the service's TLS and
// SASL settings. A refused login or an untrusted certificate is an error
// (the service would retry it for ever); a broker that cannot be reached
// is not (it may come up later): the error then wraps ErrUnreachable.
func CheckAuth(ctx context.Context, cfg Config) error {
	if cfg.TLS == nil && cfg.SASL == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d := &kafkago.Dialer{Timeout: 5 * time.Second, DualStack: true, TLS: cfg.TLS, SASLMechanism: cfg.SASL}
	var last error
	for _, b := range cfg.Brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			conn.Close()
			return nil
		}
		last = err
		var certErr *tls.CertificateVerificationError
		if errors.Is(err, kafkago.SASLAuthenticationFailed) || errors.Is(err, kafkago.IllegalSASLState) ||
			errors.Is(err, kafkago.UnsupportedSASLMechanism) || errors.As(err, &certErr) {
			return fmt.Errorf("kafka %s: authenticate: %w", b, err)
		}
	}
	return fmt.Errorf("%w: %v", ErrUnreachable, last)
}

// ErrUnreachable is wrapped by CheckAuth's error when no broker answered.
var ErrUnreachable = errors.New("no kafka broker reachable")
