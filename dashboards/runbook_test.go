package dashboards

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated class sections of runbook.md from "+classesFile)

// The generated part of runbook.md lies between these lines.
const (
	beginClasses = "<!-- BEGIN GENERATED CLASSES: `go test ./dashboards -run TestRunbookClasses -update` rewrites this part from rules/catalog/classes.yaml and alerts.yaml; edit those, not this text. -->"
	endClasses   = "<!-- END GENERATED CLASSES -->"
)

// TestRunbookClasses checks that the class sections of runbook.md are the
// ones generated from the catalog (with -update: rewrites them).
func TestRunbookClasses(t *testing.T) {
	want := renderClasses(t, loadClasses(t), loadRules(t, alertsFile))
	b, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i, j := strings.Index(text, beginClasses), strings.Index(text, endClasses)
	if i < 0 || j < i {
		t.Fatalf("%s: no generated part (the lines %q and %q)", runbookFile, beginClasses, endClasses)
	}
	got := text[i+len(beginClasses) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(runbookFile, []byte(text[:i+len(beginClasses)]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: class sections rewritten", runbookFile)
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for k := 0; k < min(len(gl), len(wl)); k++ {
		if gl[k] != wl[k] {
			t.Fatalf("%s: class sections are stale (first difference:\n got %q\nwant %q)\nrun: go test ./dashboards -run TestRunbookClasses -update", runbookFile, gl[k], wl[k])
		}
	}
	t.Fatalf("%s: class sections are stale (%d lines, want %d)\nrun: go test ./dashboards -run TestRunbookClasses -update", runbookFile, len(gl), len(wl))
}

// ownerText says who acts, per owner of the taxonomy.
var ownerText = map[string]string{
	"client":   "`client`: the team that owns the client application (the relying party) fixes it; the auth platform team routes it to them with the client_id and the examples.",
	"user":     "`user`: the person signing in; one failure is expected noise. Nobody acts on single events; the auth platform team acts on bursts (many users, one client, one source).",
	"operator": "`operator`: the team that runs the authorization server and its infrastructure.",
	"security": "`security`: security on call - possible attack. Page, and bring in the owner of the client.",
}

// alertsByClass maps a class id to the alerts whose expressions select it, by
// class or by family.
func alertsByClass(t *testing.T, classes []class, alerts []rule) map[string][]string {
	t.Helper()
	by := map[string][]string{}
	for _, r := range alerts {
		sels, err := selectors(r.Expr)
		if err != nil {
			t.Fatalf("%s: %v", r.Alert, err)
		}
		ids := map[string]bool{}
		for _, s := range sels {
			for _, m := range s.matchers {
				switch {
				case m.label == "class" && m.op == "=":
					ids[m.value] = true
				case m.label == "class" && m.op == "=~":
					for _, v := range strings.Split(m.value, "|") {
						ids[v] = true
					}
				case m.label == "family" && m.op == "=":
					for _, c := range classes {
						if c.Family == m.value {
							ids[c.ID] = true
						}
					}
				}
			}
		}
		for id := range ids {
			if !slices.Contains(by[id], r.Alert) {
				by[id] = append(by[id], r.Alert)
			}
		}
	}
	for id := range by {
		slices.Sort(by[id])
	}
	return by
}

// mdText escapes catalog prose for markdown: GitHub would take <port> for
// an HTML tag and drop it.
func mdText(s string) string {
	return strings.ReplaceAll(s, "<", "&lt;")
}

func renderClasses(t *testing.T, classes []class, alerts []rule) string {
	t.Helper()
	byClass := alertsByClass(t, classes, alerts)
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("\n\n| class | family | owner | what happened |\n|---|---|---|---|\n")
	for _, c := range classes {
		w("| [%s](#%s) | %s | %s | %s |\n", c.ID, c.ID, c.Family, c.Owner, strings.ReplaceAll(mdText(c.Title), "|", `\|`))
	}
	for _, c := range classes {
		if strings.Contains(c.Confirm, "```") {
			t.Fatalf("%s: class %s: confirm text contains a code fence", classesFile, c.ID)
		}
		w("\n### %s\n\n", c.ID)
		w("%s. Family `%s`, owner `%s`.", mdText(strings.TrimSuffix(strings.TrimSpace(c.Title), ".")), c.Family, c.Owner)
		if as := byClass[c.ID]; len(as) > 0 {
			links := make([]string, len(as))
			for k, a := range as {
				links[k] = fmt.Sprintf("[%s](#%s)", a, strings.ToLower(a))
			}
			w(" Alerts: %s.\n\n", strings.Join(links, ", "))
		} else {
			w(" No alert of its own: it counts in the family and owner rates (`authsift:family_failures:rate5m`, `authsift:owner_failures:rate5m`).\n\n")
		}

		w("**What it means.**\n")
		for _, line := range strings.Split(strings.TrimSpace(c.Meaning), "\n") {
			w("%s\n", mdText(strings.TrimSpace(line)))
		}

		w("\n**How to confirm.** What the servers log (from the catalog):\n\n```text\n%s\n```\n\n", strings.TrimRight(c.Confirm, "\n "))
		w("Rate by source, and the clients that see it most:\n\n```promql\n")
		w("sum by (source) (rate(authsift_failures_total{class=%q}[5m]))\n", c.ID)
		w("topk(10, sum by (client_id) (rate(authsift_client_failures_total{class=%q}[1h])))\n```\n\n", c.ID)
		w("Exact counts per client and source in the last hour, then the latest examples:\n\n```sql\n")
		w("SELECT client_id, source, count() AS failures, uniqExact(user_id) AS users, min(time) AS first_seen, max(time) AS last_seen\n")
		w("FROM authsift.events FINAL\nWHERE outcome = 'failure' AND class = '%s' AND time > now() - INTERVAL 1 HOUR\n", c.ID)
		w("GROUP BY client_id, source\nORDER BY failures DESC\nLIMIT 20\n```\n\n```sql\n")
		w("SELECT time, source, client_id, user_id, oauth_error, rule, grant_type, endpoint, reason\n")
		w("FROM authsift.events FINAL\nWHERE outcome = 'failure' AND class = '%s' AND time > now() - INTERVAL 1 HOUR\n", c.ID)
		w("ORDER BY time DESC\nLIMIT 20\n```\n\n")

		w("**How to fix.**\n\n")
		for _, line := range strings.Split(strings.TrimRight(c.Fix, "\n "), "\n") {
			if line == "" {
				continue
			}
			if strings.HasPrefix(line, " ") {
				w("  %s\n", mdText(strings.TrimSpace(line)))
			} else {
				w("- %s\n", mdText(line))
			}
		}
		w("\n**Who owns it.** %s\n", ownerText[c.Owner])
		if ownerText[c.Owner] == "" {
			t.Fatalf("%s: class %s: owner %q has no text in runbook_test.go", classesFile, c.ID, c.Owner)
		}
		if len(c.References) > 0 {
			w("\n**References.**\n\n")
			for _, r := range c.References {
				w("- %s\n", mdText(r))
			}
		}
	}
	w("\n")
	return b.String()
}
