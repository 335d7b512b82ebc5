package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authsift/authsift/dashboards"
)

// Triage defaults.
const (
	DefaultTriageSince    = 15 * time.Minute
	DefaultTriageBaseline = 24 * time.Hour
	DefaultTriageLimit    = 10
)

// Result is the answer of a query: column names and rows of values as the
// driver scanned them (times in UTC).
type Result struct {
	Columns []string
	Rows    [][]any
}

// Query runs sql (with ? placeholders for args) and reads every row.
func (c *Store) Query(ctx context.Context, sql string, args ...any) (*Result, error) {
	rows, err := c.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("query clickhouse: %w", err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	res := &Result{Columns: make([]string, len(types)), Rows: [][]any{}}
	for i, ct := range types {
		res.Columns[i] = ct.Name()
	}
	for rows.Next() {
		ptrs := make([]any, len(types))
		for i, ct := range types {
			ptrs[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("query clickhouse: %w", err)
		}
		row := make([]any, len(types))
		for i := range ptrs {
			v := reflect.ValueOf(ptrs[i]).Elem().Interface()
			if t, ok := v.(time.Time); ok {
				v = t.UTC()
			}
			row[i] = v
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query clickhouse: %w", err)
	}
	return res, nil
}

// Maps returns the rows as column -> value maps.
func (r *Result) Maps() []map[string]any {
	out := make([]map[string]any, len(r.Rows))
	for i, row := range r.Rows {
		m := make(map[string]any, len(r.Columns))
		for j, col := range r.Columns {
			m[col] = row[j]
		}
		out[i] = m
	}
	return out
}

// Value returns the value of column col in row i (nil when there is none).
func (r *Result) Value(i int, col string) any {
	if i < 0 || i >= len(r.Rows) {
		return nil
	}
	for j, c := range r.Columns {
		if c == col {
			return r.Rows[i][j]
		}
	}
	return nil
}

// TriageWindow is the time a triage looks at: the window [Now-Since, Now)
// and, for changes, the baseline [Now-Since-Baseline, Now-Since) before it.
type TriageWindow struct {
	Now      time.Time // zero: time.Now()
	Since    time.Duration
	Baseline time.Duration
	Limit    int // most rows per section
}

// Validate reports a window that cannot work.
func (w TriageWindow) Validate() error {
	var errs []error
	if w.Since < time.Second {
		errs = append(errs, fmt.Errorf("triage: window %s: want at least 1s", w.Since))
	}
	if w.Baseline < time.Second {
		errs = append(errs, fmt.Errorf("triage: baseline %s: want at least 1s", w.Baseline))
	}
	if w.Limit <= 0 {
		errs = append(errs, fmt.Errorf("triage: limit %d: want a positive number", w.Limit))
	}
	return errors.Join(errs...)
}

// params are the window's query parameters (see package dashboards).
func (w TriageWindow) params() map[string]any {
	now := w.Now
	if now.IsZero() {
		now = time.Now()
	}
	// Whole seconds: DateTime has no fraction. end is exclusive and takes
	// the current second in.
	end := now.Unix() + 1
	window, baseline := int64(w.Since/time.Second), int64(w.Baseline/time.Second)
	start := end - window
	return map[string]any{
		"end": end, "start": start, "base_start": start - baseline,
		"window_s": window, "baseline_s": baseline, "limit": int64(w.Limit),
	}
}

// Section is one table of a report.
type Section struct {
	Name  string // JSON key and table heading
	Query string // the dashboards query it comes from
	// Record renders the table as one "column  value" line per column of
	// each row, long text whole: for a single record such as a class.
	Record bool
	*Result
}

// Report is the answer of a triage command.
type Report struct {
	Title    string
	Sections []Section
}

// Section returns the named section (nil when there is none).
func (r *Report) Section(name string) *Section {
	for i := range r.Sections {
		if r.Sections[i].Name == name {
			return &r.Sections[i]
		}
	}
	return nil
}

// Triage section names.
const (
	SectionClients  = "clients"
	SectionClasses  = "classes"
	SectionExamples = "examples"
	SectionClass    = "class"
	SectionRecent   = "recent"
)

func (c *Store) triage(ctx context.Context, w TriageWindow, title string, extra map[string]any, sections ...[2]string) (*Report, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	params := w.params()
	for k, v := range extra {
		params[k] = v
	}
	rep := &Report{Title: title}
	for _, s := range sections {
		name, query := s[0], s[1]
		sql, args, err := dashboards.Bind(query, c.schema.Database, params)
		if err != nil {
			return nil, err
		}
		res, err := c.Query(ctx, sql, args...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", query, err)
		}
		rep.Sections = append(rep.Sections, Section{Name: name, Query: query, Record: name == SectionClass, Result: res})
	}
	return rep, nil
}

// TriageChanges reports the (client, class) pairs and the classes whose
// failure rate (per minute) rose most in the window against the baseline,
// the biggest rise first, with the one-line fix.
func (c *Store) TriageChanges(ctx context.Context, w TriageWindow) (*Report, error) {
	return c.triage(ctx, w, fmt.Sprintf("failure rate rises, last %s against the %s before", w.Since, w.Baseline), nil,
		[2]string{SectionClients, dashboards.TriageChangesClients},
		[2]string{SectionClasses, dashboards.TriageChangesClasses})
}

// TriageClient reports one client's failure classes in the window (counts,
// first and last seen, fix) and its most recent failures.
func (c *Store) TriageClient(ctx context.Context, client string, w TriageWindow) (*Report, error) {
	return c.triage(ctx, w, fmt.Sprintf("client %s, last %s", client, w.Since), map[string]any{"client": client},
		[2]string{SectionClasses, dashboards.TriageClientClasses},
		[2]string{SectionExamples, dashboards.TriageClientExamples})
}

// TriageClass reports what a class means and how to fix it, and the clients
// that failed with it in the window.
func (c *Store) TriageClass(ctx context.Context, class string, w TriageWindow) (*Report, error) {
	return c.triage(ctx, w, fmt.Sprintf("class %s, last %s", class, w.Since), map[string]any{"class": class},
		[2]string{SectionClass, dashboards.TriageClassInfo},
		[2]string{SectionClients, dashboards.TriageClassClients})
}

// TriageRecent reports the latest failures in the window.
func (c *Store) TriageRecent(ctx context.Context, w TriageWindow) (*Report, error) {
	return c.triage(ctx, w, fmt.Sprintf("latest failures, last %s", w.Since), nil,
		[2]string{SectionRecent, dashboards.TriageRecent})
}

// WriteJSON writes the report as one JSON object: the title and, per
// section, an array of row objects.
func (r *Report) WriteJSON(w io.Writer) error {
	out := map[string]any{"title": r.Title}
	for _, s := range r.Sections {
		out[s.Name] = s.Maps()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// ClientNotLogged stands for an empty client_id in what authsift prints:
// the line named no client (Hydra's error records never do; Keycloak
// writes clientId="null" when the request had none).
const ClientNotLogged = "(client not logged by this server)"

// maxCell is the widest a table cell gets; long text (meaning, reason) is
// cut, the JSON output has it whole.
const maxCell = 100

// WriteTable writes the report as aligned text tables, one per section.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	b.WriteString(r.Title + "\n")
	for _, s := range r.Sections {
		b.WriteString("\n" + strings.ToUpper(s.Name) + "\n")
		if len(s.Rows) == 0 {
			b.WriteString("(none)\n")
			continue
		}
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		if s.Record {
			for i, row := range s.Rows {
				if i > 0 {
					fmt.Fprintln(tw)
				}
				for j, v := range row {
					fmt.Fprintf(tw, "%s\t%s\n", s.Columns[j], cell(v, 0))
				}
			}
			tw.Flush()
			continue
		}
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(s.Columns, "\t")))
		for _, row := range s.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = cell(v, maxCell)
				if v == "" && s.Columns[i] == "client_id" {
					cells[i] = ClientNotLogged
				}
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		tw.Flush()
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// cell renders v on one line, cut to max runes (0: whole).
func cell(v any, max int) string {
	var s string
	switch v := v.(type) {
	case time.Time:
		s = v.UTC().Format("2006-01-02 15:04:05")
	case string:
		s = v
	default:
		s = fmt.Sprint(v)
	}
	s = strings.Join(strings.Fields(s), " ") // no tabs or newlines in a cell
	if s == "" {
		return "-"
	}
	if r := []rune(s); max > 0 && len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
