package dashboards

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Files, relative to this package's directory (where go test runs).
const (
	alertsFile    = "alerts.yaml"
	recordingFile = "recording.yaml"
	runbookFile   = "runbook.md"
	testsGlob     = "tests/*.yaml"
	classesFile   = "../rules/catalog/classes.yaml"
	metricsFile   = "../ingest/metrics.go"

	// runbookURL is where runbook.md is published; alerts link to its
	// anchors.
	runbookURL = "https://github.com/authsift/authsift/blob/main/dashboards/runbook.md#"
)

// Prometheus rule files, decoded strictly: an unknown field (a typo such as
// "annotation:") is an error.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// promtool unit test files (only the parts these tests read).
type unitTestFile struct {
	GroupEvalOrder []string `yaml:"group_eval_order"`
	Tests          []struct {
		AlertRuleTests []struct {
			EvalTime  string           `yaml:"eval_time"`
			Alertname string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// The catalog's classes (rules/catalog/classes.yaml).
type class struct {
	ID         string   `yaml:"id"`
	Family     string   `yaml:"family"`
	Owner      string   `yaml:"owner"`
	Title      string   `yaml:"title"`
	Meaning    string   `yaml:"meaning"`
	Confirm    string   `yaml:"confirm"`
	Fix        string   `yaml:"fix"`
	References []string `yaml:"references"`
}

func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
}

func loadRules(t *testing.T, path string) []rule {
	t.Helper()
	var f ruleFile
	decodeStrict(t, path, &f)
	var rs []rule
	for _, g := range f.Groups {
		rs = append(rs, g.Rules...)
	}
	if len(rs) == 0 {
		t.Fatalf("%s: no rules", path)
	}
	return rs
}

func loadClasses(t *testing.T) []class {
	t.Helper()
	b, err := os.ReadFile(classesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Classes []class `yaml:"classes"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode %s: %v", classesFile, err)
	}
	if len(f.Classes) == 0 {
		t.Fatalf("%s: no classes", classesFile)
	}
	return f.Classes
}

// promtool returns the path of promtool. It skips the test when promtool is
// not installed, unless $CI is set: then a missing promtool is a failure.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool is required when CI is set: %v (Debian: apt-get install prometheus)", err)
		}
		t.Skipf("promtool not installed (set CI to make this a failure): %v", err)
	}
	return p
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestPromtoolCheckRules(t *testing.T) {
	runPromtool(t, "check", "rules", alertsFile, recordingFile)
}

// TestPromtoolCheckRunbookQueries parses the PromQL of runbook.md with
// promtool, as the expressions of a throwaway rule file.
func TestPromtoolCheckRunbookQueries(t *testing.T) {
	promtool(t)
	exprs := runbookExpressions(t)
	g := ruleGroup{Name: "runbook"}
	for i, e := range exprs {
		g.Rules = append(g.Rules, rule{Record: fmt.Sprintf("runbook:query_%d:check", i+1), Expr: e})
	}
	b, err := yaml.Marshal(ruleFile{Groups: []ruleGroup{g}})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "runbook_queries.yaml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, "check", "rules", "--lint=none", f)
}

// runbookExpressions are the PromQL queries of the promql blocks of
// runbook.md: one a line, an indented line continuing the one above.
func runbookExpressions(t *testing.T) []string {
	t.Helper()
	var exprs []string
	for _, block := range fencedBlocks(t, "promql") {
		for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
			switch {
			case strings.TrimSpace(line) == "":
			case (line[0] == ' ' || line[0] == '\t') && len(exprs) > 0:
				exprs[len(exprs)-1] += "\n" + line
			default:
				exprs = append(exprs, line)
			}
		}
	}
	if len(exprs) == 0 {
		t.Fatalf("%s: no promql blocks", runbookFile)
	}
	return exprs
}

// TestPromtoolTestRules runs the unit tests of tests/, one promtool per file
// in parallel (a file evaluates a day or more of rules).
func TestPromtoolTestRules(t *testing.T) {
	files, err := filepath.Glob(testsGlob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no promtool tests in %s", testsGlob)
	}
	promtool(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			runPromtool(t, "test", "rules", f)
		})
	}
}

var (
	alertNameRE  = regexp.MustCompile(`^Authsift[A-Z][A-Za-z0-9]*$`)
	recordNameRE = regexp.MustCompile(`^authsift:[a-z0-9_]+:[a-z0-9_]+$`)
)

// TestAlerts checks the monitoring-mixin conventions of every alert.
func TestAlerts(t *testing.T) {
	anchors := runbookAnchors(t)
	seen := map[string]bool{}
	for _, r := range loadRules(t, alertsFile) {
		if r.Alert == "" {
			t.Errorf("%s: recording rule %s belongs in %s", alertsFile, r.Record, recordingFile)
			continue
		}
		t.Run(r.Alert, func(t *testing.T) {
			if !alertNameRE.MatchString(r.Alert) {
				t.Errorf("name is not CamelCase with the Authsift prefix")
			}
			if seen[r.Alert] {
				t.Errorf("defined twice")
			}
			seen[r.Alert] = true
			switch r.Labels["severity"] {
			case "critical", "warning", "info":
			default:
				t.Errorf("severity %q: want critical, warning or info", r.Labels["severity"])
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("no %s annotation", a)
				}
			}
			for a := range r.Annotations {
				if !slices.Contains([]string{"summary", "description", "runbook_url"}, a) {
					t.Errorf("unexpected annotation %q", a)
				}
			}
			if strings.Contains(r.Annotations["summary"], "{{") {
				t.Errorf("summary is templated; keep it static and put the labels in the description")
			}
			if !strings.Contains(r.Annotations["description"], "{{") {
				t.Errorf("description is not templated with the alert's labels")
			}
			want := runbookURL + strings.ToLower(r.Alert)
			if got := r.Annotations["runbook_url"]; got != want {
				t.Errorf("runbook_url %q, want %q", got, want)
			}
			if !anchors[strings.ToLower(r.Alert)] {
				t.Errorf("%s has no section %q", runbookFile, "### "+r.Alert)
			}
		})
	}
}

// TestAlertUnitTests checks that every alert has a promtool test that fires
// it and a test (a whole scenario) in which it stays quiet, and that the
// tests name only alerts that exist (a typo would make a quiet test pass).
func TestAlertUnitTests(t *testing.T) {
	files, err := filepath.Glob(testsGlob)
	if err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	alerts := map[string]bool{}
	for _, r := range loadRules(t, alertsFile) {
		alerts[r.Alert] = true
	}
	// promtool evaluates the groups of one timestamp in a random order
	// unless told: recording groups first, then the alerts.
	var order []string
	for _, path := range []string{recordingFile, alertsFile} {
		var f ruleFile
		decodeStrict(t, path, &f)
		for _, g := range f.Groups {
			order = append(order, g.Name)
		}
	}
	for _, f := range files {
		var u unitTestFile
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &u); err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		if !slices.Equal(u.GroupEvalOrder, order) {
			t.Errorf("%s: group_eval_order %v, want %v", f, u.GroupEvalOrder, order)
		}
		for _, tc := range u.Tests {
			fired := map[string]bool{}
			for _, a := range tc.AlertRuleTests {
				if !alerts[a.Alertname] {
					t.Errorf("%s: test of unknown alert %q", f, a.Alertname)
				}
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
					fired[a.Alertname] = true
				}
			}
			for _, a := range tc.AlertRuleTests {
				if !fired[a.Alertname] {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	for a := range alerts {
		if !fires[a] {
			t.Errorf("%s: no promtool test case fires it", a)
		}
		if !quiet[a] {
			t.Errorf("%s: no promtool test case in which it stays quiet", a)
		}
	}
}

func TestRecordingRules(t *testing.T) {
	for _, r := range loadRules(t, recordingFile) {
		if r.Record == "" {
			t.Errorf("%s: alert %s belongs in %s", recordingFile, r.Alert, alertsFile)
			continue
		}
		if !recordNameRE.MatchString(r.Record) {
			t.Errorf("%s: name is not authsift:<what>:<operation>", r.Record)
		}
	}
}

// exported are the metrics ingest/metrics.go registers, by name, with their
// label names.
func exported(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(metricsFile)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	newRE := regexp.MustCompile(`\.New(Counter|Gauge|Histogram|Summary)(Vec)?\(prometheus\.\w+Opts\{\s*Name:\s*"([^"]+)"`)
	labelsRE := regexp.MustCompile(`\[\]string\{([^}]*)\}`)
	quotedRE := regexp.MustCompile(`"([^"]*)"`)
	locs := newRE.FindAllStringSubmatchIndex(src, -1)
	ms := map[string][]string{}
	for k, loc := range locs {
		kind, vec, name := src[loc[2]:loc[3]], loc[4] >= 0, src[loc[6]:loc[7]]
		var labels []string
		if vec {
			end := len(src)
			if k+1 < len(locs) {
				end = locs[k+1][0]
			}
			l := labelsRE.FindStringSubmatch(src[loc[1]:end])
			if l == nil {
				t.Fatalf("%s: no label names found for %s", metricsFile, name)
			}
			for _, q := range quotedRE.FindAllStringSubmatch(l[1], -1) {
				labels = append(labels, q[1])
			}
		}
		ms[name] = labels
		switch kind {
		case "Histogram":
			ms[name+"_bucket"] = append(slices.Clone(labels), "le")
			ms[name+"_sum"], ms[name+"_count"] = labels, labels
		case "Summary":
			ms[name+"_sum"], ms[name+"_count"] = labels, labels
			ms[name] = append(slices.Clone(labels), "quantile")
		}
	}
	// A parser that silently finds nothing would make every check below pass.
	for _, must := range []string{"authsift_failures_total", "authsift_client_failures_total", "authsift_events_total", "authsift_kafka_consumer_lag"} {
		if _, ok := ms[must]; !ok {
			t.Fatalf("%s: %s not found: the Name: parser needs updating", metricsFile, must)
		}
	}
	return ms
}

// targetLabels are added by Prometheus to every scraped series.
var targetLabels = []string{"job", "instance"}

// TestExpressionsUseExportedMetrics checks that every metric an expression
// of alerts.yaml or recording.yaml (or a promql block of runbook.md) names
// is exported by ingest/metrics.go, is recorded by recording.yaml, or is
// Prometheus's own up; that matchers on exported metrics use their labels;
// and that class, family and owner values exist in the catalog.
func TestExpressionsUseExportedMetrics(t *testing.T) {
	metrics := exported(t)
	recording := loadRules(t, recordingFile)
	recorded := map[string]bool{}
	for _, r := range recording {
		recorded[r.Record] = true
	}
	classes := loadClasses(t)
	values := map[string]map[string]bool{"class": {}, "family": {}, "owner": {}}
	for _, c := range classes {
		values["class"][c.ID], values["family"][c.Family], values["owner"][c.Owner] = true, true, true
	}
	check := func(where, expr string) {
		sels, err := selectors(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		if len(sels) == 0 {
			t.Errorf("%s: no metric in %q", where, expr)
		}
		for _, s := range sels {
			labels, isExported := metrics[s.name]
			switch {
			case s.name == "up":
			case isExported:
				for _, m := range s.matchers {
					if !slices.Contains(labels, m.label) && !slices.Contains(targetLabels, m.label) {
						t.Errorf("%s: %s has no label %q (it has %v)", where, s.name, m.label, labels)
					}
				}
			case recorded[s.name]:
			default:
				t.Errorf("%s: metric %q is neither exported by %s nor recorded by %s", where, s.name, metricsFile, recordingFile)
			}
			for _, m := range s.matchers {
				known := values[m.label]
				if known == nil {
					continue
				}
				switch m.op {
				case "=", "!=":
					if !known[m.value] {
						t.Errorf("%s: %s=%q is not a %s of %s", where, m.label, m.value, m.label, classesFile)
					}
				case "=~", "!~":
					for _, v := range strings.Split(m.value, "|") {
						if !known[v] {
							t.Errorf("%s: %s=~%q: %q is not a %s of %s (write regexes as a plain list of values)", where, m.label, m.value, v, m.label, classesFile)
						}
					}
				}
			}
		}
	}
	for _, r := range loadRules(t, alertsFile) {
		check(alertsFile+": "+r.Alert, r.Expr)
	}
	for _, r := range recording {
		check(recordingFile+": "+r.Record, r.Expr)
	}
	for _, e := range runbookExpressions(t) {
		check(runbookFile, e)
	}
}

// TestClassRegexesNameWholeFamilies checks that every class=~ regex lists
// exactly the classes of one family of the catalog, and the family the rule
// records when it sets one: a class added to a family must not be left out
// of the rules silently.
func TestClassRegexesNameWholeFamilies(t *testing.T) {
	families := map[string][]string{}
	for _, c := range loadClasses(t) {
		families[c.Family] = append(families[c.Family], c.ID)
	}
	for _, f := range families {
		sort.Strings(f)
	}
	var rs []rule
	rs = append(rs, loadRules(t, recordingFile)...)
	rs = append(rs, loadRules(t, alertsFile)...)
	found := 0
	for _, r := range rs {
		name := r.Record + r.Alert
		sels, err := selectors(r.Expr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, s := range sels {
			for _, m := range s.matchers {
				if m.label != "class" || m.op != "=~" {
					continue
				}
				found++
				got := strings.Split(m.value, "|")
				sort.Strings(got)
				fam := ""
				for f, ids := range families {
					if slices.Equal(ids, got) {
						fam = f
					}
				}
				switch {
				case fam == "":
					t.Errorf("%s: class=~%q is not a whole family of %s", name, m.value, classesFile)
				case r.Labels["family"] != "" && r.Labels["family"] != fam:
					t.Errorf("%s: records family %q but its regex lists the classes of %q", name, r.Labels["family"], fam)
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no class=~ regex found: the selector parser needs updating")
	}
}

// runbookAnchors are the anchors GitHub gives the headings of runbook.md.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	inFence := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		a := headingAnchor(strings.TrimLeft(line, "#"))
		if anchors[a] {
			t.Errorf("%s: two headings with anchor %q (GitHub would number the second)", runbookFile, a)
		}
		anchors[a] = true
	}
	return anchors
}

// headingAnchor is GitHub's anchor of a markdown heading: lower case, spaces
// to hyphens, punctuation other than - and _ dropped.
func headingAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fencedBlocks returns the code blocks of runbook.md fenced with ```lang.
func fencedBlocks(t *testing.T, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```"+lang:
			cur = &strings.Builder{}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if cur != nil {
		t.Fatalf("%s: unclosed ```%s block", runbookFile, lang)
	}
	return blocks
}

// TestRunbook checks that runbook.md has a section for every alert and every
// class, that every alert section says what it means, how to confirm and
// fix it and who owns it, and that its ClickHouse queries on events count
// exactly (FINAL).
func TestRunbook(t *testing.T) {
	anchors := runbookAnchors(t)
	for _, c := range loadClasses(t) {
		if !anchors[c.ID] {
			t.Errorf("%s: no section for class %s", runbookFile, c.ID)
		}
	}
	b, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, r := range loadRules(t, alertsFile) {
		sec, ok := section(text, r.Alert)
		if !ok {
			t.Errorf("%s: no section %q", runbookFile, "### "+r.Alert)
			continue
		}
		for _, part := range []string{"**What it means.**", "**How to confirm.**", "**How to fix.**", "**Who owns it.**"} {
			if !strings.Contains(sec, part) {
				t.Errorf("%s: section %s lacks %s", runbookFile, r.Alert, part)
			}
		}
		if !strings.Contains(sec, r.Labels["severity"]) {
			t.Errorf("%s: section %s does not give its severity %s", runbookFile, r.Alert, r.Labels["severity"])
		}
	}
	sql := fencedBlocks(t, "sql")
	if len(sql) == 0 {
		t.Fatalf("%s: no sql blocks", runbookFile)
	}
	// Counting queries on events read FINAL: a replayed row may be stored
	// twice until ClickHouse merges it away.
	counts := regexp.MustCompile(`\b(count|countIf|uniq\w*|sum)\(`)
	for _, q := range sql {
		if strings.Contains(q, "authsift.events") && counts.MatchString(q) {
			if n := strings.Count(q, "authsift.events"); strings.Count(q, "authsift.events FINAL") != n {
				t.Errorf("%s: counting query on authsift.events without FINAL:\n%s", runbookFile, q)
			}
		}
	}
}

// section returns the text of the level-3 section with the given heading.
func section(text, heading string) (string, bool) {
	start := strings.Index(text, "\n### "+heading+"\n")
	if start < 0 {
		return "", false
	}
	rest := text[start+len(heading)+5:]
	if end := strings.Index(rest, "\n### "); end >= 0 {
		rest = rest[:end]
	}
	if end := strings.Index(rest, "\n## "); end >= 0 {
		rest = rest[:end]
	}
	return rest, true
}
