package ingest

import (
	"fmt"
	"github.com/authsift/authsift/ingest/redact"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/store/clickhouse"
	"github.com/authsift/authsift/rules"
)

// summaryLimit bounds every per-value map of a Summary, so that a summary of
// any input stays in constant memory; values past it are counted as "(other)".
const summaryLimit = 10000

// Summary counts classified events for the human report of `classify`.
type Summary struct {
	Lines        int
	IgnoredLines int
	Outcomes     [5]int
	Classes      map[*rules.Class]int
	Sources      map[string]int
	Clients      map[string]map[*rules.Class]int
	Unclassified map[string]int
	Malformed    map[string]int
	Normal       map[string]int
}

// NewSummary returns an empty summary.
func NewSummary() *Summary {
	return &Summary{
		Classes:      map[*rules.Class]int{},
		Sources:      map[string]int{},
		Clients:      map[string]map[*rules.Class]int{},
		Unclassified: map[string]int{},
		Malformed:    map[string]int{},
		Normal:       map[string]int{},
	}
}

func bump(m map[string]int, k string) {
	if _, ok := m[k]; !ok && len(m) >= summaryLimit {
		k = "(other)"
	}
	m[k]++
}

// Add counts one record; red redacts the raw errors kept for unclassified.
func (s *Summary) Add(r *Record, red *redact.Redactor) {
	v := r.Verdict
	s.Outcomes[v.Outcome]++
	if r.Event == nil {
		return
	}
	s.Sources[r.Event.Source]++
	switch v.Outcome {
	case classify.Failure:
		s.Classes[v.Class]++
		client := r.Event.ClientID
		if client == "" {
			client = clickhouse.ClientNotLogged
		}
		if _, ok := s.Clients[client]; !ok && len(s.Clients) >= summaryLimit {
			client = "(other)"
		}
		if s.Clients[client] == nil {
			s.Clients[client] = map[*rules.Class]int{}
		}
		s.Clients[client][v.Class]++
		if v.Rule == nil {
			raw := r.Event.Source + " " + strings.TrimSpace(r.Event.Type+" "+r.Event.Error+" "+r.Event.Code+" "+r.Event.Reason)
			bump(s.Unclassified, truncate(red.Redact(raw), 160))
		}
	case classify.Malformed:
		bump(s.Malformed, r.Event.Detail)
	case classify.Ignored:
		if v.Rule != nil {
			bump(s.Normal, v.Rule.ID)
		}
	}
}

type kv[K comparable] struct {
	k K
	n int
}

func topN[K comparable](m map[K]int, n int, less func(a, b K) bool) []kv[K] {
	out := make([]kv[K], 0, len(m))
	for k, c := range m {
		out = append(out, kv[K]{k, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].n != out[j].n {
			return out[i].n > out[j].n
		}
		return less(out[i].k, out[j].k)
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// WriteTable writes the report an incident responder reads.
func (s *Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%d lines: %d failures, %d successes, %d context, %d malformed, %d lines ignored\n",
		s.Lines, s.Outcomes[classify.Failure], s.Outcomes[classify.Success], s.Outcomes[classify.Context],
		s.Outcomes[classify.Malformed], s.IgnoredLines)
	if len(s.Sources) > 0 {
		var parts []string
		for _, e := range topN(s.Sources, 0, func(a, b string) bool { return a < b }) {
			parts = append(parts, fmt.Sprintf("%s %d", e.k, e.n))
		}
		fmt.Fprintf(tw, "events by source: %s\n", strings.Join(parts, ", "))
	}
	byID := func(a, b *rules.Class) bool { return a.ID < b.ID }
	if len(s.Classes) > 0 {
		fmt.Fprintf(tw, "\nFAILURES BY CLASS\nCOUNT\tCLASS\tOWNER\tFAMILY\tFIX\n")
		owners := map[string]int{}
		for _, e := range topN(s.Classes, 0, byID) {
			owners[e.k.Owner] += e.n
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.n, e.k.ID, e.k.Owner, e.k.Family, truncate(e.k.FixLine(), 100))
		}
		fmt.Fprintf(tw, "\nFAILURES BY OWNER\nCOUNT\tOWNER\n")
		for _, e := range topN(owners, 0, func(a, b string) bool { return a < b }) {
			fmt.Fprintf(tw, "%d\t%s\n", e.n, e.k)
		}
	}
	if len(s.Clients) > 0 {
		totals := map[string]int{}
		for c, m := range s.Clients {
			for _, n := range m {
				totals[c] += n
			}
		}
		fmt.Fprintf(tw, "\nTOP CLIENTS\nCOUNT\tCLIENT\tTOP CLASSES\n")
		for _, e := range topN(totals, 10, func(a, b string) bool { return a < b }) {
			var parts []string
			for _, c := range topN(s.Clients[e.k], 3, byID) {
				parts = append(parts, fmt.Sprintf("%s %d", c.k.ID, c.n))
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\n", e.n, e.k, strings.Join(parts, ", "))
		}
	}
	section := func(title string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		fmt.Fprintf(tw, "\n%s\nCOUNT\tVALUE\n", title)
		for _, e := range topN(m, 10, func(a, b string) bool { return a < b }) {
			fmt.Fprintf(tw, "%d\t%s\n", e.n, e.k)
		}
	}
	section("UNCLASSIFIED FAILURES (no rule matched: write one with `authsift rules`)", s.Unclassified)
	section("MALFORMED LINES", s.Malformed)
	section("NORMAL STEPS LOGGED AS ERRORS (not counted as failures)", s.Normal)
	return tw.Flush()
}
