package clickhouse

import (
	"context"
	"encoding/json"
	"github.com/authsift/authsift/ingest/redact"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/store"
	"github.com/authsift/authsift/rules"
)

// The storage tests run against a real ClickHouse server that the test starts
// (chtest: Debian's 18.16 binary here; AUTHSIFT_TEST_CLICKHOUSE=required in
// CI) and, for the DDL and queries of current servers, against chdb
// (TestClickHouseModernOnCHDB).

const testTopic = "auth"

// sample is one event of the test data with the verdict columns it must be
// stored with.
type sample struct {
	name string
	ev   classify.Event
	// the stored verdict columns; stored false: Write skips the row
	stored                                                bool
	outcome, class, family, owner, oauthErr, rule, decide string
	evidence                                              string
}

// samples covers every kind of stored row: failures with a class and a rule
// (direct and correlated), an unclassified failure with its raw error, a
// success, a context line, a malformed line, an ignored step a rule named,
// and an ignored line no rule spoke about (not stored).
func samples() []sample {
	return []sample{
		{name: "hydra reused code", stored: true, outcome: "failure", class: "code_reused", family: "authorization_code",
			owner: "client", oauthErr: "invalid_grant", rule: "hydra.code.reused", decide: "direct",
			ev: classify.Event{Source: "hydra", Outcome: classify.Failure, Error: "invalid_grant",
				Reason: "The authorization code has already been used.", Debug: "code=SplxlOBeZQQYbYS6WxSbIA",
				GrantType: "authorization_code", Endpoint: "token", Status: 400, ClientID: "web-app",
				IP: "203.0.113.7", TraceID: "4bf92f3577b34da6", RedirectURI: "https://app.example/cb", Host: "hydra-0"}},
		{name: "keycloak reused code, correlated", stored: true, outcome: "failure", class: "code_reused",
			family: "authorization_code", owner: "client", oauthErr: "invalid_grant",
			rule: "keycloak.code_to_token.reused", decide: "correlated", evidence: "context code_already_used from an earlier line",
			ev: classify.Event{Source: "keycloak", Outcome: classify.Failure, Type: "CODE_TO_TOKEN_ERROR",
				Error: "invalid_code", Context: "code_already_used", ClientID: "portal", UserID: "u-42",
				SessionID: "s-1", Realm: "prod", IP: "198.51.100.2", Thread: "executor-thread-7", GrantType: "authorization_code"}},
		{name: "entra expired secret", stored: true, outcome: "failure", class: "client_secret_expired",
			family: "client_auth", owner: "client", oauthErr: "invalid_client", rule: "entra.client.secret_expired",
			decide: "direct",
			ev: classify.Event{Source: "entra", Outcome: classify.Failure, Code: "7000222", Error: "invalid_client",
				Reason: "AADSTS7000222: The provided client secret keys for app '1b3' are expired.", ClientID: "1b3", Status: 401}},
		{name: "unclassified failure keeps its raw error", stored: true, outcome: "failure", class: "unclassified",
			family: "-", owner: "operator", oauthErr: "other",
			ev: classify.Event{Source: "generic", Outcome: classify.Failure, Error: "server_meltdown",
				Reason: "the token database is on fire", Status: 500, Endpoint: "token"}},
		{name: "success", stored: true, outcome: "success",
			ev: classify.Event{Source: "hydra", Outcome: classify.Success, Endpoint: "token", Status: 200,
				ClientID: "web-app", GrantType: "refresh_token"}},
		{name: "context line", stored: true, outcome: "context",
			ev: classify.Event{Source: "keycloak", Outcome: classify.Context, Hint: "code_already_used",
				Reason:    "Code '0b3c4a47-8f1e' already used for userSession 's-1' and client 'portal'.",
				SessionID: "s-1", Thread: "executor-thread-7"}},
		{name: "malformed line", stored: true, outcome: "malformed",
			ev: classify.Event{Source: "hydra", Outcome: classify.Malformed, Detail: "unterminated JSON after access_token=abc123xyz"}},
		{name: "ignored step a rule named", stored: true, outcome: "ignored", oauthErr: "", rule: "entra.interaction.account_picker_step",
			decide: "direct",
			ev:     classify.Event{Source: "entra", Outcome: classify.Failure, Type: "SignInLogs", Code: "16000"}},
		{name: "ignored line", stored: false, outcome: "ignored",
			ev: classify.Event{Source: "generic", Outcome: classify.Ignored}},
	}
}

func testEngine(t testing.TB) (*rules.Catalog, *classify.Engine) {
	t.Helper()
	cat, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat, classify.New(cat)
}

// sampleRows classifies the samples and gives them consecutive offsets from
// first on partition 0, one second apart from at; the ignored Entra step
// shares the message of the Entra failure (an Event Hubs envelope: same
// offset, seq 1).
func sampleRows(t testing.TB, engine *classify.Engine, red *redact.Redactor, at time.Time, first int64) []store.Row {
	t.Helper()
	var rows []store.Row
	for i, s := range samples() {
		ev := s.ev
		ev.Time = at.Add(time.Duration(i) * time.Second)
		v := engine.Classify(&ev)
		if v.Outcome.String() != s.outcome {
			t.Fatalf("%s: outcome %s, the test wants %s (the catalog changed?)", s.name, v.Outcome, s.outcome)
		}
		raw := `{"time":"` + ev.Time.Format(time.RFC3339) + `","error":"` + ev.Error + `","code":"SplxlOBeZQQYbYS6WxSbIA"}`
		r := store.Row{Topic: testTopic, Partition: 0, Offset: first + int64(i), IngestTime: at.Add(time.Minute),
			Raw: red.Redact(raw), Event: ev, Verdict: v}
		if s.name == "ignored step a rule named" {
			r.Offset, r.Seq = first+2, 1
		}
		rows = append(rows, r)
	}
	return rows
}

// wantColumns is how row must read back from events, written apart from
// Write's own mapping.
func wantColumns(r store.Row, red *redact.Redactor) map[string]any {
	ev, v := r.Event, r.Verdict
	m := map[string]any{
		"time": ev.Time, "source": ev.Source, "outcome": v.Outcome.String(),
		"class": "", "family": "", "owner": "", "oauth_error": v.OAuthError, "rule": "", "decision": "", "evidence": "",
		"type": ev.Type, "error": ev.Error, "code": ev.Code, "reason": red.Redact(ev.Reason), "debug": red.Redact(ev.Debug),
		"grant_type": ev.GrantType, "endpoint": ev.Endpoint, "status": uint16(ev.Status), "context": ev.Context,
		"hint": ev.Hint, "detail": red.Redact(ev.Detail), "client_id": ev.ClientID, "user_id": ev.UserID,
		"session_id": ev.SessionID, "ip": ev.IP, "realm": ev.Realm, "trace_id": ev.TraceID,
		"redirect_uri": red.Redact(ev.RedirectURI), "host": ev.Host, "thread": ev.Thread,
		"kafka_topic": r.Topic, "kafka_partition": r.Partition, "kafka_offset": r.Offset, "kafka_seq": r.Seq,
		"ingest_time": r.IngestTime, "raw": r.Raw,
	}
	if v.Class != nil {
		m["class"], m["family"], m["owner"] = v.Class.ID, v.Class.Family, v.Class.Owner
	}
	if v.Outcome == classify.Failure && v.OAuthError == "" {
		m["oauth_error"] = "other"
	}
	if v.Rule != nil {
		m["rule"], m["decision"], m["evidence"] = v.Rule.ID, v.Decision, v.Evidence
	}
	return m
}

// chEnv is a database on the test server.
type chEnv struct {
	srv *chtest.Server
	ch  *Store
	red *redact.Redactor
	db  string
}

func newCHEnv(t *testing.T, srv *chtest.Server, db string) *chEnv {
	t.Helper()
	red := redact.New([]byte("test-key"))
	ch, err := Open(t.Context(), Config{Addrs: []string{srv.TCP}, Database: db, Redactor: red})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	if _, err := ch.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &chEnv{srv: srv, ch: ch, red: red, db: db}
}

// query runs sql over HTTP (TabSeparated).
func (e *chEnv) query(t *testing.T, sql string) string {
	t.Helper()
	out, err := e.srv.Query(t.Context(), strings.ReplaceAll(sql, "{db}", e.db))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *chEnv) write(t *testing.T, rows []store.Row) {
	t.Helper()
	if err := e.ch.Write(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
}

// connect opens cfg and pings the server: nil when both worked.
func connect(t *testing.T, cfg Config) error {
	ch, err := Open(t.Context(), cfg)
	if err != nil {
		return err
	}
	defer ch.Close()
	return ch.Ping(t.Context())
}

// applyMigrations bootstraps ch's schema and applies ms as an older
// authsift would have.
func applyMigrations(t *testing.T, ch *Store, ms []Migration) {
	t.Helper()
	for _, st := range ch.schema.Bootstrap() {
		if err := ch.conn.Exec(t.Context(), st); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms {
		for _, st := range m.Statements {
			if err := ch.conn.Exec(t.Context(), st); err != nil {
				t.Fatal(err)
			}
		}
		if err := ch.recordMigration(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
}

// replayed is rows inserted again later, as after a crash before the commit.
func replayed(rows []store.Row) []store.Row {
	out := slices.Clone(rows)
	for i := range out {
		out[i].IngestTime = out[i].IngestTime.Add(time.Hour)
	}
	return out
}

func TestClickHouse(t *testing.T) {
	srv := chtest.Start(t)
	cat, engine := testEngine(t)
	at := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)

	t.Run("open detects the server and its features", func(t *testing.T) {
		e := newCHEnv(t, srv, "features")
		want, err := FeaturesFor(e.ch.Version())
		if err != nil {
			t.Fatal(err)
		}
		if got := e.ch.Schema().Features; got != want {
			t.Errorf("features %+v, want %+v for %s", got, want, e.ch.Version())
		}
		if err := e.ch.Ping(t.Context()); err != nil {
			t.Error(err)
		}
		types := e.query(t, "SELECT name, type FROM system.columns WHERE database = '{db}' AND table = 'events' AND name IN ('time', 'class') ORDER BY name")
		wantTypes := "class\t" + tsvEscape(e.ch.Schema().lc("String")) + "\ntime\t" + tsvEscape(e.ch.Schema().timeType()) + "\n"
		if types != wantTypes {
			t.Errorf("column types:\n%s\nwant:\n%s", types, wantTypes)
		}
	})

	t.Run("migrate twice is idempotent", func(t *testing.T) {
		e := newCHEnv(t, srv, "migrate")
		applied, err := e.ch.Migrate(t.Context())
		if err != nil || len(applied) != 0 {
			t.Fatalf("second migrate applied %v, %v; want nothing", applied, err)
		}
		got := e.query(t, "SELECT version, description FROM {db}.schema_migrations ORDER BY version")
		var want strings.Builder
		for _, m := range e.ch.Schema().Migrations() {
			want.WriteString(strconv.Itoa(int(m.Version)) + "\t" + m.Description + "\n")
		}
		if got != want.String() {
			t.Errorf("schema_migrations:\n%s\nwant:\n%s", got, want.String())
		}
		tables := e.query(t, "SELECT name FROM system.tables WHERE database = '{db}' ORDER BY name")
		if tables != "classes\nevents\nevents_1m\nevents_1m_mv\noffsets\nschema_migrations\n" {
			t.Errorf("tables:\n%s", tables)
		}
		// 18.16's system.columns has no position: it lists in table order.
		cols := strings.Fields(e.query(t, "SELECT name FROM system.columns WHERE database = '{db}' AND table = 'events'"))
		if want := e.ch.Schema().eventColumnNames(); !slices.Equal(cols, want) {
			t.Errorf("events columns %v, Write names %v", cols, want)
		}
	})

	t.Run("migrate applies only what is missing", func(t *testing.T) {
		red := redact.New(nil)
		ch, err := Open(t.Context(), Config{Addrs: []string{srv.TCP}, Database: "partial", Redactor: red})
		if err != nil {
			t.Fatal(err)
		}
		defer ch.Close()
		applyMigrations(t, ch, ch.schema.Migrations()[:1])
		applied, err := ch.Migrate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var versions []uint32
		for _, m := range applied {
			versions = append(versions, m.Version)
		}
		if !slices.Equal(versions, []uint32{2, 3, 4, 5}) {
			t.Errorf("applied %v, want [2 3 4 5]", versions)
		}
	})

	t.Run("migration 5 rebuilds the rollup by partition from events FINAL", func(t *testing.T) {
		red := redact.New([]byte("test-key"))
		ch, err := Open(t.Context(), Config{Addrs: []string{srv.TCP}, Database: "upgrade5", Redactor: red})
		if err != nil {
			t.Fatal(err)
		}
		defer ch.Close()
		applyMigrations(t, ch, ch.schema.Migrations()[:4]) // what an older authsift created
		e := &chEnv{srv: srv, ch: ch, red: red, db: "upgrade5"}
		rows := sampleRows(t, engine, red, at, 100)
		e.write(t, rows)
		e.write(t, replayed(rows)) // the old rollup counts these twice
		if got := e.query(t, "SELECT sum(events) FROM {db}.events_1m"); got != "16\n" {
			t.Fatalf("old rollup: %s", got)
		}
		applied, err := ch.Migrate(t.Context())
		if err != nil || len(applied) != 1 || applied[0].Version != 5 {
			t.Fatalf("migrate applied %v, %v; want migration 5", applied, err)
		}
		for _, q := range rollupQueries() {
			if got := e.query(t, q.sql); got != q.want {
				t.Errorf("%s after the rebuild: %s:\n%s\nwant:\n%s", q.name, q.sql, got, q.want)
			}
		}
		if got := e.query(t, "SELECT kafka_topic, kafka_partition, sum(events) FROM {db}.events_1m GROUP BY kafka_topic, kafka_partition"); got != testTopic+"\t0\t8\n" {
			t.Errorf("rollup by partition: %s", got)
		}
		// The view feeds the new table.
		next := sampleRows(t, engine, red, at, 200)
		e.write(t, next)
		if got := e.query(t, "SELECT sum(events) FROM {db}.events_1m"); got != "16\n" {
			t.Errorf("rollup after a new insert: %s, want 16", got)
		}
	})

	t.Run("rollup repair adds what a cut insert left out", func(t *testing.T) {
		e := newCHEnv(t, srv, "repair")
		rows := sampleRows(t, engine, e.red, at, 100)
		e.write(t, rows[:3])
		// ClickHouse stopped between the events part and the view's part:
		// here, the view detached while the rest is inserted.
		e.query(t, "DETACH TABLE {db}.events_1m_mv")
		e.write(t, rows[3:])
		e.query(t, "ATTACH TABLE {db}.events_1m_mv")
		other := sampleRows(t, engine, e.red, at, 100)
		for i := range other { // another partition, complete: left alone
			other[i].Partition = 1
		}
		e.write(t, other)
		before := e.query(t, "SELECT sum(events) FROM {db}.events_1m WHERE kafka_partition = 0")
		if before != "3\n" {
			t.Fatalf("rollup of partition 0 before the repair: %s, want 3", before)
		}
		added, err := e.ch.RepairRollup(t.Context(), testTopic, 0, 103, 108)
		if err != nil || added != 5 {
			t.Fatalf("RepairRollup = %d, %v; want 5 added", added, err)
		}
		for _, q := range rollupQueries() {
			got := e.query(t, strings.Replace(q.sql, "{db}.events_1m", "(SELECT * FROM {db}.events_1m WHERE kafka_partition = 0)", 1))
			if got != q.want {
				t.Errorf("%s after the repair:\n%s\nwant:\n%s", q.name, got, q.want)
			}
		}
		if added, err := e.ch.RepairRollup(t.Context(), testTopic, 0, 100, 108); err != nil || added != 0 {
			t.Errorf("a second repair = %d, %v; want nothing to add", added, err)
		}
		if added, err := e.ch.RepairRollup(t.Context(), testTopic, 0, 500, 600); err != nil || added != 0 {
			t.Errorf("a repair of offsets never stored = %d, %v; want nothing", added, err)
		}
		if got := e.query(t, "SELECT sum(events) FROM {db}.events_1m"); got != "16\n" {
			t.Errorf("whole rollup after the repairs: %s, want 16", got)
		}
	})

	t.Run("every column lands as written", func(t *testing.T) {
		e := newCHEnv(t, srv, "columns")
		rows := sampleRows(t, engine, e.red, at, 100)
		e.write(t, rows)
		got := scanEvents(t, e.ch, "SELECT * FROM "+e.ch.schema.Table(EventsTable)+" ORDER BY kafka_offset, kafka_seq")
		type stored struct {
			row store.Row
			s   sample
		}
		var ss []stored
		for i, s := range samples() {
			if s.stored {
				ss = append(ss, stored{rows[i], s})
			}
		}
		slices.SortStableFunc(ss, func(a, b stored) int {
			if a.row.Offset != b.row.Offset {
				return int(a.row.Offset - b.row.Offset)
			}
			return int(a.row.Seq) - int(b.row.Seq)
		})
		var want []map[string]any
		var wantSamples []sample
		for _, x := range ss {
			want = append(want, wantColumns(x.row, e.red))
			wantSamples = append(wantSamples, x.s)
		}
		if len(got) != len(want) {
			t.Fatalf("%d rows stored, want %d", len(got), len(want))
		}
		for i, s := range wantSamples {
			t.Run(s.name, func(t *testing.T) {
				for col, w := range want[i] {
					if !sameValue(got[i][col], w) {
						t.Errorf("%s = %#v, want %#v", col, got[i][col], w)
					}
				}
				if len(got[i]) != len(want[i]) {
					t.Errorf("%d columns read, %d expected", len(got[i]), len(want[i]))
				}
				verdict := map[string]string{"outcome": s.outcome, "class": s.class, "family": s.family, "owner": s.owner,
					"oauth_error": s.oauthErr, "rule": s.rule, "decision": s.decide, "evidence": s.evidence}
				for col, w := range verdict {
					if got[i][col] != w {
						t.Errorf("%s = %q, want %q", col, got[i][col], w)
					}
				}
			})
		}
	})

	t.Run("a replay does not double count", func(t *testing.T) {
		e := newCHEnv(t, srv, "replay")
		rows := sampleRows(t, engine, e.red, at, 100)
		e.write(t, rows)
		e.write(t, replayed(rows))
		if got := e.query(t, "SELECT count() FROM {db}.events"); got != "16\n" {
			t.Errorf("raw rows %q, want 16 (both inserts stored)", got)
		}
		for _, q := range dedupQueries() {
			t.Run(q.name, func(t *testing.T) {
				if got := e.query(t, q.sql); got != q.want {
					t.Errorf("%s:\n%s\nwant:\n%s", q.sql, got, q.want)
				}
			})
		}
	})

	t.Run("high water per partition", func(t *testing.T) {
		e := newCHEnv(t, srv, "highwater")
		var rows []store.Row
		for _, p := range []struct {
			topic     string
			partition int32
			offset    int64
		}{{"a", 0, 5}, {"a", 0, 9}, {"a", 0, 7}, {"a", 1, 3}, {"b", 1, 42}} {
			r := sampleRows(t, engine, e.red, at, p.offset)[4] // the success
			r.Topic, r.Partition, r.Offset = p.topic, p.partition, p.offset
			rows = append(rows, r)
		}
		e.write(t, rows)
		for _, c := range []struct {
			topic     string
			partition int32
			offset    int64
			ok        bool
		}{{"a", 0, 9, true}, {"a", 1, 3, true}, {"a", 2, 0, false}, {"b", 0, 0, false}, {"b", 1, 42, true}, {"c", 0, 0, false}} {
			off, ok, err := e.ch.HighWater(t.Context(), c.topic, c.partition)
			if err != nil || off != c.offset || ok != c.ok {
				t.Errorf("HighWater(%s, %d) = %d, %v, %v; want %d, %v", c.topic, c.partition, off, ok, err, c.offset, c.ok)
			}
		}
	})

	t.Run("rollup counts per class", func(t *testing.T) {
		e := newCHEnv(t, srv, "rollup")
		rows := sampleRows(t, engine, e.red, at, 100)
		e.write(t, rows[:4])
		e.write(t, rows[4:]) // two inserts: two rows per key until a merge
		for _, q := range rollupQueries() {
			if got := e.query(t, q.sql); got != q.want {
				t.Errorf("%s: %s:\n%s\nwant:\n%s", q.name, q.sql, got, q.want)
			}
		}
		// The rollup counts inserts: a replay the high-water skip did not
		// prevent counts twice there (and once in events FINAL).
		e.write(t, replayed(rows))
		got := e.query(t, "SELECT class, sum(events) FROM {db}.events_1m WHERE outcome = 'failure' GROUP BY class ORDER BY class")
		if want := "client_secret_expired\t2\ncode_reused\t4\nunclassified\t2\n"; got != want {
			t.Errorf("rollup after replay:\n%s\nwant:\n%s", got, want)
		}
	})

	t.Run("catalog joins a class to its fix", func(t *testing.T) {
		e := newCHEnv(t, srv, "catalog")
		for range 2 { // a reload writes it again
			if err := e.ch.WriteCatalog(t.Context(), cat); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := e.query(t, "SELECT count() FROM {db}.classes FINAL"), strconv.Itoa(len(cat.Classes()))+"\n"; got != want {
			t.Errorf("classes FINAL: %s, want %s", got, want)
		}
		got := e.query(t, "SELECT catalog_hash, length(references) > 0 FROM {db}.classes FINAL WHERE id = 'code_reused'")
		if want := CatalogHash(cat) + "\t1\n"; got != want {
			t.Errorf("code_reused row: %q, want %q", got, want)
		}
		e.write(t, sampleRows(t, engine, e.red, at, 100))
		for _, q := range joinQueries(cat) {
			if got := e.query(t, q.sql); got != q.want {
				t.Errorf("%s:\n%s\nwant:\n%s", q.sql, got, q.want)
			}
		}
	})

	t.Run("retention drops only old days", func(t *testing.T) {
		e := newCHEnv(t, srv, "retention")
		today := time.Now().UTC().Truncate(24 * time.Hour)
		var rows []store.Row
		for i, days := range []int{0, 1, 3, 10} {
			r := sampleRows(t, engine, e.red, today.AddDate(0, 0, -days).Add(12*time.Hour), 0)[0]
			r.Offset = int64(i)
			rows = append(rows, r)
		}
		e.write(t, rows)
		cutoff := today.AddDate(0, 0, -1).Add(6 * time.Hour) // mid-day: that day stays
		dropped, err := e.ch.DropPartitionsOlderThan(t.Context(), cutoff)
		if err != nil {
			t.Fatal(err)
		}
		day := func(d int) string { return today.AddDate(0, 0, -d).Format("20060102") }
		want := []string{"events/" + day(10), "events/" + day(3), "events_1m/" + day(10), "events_1m/" + day(3)}
		if !slices.Equal(dropped, want) {
			t.Errorf("dropped %v, want %v", dropped, want)
		}
		for _, table := range []string{"events", "events_1m"} {
			col := map[string]string{"events": "time", "events_1m": "minute"}[table]
			got := e.query(t, "SELECT toYYYYMMDD("+col+") AS d, count() FROM {db}."+table+" GROUP BY d ORDER BY d")
			if want := day(1) + "\t1\n" + day(0) + "\t1\n"; got != want {
				t.Errorf("%s after retention:\n%s\nwant:\n%s", table, got, want)
			}
		}
		if again, err := e.ch.DropPartitionsOlderThan(t.Context(), cutoff); err != nil || len(again) != 0 {
			t.Errorf("second drop: %v, %v; want nothing", again, err)
		}
	})

	t.Run("no secret lands", func(t *testing.T) {
		e := newCHEnv(t, srv, "secrets")
		secrets := []string{"SplxlOBeZQQYbYS6WxSbIA", "0b3c4a47-8f1e", "abc123xyz", "s3cr3t-value",
			"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl", "mF_9.B5f-4.1JqM"}
		line := "POST /token code=SplxlOBeZQQYbYS6WxSbIA&client_secret=s3cr3t-value Authorization: Bearer mF_9.B5f-4.1JqM " +
			"id_token_hint=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
		rows := sampleRows(t, engine, e.red, at, 100)
		for i := range rows {
			rows[i].Raw = e.red.Redact(line)
			rows[i].Event.RedirectURI = "https://app.example/cb?code=SplxlOBeZQQYbYS6WxSbIA"
		}
		e.write(t, rows)
		all := e.query(t, "SELECT * FROM {db}.events")
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("secret %q stored", s)
			}
		}
		// The keyed hash stays, so mentions of one code still match.
		if h := e.red.Hash("SplxlOBeZQQYbYS6WxSbIA"); strings.Count(all, h) < 3 {
			t.Errorf("hash %s of the code not kept in raw, debug and redirect_uri", h)
		}
	})

	t.Run("password from a file or the environment", func(t *testing.T) {
		dir := t.TempDir()
		good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
		if err := os.WriteFile(good, []byte(chtest.Password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bad, []byte("wrong\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, file, env string
			ok              bool
		}{
			{"file", good, "", true},
			{"file wins over env", good, "wrong", true},
			{"env", "", chtest.Password, true},
			{"wrong file", bad, chtest.Password, false},
			{"wrong env", "", "wrong", false},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Setenv(PasswordEnv, c.env)
				err := connect(t, Config{Addrs: []string{srv.TCP}, User: chtest.User, PasswordFile: c.file})
				if (err == nil) != c.ok {
					t.Errorf("err = %v, want ok %v", err, c.ok)
				}
			})
		}
	})

	t.Run("TLS", func(t *testing.T) {
		notPEM := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			cfg  Config
			ok   bool
		}{
			{"verified with the CA file", Config{TLS: true, TLSCAFile: srv.CAFile}, true},
			{"insecure skip verify", Config{TLS: true, TLSInsecureSkipVerify: true}, true},
			{"unknown authority", Config{TLS: true}, false},
			{"CA file that is not PEM", Config{TLS: true, TLSCAFile: notPEM}, false},
			{"CA file missing", Config{TLS: true, TLSCAFile: notPEM + ".missing"}, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				c.cfg.Addrs, c.cfg.DialTimeout = []string{srv.TLS}, 5*time.Second
				err := connect(t, c.cfg)
				if (err == nil) != c.ok {
					t.Errorf("err = %v, want ok %v", err, c.ok)
				}
			})
		}
	})

	t.Run("unreachable server", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		_, err := Open(ctx, Config{Addrs: []string{"127.0.0.1:1"}, DialTimeout: time.Second})
		if err == nil {
			t.Fatal("open of a closed port succeeded")
		}
	})
}

// scanEvents reads every column of every row of query into maps.
func scanEvents(t *testing.T, ch *Store, query string) []map[string]any {
	t.Helper()
	rows, err := ch.conn.Query(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out []map[string]any
	for rows.Next() {
		ptrs := make([]any, len(types))
		for i, ct := range types {
			ptrs[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		for i, ct := range types {
			m[ct.Name()] = reflect.ValueOf(ptrs[i]).Elem().Interface()
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameValue(got, want any) bool {
	if w, ok := want.(time.Time); ok {
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	}
	return reflect.DeepEqual(got, want)
}

// triageQuery is a query of the documented kind with its answer over the
// sample rows, in TabSeparated format. {db} is the database.
type triageQuery struct {
	name, sql, want string
}

// Over the samples: failures are code_reused x2, client_secret_expired x1 and
// unclassified x1; stored outcomes ignored 1, failure 4, success 1, context
// 1, malformed 1.
const (
	wantFailuresPerClass = "client_secret_expired\t1\ncode_reused\t2\nunclassified\t1\n"
	wantPerOutcome       = "ignored\t1\nfailure\t4\nsuccess\t1\ncontext\t1\nmalformed\t1\n"
)

// dedupQueries count exactly after a replay.
func dedupQueries() []triageQuery {
	return []triageQuery{
		{"failures per class with FINAL",
			"SELECT class, count() FROM {db}.events FINAL WHERE outcome = 'failure' GROUP BY class ORDER BY class",
			wantFailuresPerClass},
		{"failures per class with argMax",
			"SELECT class, count() FROM (SELECT argMax(class, ingest_time) AS class, argMax(outcome, ingest_time) AS outcome " +
				"FROM {db}.events GROUP BY kafka_topic, kafka_partition, kafka_offset, kafka_seq) " +
				"WHERE outcome = 'failure' GROUP BY class ORDER BY class",
			wantFailuresPerClass},
		{"events per outcome with FINAL",
			"SELECT outcome, count() FROM {db}.events FINAL GROUP BY outcome ORDER BY outcome",
			wantPerOutcome},
		{"distinct events",
			"SELECT uniqExact(kafka_topic, kafka_partition, kafka_offset, kafka_seq) FROM {db}.events",
			"8\n"},
		{"high water",
			"SELECT kafka_offset FROM {db}.events WHERE kafka_topic = '" + testTopic + "' AND kafka_partition = 0 " +
				"ORDER BY kafka_offset DESC LIMIT 1",
			"106\n"}, // the last stored row: the ignored line at 108 is not stored
	}
}

// rollupQueries read events_1m after one insert of the samples.
func rollupQueries() []triageQuery {
	return []triageQuery{
		{"rollup failures per class",
			"SELECT class, sum(events) FROM {db}.events_1m WHERE outcome = 'failure' GROUP BY class ORDER BY class",
			wantFailuresPerClass},
		{"rollup per outcome",
			"SELECT outcome, sum(events) FROM {db}.events_1m GROUP BY outcome ORDER BY outcome",
			wantPerOutcome},
		{"rollup per owner and client",
			"SELECT owner, client_id, sum(events) FROM {db}.events_1m WHERE outcome = 'failure' GROUP BY owner, client_id ORDER BY owner, client_id",
			"client\t1b3\t1\nclient\tportal\t1\nclient\tweb-app\t1\noperator\t\t1\n"},
	}
}

// joinQueries join the failures to their fix; the form (ANY LEFT JOIN of
// aliased subqueries, USING) runs on 18.16 and current servers: 18.16 wants
// ANY or ALL and USING, current servers an alias on a joined subquery.
func joinQueries(cat *rules.Catalog) []triageQuery {
	fix := func(id string) string { return tsvEscape(cat.Class(id).FixLine()) }
	return []triageQuery{
		{"failures per class with the fix",
			"SELECT class, fix_line, n FROM (SELECT class, count() AS n FROM {db}.events FINAL WHERE outcome = 'failure' GROUP BY class) AS e " +
				"ANY LEFT JOIN (SELECT id AS class, fix_line FROM {db}.classes FINAL) AS c USING class ORDER BY n DESC, class",
			"code_reused\t" + fix("code_reused") + "\t2\n" +
				"client_secret_expired\t" + fix("client_secret_expired") + "\t1\n" +
				"unclassified\t" + fix("unclassified") + "\t1\n"},
	}
}

func tsvEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "'", `\'`).Replace(s)
}

func TestSchemaDDL(t *testing.T) {
	old, err := FeaturesFor("18.16.1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		schema Schema
		has    []string
		hasNot []string
	}{
		{"18.16", Schema{Database: "authsift", Features: old, TTL: 30 * 24 * time.Hour},
			[]string{"LowCardinality(String)", "DateTime('UTC')", "ENGINE = ReplacingMergeTree()", "PARTITION BY toYYYYMMDD(time)",
				"ORDER BY (kafka_topic, kafka_partition, kafka_offset, kafka_seq)", "ENGINE = SummingMergeTree(events)",
				"CREATE MATERIALIZED VIEW IF NOT EXISTS authsift.events_1m_mv\nTO authsift.events_1m"},
			[]string{"DateTime64", "CODEC", "TTL", "ON CLUSTER", "Replicated", "Distributed"}},
		{"modern with TTL", Schema{Database: "authsift", Features: ModernFeatures(), TTL: 30 * 24 * time.Hour},
			[]string{"DateTime64(3, 'UTC') CODEC(Delta, ZSTD)", "raw String CODEC(ZSTD(3))", "TTL toDateTime(time) + INTERVAL 30 DAY",
				"TTL toDateTime(minute) + INTERVAL 30 DAY", "ttl_only_drop_parts = 1"},
			[]string{"ON CLUSTER"}},
		{"modern without TTL", Schema{Database: "authsift", Features: ModernFeatures()},
			[]string{"CODEC"}, []string{"TTL", "ttl_only_drop_parts"}},
		{"cluster", Schema{Database: "logs", Cluster: "prod", Features: ModernFeatures()},
			[]string{"CREATE DATABASE IF NOT EXISTS logs ON CLUSTER `prod`",
				"CREATE TABLE IF NOT EXISTS logs.events_local ON CLUSTER `prod`",
				"ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/logs/events_local', '{replica}')",
				"CREATE TABLE IF NOT EXISTS logs.events ON CLUSTER `prod` AS logs.events_local\nENGINE = Distributed('prod', logs, events_local, cityHash64(kafka_topic, kafka_partition))",
				"ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/logs/events_1m_local', '{replica}', events)",
				"CREATE TABLE IF NOT EXISTS logs.events_1m ON CLUSTER `prod` AS logs.events_1m_local\nENGINE = Distributed('prod', logs, events_1m_local)",
				"CREATE MATERIALIZED VIEW IF NOT EXISTS logs.events_1m_mv ON CLUSTER `prod`\nTO logs.events_1m_local",
				"FROM logs.events_local\nGROUP BY",
				"ReplicatedReplacingMergeTree('/clickhouse/tables/all/logs/classes', '{shard}-{replica}', updated)",
				"ReplicatedReplacingMergeTree('/clickhouse/tables/all/logs/schema_migrations', '{shard}-{replica}')"},
			nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ddl := strings.Join(c.schema.Statements(), ";\n")
			full := c.schema.DDL()
			for _, st := range c.schema.Statements() {
				if !strings.Contains(full, st+";\n") {
					t.Errorf("DDL() lacks %s", st)
				}
			}
			for _, s := range c.has {
				if !strings.Contains(ddl, s) {
					t.Errorf("DDL lacks %q", s)
				}
			}
			for _, s := range c.hasNot {
				if strings.Contains(ddl, s) {
					t.Errorf("DDL has %q", s)
				}
			}
			if c.schema.Cluster != "" {
				for _, st := range c.schema.Statements() {
					// An INSERT runs once, through the Distributed tables.
					if !strings.HasPrefix(st, "INSERT INTO ") && !strings.Contains(st, "ON CLUSTER `"+c.schema.Cluster+"`") {
						t.Errorf("statement without ON CLUSTER:\n%s", st)
					}
				}
			}
		})
	}
}

// TestClickHouseCompression stores the sample rows with each compression
// method and reads every one back.
func TestClickHouseCompression(t *testing.T) {
	srv := chtest.Start(t)
	_, engine := testEngine(t)
	red := redact.New([]byte("test-key"))
	for _, method := range []string{CompressionLZ4, CompressionZSTD, CompressionNone} {
		t.Run(method, func(t *testing.T) {
			ch, err := Open(t.Context(), Config{Addrs: []string{srv.TCP}, Database: "c_" + method,
				Compression: method, Redactor: red})
			if err != nil {
				t.Fatal(err)
			}
			defer ch.Close()
			if _, err := ch.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			rows := sampleRows(t, engine, red, time.Now().UTC(), 0)
			if err := ch.Write(t.Context(), rows); err != nil {
				t.Fatal(err)
			}
			want := 0
			for i := range rows {
				if store.Stored(&rows[i]) {
					want++
				}
			}
			var got uint64
			if err := ch.conn.QueryRow(t.Context(), "SELECT count() FROM c_"+method+".events WHERE raw = raw").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if int(got) != want || want == 0 {
				t.Errorf("%d rows stored, want %d", got, want)
			}
		})
	}
}

func TestEventColumnsMatchInsert(t *testing.T) {
	var names []string
	for _, c := range (&eventBatch{}).columns() {
		names = append(names, c.name)
	}
	for _, f := range []Features{{}, ModernFeatures()} {
		if want := (Schema{Features: f}).eventColumnNames(); !slices.Equal(names, want) {
			t.Errorf("insert columns %v\nDDL columns    %v", names, want)
		}
	}
}

func TestFeaturesFor(t *testing.T) {
	cases := []struct {
		version string
		want    Features
		err     bool
	}{
		{"18.16.1", Features{LowCardinality: true, LowCardinalitySetting: true}, false},
		{"18.10.3", Features{}, false},
		{"19.17.4.11", Features{LowCardinality: true, Codec: true}, false},
		{"20.3.21.2", ModernFeatures(), false},
		{"24.8.4.13", ModernFeatures(), false},
		{"26.9.2.1", ModernFeatures(), false},
		{"x", Features{}, true},
		{"24", Features{}, true},
	}
	for _, c := range cases {
		got, err := FeaturesFor(c.version)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("FeaturesFor(%q) = %+v, %v; want %+v, error %v", c.version, got, err, c.want, c.err)
		}
	}
}

func TestClickHouseConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"ok", Config{Addrs: []string{"ch:9000"}, Database: "authsift", Cluster: "prod-1.eu"}, ""},
		{"no address", Config{}, "no address"},
		{"address without port", Config{Addrs: []string{"ch"}}, "want host:port"},
		{"database with a quote", Config{Addrs: []string{"ch:9000"}, Database: "a'b"}, "database"},
		{"database starting with a digit", Config{Addrs: []string{"ch:9000"}, Database: "1a"}, "database"},
		{"cluster with a backtick", Config{Addrs: []string{"ch:9000"}, Cluster: "a`b"}, "cluster"},
		{"CA without TLS", Config{Addrs: []string{"ch:9000"}, TLSCAFile: "ca.pem"}, "without TLS"},
		{"negative timeout", Config{Addrs: []string{"ch:9000"}, ReadTimeout: -1}, "negative"},
		{"unknown compression", Config{Addrs: []string{"ch:9000"}, Compression: "gzip"}, "compression"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Errorf("Validate() = %v, want %q", err, c.err)
			}
		})
	}
}

// TestClickHouseModernOnCHDB runs the DDL rendered for current servers
// (LowCardinality, DateTime64, CODEC, TTL) and the documented queries in
// chdb, an embedded current ClickHouse, through python3. chdb has no native
// protocol server, so the rows go in as JSONEachRow built from the same
// columns Write sends.
func TestClickHouseModernOnCHDB(t *testing.T) {
	chtest.RequireCHDB(t)

	cat, engine := testEngine(t)
	red := redact.New([]byte("test-key"))
	schema := Schema{Database: "authsift", Features: ModernFeatures(), TTL: 30 * 24 * time.Hour}
	at := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	rows := sampleRows(t, engine, red, at, 100)
	db := func(sql string) string { return strings.ReplaceAll(sql, "{db}", schema.Database) }

	type step struct {
		Name string `json:"name"`
		SQL  string `json:"sql"`
		want *string
	}
	var steps []step
	add := func(name, sql string) { steps = append(steps, step{Name: name, SQL: sql}) }
	expect := func(q triageQuery) {
		w := q.want
		steps = append(steps, step{Name: q.name, SQL: db(q.sql), want: &w})
	}
	for i, st := range schema.Statements() {
		add("ddl "+strconv.Itoa(i+1), st)
	}
	for _, m := range schema.Migrations() {
		add("record migration "+strconv.Itoa(int(m.Version)), "INSERT INTO "+schema.Table(MigrationsTable)+
			" (version, description, applied) VALUES ("+strconv.Itoa(int(m.Version))+", '"+m.Description+"', now())")
	}
	add("insert classes", "INSERT INTO "+schema.Table(ClassesTable)+" FORMAT JSONEachRow\n"+classesJSON(t, cat))
	add("insert events", "INSERT INTO "+schema.Table(EventsTable)+" FORMAT JSONEachRow\n"+eventsJSON(t, rows, red, schema))
	for _, q := range rollupQueries() {
		expect(q)
	}
	// The rollup repair's check: after a whole insert, events FINAL and the
	// rollup agree group by group.
	checkExact, checkRolled := schema.rollupCheck(testTopic, 0, at.Add(-time.Hour), at.Add(time.Hour))
	add("rollup check: events FINAL", checkExact)
	add("rollup check: the rollup", checkRolled)
	checkAt := len(steps) - 2
	add("insert events again (replay)", "INSERT INTO "+schema.Table(EventsTable)+" FORMAT JSONEachRow\n"+eventsJSON(t, replayed(rows), red, schema))
	for _, q := range dedupQueries() {
		expect(q)
	}
	for _, q := range joinQueries(cat) {
		expect(q)
	}
	lowCard := 0
	for _, c := range schema.eventColumns() {
		if strings.HasPrefix(c.typ, "LowCardinality(") {
			lowCard++
		}
	}
	expect(triageQuery{"features in the created table",
		"SELECT countIf(type = 'DateTime64(3, \\'UTC\\')'), countIf(type LIKE 'LowCardinality%'), countIf(compression_codec != '') > 0 " +
			"FROM system.columns WHERE database = '{db}' AND table = 'events'",
		"2\t" + strconv.Itoa(lowCard) + "\t1\n"})
	expect(triageQuery{"TTL in the created table",
		"SELECT position(create_table_query, 'TTL toDateTime(time) + toIntervalDay(30)') > 0, position(create_table_query, 'ttl_only_drop_parts = 1') > 0 " +
			"FROM system.tables WHERE database = '{db}' AND name = 'events'",
		"1\t1\n"})
	expect(triageQuery{"partitions listed as DropPartitionsOlderThan does",
		"SELECT DISTINCT table, partition_id FROM system.parts WHERE database = '{db}' AND active AND table IN ('events', 'events_1m') ORDER BY table, partition_id",
		partitionsTSV(rows)})
	for _, p := range strings.Split(strings.TrimSpace(partitionsTSV(rows)), "\n") {
		table, id, _ := strings.Cut(p, "\t")
		add("drop partition "+p, "ALTER TABLE "+schema.Table(table)+" DROP PARTITION ID '"+id+"'")
	}
	expect(triageQuery{"nothing left after dropping", "SELECT count() FROM {db}.events", "0\n"})

	chSteps := make([]chtest.Step, len(steps))
	for i, st := range steps {
		chSteps[i] = chtest.Step{Name: st.Name, SQL: st.SQL}
	}
	_, answers := chtest.CHDB(t, chSteps)
	if e, r := answers[checkAt], answers[checkAt+1]; e.TSV == "" || e.TSV != r.TSV {
		t.Errorf("rollup check: events FINAL gives\n%s\nthe rollup\n%s", e.TSV, r.TSV)
	}
	for i, st := range steps {
		r := answers[i]
		switch {
		case r.Error != "":
			t.Errorf("%s: %s\n%s", st.Name, r.Error, st.SQL)
		case st.want != nil && r.TSV != *st.want:
			t.Errorf("%s:\n%s\nwant:\n%s\n%s", st.Name, r.TSV, *st.want, st.SQL)
		default:
			t.Logf("ok: %s", st.Name)
		}
	}
}

// eventsJSON renders rows as Write sends them, one JSON object a line.
func eventsJSON(t *testing.T, rows []store.Row, red *redact.Redactor, s Schema) string {
	t.Helper()
	var b eventBatch
	for i := range rows {
		if store.Stored(&rows[i]) {
			b.add(&rows[i], red, time.Now())
		}
	}
	cols := b.columns()
	if names := s.eventColumnNames(); len(names) != len(cols) {
		t.Fatalf("%d columns in the batch, %d in the DDL", len(cols), len(names))
	}
	var out strings.Builder
	for i := range b.n {
		obj := map[string]any{}
		for _, c := range cols {
			v := reflect.ValueOf(c.values).Index(i).Interface()
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format("2006-01-02 15:04:05.000")
			}
			obj[c.name] = v
		}
		line, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.String()
}

// classesJSON renders the catalog as WriteCatalog sends it.
func classesJSON(t *testing.T, cat *rules.Catalog) string {
	t.Helper()
	names := strings.Split(classColumns, ", ")
	var out strings.Builder
	for _, cl := range cat.Classes() {
		vals := classRow(cl, CatalogHash(cat), time.Now().UTC())
		if len(vals) != len(names) {
			t.Fatalf("classRow has %d values for %d columns", len(vals), len(names))
		}
		obj := map[string]any{}
		for i, n := range names {
			if tm, ok := vals[i].(time.Time); ok {
				vals[i] = tm.Format("2006-01-02 15:04:05")
			}
			obj[n] = vals[i]
		}
		line, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.String()
}

// partitionsTSV lists the day partitions the stored rows fall in.
func partitionsTSV(rows []store.Row) string {
	days := map[string]bool{}
	for i := range rows {
		if store.Stored(&rows[i]) {
			days[rows[i].Event.Time.UTC().Format("20060102")] = true
		}
	}
	var ids []string
	for d := range days {
		ids = append(ids, d)
	}
	slices.Sort(ids)
	var b strings.Builder
	for _, table := range []string{"events", "events_1m"} {
		for _, d := range ids {
			b.WriteString(table + "\t" + d + "\n")
		}
	}
	return b.String()
}
