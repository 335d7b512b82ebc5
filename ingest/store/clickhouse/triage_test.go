package clickhouse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/authsift/authsift/ingest/redact"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/dashboards"
	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/store"
)

// The triage data: a day of baseline failures from three clients, then, in
// the last ten minutes, a spike of client_secret_expired for billing-api.
const (
	spikeClient   = "billing-api"
	spikeClass    = "client_secret_expired"
	spikeCount    = 30
	baselineCount = 96 // web-app code_reused, every 4th also billing-api's expired secret, every 3rd portal's
)

// triageEvent is an event of the given class for client.
func triageEvent(class, client string, at time.Time) classify.Event {
	switch class {
	case spikeClass:
		return classify.Event{Source: "entra", Outcome: classify.Failure, Code: "7000222", Error: "invalid_client",
			Reason:   "AADSTS7000222: The provided client secret keys for app '" + client + "' are expired.",
			ClientID: client, Status: 401, Time: at}
	default: // code_reused
		return classify.Event{Source: "hydra", Outcome: classify.Failure, Error: "invalid_grant",
			Reason: "The authorization code has already been used.", GrantType: "authorization_code",
			Endpoint: "token", Status: 400, ClientID: client, Time: at}
	}
}

// triageData returns the rows of the baseline and of the spike, classified,
// on consecutive offsets, around now. In the window (the last 15 minutes)
// there are spikeCount billing-api failures from now-10m and 3 web-app ones
// at now-12m.
func triageData(t testing.TB, engine *classify.Engine, now time.Time) (baseline, spike []store.Row) {
	t.Helper()
	var offset int64
	row := func(class, client string, at time.Time) store.Row {
		ev := triageEvent(class, client, at)
		v := engine.Classify(&ev)
		if v.Class == nil || v.Class.ID != class {
			t.Fatalf("%s event classified as %+v (the catalog changed?)", class, v)
		}
		offset++
		return store.Row{Topic: testTopic, Partition: 0, Offset: offset, IngestTime: at.Add(time.Second), Raw: "{}", Event: ev, Verdict: v}
	}
	// The baseline spreads over 23h30 before now-20m.
	step := (23*time.Hour + 30*time.Minute) / baselineCount
	for i := range baselineCount {
		at := now.Add(-20*time.Minute - time.Duration(i)*step)
		baseline = append(baseline, row("code_reused", "web-app", at))
		if i%4 == 0 {
			baseline = append(baseline, row(spikeClass, spikeClient, at.Add(time.Second)))
		}
		if i%3 == 0 {
			baseline = append(baseline, row("code_reused", "portal", at.Add(2*time.Second)))
		}
	}
	for i := range 3 {
		spike = append(spike, row("code_reused", "web-app", now.Add(-12*time.Minute+time.Duration(i)*time.Second)))
	}
	for i := range spikeCount {
		spike = append(spike, row(spikeClass, spikeClient, now.Add(-10*time.Minute+time.Duration(i)*15*time.Second)))
	}
	return baseline, spike
}

// baselineOf counts the baseline rows of client and class.
func baselineOf(rows []store.Row, client, class string) int {
	n := 0
	for _, r := range rows {
		if r.Event.ClientID == client && r.Verdict.Class.ID == class {
			n++
		}
	}
	return n
}

// firstOf returns the earliest time of the rows of client and class.
func firstOf(rows []store.Row, client, class string) time.Time {
	var first time.Time
	for _, r := range rows {
		if r.Event.ClientID == client && r.Verdict.Class.ID == class && (first.IsZero() || r.Event.Time.Before(first)) {
			first = r.Event.Time
		}
	}
	return first
}

// triageStr renders a result value for comparisons.
func triageStr(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

func TestTriage(t *testing.T) {
	srv := chtest.Start(t)
	cat, engine := testEngine(t)
	e := newCHEnv(t, srv, "triage")
	if err := e.ch.WriteCatalog(t.Context(), cat); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	baseline, spike := triageData(t, engine, now)
	e.write(t, baseline)
	e.write(t, spike)
	e.write(t, replayed(spike)) // a replay: counts stay exact
	w := TriageWindow{Now: now, Since: DefaultTriageSince, Baseline: DefaultTriageBaseline, Limit: DefaultTriageLimit}
	fix := cat.Class(spikeClass).FixLine()
	lastSpike := spike[len(spike)-1].Event.Time

	t.Run("every shared query runs", func(t *testing.T) {
		params := w.params()
		params["client"], params["class"] = spikeClient, spikeClass
		names := dashboards.QueryNames()
		if len(names) < 7 {
			t.Fatalf("queries %v", names)
		}
		for _, name := range names {
			sql, args, err := dashboards.Bind(name, e.db, params)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.ch.Query(t.Context(), sql, args...); err != nil {
				t.Errorf("%s: %v\n%s", name, err, sql)
			}
		}
		if _, _, err := dashboards.Bind(dashboards.TriageClientClasses, e.db, w.params()); err == nil ||
			!strings.Contains(err.Error(), "no value for client") {
			t.Errorf("bind without client: %v", err)
		}
	})

	t.Run("changes names the guilty client and class first", func(t *testing.T) {
		rep, err := e.ch.TriageChanges(t.Context(), w)
		if err != nil {
			t.Fatal(err)
		}
		clients, classes := rep.Section(SectionClients), rep.Section(SectionClasses)
		if clients == nil || classes == nil || len(clients.Rows) == 0 || len(classes.Rows) == 0 {
			t.Fatalf("report %+v", rep)
		}
		want := map[string]string{"client_id": spikeClient, "class": spikeClass, "now_n": strconv.Itoa(spikeCount),
			"base_n": strconv.Itoa(baselineOf(baseline, spikeClient, spikeClass)), "fix_line": fix}
		for col, v := range want {
			if got := triageStr(clients.Value(0, col)); got != v {
				t.Errorf("clients[0].%s = %q, want %q", col, got, v)
			}
		}
		if got := triageStr(classes.Value(0, "class")); got != spikeClass {
			t.Errorf("classes[0].class = %q, want %s", got, spikeClass)
		}
		if got := triageStr(classes.Value(0, "now_n")); got != strconv.Itoa(spikeCount) {
			t.Errorf("classes[0].now_n = %s, want %d", got, spikeCount)
		}
		if got := triageStr(classes.Value(0, "fix_line")); got != fix {
			t.Errorf("classes[0].fix_line = %q, want %q", got, fix)
		}
		// web-app's 3 in the window rise too, portal's (none in the window) do not.
		for i := range clients.Rows {
			if triageStr(clients.Value(i, "client_id")) == "portal" {
				t.Errorf("portal listed as rising: %v", clients.Rows[i])
			}
		}

		var table bytes.Buffer
		if err := rep.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(table.String(), "\n")
		if len(lines) < 5 || !strings.HasPrefix(lines[3], "CLIENT_ID") ||
			!strings.HasPrefix(lines[4], spikeClient) || !strings.Contains(lines[4], spikeClass) {
			t.Errorf("table:\n%s", table.String())
		}
		var doc struct {
			Title   string           `json:"title"`
			Clients []map[string]any `json:"clients"`
			Classes []map[string]any `json:"classes"`
		}
		var js bytes.Buffer
		if err := rep.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
			t.Fatalf("JSON output: %v\n%s", err, js.String())
		}
		if len(doc.Clients) == 0 || doc.Clients[0]["client_id"] != spikeClient || doc.Clients[0]["class"] != spikeClass ||
			doc.Clients[0]["now_n"] != float64(spikeCount) || doc.Classes[0]["fix_line"] != fix || doc.Title == "" {
			t.Errorf("JSON output:\n%s", js.String())
		}
	})

	t.Run("client", func(t *testing.T) {
		cases := []struct {
			name  string
			since time.Duration
			want  string // class\tn\tfirst_seen\tlast_seen per row
		}{
			{"the window", 15 * time.Minute, spikeClass + "\t" + strconv.Itoa(spikeCount) + "\t" +
				triageStr(spike[3].Event.Time) + "\t" + triageStr(lastSpike) + "\n"},
			{"two days", 48 * time.Hour, spikeClass + "\t" + strconv.Itoa(spikeCount+baselineOf(baseline, spikeClient, spikeClass)) + "\t" +
				triageStr(firstOf(baseline, spikeClient, spikeClass)) + "\t" + triageStr(lastSpike) + "\n"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				cw := w
				cw.Since = c.since
				rep, err := e.ch.TriageClient(t.Context(), spikeClient, cw)
				if err != nil {
					t.Fatal(err)
				}
				classes := rep.Section(SectionClasses)
				var got strings.Builder
				for i := range classes.Rows {
					for j, col := range []string{"class", "n", "first_seen", "last_seen"} {
						if j > 0 {
							got.WriteString("\t")
						}
						got.WriteString(triageStr(classes.Value(i, col)))
					}
					got.WriteString("\n")
					if f := triageStr(classes.Value(i, "fix_line")); f != cat.Class(triageStr(classes.Value(i, "class"))).FixLine() {
						t.Errorf("fix_line %q", f)
					}
				}
				if got.String() != c.want {
					t.Errorf("classes:\n%s\nwant:\n%s", got.String(), c.want)
				}
				ex := rep.Section(SectionExamples)
				if len(ex.Rows) != DefaultTriageLimit {
					t.Fatalf("%d examples, want %d", len(ex.Rows), DefaultTriageLimit)
				}
				if got := triageStr(ex.Value(0, "at")); got != triageStr(lastSpike) {
					t.Errorf("latest example at %s, want %s", got, triageStr(lastSpike))
				}
				for i := range ex.Rows {
					if ex.Value(i, "class") != spikeClass || ex.Value(i, "rule") == "" ||
						!strings.Contains(triageStr(ex.Value(i, "reason")), "AADSTS7000222") {
						t.Errorf("example %d: %v", i, ex.Rows[i])
					}
				}
			})
		}
	})

	t.Run("class", func(t *testing.T) {
		rep, err := e.ch.TriageClass(t.Context(), spikeClass, w)
		if err != nil {
			t.Fatal(err)
		}
		info, clients := rep.Section(SectionClass), rep.Section(SectionClients)
		if len(info.Rows) != 1 || info.Value(0, "fix_line") != fix || info.Value(0, "meaning") != cat.Class(spikeClass).Meaning ||
			info.Value(0, "fix") != cat.Class(spikeClass).Fix {
			t.Errorf("class info %v", info.Maps())
		}
		if len(clients.Rows) != 1 || clients.Value(0, "client_id") != spikeClient || triageStr(clients.Value(0, "n")) != strconv.Itoa(spikeCount) ||
			triageStr(clients.Value(0, "first_seen")) != triageStr(spike[3].Event.Time) {
			t.Errorf("clients %v", clients.Maps())
		}
		var table bytes.Buffer
		if err := rep.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		meaning := strings.Join(strings.Fields(cat.Class(spikeClass).Meaning), " ")
		if !strings.Contains(table.String(), "\nmeaning   "+meaning+"\n") || !strings.Contains(table.String(), "\nbilling-api  30 ") {
			t.Errorf("class table (the meaning whole, the clients):\n%s", table.String())
		}
		rep, err = e.ch.TriageClass(t.Context(), "no_such_class", w)
		if err != nil {
			t.Fatal(err)
		}
		table.Reset()
		if err := rep.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		if strings.Count(table.String(), "(none)") != 2 {
			t.Errorf("unknown class:\n%s", table.String())
		}
	})

	t.Run("recent", func(t *testing.T) {
		rw := w
		rw.Limit = 40
		rep, err := e.ch.TriageRecent(t.Context(), rw)
		if err != nil {
			t.Fatal(err)
		}
		recent := rep.Section(SectionRecent)
		if len(recent.Rows) != spikeCount+3 { // the window holds the spike and web-app's 3, once each
			t.Fatalf("%d recent failures, want %d", len(recent.Rows), spikeCount+3)
		}
		if triageStr(recent.Value(0, "at")) != triageStr(lastSpike) || recent.Value(0, "client_id") != spikeClient ||
			recent.Value(len(recent.Rows)-1, "client_id") != "web-app" {
			t.Errorf("recent %v", recent.Maps())
		}
	})

	t.Run("a bad window is refused", func(t *testing.T) {
		for _, bad := range []TriageWindow{{Since: 0, Baseline: time.Hour, Limit: 1}, {Since: time.Minute, Baseline: 0, Limit: 1},
			{Since: time.Minute, Baseline: time.Hour}} {
			if _, err := e.ch.TriageRecent(t.Context(), bad); err == nil {
				t.Errorf("window %+v accepted", bad)
			}
		}
	})
}

// inline puts the arguments of a bound query into its text, for chdb.
func inline(t *testing.T, sql string, args []any) string {
	t.Helper()
	var b strings.Builder
	for _, part := range strings.SplitAfter(sql, "?") {
		if !strings.HasSuffix(part, "?") {
			b.WriteString(part)
			continue
		}
		if len(args) == 0 {
			t.Fatalf("more ? than arguments in\n%s", sql)
		}
		b.WriteString(strings.TrimSuffix(part, "?"))
		switch v := args[0].(type) {
		case string:
			b.WriteString("'" + tsvEscape(v) + "'")
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		default:
			t.Fatalf("argument %#v", v)
		}
		args = args[1:]
	}
	if len(args) > 0 {
		t.Fatalf("%d arguments left over", len(args))
	}
	return b.String()
}

// TestTriageModernOnCHDB runs the shared triage queries on a current server
// (chdb) over the same data as TestTriage.
func TestTriageModernOnCHDB(t *testing.T) {
	chtest.RequireCHDB(t)
	cat, engine := testEngine(t)
	red := redact.New([]byte("test-key"))
	schema := Schema{Database: "authsift", Features: ModernFeatures()}
	now := time.Now().UTC().Truncate(time.Second)
	baseline, spike := triageData(t, engine, now)
	w := TriageWindow{Now: now, Since: DefaultTriageSince, Baseline: DefaultTriageBaseline, Limit: DefaultTriageLimit}

	type step = chtest.Step
	var steps []step
	for i, st := range schema.Statements() {
		steps = append(steps, step{Name: "ddl " + strconv.Itoa(i+1), SQL: st})
	}
	steps = append(steps,
		step{Name: "insert classes", SQL: "INSERT INTO " + schema.Table(ClassesTable) + " FORMAT JSONEachRow\n" + classesJSON(t, cat)},
		step{Name: "insert baseline", SQL: "INSERT INTO " + schema.Table(EventsTable) + " FORMAT JSONEachRow\n" + eventsJSON(t, baseline, red, schema)},
		step{Name: "insert spike", SQL: "INSERT INTO " + schema.Table(EventsTable) + " FORMAT JSONEachRow\n" + eventsJSON(t, spike, red, schema)},
		step{Name: "insert spike again", SQL: "INSERT INTO " + schema.Table(EventsTable) + " FORMAT JSONEachRow\n" + eventsJSON(t, replayed(spike), red, schema)})
	queries := len(steps)
	params := w.params()
	params["client"], params["class"] = spikeClient, spikeClass
	names := dashboards.QueryNames()
	for _, name := range names {
		sql, args, err := dashboards.Bind(name, schema.Database, params)
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, step{Name: name, SQL: inline(t, sql, args)})
	}
	_, answers := chtest.CHDB(t, steps)
	got := map[string]string{}
	for i, st := range steps {
		if r := answers[i]; r.Error != "" {
			t.Errorf("%s: %s\n%s", st.Name, r.Error, st.SQL)
		} else if i >= queries {
			got[st.Name] = r.TSV
		}
	}
	base := strconv.Itoa(baselineOf(baseline, spikeClient, spikeClass))
	lastSpike := triageStr(spike[len(spike)-1].Event.Time)
	toTSV := func(s string) string { return strings.NewReplacer("T", " ", "Z", "").Replace(s) }
	for _, c := range []struct{ query, prefix string }{
		{dashboards.TriageChangesClients, spikeClient + "\t" + spikeClass + "\t30\t" + base + "\t"},
		{dashboards.TriageChangesClasses, spikeClass + "\t30\t" + base + "\t"},
		{dashboards.TriageClientClasses, spikeClass + "\t30\t" + toTSV(triageStr(spike[3].Event.Time)) + "\t" + toTSV(lastSpike) + "\t" +
			tsvEscape(cat.Class(spikeClass).FixLine()) + "\n"},
		{dashboards.TriageClientExamples, toTSV(lastSpike) + "\t" + spikeClass + "\t"},
		{dashboards.TriageClassClients, spikeClient + "\t30\t"},
		{dashboards.TriageClassInfo, spikeClass + "\t"},
		{dashboards.TriageRecent, toTSV(lastSpike) + "\t" + spikeClient + "\t"},
	} {
		if !strings.HasPrefix(got[c.query], c.prefix) {
			t.Errorf("%s:\n%s\nwant it to start with:\n%s", c.query, got[c.query], c.prefix)
		}
	}
	if n := strings.Count(got[dashboards.TriageClassClients], "\n"); n != 1 {
		t.Errorf("%s: %d rows, want 1", dashboards.TriageClassClients, n)
	}
}

// TestWriteTableClientNotLogged: an empty client_id (Hydra's error records
// name no client) is printed as such, not as an empty cell.
func TestWriteTableClientNotLogged(t *testing.T) {
	rep := &Report{Title: "t", Sections: []Section{{Name: SectionClients, Result: &Result{
		Columns: []string{"client_id", "n"}, Rows: [][]any{{"", uint64(7)}, {"web", uint64(2)}}}}}}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), ClientNotLogged+"  7") || !strings.Contains(b.String(), "\nweb ") {
		t.Errorf("table:\n%s", b.String())
	}
}
