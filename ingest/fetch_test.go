package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// TestRetryingFetcher: with no broker to reach, kafka-go's group reader
// hands FetchMessage an error after a few tries; the service's fetcher keeps
// trying until its context ends instead of ending the service.
func TestRetryingFetcher(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	reader := func() *retryingFetcher {
		r, err := NewKafkaReader(KafkaConfig{Brokers: []string{addr}, Group: "g", MaxWait: 50 * time.Millisecond}, []string{"auth"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return &retryingFetcher{r, slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := reader().Reader.FetchMessage(ctx); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the bare reader: %v, want a dial error", err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if _, err := reader().FetchMessage(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the retrying fetcher: %v, want the context's end", err)
	}
}
