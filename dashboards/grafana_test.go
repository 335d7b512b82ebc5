package dashboards

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/rules"
	"go.yaml.in/yaml/v3"
)

// The Grafana dashboards of grafana/: committed JSON, checked here. Every
// PromQL expression must parse and name only exported or recorded metrics;
// every ClickHouse SQL panel, after the plugin's macros and the dashboard
// variables are expanded, must run against ClickHouse 18.16 (chtest) and a
// current engine (chdb), on a schema created by the service's own migrations
// and a few rows inserted here.

const grafanaGlob = "grafana/*.json"

// The dashboards that must exist.
var grafanaDashboards = []string{"overview.json", "client.json", "class.json", "pipeline.json"}

// Data source types and the variables panels must name them by.
const (
	grafanaPromType = "prometheus"
	grafanaCHType   = "grafana-clickhouse-datasource"
	grafanaPromVar  = "datasource"
	grafanaCHVar    = "clickhouse"
)

// grafanaDashboard is the part of a dashboard the tests read; the rest stays
// in raw for the variable-reference check.
type grafanaDashboard struct {
	file          string
	raw           map[string]any
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
}

type grafanaDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaVariable struct {
	Name       string             `json:"name"`
	Type       string             `json:"type"`
	Query      any                `json:"query"`
	Datasource *grafanaDatasource `json:"datasource"`
}

type grafanaPanel struct {
	ID          int                `json:"id"`
	Type        string             `json:"type"`
	Title       string             `json:"title"`
	Description string             `json:"description"`
	Datasource  *grafanaDatasource `json:"datasource"`
	Targets     []grafanaTarget    `json:"targets"`
	Panels      []grafanaPanel     `json:"panels"`
}

type grafanaTarget struct {
	RefID      string             `json:"refId"`
	Datasource *grafanaDatasource `json:"datasource"`
	Expr       string             `json:"expr"`
	RawSQL     string             `json:"rawSql"`
	EditorType string             `json:"editorType"`
}

// A grafanaQuery is one target of one panel.
type grafanaQuery struct {
	where string // file: panel title (refId)
	panel string
	kind  string // grafanaPromType or grafanaCHType
	text  string // expr or rawSql, unexpanded
	desc  string // the panel's description
}

func loadGrafana(t *testing.T) []*grafanaDashboard {
	t.Helper()
	files, err := filepath.Glob(grafanaGlob)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range grafanaDashboards {
		if !slices.Contains(files, filepath.Join("grafana", want)) {
			t.Errorf("grafana/%s: missing", want)
		}
	}
	var out []*grafanaDashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := &grafanaDashboard{file: f}
		if err := json.Unmarshal(b, d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := json.Unmarshal(b, &d.raw); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		t.Fatalf("no dashboards in %s", grafanaGlob)
	}
	return out
}

// panels returns every panel, rows' nested panels included.
func (d *grafanaDashboard) panels() []grafanaPanel {
	var out []grafanaPanel
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

func (d *grafanaDashboard) variable(name string) *grafanaVariable {
	for i := range d.Templating.List {
		if d.Templating.List[i].Name == name {
			return &d.Templating.List[i]
		}
	}
	return nil
}

// queries returns the targets of every panel, with their data source type.
// A target with a data source other than the two variables is an error.
func (d *grafanaDashboard) queries(t *testing.T) []grafanaQuery {
	t.Helper()
	var out []grafanaQuery
	for _, p := range d.panels() {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: panel %q has no targets", d.file, p.Title)
		}
		for _, tg := range p.Targets {
			ds := tg.Datasource
			if ds == nil {
				ds = p.Datasource
			}
			where := fmt.Sprintf("%s: %q (%s)", d.file, p.Title, tg.RefID)
			switch {
			case ds == nil:
				t.Errorf("%s: no datasource", where)
			case ds.Type == grafanaPromType:
				if ds.UID != "${"+grafanaPromVar+"}" {
					t.Errorf("%s: prometheus uid %q, want ${%s}", where, ds.UID, grafanaPromVar)
				}
				if tg.Expr == "" || tg.RawSQL != "" {
					t.Errorf("%s: a prometheus target needs expr and no rawSql", where)
				}
				out = append(out, grafanaQuery{where, p.Title, grafanaPromType, tg.Expr, p.Description})
			case ds.Type == grafanaCHType:
				if ds.UID != "${"+grafanaCHVar+"}" {
					t.Errorf("%s: clickhouse uid %q, want ${%s}", where, ds.UID, grafanaCHVar)
				}
				if tg.RawSQL == "" || tg.Expr != "" || tg.EditorType != "sql" {
					t.Errorf("%s: a clickhouse target needs rawSql, editorType sql and no expr", where)
				}
				out = append(out, grafanaQuery{where, p.Title, grafanaCHType, tg.RawSQL, p.Description})
			default:
				t.Errorf("%s: datasource type %q: want %s or %s", where, ds.Type, grafanaPromType, grafanaCHType)
			}
		}
	}
	return out
}

// grafanaVarRefRE finds variable references: $name, ${name} and ${name:format}.
var grafanaVarRefRE = regexp.MustCompile(`\$(?:\{(\w+)(?::\w+)?(?:\.[\w.]+)?\}|(\w+))`)

// TestGrafanaDashboards checks the structure: schema version, uid, unique
// panel ids and grid positions, the two data source variables, and that
// every variable a dashboard names is defined or one of Grafana's own.
func TestGrafanaDashboards(t *testing.T) {
	uids := map[string]string{}
	for _, d := range loadGrafana(t) {
		if d.SchemaVersion != 39 {
			t.Errorf("%s: schemaVersion %d, want 39", d.file, d.SchemaVersion)
		}
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: uid and title are required", d.file)
		}
		if other, ok := uids[d.UID]; ok {
			t.Errorf("%s: uid %q is also %s's", d.file, d.UID, other)
		}
		uids[d.UID] = d.file
		ids := map[int]string{}
		for _, p := range d.panels() {
			if p.ID <= 0 {
				t.Errorf("%s: panel %q has no id", d.file, p.Title)
			}
			if other, ok := ids[p.ID]; ok {
				t.Errorf("%s: panel id %d of %q is also %q's", d.file, p.ID, p.Title, other)
			}
			ids[p.ID] = p.Title
			if p.Title == "" {
				t.Errorf("%s: panel %d has no title", d.file, p.ID)
			}
		}
		for name, typ := range map[string]string{grafanaPromVar: grafanaPromType, grafanaCHVar: grafanaCHType} {
			v := d.variable(name)
			if v == nil || v.Type != "datasource" || v.Query != typ {
				t.Errorf("%s: want a datasource variable %q of type %s, got %+v", d.file, name, typ, v)
			}
		}
		kinds := map[string]bool{}
		for _, q := range d.queries(t) {
			kinds[q.kind] = true
		}
		if !kinds[grafanaPromType] || !kinds[grafanaCHType] {
			t.Errorf("%s: want both prometheus and clickhouse panels, have %v", d.file, kinds)
		}
		b, err := json.Marshal(d.raw)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, m := range grafanaVarRefRE.FindAllStringSubmatch(string(b), -1) {
			name := m[1] + m[2]
			if strings.HasPrefix(name, "__") || seen[name] {
				continue
			}
			seen[name] = true
			if d.variable(name) == nil {
				t.Errorf("%s: $%s is not a variable of the dashboard", d.file, name)
			}
		}
	}
	for file, vars := range map[string][]string{"client.json": {"client_id"}, "class.json": {"class"}} {
		for _, d := range loadGrafana(t) {
			if filepath.Base(d.file) != file {
				continue
			}
			for _, v := range vars {
				if d.variable(v) == nil {
					t.Errorf("%s: no $%s variable", d.file, v)
				}
			}
		}
	}
}

// Sample values of the dashboard variables and Grafana's interval variables.
var (
	grafanaPromSamples = strings.NewReplacer(
		"$__rate_interval", "5m", "${__rate_interval}", "5m",
		"$__interval", "1m", "${__interval}", "1m",
		"$__range", "6h", "${__range}", "6h",
		"${client_id}", "web-app", "$client_id", "web-app",
		"${class}", "code_reused", "$class", "code_reused",
	)
	grafanaLabelValuesRE = regexp.MustCompile(`^label_values\((\w+),\s*(\w+)\)$`)
)

// grafanaPromQL returns every PromQL expression of the dashboards with
// sample values in place of the variables, and checks the label_values
// queries of the variables.
func grafanaPromQL(t *testing.T, metrics map[string][]string) []grafanaQuery {
	t.Helper()
	var out []grafanaQuery
	for _, d := range loadGrafana(t) {
		for _, q := range d.queries(t) {
			if q.kind != grafanaPromType {
				continue
			}
			q.text = grafanaPromSamples.Replace(q.text)
			if strings.Contains(q.text, "$") {
				t.Errorf("%s: a variable without a sample value: %q", q.where, q.text)
			}
			out = append(out, q)
		}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			where := fmt.Sprintf("%s: variable %s", d.file, v.Name)
			if v.Datasource == nil || v.Datasource.Type != grafanaPromType || v.Datasource.UID != "${"+grafanaPromVar+"}" {
				t.Errorf("%s: want datasource ${%s}, got %+v", where, grafanaPromVar, v.Datasource)
				continue
			}
			q, _ := v.Query.(map[string]any)
			s, _ := q["query"].(string)
			m := grafanaLabelValuesRE.FindStringSubmatch(s)
			if m == nil {
				t.Errorf("%s: query %q is not label_values(metric, label)", where, s)
				continue
			}
			if labels, ok := metrics[m[1]]; !ok || !slices.Contains(labels, m[2]) {
				t.Errorf("%s: %s is not an exported metric with the label %s", where, m[1], m[2])
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no PromQL in the dashboards")
	}
	return out
}

// TestGrafanaPromQL checks that every metric the dashboards' PromQL names
// is exported by ingest/metrics.go or recorded by recording.yaml, with the
// labels it has and class, family and owner values of the catalog; and,
// when promtool is installed, that every expression parses.
func TestGrafanaPromQL(t *testing.T) {
	metrics := exported(t)
	recorded := map[string]bool{}
	for _, r := range loadRules(t, recordingFile) {
		recorded[r.Record] = true
	}
	values := map[string]map[string]bool{"class": {}, "family": {}, "owner": {}}
	for _, c := range loadClasses(t) {
		values["class"][c.ID], values["family"][c.Family], values["owner"][c.Owner] = true, true, true
	}
	values["class"]["unclassified"] = true
	queries := grafanaPromQL(t, metrics)
	for _, q := range queries {
		sels, err := selectors(q.text)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		if len(sels) == 0 {
			t.Errorf("%s: no metric in %q", q.where, q.text)
		}
		for _, s := range sels {
			labels, isExported := metrics[s.name]
			switch {
			case isExported:
				for _, m := range s.matchers {
					if !slices.Contains(labels, m.label) && !slices.Contains(targetLabels, m.label) {
						t.Errorf("%s: %s has no label %q (it has %v)", q.where, s.name, m.label, labels)
					}
				}
			case recorded[s.name]:
			default:
				t.Errorf("%s: metric %q is neither exported by %s nor recorded by %s", q.where, s.name, metricsFile, recordingFile)
			}
			for _, m := range s.matchers {
				if known := values[m.label]; known != nil && (m.op == "=" || m.op == "!=") && !known[m.value] {
					t.Errorf("%s: %s=%q is not a %s of %s", q.where, m.label, m.value, m.label, classesFile)
				}
			}
		}
	}
	t.Run("promtool parses", func(t *testing.T) {
		promtool(t)
		g := ruleGroup{Name: "grafana"}
		for i, q := range queries {
			g.Rules = append(g.Rules, rule{Record: fmt.Sprintf("grafana:query_%d:check", i+1), Expr: q.text})
		}
		b, err := yaml.Marshal(ruleFile{Groups: []ruleGroup{g}})
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "grafana_queries.yaml")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		runPromtool(t, "check", "rules", "--lint=none", f)
	})
}

// grafanaSQLVarRE finds the dashboard variables of a rawSql. They must use the
// sqlstring format, which quotes the value and doubles its quotes: the
// ClickHouse plugin passes a plain ${var} through unquoted.
var grafanaSQLVarRE = regexp.MustCompile(`\$\{?(\w+)(:\w+)?\}?`)

var grafanaTimeFilterRE = regexp.MustCompile(`\$__timeFilter\((\w+)\)`)

// grafanaExpandSQL expands the ClickHouse plugin's macros and the variables as
// Grafana would for the time range [from, to] and the variable values vars.
func grafanaExpandSQL(sql string, from, to time.Time, vars map[string]string) (string, error) {
	f, u := strconv.FormatInt(from.Unix(), 10), strconv.FormatInt(to.Unix(), 10)
	sql = grafanaTimeFilterRE.ReplaceAllString(sql, "$1 >= toDateTime("+f+") AND $1 <= toDateTime("+u+")")
	sql = strings.NewReplacer("$__fromTime", "toDateTime("+f+")", "$__toTime", "toDateTime("+u+")").Replace(sql)
	var err error
	sql = grafanaSQLVarRE.ReplaceAllStringFunc(sql, func(ref string) string {
		m := grafanaSQLVarRE.FindStringSubmatch(ref)
		v, ok := vars[m[1]]
		switch {
		case !ok:
			err = fmt.Errorf("unknown macro or variable %s", ref)
		case m[2] != ":sqlstring" || !strings.HasPrefix(ref, "${"):
			err = fmt.Errorf("%s: write ${%s:sqlstring} (the plugin does not quote variables)", ref, m[1])
		}
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	})
	return sql, err
}

// grafanaQuote is a ClickHouse string literal of s.
func grafanaQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// grafanaTSV is s as ClickHouse's TabSeparated output writes it.
func grafanaTSV(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "'", `\'`).Replace(s)
}

// A grafanaEvent is one row of test data; the other columns take defaults.
type grafanaEvent struct {
	ago                            time.Duration
	source, outcome, class, client string
	oauthErr, user, reason         string
	partition                      int32
	offset                         int64
}

// grafanaSamples: failures of two classes for the sample client (one
// replayed: inserted twice, counted once with FINAL), a failure of the
// sample class for another client, a failure of a client whose id has a
// quote, a success and a context line.
var grafanaSamples = []grafanaEvent{
	{30 * time.Minute, "hydra", "failure", "code_reused", "web-app", "invalid_grant", "u-1", "The authorization code has already been used.", 0, 100},
	{20 * time.Minute, "hydra", "failure", "code_reused", "web-app", "invalid_grant", "u-2", "The authorization code has already been used.", 0, 101},
	{10 * time.Minute, "entra", "failure", "client_secret_expired", "web-app", "invalid_client", "", "AADSTS7000222: secret expired", 1, 7},
	{5 * time.Minute, "keycloak", "failure", "code_reused", "portal", "invalid_grant", "u-3", "Code already used", 2, 55},
	{4 * time.Minute, "keycloak", "failure", "code_reused", "o'brien-app", "invalid_grant", "u-4", "Code already used", 2, 56},
	{3 * time.Minute, "hydra", "success", "", "web-app", "", "u-1", "", 0, 102},
	{2 * time.Minute, "keycloak", "context", "", "", "", "", "Code '0b3c' already used", 2, 57},
}

func grafanaInsertEvents(cat *rules.Catalog, now time.Time, events []grafanaEvent) string {
	var b strings.Builder
	b.WriteString("INSERT INTO authsift.events (time, ingest_time, source, outcome, class, family, owner, oauth_error, rule, decision, client_id, user_id, reason, endpoint, status, kafka_topic, kafka_partition, kafka_offset, kafka_seq) VALUES ")
	for i, e := range events {
		family, owner, rule, status := "", "", "", 200
		if c := cat.Class(e.class); c != nil {
			family, owner, rule, status = c.Family, c.Owner, e.source+".test", 400
		}
		at := now.Add(-e.ago).UTC()
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%s, %s, %s, %s, %s, %s, %s, %s, %s, 'direct', %s, %s, %s, 'token', %d, 'auth', %d, %d, 0)",
			grafanaQuote(at.Format(time.DateTime)), grafanaQuote(at.Add(time.Second).Format(time.DateTime)),
			grafanaQuote(e.source), grafanaQuote(e.outcome), grafanaQuote(e.class), grafanaQuote(family), grafanaQuote(owner),
			grafanaQuote(e.oauthErr), grafanaQuote(rule), grafanaQuote(e.client), grafanaQuote(e.user), grafanaQuote(e.reason),
			status, e.partition, e.offset)
	}
	return b.String()
}

// grafanaInsertClasses inserts the catalog as WriteCatalog does (for chdb,
// which has no native protocol).
func grafanaInsertClasses(cat *rules.Catalog) string {
	var b strings.Builder
	b.WriteString("INSERT INTO authsift.classes (id, family, owner, title, meaning, confirm, fix, fix_line, references, catalog_hash, updated) VALUES ")
	for i, c := range cat.Classes() {
		if i > 0 {
			b.WriteString(", ")
		}
		refs := make([]string, len(c.References))
		for k, r := range c.References {
			refs[k] = grafanaQuote(r)
		}
		fmt.Fprintf(&b, "(%s, %s, %s, %s, %s, %s, %s, %s, [%s], 'test', now())",
			grafanaQuote(c.ID), grafanaQuote(c.Family), grafanaQuote(c.Owner), grafanaQuote(c.Title), grafanaQuote(c.Meaning),
			grafanaQuote(c.Confirm), grafanaQuote(c.Fix), grafanaQuote(c.FixLine()), strings.Join(refs, ", "))
	}
	return b.String()
}

// A grafanaSQLCase is one panel's SQL, expanded for one set of variable values,
// with what its answer must hold.
type grafanaSQLCase struct {
	name string
	sql  string
	// every line of want must appear in the answer (TabSeparated)
	want []string
	// the answer must have a row
	rows bool
}

// grafanaSQLCases expands every rawSql of the dashboards for the last hour
// and the sample variables (and once more for a client_id with a quote), and says what the answers must hold on the sample rows.
func grafanaSQLCases(t *testing.T, cat *rules.Catalog, now time.Time) []grafanaSQLCase {
	t.Helper()
	fix := func(class string) string { return grafanaTSV(cat.Class(class).FixLine()) }
	// Answers checked beyond "runs": exact counts (FINAL drops the replayed
	// row) and the fix joined from the classes table.
	checks := map[string][]string{
		"client.json/Classes of this client, with the fix/web-app": {"code_reused\t2\t", fix("code_reused"), "client_secret_expired\t1\t", fix("client_secret_expired")},
		"client.json/Recent failures of this client/web-app":       {"\tcode_reused\thydra.test\thydra\tinvalid_grant\t", "\tclient_secret_expired\tentra.test\tentra\tinvalid_client\t"},
		"class.json/Meaning and fix/":                              {"code_reused\t" + cat.Class("code_reused").Family, fix("code_reused")},
		"class.json/Clients with this class, since when/":          {"web-app\t2\t", "portal\t1\t", grafanaTSV("o'brien-app") + "\t1\t"},
		"overview.json/Top classes with their fix (ClickHouse)/":   {fix("code_reused")},
	}
	from, to := now.Add(-time.Hour), now.Add(time.Minute)
	var out []grafanaSQLCase
	used := map[string]bool{}
	for _, d := range loadGrafana(t) {
		file := filepath.Base(d.file)
		for _, q := range d.queries(t) {
			if q.kind != grafanaCHType {
				continue
			}
			clients := []string{""}
			if strings.Contains(q.text, "client_id:sqlstring") {
				clients = []string{"web-app", "o'brien-app"}
			}
			for _, client := range clients {
				sql, err := grafanaExpandSQL(q.text, from, to, map[string]string{"client_id": client, "class": "code_reused"})
				if err != nil {
					t.Errorf("%s: %v", q.where, err)
					continue
				}
				if strings.Contains(sql, "$") {
					t.Errorf("%s: unexpanded macro in\n%s", q.where, sql)
				}
				key := file + "/" + q.panel + "/" + client
				used[key] = true
				out = append(out, grafanaSQLCase{name: fmt.Sprintf("%s [client_id=%q]", q.where, client), sql: sql, want: checks[key], rows: true})
			}
		}
	}
	for k := range checks {
		if !used[k] {
			t.Errorf("check %q names no panel", k)
		}
	}
	return out
}

func grafanaCheckAnswer(t *testing.T, engine string, c grafanaSQLCase, answer string) {
	t.Helper()
	if c.rows && strings.TrimSpace(answer) == "" {
		t.Errorf("%s: %s: no rows\n%s", engine, c.name, c.sql)
	}
	for _, w := range c.want {
		if !strings.Contains(answer, w) {
			t.Errorf("%s: %s: answer lacks %q:\n%s", engine, c.name, w, answer)
		}
	}
}

// TestGrafanaSQL runs every ClickHouse panel's SQL, macros expanded, against
// ClickHouse 18.16 (chtest: schema by ingest's migrations, catalog by
// WriteCatalog) and against chdb (the DDL of current servers), on the
// sample rows.
func TestGrafanaSQL(t *testing.T) {
	cat, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	cases := grafanaSQLCases(t, cat, now)
	if len(cases) == 0 {
		t.Fatal("no SQL panels")
	}
	bin := grafanaAuthsift(t)
	inserts := []string{
		grafanaInsertEvents(cat, now, grafanaSamples),
		// the first sample again: a replay, dropped by FINAL
		grafanaInsertEvents(cat, now, grafanaSamples[:1]),
	}

	t.Run("clickhouse 18.16", func(t *testing.T) {
		t.Parallel()
		srv := chtest.Start(t)
		q := func(sql string) (string, error) {
			return grafanaCHQuery(t, srv.HTTP, sql, "allow_experimental_low_cardinality_type=1")
		}
		version, err := q("SELECT version()")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ClickHouse %s", strings.TrimSpace(version))
		setup := append(grafanaDDL(t, bin, strings.TrimSpace(version)), grafanaInsertClasses(cat))
		for _, sql := range append(setup, inserts...) {
			if _, err := q(sql); err != nil {
				t.Fatalf("%v\n%s", err, sql)
			}
		}
		for _, c := range cases {
			out, err := q(c.sql)
			if err != nil {
				t.Errorf("%s: %v\n%s", c.name, err, c.sql)
				continue
			}
			grafanaCheckAnswer(t, "18.16", c, out)
		}
	})

	t.Run("chdb", func(t *testing.T) {
		t.Parallel()
		chtest.RequireCHDB(t)
		type step = chtest.Step
		var steps []step
		for i, st := range grafanaDDL(t, bin, "modern") {
			steps = append(steps, step{Name: "ddl " + strconv.Itoa(i+1), SQL: st})
		}
		steps = append(steps, step{Name: "insert classes", SQL: grafanaInsertClasses(cat)})
		for i, sql := range inserts {
			steps = append(steps, step{Name: "insert samples " + strconv.Itoa(i+1), SQL: sql})
		}
		setup := len(steps)
		for _, c := range cases {
			steps = append(steps, step{Name: c.name, SQL: c.sql})
		}
		_, answers := chtest.CHDB(t, steps)
		for i, r := range answers[:setup] {
			if r.Error != "" {
				t.Fatalf("%s: %s\n%s", steps[i].Name, r.Error, steps[i].SQL)
			}
		}
		for i, c := range cases {
			r := answers[setup+i]
			if r.Error != "" {
				t.Errorf("%s: %s\n%s", c.name, r.Error, c.sql)
				continue
			}
			grafanaCheckAnswer(t, "chdb", c, r.TSV)
		}
	})
}

// grafanaAuthsift builds cmd/authsift, whose `migrate --print` renders the
// schema. (The test cannot import package ingest: ingest imports this
// package.)
func grafanaAuthsift(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "authsift")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../cmd/authsift")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/authsift: %v\n%s", err, out)
	}
	return bin
}

// grafanaDDL returns the statements of `authsift migrate --print server`,
// one a string, comments dropped.
func grafanaDDL(t *testing.T, bin, server string) []string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), bin, "migrate", "--print", server).Output()
	if err != nil {
		t.Fatalf("authsift migrate --print %s: %v", server, err)
	}
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		stmts = append(stmts, rest)
	}
	if len(stmts) < 5 {
		t.Fatalf("authsift migrate --print %s: %d statements:\n%s", server, len(stmts), out)
	}
	return stmts
}

// grafanaCHQuery posts sql to the HTTP interface at addr with the URL
// query settings and returns the TabSeparated answer.
func grafanaCHQuery(t *testing.T, addr, sql, settings string) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/?"+settings, strings.NewReader(sql))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

// grafanaSQLFileRE finds the query a ClickHouse panel's description names.
var grafanaSQLFileRE = regexp.MustCompile(`SQL: dashboards/sql/(\w+)\.sql`)

// grafanaTriagePanels are the panels that show what a triage command shows:
// they must hold that query.
var grafanaTriagePanels = map[string]string{
	"client.json/Classes of this client, with the fix": TriageClientClasses,
	"client.json/Recent failures of this client":       TriageClientExamples,
	"class.json/Clients with this class, since when":   TriageClassClients,
	"class.json/Meaning and fix":                       TriageClassInfo,
}

// TestGrafanaSQLFiles checks that every ClickHouse panel names one query of
// sql/ in its description ("SQL: dashboards/sql/NAME.sql") and that its
// rawSql is exactly GrafanaSQL(NAME), so the dashboards cannot drift from
// the SQL files `authsift triage` runs; that the triage panels name their
// triage query; and that every panel_* query is some panel's. With -update
// it rewrites the rawSql of the dashboards from the files instead of
// failing (go test ./dashboards -run TestGrafanaSQLFiles -update).
func TestGrafanaSQLFiles(t *testing.T) {
	used := map[string]bool{}
	triage := map[string]bool{}
	for _, d := range loadGrafana(t) {
		file := filepath.Base(d.file)
		b, err := os.ReadFile(d.file)
		if err != nil {
			t.Fatal(err)
		}
		updated := string(b)
		for _, q := range d.queries(t) {
			if q.kind != grafanaCHType {
				continue
			}
			m := grafanaSQLFileRE.FindAllStringSubmatch(q.desc, -1)
			if len(m) != 1 {
				t.Errorf("%s: the description must name one query as \"SQL: dashboards/sql/NAME.sql\", has %q", q.where, q.desc)
				continue
			}
			name := m[0][1]
			used[name] = true
			if want, ok := grafanaTriagePanels[file+"/"+q.panel]; ok {
				triage[file+"/"+q.panel] = true
				if name != want {
					t.Errorf("%s: names %s, want the triage query %s", q.where, name, want)
				}
			}
			want, err := GrafanaSQL(name)
			if err != nil {
				t.Errorf("%s: %v", q.where, err)
				continue
			}
			if q.text == want {
				continue
			}
			if !*update {
				t.Errorf("%s: rawSql is not GrafanaSQL(%q) (go test ./dashboards -run TestGrafanaSQLFiles -update):\n got: %q\nwant: %q", q.where, name, q.text, want)
				continue
			}
			old, now := grafanaJSONString(t, q.text), grafanaJSONString(t, want)
			if !strings.Contains(updated, `"rawSql": `+old) {
				t.Fatalf("%s: cannot find the rawSql to update", q.where)
			}
			updated = strings.ReplaceAll(updated, `"rawSql": `+old, `"rawSql": `+now)
		}
		if updated != string(b) {
			if err := os.WriteFile(d.file, []byte(updated), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: rawSql updated", d.file)
		}
	}
	for k := range grafanaTriagePanels {
		if !triage[k] {
			t.Errorf("no ClickHouse panel %q", k)
		}
	}
	for _, name := range QueryNames() {
		if strings.HasPrefix(name, "panel_") && !used[name] {
			t.Errorf("sql/%s.sql: no panel names it", name)
		}
	}
}

// grafanaJSONString is s as the dashboards' JSON writes it.
func grafanaJSONString(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// TestGrafanaSQLRender checks GrafanaSQL: no placeholder or comment left,
// the macros and variables in place, and an error for an unknown query.
func TestGrafanaSQLRender(t *testing.T) {
	for _, name := range QueryNames() {
		sql, err := GrafanaSQL(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if placeholder.MatchString(sql) || strings.Contains(sql, "--") || !strings.Contains(sql, GrafanaDB+".") {
			t.Errorf("%s: placeholder, comment or no %s. left:\n%s", name, GrafanaDB, sql)
		}
	}
	sql, err := GrafanaSQL(TriageChangesClients)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"toDateTime(($__fromTime - 86400))", "/ (toUInt32($__toTime) - toUInt32($__fromTime)), 3)", "/ 86400, 3)", "LIMIT 100"} {
		if !strings.Contains(sql, want) {
			t.Errorf("%s: lacks %q:\n%s", TriageChangesClients, want, sql)
		}
	}
	if _, err := GrafanaSQL("no_such_query"); err == nil {
		t.Error("GrafanaSQL of an unknown query: no error")
	}
}
