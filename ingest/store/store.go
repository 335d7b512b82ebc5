// Package store is what the pipeline hands a store: the Row, one classified
// event with the Kafka coordinates that make its identity, and the rule
// that says which rows are stored. The stores themselves are packages below
// it (clickhouse); the capabilities the pipeline asks of them (Sink,
// HighWaterer, RecentHighWaterer, RollupRepairer) are declared where they
// are used, in the pipeline.
package store

import (
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

// Stored says whether a store keeps the row: every failure, success, context
// and malformed event, and an ignored event only when a rule decided it is a
// normal step (Verdict.Rule set, the rule's `normal`), so "why was this not
// counted" has an answer in ClickHouse. An ignored line no rule spoke about
// (not an auth event) is not stored.
func Stored(r *Row) bool { return Keeps(r.Verdict) }

// Keeps is Stored for a verdict, before its row is built.
func Keeps(v classify.Verdict) bool {
	return v.Outcome != classify.Ignored || v.Rule != nil
}
