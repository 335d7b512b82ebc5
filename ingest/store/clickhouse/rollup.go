package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The rollup after a replay.
//
// The events_1m rollup is fed by a materialized view that writes its own
// part after the events part of the same insert. ClickHouse killed between
// the two leaves the batch in events but not in the rollup; the retry (or the
// next process, after a restart) finds the rows in events and rightly does
// not insert them again, so the rollup would stay short. Each time the
// pipeline skips messages that ClickHouse already holds but Kafka has not
// committed, it asks the sink to repair the rollup of those messages'
// minutes: RepairRollup counts the partition's rows in events FINAL and in
// the rollup, minute by minute and group by group, and inserts what the
// rollup lacks. The rollup is keyed by Kafka partition (migration 5), and a
// partition has one writer at a time that runs the repair between its own
// inserts, so no insert in flight can be mistaken for a missing one.

// rollupGroup is one row of events_1m without its partition and count.
type rollupGroup struct {
	minute                                                    int64
	source, outcome, class, family, owner, oauthError, client string
}

const rollupGroupColumns = "source, toString(outcome), class, family, owner, oauth_error, client_id"

// RepairRollup makes the rollup of the minutes of the partition's messages
// first..last agree with the stored events, and returns how many events it
// added (the pipeline's RollupRepairer). It must run while no insert of the
// partition is in flight.
func (c *Store) RepairRollup(ctx context.Context, topic string, partition int32, first, last int64) (int64, error) {
	var lo, hi time.Time
	var n uint64
	row := c.conn.QueryRow(ctx, "SELECT toStartOfMinute(toDateTime(min(time))), toStartOfMinute(toDateTime(max(time))), count() FROM "+
		c.schema.Table(EventsTable)+" WHERE kafka_topic = ? AND kafka_partition = ? AND kafka_offset >= ? AND kafka_offset <= ?",
		topic, partition, first, last)
	if err := row.Scan(&lo, &hi, &n); err != nil {
		return 0, fmt.Errorf("rollup repair %s/%d: minutes of offsets %d-%d: %w", topic, partition, first, last, err)
	}
	if n == 0 {
		return 0, nil
	}
	exactSQL, rolledSQL := c.schema.rollupCheck(topic, partition, lo, hi.Add(time.Minute))
	exact, err := c.rollupGroups(ctx, exactSQL)
	if err != nil {
		return 0, fmt.Errorf("rollup repair %s/%d: count events: %w", topic, partition, err)
	}
	rolled, err := c.rollupGroups(ctx, rolledSQL)
	if err != nil {
		return 0, fmt.Errorf("rollup repair %s/%d: read the rollup: %w", topic, partition, err)
	}
	var missing []rollupGroup
	added := int64(0)
	for g, want := range exact {
		if have := rolled[g]; want > have {
			missing = append(missing, g)
			added += int64(want - have)
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+c.schema.Table(RollupTable)+" (minute, "+partitionedRollupKey+", events)")
	if err != nil {
		return 0, fmt.Errorf("rollup repair %s/%d: %w", topic, partition, err)
	}
	defer batch.Close()
	for _, g := range missing {
		if err := batch.Append(time.Unix(g.minute, 0).UTC(), g.source, g.outcome, g.class, g.family, g.owner, g.oauthError, g.client,
			topic, partition, exact[g]-rolled[g]); err != nil {
			return 0, fmt.Errorf("rollup repair %s/%d: %w", topic, partition, err)
		}
	}
	if err := batch.Send(); err != nil {
		return 0, fmt.Errorf("rollup repair %s/%d: insert: %w", topic, partition, err)
	}
	return added, nil
}

// rollupCheck returns the queries that count one partition's rows per
// minute and group in events FINAL and in the rollup, for the minutes from
// (included) to to (excluded), both ordered alike.
func (s Schema) rollupCheck(topic string, partition int32, from, to time.Time) (exact, rolled string) {
	where := func(col string) string {
		return fmt.Sprintf(" WHERE kafka_topic = %s AND kafka_partition = %d AND %s >= toDateTime(%d) AND %s < toDateTime(%d)",
			sqlString(topic), partition, col, from.Unix(), col, to.Unix())
	}
	exact = "SELECT toStartOfMinute(toDateTime(time)) AS m, " + rollupGroupColumns + ", count() FROM " +
		s.Table(EventsTable) + " FINAL" + where("time") + " GROUP BY m, " + rollupKey + " ORDER BY m, " + rollupKey
	rolled = "SELECT minute, " + rollupGroupColumns + ", sum(events) FROM " +
		s.Table(RollupTable) + where("minute") + " GROUP BY minute, " + rollupKey + " ORDER BY minute, " + rollupKey
	return exact, rolled
}

// sqlString quotes s as a ClickHouse string literal.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// rollupGroups runs query (minute, the group's columns, a count) and
// returns the counts by group.
func (c *Store) rollupGroups(ctx context.Context, query string, args ...any) (map[rollupGroup]uint64, error) {
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[rollupGroup]uint64{}
	for rows.Next() {
		var g rollupGroup
		var minute time.Time
		var n uint64
		if err := rows.Scan(&minute, &g.source, &g.outcome, &g.class, &g.family, &g.owner, &g.oauthError, &g.client, &n); err != nil {
			return nil, err
		}
		g.minute = minute.Unix()
		out[g] = n
	}
	return out, rows.Err()
}
