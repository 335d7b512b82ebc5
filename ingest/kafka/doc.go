// Package kafka is authsift's Kafka side: it consumes a consumer group for
// the pipeline, connects with TLS and SASL, and writes dead letters. Its one
// job is moving messages between Kafka and the pipeline; it knows nothing of
// decoding, classifying or storing, and imports nothing of package ingest.
//
// The contract of the group consumer (GroupConsumer): messages are handed
// out in slices (Ready, Take), and an offset is committed only when the
// pipeline says its rows are stored (CommitMessages). A rebalance waits for
// the batches in flight: when a generation ends (a replica joins or leaves,
// a broker restarts, the service stops) fetching stops, the pipeline is told
// to store and commit at once what it was handed (Revoked), and the member
// rejoins only after those commits, so the next owner of a partition starts
// after the last stored message, never beside a batch being written.
//
// Failure modes: when the commits do not come within the revoke timeout
// (the store down or slow), the pipeline is told to give up what it holds
// (Abandon) before the member rejoins, and the next owner reads those
// messages again; a commit for a generation that ended fails, and the next
// owner skips what is stored. A broker that cannot be reached is retried
// with a backoff for as long as the context lives (Run does not return);
// a refused login or an untrusted certificate is an error at start
// (CheckAuth). A dead letter larger than a default Kafka topic takes is
// cut (TruncateDeadLetters) rather than blocking its partition for ever.
//
// Inside this package github.com/segmentio/kafka-go is imported as kafkago.
package kafka
