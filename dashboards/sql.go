package dashboards

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
)

// The triage SQL, shared by the dashboards and `authsift triage`: one file
// per query in sql/, named after the file. Every query runs on ClickHouse
// 18.16 and on current servers: joins are aliased subqueries joined with
// ANY LEFT JOIN ... USING, no DateTime64 functions, no WITH subqueries;
// counts are exact (events FINAL).
//
// A query names the database as {db} and its parameters as {name}:
//
//	start, end        the window, Unix seconds ([start, end))
//	base_start        the start of the baseline window [base_start, start)
//	window_s          end - start in seconds
//	baseline_s        start - base_start in seconds
//	client, class     a client_id, a class id
//	limit             most rows
//
// Bind turns them into positional ? arguments for a client library;
// GrafanaSQL renders them for the Grafana ClickHouse plugin. The queries
// named panel_* have no triage command: they are the dashboards' own.
//
//go:embed sql/*.sql
var sqlFiles embed.FS

// Named triage queries.
const (
	TriageChangesClients = "triage_changes_clients"
	TriageChangesClasses = "triage_changes_classes"
	TriageClientClasses  = "triage_client_classes"
	TriageClientExamples = "triage_client_examples"
	TriageClassClients   = "triage_class_clients"
	TriageClassInfo      = "triage_class_info"
	TriageRecent         = "triage_recent"
)

// GrafanaDB, GrafanaLimit and GrafanaBaseline are what GrafanaSQL puts in
// place of {db}, {limit} and {baseline_s}: the dashboards read the
// database authsift, show at most GrafanaLimit rows and compare the time
// range with the GrafanaBaseline seconds before it.
const (
	GrafanaDB       = "authsift"
	GrafanaLimit    = 100
	GrafanaBaseline = 86400
)

// grafanaParams are the plugin's macros and the dashboard variables, in
// the sqlstring format (quoted, quotes doubled), for each parameter. Time
// arithmetic goes through toUInt32 and DateTime - number, which ClickHouse
// 18.16 has (it has no DateTime - DateTime).
var grafanaParams = map[string]string{
	"db":         GrafanaDB,
	"start":      "$__fromTime",
	"end":        "$__toTime",
	"base_start": fmt.Sprintf("($__fromTime - %d)", GrafanaBaseline),
	"window_s":   "(toUInt32($__toTime) - toUInt32($__fromTime))",
	"baseline_s": fmt.Sprint(GrafanaBaseline),
	"client":     "${client_id:sqlstring}",
	"class":      "${class:sqlstring}",
	"limit":      fmt.Sprint(GrafanaLimit),
}

// GrafanaSQL returns the named query as a rawSql of the Grafana ClickHouse
// plugin: the leading comment lines dropped (the panel's description names
// the file instead) and every {name} replaced by the plugin's time macros or
// the dashboard variables client_id and class (see grafanaParams). The
// dashboards' ClickHouse panels hold exactly this text.
func GrafanaSQL(name string) (string, error) {
	sql, err := SQL(name)
	if err != nil {
		return "", err
	}
	lines := strings.Split(sql, "\n")
	for len(lines) > 0 && strings.HasPrefix(strings.TrimSpace(lines[0]), "--") {
		lines = lines[1:]
	}
	var unknown []string
	out := placeholder.ReplaceAllStringFunc(strings.Join(lines, "\n"), func(p string) string {
		v, ok := grafanaParams[p[1:len(p)-1]]
		if !ok {
			unknown = append(unknown, p)
			return p
		}
		return v
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("query %s: no Grafana value for %s", name, strings.Join(unknown, ", "))
	}
	return strings.TrimSpace(out) + "\n", nil
}

// QueryNames returns the names of every query, in file order.
func QueryNames() []string {
	entries, err := sqlFiles.ReadDir("sql")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".sql"))
	}
	return names
}

// SQL returns the text of the named query, with its {db} and {name}
// placeholders.
func SQL(name string) (string, error) {
	b, err := sqlFiles.ReadFile("sql/" + name + ".sql")
	if err != nil {
		return "", fmt.Errorf("query %s: no such query", name)
	}
	return string(b), nil
}

var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// Params returns the parameters the named query uses, {db} aside, in order
// of first use.
func Params(name string) ([]string, error) {
	sql, err := SQL(name)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{"db": true}
	for _, m := range placeholder.FindAllStringSubmatch(sql, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out, nil
}

// Bind returns the named query for database db with every {name} replaced
// by ? and the arguments in the order of the ?s. It fails on a parameter
// missing from params; db must be a plain identifier.
func Bind(name, db string, params map[string]any) (string, []any, error) {
	sql, err := SQL(name)
	if err != nil {
		return "", nil, err
	}
	var args []any
	var missing []string
	out := placeholder.ReplaceAllStringFunc(sql, func(p string) string {
		key := p[1 : len(p)-1]
		if key == "db" {
			return db
		}
		v, ok := params[key]
		if !ok {
			missing = append(missing, key)
			return p
		}
		args = append(args, v)
		return "?"
	})
	if len(missing) > 0 {
		return "", nil, fmt.Errorf("query %s: no value for %s", name, strings.Join(missing, ", "))
	}
	return out, args, nil
}
