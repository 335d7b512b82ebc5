package kafka

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// TestGroupConsumerWithoutBroker: with no broker to reach, the consumer
// keeps trying to join until its context ends (Run does not return) and
// hands the pipeline nothing.
func TestGroupConsumerWithoutBroker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := NewGroupConsumer(Config{Brokers: []string{addr}, Group: "g", MaxWait: 50 * time.Millisecond}, []string{"auth"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(t.Context())
	}()
	defer func() {
		c.Close()
		<-done
	}()
	select {
	case <-done:
		t.Fatal("Run returned while its context was live: the service would stop consuming")
	case <-c.Ready():
		if msgs := c.Take(nil); len(msgs) > 0 {
			t.Fatalf("took %d messages with no broker", len(msgs))
		}
	case <-time.After(3 * time.Second):
	}
}
