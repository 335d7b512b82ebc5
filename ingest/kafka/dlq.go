package kafka

import (
	"context"
	"strconv"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// DeadLetterMaxValue is the most of a message's value a dead letter carries.
// Kafka's default limit of a record batch is 1 MiB (the broker's
// message.max.bytes, the producer's batch size); a dead letter of an
// oversized message that kept its whole value could never be written, and
// its partition would stop behind it for ever. 1 MiB less room for the key
// and the headers.
const DeadLetterMaxValue = 1<<20 - 64<<10

// HeaderTruncatedFrom is set on a dead letter whose value was cut to
// DeadLetterMaxValue: the size of the original value in bytes.
const HeaderTruncatedFrom = "authsift-truncated-from"

// MessageWriter takes dead letters (kafka-go's *kafkago.Writer).
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// truncatingWriter cuts dead letters' values to DeadLetterMaxValue.
type truncatingWriter struct{ w MessageWriter }

// TruncateDeadLetters wraps the dead-letter writer so that every dead letter
// fits a default Kafka topic.
func TruncateDeadLetters(w MessageWriter) MessageWriter { return truncatingWriter{w} }

func (t truncatingWriter) WriteMessages(ctx context.Context, msgs ...kafkago.Message) error {
	for i := range msgs {
		if n := len(msgs[i].Value); n > DeadLetterMaxValue {
			msgs[i].Value = msgs[i].Value[:DeadLetterMaxValue]
			msgs[i].Headers = append(msgs[i].Headers, kafkago.Header{Key: HeaderTruncatedFrom, Value: []byte(strconv.Itoa(n))})
		}
	}
	return t.w.WriteMessages(ctx, msgs...)
}

// NewDLQWriter returns the writer of the dead-letter topic, or nil when
// none is configured.
func NewDLQWriter(cfg Config) *kafkago.Writer {
	if cfg.DLQTopic == "" {
		return nil
	}
	w := &kafkago.Writer{
		Addr:         kafkago.TCP(cfg.Brokers...),
		Topic:        cfg.DLQTopic,
		Balancer:     &kafkago.Hash{},
		RequiredAcks: kafkago.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
	}
	if cfg.TLS != nil || cfg.SASL != nil {
		w.Transport = &kafkago.Transport{TLS: cfg.TLS, SASL: cfg.SASL}
	}
	return w
}
