package ingest

import (
	"context"
	"time"

	"github.com/authsift/authsift/classify"
)

// Row is one classified event on its way to storage, with the Kafka
// coordinates that make its identity: (Topic, Partition, Offset, Seq) is
// unique, so a replay after a crash or a rebalance can be recognised.
type Row struct {
	Topic     string
	Partition int32
	Offset    int64
	// Seq is the event's index within its message (an Event Hubs envelope
	// carries several events).
	Seq        uint16
	IngestTime time.Time
	// Raw is the redacted source line, truncated to MaxRawBytes.
	Raw     string
	Event   classify.Event
	Verdict classify.Verdict
}

// MaxRawBytes bounds the raw line kept with a row.
const MaxRawBytes = 8 << 10

// Sink stores rows. Write returns only when every row is stored (nil) or
// none may be assumed stored (error); the caller retries a failed batch.
type Sink interface {
	Write(ctx context.Context, rows []Row) error
}
