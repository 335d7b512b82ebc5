package clickhouse

// The ClickHouse schema, as versioned migrations.
//
// Tables (in the configured database, "authsift" by default):
//
//   - events: one row per stored event (see (*Store).Write for which
//     are stored): the normalised event, the verdict, the Kafka coordinates,
//     the ingest time and the redacted raw line. ReplacingMergeTree whose
//     sorting key is exactly the coordinates (kafka_topic, kafka_partition,
//     kafka_offset, kafka_seq), partitioned by day (toYYYYMMDD(time)): the row
//     of a replayed message collapses with the first one when parts merge.
//   - events_1m: per-minute counts by source, outcome, class, family, owner,
//     oauth_error, client_id and Kafka partition (SummingMergeTree), kept by
//     the materialized view events_1m_mv on every insert into events, for
//     dashboards.
//   - classes: the catalog (ReplacingMergeTree by id), so a query can join an
//     event's class to its meaning and fix (see (*Store).WriteCatalog).
//   - schema_migrations: the migrations applied (version, description,
//     applied).
//
// Counting without double counting. A replay (a crash between the insert and
// the Kafka commit, a rebalance) can insert a row twice; merges remove the
// duplicate eventually, never on a schedule. Exact counts therefore read
// either
//
//	SELECT class, count() FROM authsift.events FINAL WHERE ... GROUP BY class
//
// (FINAL merges at read time; duplicates share the coordinates, hence the
// time, hence the day partition, so on current servers
// do_not_merge_across_partitions_select_final = 1 is safe and faster), or,
// without FINAL,
//
//	SELECT class, count() FROM (
//	  SELECT argMax(class, ingest_time) AS class, argMax(outcome, ingest_time) AS outcome
//	  FROM authsift.events WHERE ...
//	  GROUP BY kafka_topic, kafka_partition, kafka_offset, kafka_seq)
//	WHERE outcome = 'failure' GROUP BY class
//
// (uniqExact((kafka_topic, kafka_partition, kafka_offset, kafka_seq)) when
// only a total is wanted). The rollup events_1m counts inserts, not rows: it is
// exact as long as no row is inserted twice and no insert stops between
// events and the view. The pipeline ensures the first by skipping, after a
// restart, every message at or below (*Store).HighWater of its
// partition, and by letting a rebalance wait for the batches in flight
// (kafka.GroupConsumer), so a partition has one writer at a time; and the
// second by checking the rollup of every such skipped message against events FINAL
// (RepairRollup). It always reads with sum(events) (SummingMergeTree folds
// rows in the background, not at insert):
//
//	SELECT minute, class, sum(events) FROM authsift.events_1m
//	WHERE outcome = 'failure' GROUP BY minute, class
//
// Old and new servers. The same migrations render differently by Features:
// LowCardinality(String) for the low-cardinality columns (on 18.12-18.16
// only with the connection setting allow_experimental_low_cardinality_type,
// which Open sends there), DateTime64(3) for times, column CODECs
// and a TTL only where the server has them. Retention that works everywhere is
// (*Store).DropPartitionsOlderThan.
//
// Cluster mode (Schema.Cluster set): every statement runs ON CLUSTER; events
// and events_1m become Replicated*MergeTree tables named events_local and
// events_1m_local ({shard} and {replica} macros), with Distributed tables
// named events and events_1m over them, so writers and queries use the same
// names in both modes. events is sharded by cityHash64(kafka_topic,
// kafka_partition): a replayed row reaches the shard of its first copy, where
// it collapses. classes and schema_migrations are replicated to every node of
// the cluster (one ZooKeeper path for the whole cluster, replica name
// '{shard}-{replica}'), so a local JOIN with classes works on every shard.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/authsift/authsift/classify"
)

// Features are the ClickHouse capabilities the schema uses when the server
// has them.
type Features struct {
	// LowCardinality: LowCardinality(String) for the columns with few values.
	LowCardinality bool
	// LowCardinalitySetting: the server accepts LowCardinality only with the
	// setting allow_experimental_low_cardinality_type = 1 (18.12 to 18.16).
	LowCardinalitySetting bool
	// DateTime64: times keep milliseconds (DateTime64(3, 'UTC')); without it
	// they are whole seconds (DateTime('UTC')).
	DateTime64 bool
	// TTL: table TTL with the setting ttl_only_drop_parts.
	TTL bool
	// Codec: per-column compression codecs (Delta, ZSTD).
	Codec bool
}

// String lists the features that are on.
func (f Features) String() string {
	var on []string
	if f.LowCardinality {
		on = append(on, "LowCardinality")
	}
	if f.LowCardinalitySetting {
		on = append(on, "allow_experimental_low_cardinality_type")
	}
	if f.DateTime64 {
		on = append(on, "DateTime64")
	}
	if f.TTL {
		on = append(on, "TTL")
	}
	if f.Codec {
		on = append(on, "CODEC")
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ", ")
}

// ModernFeatures are the features of current servers (24.x and later).
func ModernFeatures() Features {
	return Features{LowCardinality: true, DateTime64: true, TTL: true, Codec: true}
}

// FeaturesFor returns the features of the server whose version() is version
// ("18.16.1", "24.8.4.13").
func FeaturesFor(version string) (Features, error) {
	major, minor, err := parseVersion(version)
	if err != nil {
		return Features{}, err
	}
	atLeast := func(ma, mi int) bool { return major > ma || major == ma && minor >= mi }
	return Features{
		LowCardinality:        atLeast(18, 12),
		LowCardinalitySetting: atLeast(18, 12) && !atLeast(19, 0),
		DateTime64:            atLeast(20, 1),
		TTL:                   atLeast(20, 1),
		Codec:                 atLeast(19, 1),
	}, nil
}

func parseVersion(v string) (major, minor int, err error) {
	parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
	if len(parts) < 2 {
		return 0, 0, fmt.Errorf("parse server version %q: want major.minor", v)
	}
	if major, err = strconv.Atoi(parts[0]); err != nil {
		return 0, 0, fmt.Errorf("parse server version %q: %w", v, err)
	}
	if minor, err = strconv.Atoi(parts[1]); err != nil {
		return 0, 0, fmt.Errorf("parse server version %q: %w", v, err)
	}
	return major, minor, nil
}

// Schema renders the DDL of one database for one kind of server.
type Schema struct {
	// Database holds every table; a plain identifier.
	Database string
	// Cluster, when set, makes the schema replicated and distributed and runs
	// every statement ON CLUSTER.
	Cluster  string
	Features Features
	// TTL, when positive and the server has Features.TTL, gives events and
	// events_1m a TTL of that many whole days (at least one), fixed when the
	// tables are created: a safety net. Retention that follows the
	// configuration is DropPartitionsOlderThan.
	TTL time.Duration
}

// Migration is one versioned step of the schema. Every statement is
// idempotent (IF NOT EXISTS), so a migration interrupted half-way is simply
// applied again.
type Migration struct {
	Version     uint32
	Description string
	Statements  []string
}

// Table names, as queries see them in both modes.
const (
	EventsTable     = "events"
	RollupTable     = "events_1m"
	RollupView      = "events_1m_mv"
	ClassesTable    = "classes"
	OffsetsTable    = "offsets"
	MigrationsTable = "schema_migrations"
)

// Table returns the qualified name of table.
func (s Schema) Table(table string) string { return s.Database + "." + table }

// local returns the qualified name of the table that holds table's data: the
// same table, or its _local table in cluster mode.
func (s Schema) local(table string) string {
	if s.Cluster != "" && (table == EventsTable || table == RollupTable) {
		return s.Table(table + "_local")
	}
	return s.Table(table)
}

// DataTables returns the qualified names of the day-partitioned tables that
// hold data on each node (events and events_1m, or their _local tables).
func (s Schema) DataTables() []string {
	return []string{s.local(EventsTable), s.local(RollupTable)}
}

func (s Schema) onCluster() string {
	if s.Cluster == "" {
		return ""
	}
	return " ON CLUSTER `" + s.Cluster + "`"
}

// engine renders a MergeTree-family engine; in cluster mode its Replicated
// form with a per-shard path, or with one path for the whole cluster
// (everyShard: every node holds the same rows).
func (s Schema) engine(kind, table string, everyShard bool, args ...string) string {
	if s.Cluster == "" {
		return kind + "(" + strings.Join(args, ", ") + ")"
	}
	path, replica := "'/clickhouse/tables/{shard}/"+s.Database+"/"+table+"'", "'{replica}'"
	if everyShard {
		path, replica = "'/clickhouse/tables/all/"+s.Database+"/"+table+"'", "'{shard}-{replica}'"
	}
	return "Replicated" + kind + "(" + strings.Join(append([]string{path, replica}, args...), ", ") + ")"
}

func (s Schema) lc(typ string) string {
	if s.Features.LowCardinality {
		return "LowCardinality(" + typ + ")"
	}
	return typ
}

func (s Schema) timeType() string {
	if s.Features.DateTime64 {
		return "DateTime64(3, 'UTC')"
	}
	return "DateTime('UTC')"
}

func (s Schema) codec(c string) string {
	if s.Features.Codec {
		return " CODEC(" + c + ")"
	}
	return ""
}

// ttl renders the TTL clause and the settings that go with it.
func (s Schema) ttl(column string) (clause, settings string) {
	if !s.Features.TTL || s.TTL <= 0 {
		return "", ""
	}
	days := int(s.TTL / (24 * time.Hour))
	if days < 1 {
		days = 1
	}
	return "\nTTL toDateTime(" + column + ") + INTERVAL " + strconv.Itoa(days) + " DAY",
		", ttl_only_drop_parts = 1"
}

func outcomeEnum() string {
	var b strings.Builder
	b.WriteString("Enum8(")
	for o := classify.Ignored; o <= classify.Malformed; o++ {
		if o > classify.Ignored {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "'%s' = %d", o, o)
	}
	b.WriteString(")")
	return b.String()
}

// column is one column of the events table. Its order is the order of
// eventColumns, which Write follows.
type column struct {
	name, typ string
}

// eventColumns are the columns of the events table, in insert order.
// verdictColumns are the columns events and events_1m share after their
// time: where the event came from and how it was classified.
func (s Schema) verdictColumns() []column {
	lc := s.lc("String")
	return []column{
		{"source", lc},
		{"outcome", outcomeEnum()},
		{"class", lc},
		{"family", lc},
		{"owner", lc},
		{"oauth_error", lc},
	}
}

func (s Schema) eventColumns() []column {
	t := s.timeType()
	lc := s.lc("String")
	return append(append([]column{{"time", t + s.codec("Delta, ZSTD")}}, s.verdictColumns()...), []column{
		{"rule", lc},
		{"decision", lc},
		{"evidence", lc},
		{"type", lc},
		{"error", lc},
		{"code", lc},
		{"reason", "String" + s.codec("ZSTD")},
		{"debug", "String" + s.codec("ZSTD")},
		{"grant_type", lc},
		{"endpoint", lc},
		{"status", "UInt16"},
		{"context", lc},
		{"hint", lc},
		{"detail", "String" + s.codec("ZSTD")},
		{"client_id", "String"},
		{"user_id", "String"},
		{"session_id", "String"},
		{"ip", "String"},
		{"realm", lc},
		{"trace_id", "String"},
		{"redirect_uri", "String" + s.codec("ZSTD")},
		{"host", lc},
		{"thread", "String"},
		{"kafka_topic", lc},
		{"kafka_partition", "Int32"},
		{"kafka_offset", "Int64" + s.codec("Delta, ZSTD")},
		{"kafka_seq", "UInt16"},
		{"ingest_time", t + s.codec("Delta, ZSTD")},
		{"raw", "String" + s.codec("ZSTD(3)")},
	}...)
}

func columnList(cols []column) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("    ")
		b.WriteString(c.name)
		b.WriteString(" ")
		b.WriteString(c.typ)
	}
	return b.String()
}

// rollupKey is the grouping of events_1m, after minute, as migration 3
// created it.
const rollupKey = "source, outcome, class, family, owner, oauth_error, client_id"

// partitionedRollupKey is the grouping of events_1m since migration 5: the
// Kafka partition too. A partition has one writer at a time, which can then
// check the rollup of its own rows against events after a replay (see
// (*Store).RepairRollup) without racing the other writers' inserts.
const partitionedRollupKey = rollupKey + ", kafka_topic, kafka_partition"

// Bootstrap returns the statements that must run before the migrations: the
// database and the migrations table.
func (s Schema) Bootstrap() []string {
	return []string{
		"CREATE DATABASE IF NOT EXISTS " + s.Database + s.onCluster(),
		"CREATE TABLE IF NOT EXISTS " + s.Table(MigrationsTable) + s.onCluster() + " (\n" +
			"    version UInt32,\n    description String,\n    applied DateTime('UTC')\n)\n" +
			"ENGINE = " + s.engine("ReplacingMergeTree", MigrationsTable, true) + "\nORDER BY version",
	}
}

// Migrations returns every migration, in order.
func (s Schema) Migrations() []Migration {
	return []Migration{
		{1, "events: classified events keyed by their Kafka coordinates", s.eventsDDL()},
		{2, "classes: the catalog, to join a class to its fix", s.classesDDL()},
		{3, "events_1m: per-minute rollup kept by a materialized view", s.rollupDDL()},
		{4, "offsets: the highest stored offset per partition, for the replay check", s.offsetsDDL()},
		{5, "events_1m by Kafka partition too, rebuilt from events FINAL", s.partitionedRollupDDL()},
	}
}

func (s Schema) eventsDDL() []string {
	ttl, ttlSettings := s.ttl("time")
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS " + s.local(EventsTable) + s.onCluster() + " (\n" +
			columnList(s.eventColumns()) + "\n)\n" +
			"ENGINE = " + s.engine("ReplacingMergeTree", EventsTable+"_local", false) + "\n" +
			"PARTITION BY toYYYYMMDD(time)\n" +
			"ORDER BY (kafka_topic, kafka_partition, kafka_offset, kafka_seq)" + ttl + "\n" +
			"SETTINGS index_granularity = 8192" + ttlSettings,
	}
	if s.Cluster != "" {
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+s.Table(EventsTable)+s.onCluster()+
			" AS "+s.local(EventsTable)+"\nENGINE = Distributed('"+s.Cluster+"', "+s.Database+", "+
			EventsTable+"_local, cityHash64(kafka_topic, kafka_partition))")
	}
	return stmts
}

// offsetsDDL: one row per partition and stored batch, the batch's highest
// offset. The replay check reads this small table instead of the events'
// key range, which grows with the table.
func (s Schema) offsetsDDL() []string {
	return []string{
		"CREATE TABLE IF NOT EXISTS " + s.Table(OffsetsTable) + s.onCluster() + " (\n" +
			columnList([]column{{"kafka_topic", "String"}, {"kafka_partition", "Int32"}, {"kafka_offset", "Int64"}, {"updated", "DateTime('UTC')"}}) +
			"\n)\n" +
			"ENGINE = " + s.engine("ReplacingMergeTree", OffsetsTable, true, "kafka_offset") + "\nORDER BY (kafka_topic, kafka_partition)",
	}
}

func (s Schema) classesDDL() []string {
	lc := s.lc("String")
	cols := []column{
		{"id", "String"},
		{"family", lc},
		{"owner", lc},
		{"title", "String"},
		{"meaning", "String"},
		{"confirm", "String"},
		{"fix", "String"},
		{"fix_line", "String"},
		{"references", "Array(String)"},
		{"catalog_hash", "String"},
		{"updated", "DateTime('UTC')"},
	}
	return []string{
		"CREATE TABLE IF NOT EXISTS " + s.Table(ClassesTable) + s.onCluster() + " (\n" +
			columnList(cols) + "\n)\n" +
			"ENGINE = " + s.engine("ReplacingMergeTree", ClassesTable, true, "updated") + "\nORDER BY id",
	}
}

// rollupDDL is migration 3: events_1m by minute and rollupKey.
func (s Schema) rollupDDL() []string {
	return s.rollupTables(rollupKey, nil, RollupTable+"_local", "")
}

// partitionedRollupDDL is migration 5: events_1m by minute and
// partitionedRollupKey, replacing migration 3's table and view, and filled
// from events FINAL (exact, whatever the old rollup held). Writers must be
// stopped while it runs (serve --migrate applies it before consuming); its
// INSERT takes as long as a scan of events.
func (s Schema) partitionedRollupDDL() []string {
	stmts := []string{"DROP TABLE IF EXISTS " + s.Table(RollupView) + s.onCluster()}
	if s.Cluster != "" {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+s.Table(RollupTable)+s.onCluster())
	}
	stmts = append(stmts, "DROP TABLE IF EXISTS "+s.local(RollupTable)+s.onCluster())
	// A new replication path: the dropped table's may outlive it in
	// ZooKeeper, with the old columns.
	stmts = append(stmts, s.rollupTables(partitionedRollupKey,
		[]column{{"kafka_topic", s.lc("String")}, {"kafka_partition", "Int32"}},
		RollupTable+"_v5_local", ", cityHash64(kafka_topic, kafka_partition)")...)
	return append(stmts, "INSERT INTO "+s.Table(RollupTable)+" (minute, "+partitionedRollupKey+", events)\n"+
		"SELECT toStartOfMinute(toDateTime(time)) AS minute, "+partitionedRollupKey+", count() AS events\n"+
		"FROM "+s.Table(EventsTable)+" FINAL\nGROUP BY minute, "+partitionedRollupKey)
}

// rollupTables creates events_1m grouped by key (extra: its columns after
// client_id), the Distributed table over it in cluster mode (shard: its
// sharding key argument) and the materialized view that feeds it.
func (s Schema) rollupTables(key string, extra []column, replicatedAs, shard string) []string {
	cols := append(append([]column{{"minute", "DateTime('UTC')" + s.codec("Delta, ZSTD")}}, s.verdictColumns()...),
		column{"client_id", "String"})
	cols = append(append(cols, extra...), column{"events", "UInt64"})
	ttl, ttlSettings := s.ttl("minute")
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS " + s.local(RollupTable) + s.onCluster() + " (\n" +
			columnList(cols) + "\n)\n" +
			"ENGINE = " + s.engine("SummingMergeTree", replicatedAs, false, "events") + "\n" +
			"PARTITION BY toYYYYMMDD(minute)\n" +
			"ORDER BY (minute, " + key + ")" + ttl + "\n" +
			"SETTINGS index_granularity = 8192" + ttlSettings,
	}
	if s.Cluster != "" {
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+s.Table(RollupTable)+s.onCluster()+
			" AS "+s.local(RollupTable)+"\nENGINE = Distributed('"+s.Cluster+"', "+s.Database+", "+
			RollupTable+"_local"+shard+")")
	}
	// On a cluster the view watches each node's events_local and writes to
	// the same node's events_1m_local.
	return append(stmts, "CREATE MATERIALIZED VIEW IF NOT EXISTS "+s.Table(RollupView)+s.onCluster()+
		"\nTO "+s.local(RollupTable)+"\nAS SELECT\n"+
		"    toStartOfMinute(toDateTime(time)) AS minute,\n    "+key+",\n    count() AS events\n"+
		"FROM "+s.local(EventsTable)+"\nGROUP BY minute, "+key)
}

// DDL returns every statement, bootstrap then migrations, as one SQL text
// with a comment per migration (for `authsift migrate --print`).
func (s Schema) DDL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- authsift schema: database %s", s.Database)
	if s.Cluster != "" {
		fmt.Fprintf(&b, ", cluster %s", s.Cluster)
	}
	fmt.Fprintf(&b, "\n-- server features used: %s\n", s.Features)
	for _, st := range s.Bootstrap() {
		b.WriteString("\n" + st + ";\n")
	}
	for _, m := range s.Migrations() {
		fmt.Fprintf(&b, "\n-- migration %d: %s\n", m.Version, m.Description)
		for _, st := range m.Statements {
			b.WriteString(st + ";\n")
		}
	}
	return b.String()
}

// Statements returns every statement, bootstrap then migrations, in order.
func (s Schema) Statements() []string {
	out := s.Bootstrap()
	for _, m := range s.Migrations() {
		out = append(out, m.Statements...)
	}
	return out
}

// Migrate creates the database and applies, in order, every migration not
// yet recorded in schema_migrations. It returns the migrations it applied
// (none when the schema is current). Versions recorded by a newer authsift
// are left alone.
func (c *Store) Migrate(ctx context.Context) ([]Migration, error) {
	s := c.schema
	for _, st := range s.Bootstrap() {
		if err := c.conn.Exec(ctx, st); err != nil {
			return nil, fmt.Errorf("bootstrap schema: %w", err)
		}
	}
	done, err := c.appliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	var applied []Migration
	for _, m := range s.Migrations() {
		if done[m.Version] {
			continue
		}
		for i, st := range m.Statements {
			if err := c.conn.Exec(ctx, st); err != nil {
				return applied, fmt.Errorf("apply migration %d statement %d: %w", m.Version, i+1, err)
			}
		}
		if err := c.recordMigration(ctx, m); err != nil {
			return applied, err
		}
		applied = append(applied, m)
	}
	return applied, nil
}

func (c *Store) appliedMigrations(ctx context.Context) (map[uint32]bool, error) {
	rows, err := c.conn.Query(ctx, "SELECT DISTINCT version FROM "+c.schema.Table(MigrationsTable))
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	defer rows.Close()
	done := map[uint32]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	return done, nil
}

func (c *Store) recordMigration(ctx context.Context, m Migration) error {
	b, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+c.schema.Table(MigrationsTable)+" (version, description, applied)")
	if err != nil {
		return fmt.Errorf("record migration %d: %w", m.Version, err)
	}
	defer b.Close()
	if err := b.Append(m.Version, m.Description, time.Now().UTC()); err != nil {
		return fmt.Errorf("record migration %d: %w", m.Version, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record migration %d: %w", m.Version, err)
	}
	return nil
}
