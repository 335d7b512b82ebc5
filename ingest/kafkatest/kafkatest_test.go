//go:build integration

package kafkatest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestBroker: a broker starts, takes messages, gives them to a consumer
// group that commits, and keeps them across a kill -9 and a restart.
func TestBroker(t *testing.T) {
	c := Start(t, Options{})
	c.CreateTopic(t, "smoke", 2, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(c.Bootstrap()...), Topic: "smoke", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	var msgs []kafka.Message
	for i := range 10 {
		msgs = append(msgs, kafka.Message{Key: fmt.Appendf(nil, "%d", i), Value: []byte("m")})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Bootstrap(), GroupID: "g", Topic: "smoke", MaxWait: 100 * time.Millisecond})
	for range 10 {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	c.Brokers[0].Kill()
	if err := c.Brokers[0].Start(); err != nil {
		t.Fatal(err)
	}
	c.WaitLeaders(t, "smoke", 2)
	for {
		got, err := Committed(ctx, c.Bootstrap(), "g", "smoke", 2)
		if err == nil && got[0]+got[1] == 10 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("committed offsets after restart: %v %v", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	end, err := EndOffsets(ctx, c.Bootstrap(), "smoke", 2)
	if err != nil || end[0]+end[1] != 10 {
		t.Fatalf("end offsets after restart: %v %v", end, err)
	}
}
