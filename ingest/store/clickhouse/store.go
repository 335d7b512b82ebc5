package clickhouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	clickhousego "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/redact"
	"github.com/authsift/authsift/ingest/store"
	"github.com/authsift/authsift/rules"
)

// Store stores classified events, the catalog and the schema in
// ClickHouse over the native protocol. It is safe for concurrent use.
type Store struct {
	conn    driver.Conn
	version string
	schema  Schema
	red     *redact.Redactor
	insert  string
	// lowCardinality marks the LowCardinality columns of the insert.
	lowCardinality []bool
	boxes          boxes
	// batches are free column buffers, kept between inserts (a sync.Pool
	// would lose them at every garbage collection).
	batches chan *eventBatch
}

// Open connects, asks the server its version and chooses the
// schema's features from it. Servers 18.12 to 18.16 get the connection
// setting allow_experimental_low_cardinality_type = 1, newer ones none.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	password, err := cfg.Password()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	opts := clickhousego.Options{
		Protocol:    clickhousego.Native,
		Addr:        cfg.Addrs,
		Auth:        clickhousego.Auth{Username: cfg.User, Password: password},
		TLS:         tlsCfg,
		DialTimeout: cfg.DialTimeout,
		ReadTimeout: cfg.ReadTimeout,
		Compression: compression(cfg.Compression),
		ClientInfo: clickhousego.ClientInfo{Products: []struct {
			Name    string
			Version string
		}{{Name: "authsift"}}},
	}

	// The database may not exist yet (before migrate): connect to the
	// server's default one and qualify every table.
	probe, err := clickhousego.Open(&opts)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse: %w", err)
	}
	var version string
	if err := probe.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		probe.Close()
		return nil, fmt.Errorf("query clickhouse version: %w", err)
	}
	features, err := FeaturesFor(version)
	if err != nil {
		probe.Close()
		return nil, err
	}

	if cfg.Cluster != "" && features.LowCardinalitySetting {
		// ON CLUSTER DDL runs on every node with the server's settings, not
		// this session's: where LowCardinality needs a setting (18.x), the
		// cluster schema does without it.
		features.LowCardinality, features.LowCardinalitySetting = false, false
	}
	settings := clickhousego.Settings{}
	if features.LowCardinalitySetting {
		settings["allow_experimental_low_cardinality_type"] = 1
	}
	if cfg.Cluster != "" {
		// Write returns when every shard has the rows, not when they are
		// queued on the local node.
		settings["insert_distributed_sync"] = 1
		// Replicated tables drop an inserted block identical to a recent
		// one. Two batches can give identical per-minute rollup blocks
		// (one failure of one client in the same minute), and the second
		// would not be counted. Replays are already skipped by the
		// high-water check and collapsed by the events table's key.
		settings["insert_deduplicate"] = 0
	}
	conn := probe
	if len(settings) > 0 {
		probe.Close()
		opts.Settings = settings
		if conn, err = clickhousego.Open(&opts); err != nil {
			return nil, fmt.Errorf("open clickhouse: %w", err)
		}
	}
	red := cfg.Redactor
	if red == nil {
		red = redact.New(nil)
	}
	c := &Store{
		conn:    conn,
		version: version,
		schema:  Schema{Database: cfg.Database, Cluster: cfg.Cluster, Features: features, TTL: cfg.TTL},
		red:     red,
	}
	c.insert = c.schema.insertEvents()
	for _, col := range c.schema.eventColumns() {
		c.lowCardinality = append(c.lowCardinality, strings.HasPrefix(col.typ, "LowCardinality("))
	}
	c.batches = make(chan *eventBatch, 2)
	return c, nil
}

// Version is the server's version().
func (c *Store) Version() string { return c.version }

// Schema is the schema for this server.
func (c *Store) Schema() Schema { return c.schema }

// Ping checks the server answers.
func (c *Store) Ping(ctx context.Context) error {
	if err := c.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping clickhouse: %w", err)
	}
	return nil
}

// Close closes the connections.
func (c *Store) Close() error { return c.conn.Close() }

// The statements serve runs, apart from the migrations; TestClickHouseLeastPrivilegeOnCHDB
// runs them as the README's least-privileged user.

// insertEvents is the INSERT Write sends, before the rows.
func (s Schema) insertEvents() string {
	return "INSERT INTO " + s.Table(EventsTable) + " (" + strings.Join(s.eventColumnNames(), ", ") + ")"
}

// insertOffsets is the INSERT writeOffsets sends, before the rows.
func (s Schema) insertOffsets() string {
	return "INSERT INTO " + s.Table(OffsetsTable) + " (kafka_topic, kafka_partition, kafka_offset, updated)"
}

// insertClasses is the INSERT WriteCatalog sends, before the rows.
func (s Schema) insertClasses() string {
	return "INSERT INTO " + s.Table(ClassesTable) + " (" + classColumns + ")"
}

// highWaterQuery is highWater's query of table; its arguments are the topic
// and the partition.
func (s Schema) highWaterQuery(table string) string {
	return "SELECT kafka_offset FROM " + s.Table(table) +
		" WHERE kafka_topic = ? AND kafka_partition = ? ORDER BY kafka_offset DESC LIMIT 1"
}

// partitionsQuery is the query DropPartitionsOlderThan lists the partitions
// of the data tables with, and its arguments.
func (s Schema) partitionsQuery() (string, []any) {
	parts := "system.parts"
	if s.Cluster != "" {
		parts = "cluster('" + s.Cluster + "', system.parts)"
	}
	tables := s.DataTables()
	args := make([]any, 0, len(tables)+1)
	args = append(args, s.Database)
	for _, t := range tables {
		args = append(args, strings.TrimPrefix(t, s.Database+"."))
	}
	return "SELECT DISTINCT table, partition_id FROM " + parts +
		" WHERE database = ? AND active AND table IN (?, ?) ORDER BY table, partition_id", args
}

// dropPartition is the statement DropPartitionsOlderThan drops one partition
// of table (unqualified) with.
func (s Schema) dropPartition(table, id string) string {
	return "ALTER TABLE " + s.Table(table) + s.onCluster() + " DROP PARTITION ID '" + id + "'"
}

func (s Schema) eventColumnNames() []string {
	cols := s.eventColumns()
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.name
	}
	return names
}

// Write inserts the rows store.Stored accepts in one INSERT that names every
// column. Free-text event fields are redacted; Raw is stored as given (the
// caller redacted it). An event without a time (or with one outside
// DateTime's range) takes its ingest time.
func (c *Store) Write(ctx context.Context, rows []store.Row) error {
	var b *eventBatch
	select {
	case b = <-c.batches:
	default:
		b = new(eventBatch)
	}
	defer func() {
		b.reset()
		select {
		case c.batches <- b:
		default:
		}
	}()
	now := time.Now().UTC()
	for i := range rows {
		if store.Stored(&rows[i]) {
			b.add(&rows[i], c.red, now)
		}
	}
	if b.n == 0 {
		return nil
	}
	batch, err := c.conn.PrepareBatch(ctx, c.insert)
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	defer batch.Close()
	for i, col := range b.columns() {
		if strs, ok := col.values.([]string); ok && c.lowCardinality[i] {
			err = c.boxes.appendColumn(batch.Column(i), strs)
		} else {
			err = batch.Column(i).Append(col.values)
		}
		if err != nil {
			return fmt.Errorf("append column %s: %w", col.name, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert batch: %w", err)
	}
	return c.writeOffsets(ctx, rows, now)
}

// writeOffsets records the highest offset of each partition in rows. It runs
// after the events are stored: when it fails, the replay check falls back to
// an older mark and a replay may store rows again, which FINAL still counts
// once.
func (c *Store) writeOffsets(ctx context.Context, rows []store.Row, now time.Time) error {
	type tp struct {
		topic     string
		partition int32
	}
	marks := map[tp]int64{}
	for i := range rows {
		k := tp{rows[i].Topic, rows[i].Partition}
		if off, ok := marks[k]; !ok || rows[i].Offset > off {
			marks[k] = rows[i].Offset
		}
	}
	batch, err := c.conn.PrepareBatch(ctx, c.schema.insertOffsets())
	if err != nil {
		return fmt.Errorf("prepare offsets insert: %w", err)
	}
	defer batch.Close()
	for k, off := range marks {
		if err := batch.Append(k.topic, k.partition, off, now); err != nil {
			return fmt.Errorf("append offset: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert offsets: %w", err)
	}
	return nil
}

// The string columns of events, in the order of Schema.eventColumns.
const (
	colSource = iota
	colOutcome
	colClass
	colFamily
	colOwner
	colOAuthError
	colRule
	colDecision
	colEvidence
	colType
	colError
	colCode
	colReason
	colDebug
	colGrantType
	colEndpoint
	colContext
	colHint
	colDetail
	colClientID
	colUserID
	colSessionID
	colIP
	colRealm
	colTraceID
	colRedirectURI
	colHost
	colThread
	colTopic
	colRaw
	numStringColumns
)

// eventBatch holds the columns of an insert into events. Batches are reused:
// reset keeps the slices' capacity for the next insert.
type eventBatch struct {
	n                int
	time, ingestTime []time.Time
	str              [numStringColumns][]string
	status, seq      []uint16
	partition        []int32
	offset           []int64
}

func (b *eventBatch) reset() {
	b.n = 0
	b.time, b.ingestTime = b.time[:0], b.ingestTime[:0]
	for i := range b.str {
		clear(b.str[i]) // drop references to the events' strings
		b.str[i] = b.str[i][:0]
	}
	b.status, b.seq, b.partition, b.offset = b.status[:0], b.seq[:0], b.partition[:0], b.offset[:0]
}

type batchColumn struct {
	name   string
	values any
}

// columns are in the order of Schema.eventColumns (a test checks it).
func (b *eventBatch) columns() []batchColumn {
	s := &b.str
	return []batchColumn{
		{"time", b.time},
		{"source", s[colSource]},
		{"outcome", s[colOutcome]},
		{"class", s[colClass]},
		{"family", s[colFamily]},
		{"owner", s[colOwner]},
		{"oauth_error", s[colOAuthError]},
		{"rule", s[colRule]},
		{"decision", s[colDecision]},
		{"evidence", s[colEvidence]},
		{"type", s[colType]},
		{"error", s[colError]},
		{"code", s[colCode]},
		{"reason", s[colReason]},
		{"debug", s[colDebug]},
		{"grant_type", s[colGrantType]},
		{"endpoint", s[colEndpoint]},
		{"status", b.status},
		{"context", s[colContext]},
		{"hint", s[colHint]},
		{"detail", s[colDetail]},
		{"client_id", s[colClientID]},
		{"user_id", s[colUserID]},
		{"session_id", s[colSessionID]},
		{"ip", s[colIP]},
		{"realm", s[colRealm]},
		{"trace_id", s[colTraceID]},
		{"redirect_uri", s[colRedirectURI]},
		{"host", s[colHost]},
		{"thread", s[colThread]},
		{"kafka_topic", s[colTopic]},
		{"kafka_partition", b.partition},
		{"kafka_offset", b.offset},
		{"kafka_seq", b.seq},
		{"ingest_time", b.ingestTime},
		{"raw", s[colRaw]},
	}
}

func (b *eventBatch) add(r *store.Row, red *redact.Redactor, now time.Time) {
	ev, v := &r.Event, &r.Verdict
	ingest := r.IngestTime
	if ingest.IsZero() {
		ingest = now
	}
	// DateTime's range is 1970 to 2105: a time outside it is not the
	// event's real time.
	t := ev.Time
	if t.Unix() <= 0 || t.Year() > 2105 {
		t = ingest
	}
	var class, family, owner, rule, decision, evidence string
	if v.Class != nil {
		class, family, owner = v.Class.ID, v.Class.Family, v.Class.Owner
	} else if v.Outcome == classify.Failure {
		class = rules.Unclassified // the engine never does this; keep the row countable
	}
	oauthError := v.OAuthError
	if v.Outcome == classify.Failure && oauthError == "" {
		oauthError = rules.OtherOAuthError
	}
	if v.Rule != nil {
		rule, decision, evidence = v.Rule.ID, v.Decision, v.Evidence
	}
	status := ev.Status
	if status < 0 || status > 0xffff {
		status = 0
	}
	b.n++
	b.time = append(b.time, t.UTC())
	b.ingestTime = append(b.ingestTime, ingest.UTC())
	b.status = append(b.status, uint16(status))
	b.partition = append(b.partition, r.Partition)
	b.offset = append(b.offset, r.Offset)
	b.seq = append(b.seq, r.Seq)
	s := &b.str
	s[colSource] = append(s[colSource], ev.Source)
	s[colOutcome] = append(s[colOutcome], v.Outcome.String())
	s[colClass] = append(s[colClass], class)
	s[colFamily] = append(s[colFamily], family)
	s[colOwner] = append(s[colOwner], owner)
	s[colOAuthError] = append(s[colOAuthError], oauthError)
	s[colRule] = append(s[colRule], rule)
	s[colDecision] = append(s[colDecision], decision)
	s[colEvidence] = append(s[colEvidence], evidence)
	s[colType] = append(s[colType], ev.Type)
	s[colError] = append(s[colError], ev.Error)
	s[colCode] = append(s[colCode], ev.Code)
	text := red.FreeText(ev)
	s[colReason] = append(s[colReason], text.Reason)
	s[colDebug] = append(s[colDebug], text.Debug)
	s[colGrantType] = append(s[colGrantType], ev.GrantType)
	s[colEndpoint] = append(s[colEndpoint], ev.Endpoint)
	s[colContext] = append(s[colContext], ev.Context)
	s[colHint] = append(s[colHint], ev.Hint)
	s[colDetail] = append(s[colDetail], text.Detail)
	s[colClientID] = append(s[colClientID], ev.ClientID)
	s[colUserID] = append(s[colUserID], ev.UserID)
	s[colSessionID] = append(s[colSessionID], ev.SessionID)
	s[colIP] = append(s[colIP], ev.IP)
	s[colRealm] = append(s[colRealm], ev.Realm)
	s[colTraceID] = append(s[colTraceID], ev.TraceID)
	s[colRedirectURI] = append(s[colRedirectURI], text.RedirectURI)
	s[colHost] = append(s[colHost], ev.Host)
	s[colThread] = append(s[colThread], ev.Thread)
	s[colTopic] = append(s[colTopic], r.Topic)
	s[colRaw] = append(s[colRaw], r.Raw)
}

// boxes holds one interface value per distinct string of the
// LowCardinality columns. clickhouse-go's LowCardinality column takes values
// as interfaces and keys its dictionary by them: appending a boxed value
// that is reused saves a reflection and an allocation per value, which was
// most of the insert's cost.
type boxes struct {
	mu sync.Mutex
	m  map[string]any
}

// maxBoxes bounds the boxes kept: the columns are low-cardinality, but a
// client sending arbitrary error codes must not grow memory.
const maxBoxes = 1 << 16

func (x *boxes) appendColumn(col driver.BatchColumn, values []string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.m == nil || len(x.m) > maxBoxes {
		x.m = make(map[string]any, 1024)
	}
	// An empty string is appended as nil: the column gives it key 0, the
	// default value ("") its dictionary starts with, without the two map
	// lookups and the reflection of a boxed value. Most rows leave most of
	// these columns empty.
	last, lastBox := "", any(nil)
	for _, v := range values {
		var b any
		switch {
		case v == "":
			b = nil
		case v == last:
			b = lastBox
		default:
			var ok bool
			if b, ok = x.m[v]; !ok {
				b = v
				x.m[v] = b
			}
			last, lastBox = v, b
		}
		if err := col.AppendRow(b); err != nil {
			return err
		}
	}
	return nil
}

// HighWater returns the highest offset stored for the partition (ok false
// when none is). A pipeline that (re)starts on a partition skips the messages
// at or below it: a crash between the insert and the Kafka commit then
// inserts nothing twice, and the rollup stays exact.
func (c *Store) HighWater(ctx context.Context, topic string, partition int32) (offset int64, ok bool, err error) {
	return c.highWater(ctx, EventsTable, topic, partition)
}

// RecentHighWater is HighWater read from the small offsets table: cheap, for
// the check before every write. It may lag the events (when recording the
// offsets failed after the insert); the pipeline uses the exact HighWater
// when a partition starts and after a failed write.
func (c *Store) RecentHighWater(ctx context.Context, topic string, partition int32) (offset int64, ok bool, err error) {
	return c.highWater(ctx, OffsetsTable, topic, partition)
}

func (c *Store) highWater(ctx context.Context, table, topic string, partition int32) (offset int64, ok bool, err error) {
	// ORDER BY ... LIMIT 1 rather than max(): no row means none stored.
	rows, err := c.conn.Query(ctx, c.schema.highWaterQuery(table), topic, partition)
	if err != nil {
		return 0, false, fmt.Errorf("query high water %s/%d: %w", topic, partition, err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&offset); err != nil {
			return 0, false, fmt.Errorf("query high water %s/%d: %w", topic, partition, err)
		}
		ok = true
	}
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("query high water %s/%d: %w", topic, partition, err)
	}
	return offset, ok, nil
}

// CatalogHash identifies the content of the catalog's classes.
func CatalogHash(cat *rules.Catalog) string {
	h := sha256.New()
	for _, cl := range cat.Classes() {
		for _, s := range append([]string{cl.ID, cl.Family, cl.Owner, cl.Title, cl.Meaning, cl.Confirm, cl.Fix}, cl.References...) {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// classColumns are the columns WriteCatalog fills, in the order of classRow.
const classColumns = "id, family, owner, title, meaning, confirm, fix, fix_line, references, catalog_hash, updated"

func classRow(cl *rules.Class, hash string, updated time.Time) []any {
	refs := []string(cl.References)
	if refs == nil {
		refs = []string{}
	}
	return []any{cl.ID, cl.Family, cl.Owner, cl.Title, cl.Meaning, cl.Confirm, cl.Fix, cl.FixLine(), refs, hash, updated}
}

// WriteCatalog writes every class of cat to the classes table, replacing the
// rows of the same ids (ReplacingMergeTree by updated: read it with FINAL).
// A class a later catalog drops keeps its last row, so old events still join
// to an explanation; catalog_hash tells which catalog wrote a row.
func (c *Store) WriteCatalog(ctx context.Context, cat *rules.Catalog) error {
	batch, err := c.conn.PrepareBatch(ctx, c.schema.insertClasses())
	if err != nil {
		return fmt.Errorf("prepare catalog insert: %w", err)
	}
	defer batch.Close()
	hash, now := CatalogHash(cat), time.Now().UTC()
	for _, cl := range cat.Classes() {
		if err := batch.Append(classRow(cl, hash, now)...); err != nil {
			return fmt.Errorf("append class %s: %w", cl.ID, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert catalog: %w", err)
	}
	return nil
}

// DropPartitionsOlderThan drops the day partitions of events and events_1m
// whose whole day (UTC) is before cutoff, and returns them as
// "table/YYYYMMDD". It lists partitions from system.parts (every node's in
// cluster mode) and drops them with ALTER TABLE ... DROP PARTITION ID, which
// 18.16 and current servers both have.
func (c *Store) DropPartitionsOlderThan(ctx context.Context, cutoff time.Time) ([]string, error) {
	query, args := c.schema.partitionsQuery()
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	type partition struct{ table, id string }
	var old []partition
	for rows.Next() {
		var p partition
		if err := rows.Scan(&p.table, &p.id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list partitions: %w", err)
		}
		day, err := time.Parse("20060102", p.id)
		if err != nil {
			continue // not a day partition: not ours to drop
		}
		if !day.AddDate(0, 0, 1).After(cutoff) {
			old = append(old, p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	var dropped []string
	for _, p := range old {
		if err := c.conn.Exec(ctx, c.schema.dropPartition(p.table, p.id)); err != nil {
			return dropped, fmt.Errorf("drop partition %s of %s: %w", p.id, p.table, err)
		}
		dropped = append(dropped, p.table+"/"+p.id)
	}
	return dropped, nil
}
