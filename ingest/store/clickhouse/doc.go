// Package clickhouse stores classified events in ClickHouse: the writer
// (Store.Write, with the high-water marks the pipeline's replay check reads
// and the rollup repair after a replay), the versioned schema and its
// migrations for 18.16 and current servers, single node or cluster
// (migrate.go), retention by dropped partitions, the catalog table, and the
// queries triage runs (triage.go).
//
// It implements what the pipeline asks of a store (package ingest's Sink,
// HighWaterer, RecentHighWaterer and RollupRepairer) on store.Row, and
// imports nothing of package ingest.
package clickhouse
