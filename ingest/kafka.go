package ingest

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
)

// KafkaConfig says where to consume from and where dead letters go.
type KafkaConfig struct {
	Brokers []string
	Group   string
	// Topics to consume; each may pin its format as "topic:format".
	Topics   []string
	DLQTopic string
	// MaxBytes is the most a fetch may return per partition.
	MaxBytes int
	// MaxWait bounds how long a fetch waits for MinBytes.
	MaxWait time.Duration
	TLS     *tls.Config
	SASL    sasl.Mechanism // nil: no SASL (see KafkaAuth)
}

// SplitTopics parses "topic" and "topic:format" into names and pinned formats.
func SplitTopics(specs []string) ([]string, map[string]string, error) {
	var names []string
	formats := map[string]string{}
	for _, s := range specs {
		name, format, pinned := strings.Cut(s, ":")
		if name == "" {
			return nil, nil, fmt.Errorf("empty topic name in %q", s)
		}
		if pinned {
			if _, err := NewDecoder(format); err != nil {
				return nil, nil, fmt.Errorf("topic %s: %w", name, err)
			}
			formats[name] = format
		}
		names = append(names, name)
	}
	return names, formats, nil
}

func (cfg KafkaConfig) dialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: cfg.TLS, SASLMechanism: cfg.SASL}
}

// NewDLQWriter returns the writer of the dead-letter topic, or nil when
// none is configured.
func NewDLQWriter(cfg KafkaConfig) *kafka.Writer {
	if cfg.DLQTopic == "" {
		return nil
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Topic:        cfg.DLQTopic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
	}
	if cfg.TLS != nil || cfg.SASL != nil {
		w.Transport = &kafka.Transport{TLS: cfg.TLS, SASL: cfg.SASL}
	}
	return w
}
