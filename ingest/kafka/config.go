package kafka

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
)

// Config says where to consume from and where dead letters go.
type Config struct {
	Brokers []string
	Group   string
	// Topics to consume; each may pin its format as "topic:format".
	Topics   []string
	DLQTopic string
	// MaxBytes is the most a fetch may return per partition.
	MaxBytes int
	// MaxWait bounds how long a fetch waits for MinBytes.
	MaxWait time.Duration
	// RevokeTimeout bounds how long a rebalance waits for the pipeline's
	// commits (zero: 7s). It stays under the session timeout: kafka-go
	// stops heartbeating once a rebalance starts.
	RevokeTimeout time.Duration
	TLS           *tls.Config
	SASL          sasl.Mechanism // nil: no SASL (see Auth)
}

// SplitTopics parses "topic" and "topic:format" into names and pinned
// formats. checkFormat reports a pinned format that no decoder reads
// (ingest.CheckFormat); its error is returned with the topic's name.
func SplitTopics(specs []string, checkFormat func(format string) error) ([]string, map[string]string, error) {
	var names []string
	formats := map[string]string{}
	for _, s := range specs {
		name, format, pinned := strings.Cut(s, ":")
		if name == "" {
			return nil, nil, fmt.Errorf("empty topic name in %q", s)
		}
		if pinned {
			if err := checkFormat(format); err != nil {
				return nil, nil, fmt.Errorf("topic %s: %w", name, err)
			}
			formats[name] = format
		}
		names = append(names, name)
	}
	return names, formats, nil
}

func (cfg Config) dialer() *kafkago.Dialer {
	return &kafkago.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: cfg.TLS, SASLMechanism: cfg.SASL}
}
