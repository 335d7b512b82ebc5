package dashboards

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// A selector is a vector selector of a PromQL expression: the metric name
// and the label matchers in braces.
type selector struct {
	name     string
	matchers []matcher
}

type matcher struct {
	label, op, value string
}

// promqlKeywords are the identifiers that are not metric names when no
// parenthesis follows them. Those marked true take a label list in
// parentheses.
var promqlKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"and": false, "or": false, "unless": false, "bool": false, "offset": false,
	"inf": false, "nan": false, "start": false, "end": false,
}

// promqlAggregators may be followed by `by (...)` or `without (...)` before
// their parenthesis.
var promqlAggregators = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
}

// selectors lexes a PromQL expression just enough to find its vector
// selectors: it skips strings, comments, numbers and durations, range and
// subquery brackets, function and aggregation names, keywords and the label
// lists of by/without/on/ignoring/group_left/group_right. The expression is
// assumed to be valid (promtool checks that); this only has to tell metric
// names from everything else.
func selectors(expr string) ([]selector, error) {
	var out []selector
	s := expr
	i := 0
	skipSpace := func() {
		for i < len(s) {
			switch {
			case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r':
				i++
			case s[i] == '#':
				for i < len(s) && s[i] != '\n' {
					i++
				}
			default:
				return
			}
		}
	}
	readString := func() (string, error) {
		q := s[i]
		var b strings.Builder
		for i++; i < len(s); i++ {
			switch {
			case s[i] == '\\' && q != '`' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case s[i] == q:
				i++
				return b.String(), nil
			default:
				b.WriteByte(s[i])
			}
		}
		return "", fmt.Errorf("unterminated string in %q", expr)
	}
	readIdent := func() string {
		j := i
		for i < len(s) && isIdentChar(s[i], i > j) {
			i++
		}
		return s[j:i]
	}
	skipParenList := func() error {
		skipSpace()
		if i >= len(s) || s[i] != '(' {
			return nil
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return fmt.Errorf("unclosed label list in %q", expr)
		}
		i += j + 1
		return nil
	}
	readMatchers := func() ([]matcher, error) {
		i++ // {
		var ms []matcher
		for {
			skipSpace()
			if i >= len(s) {
				return nil, fmt.Errorf("unclosed braces in %q", expr)
			}
			switch {
			case s[i] == '}':
				i++
				return ms, nil
			case s[i] == ',':
				i++
				continue
			}
			var m matcher
			if s[i] == '"' || s[i] == '\'' || s[i] == '`' {
				// A quoted name: {"metric_name"} (UTF-8 names).
				v, err := readString()
				if err != nil {
					return nil, err
				}
				ms = append(ms, matcher{label: "__name__", op: "=", value: v})
				continue
			}
			m.label = readIdent()
			if m.label == "" {
				return nil, fmt.Errorf("unexpected %q in braces of %q", s[i], expr)
			}
			skipSpace()
			for _, op := range []string{"=~", "!~", "!=", "="} {
				if strings.HasPrefix(s[i:], op) {
					m.op = op
					i += len(op)
					break
				}
			}
			if m.op == "" {
				return nil, fmt.Errorf("no operator after label %s in %q", m.label, expr)
			}
			skipSpace()
			if i >= len(s) || (s[i] != '"' && s[i] != '\'' && s[i] != '`') {
				return nil, fmt.Errorf("no value for label %s in %q", m.label, expr)
			}
			v, err := readString()
			if err != nil {
				return nil, err
			}
			m.value = v
			ms = append(ms, m)
		}
	}
	prevAt := false
	for {
		skipSpace()
		if i >= len(s) {
			return out, nil
		}
		c := s[i]
		at := false
		switch {
		case c == '"' || c == '\'' || c == '`':
			if _, err := readString(); err != nil {
				return nil, err
			}
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed bracket in %q", expr)
			}
			i += j + 1
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			for i < len(s) && (isIdentChar(s[i], true) || s[i] == '.') {
				i++
			}
		case c == '{':
			ms, err := readMatchers()
			if err != nil {
				return nil, err
			}
			sel := selector{}
			for _, m := range ms {
				if m.label == "__name__" && m.op == "=" {
					sel.name = m.value
				} else {
					sel.matchers = append(sel.matchers, m)
				}
			}
			out = append(out, sel)
		case isIdentChar(c, false):
			word := readIdent()
			lw := strings.ToLower(word)
			skipSpace()
			next := byte(0)
			if i < len(s) {
				next = s[i]
			}
			takesList, keyword := promqlKeywords[lw]
			switch {
			case keyword && takesList:
				if err := skipParenList(); err != nil {
					return nil, err
				}
			case next == '(':
				// A function or an aggregation.
			case prevAt && (lw == "start" || lw == "end"):
			case promqlAggregators[lw] && (strings.HasPrefix(s[i:], "by") || strings.HasPrefix(s[i:], "without")):
			case keyword:
			default:
				sel := selector{name: word}
				if next == '{' {
					ms, err := readMatchers()
					if err != nil {
						return nil, err
					}
					sel.matchers = ms
				}
				out = append(out, sel)
			}
		case c == '@':
			at = true
			i++
		default:
			i++
		}
		prevAt = at
	}
}

func isIdentChar(c byte, notFirst bool) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || notFirst && c >= '0' && c <= '9'
}

func TestSelectors(t *testing.T) {
	tests := []struct {
		expr string
		want []selector
	}{
		{`up{job="authsift"} == 0`, []selector{{"up", []matcher{{"job", "=", "authsift"}}}}},
		{`max by (job) (up{job="authsift"}) == 0 or absent(up{job="authsift"})`, []selector{
			{"up", []matcher{{"job", "=", "authsift"}}}, {"up", []matcher{{"job", "=", "authsift"}}}}},
		{`sum by (client_id, class) (rate(authsift_client_failures_total[5m]))`, []selector{{"authsift_client_failures_total", nil}}},
		{`a:b:rate5m > on (client_id, family) 3 * a:b:rate5m_baseline or c unless on (x) d offset 1h`, []selector{
			{"a:b:rate5m", nil}, {"a:b:rate5m_baseline", nil}, {"c", nil}, {"d", nil}}},
		{`label_replace(avg_over_time(x[2h] offset 23h), "window", "yesterday", "", "")`, []selector{{"x", nil}}},
		{"x{class=~\"a|b\", client_id!=\"__other__\"} > 10 / 60 # a comment naming not_a_metric\n", []selector{
			{"x", []matcher{{"class", "=~", "a|b"}, {"client_id", "!=", "__other__"}}}}},
		{`time() - max by (job, instance) (m) > 900 and on (job, instance) n / on (source) group_left () o`, []selector{
			{"m", nil}, {"n", nil}, {"o", nil}}},
		{`rate(m[5m] @ end()) > bool 1e3 and Inf > NaN`, []selector{{"m", nil}}},
		{`{__name__="m", a="b"}`, []selector{{"m", []matcher{{"a", "=", "b"}}}}},
		{`max_over_time(deriv(m[10m:1m])[1h:]) > 0.5`, []selector{{"m", nil}}},
		{`topk(10, sum without (instance) (m))`, []selector{{"m", nil}}},
		{`sum(m) by (x)`, []selector{{"m", nil}}},
		{`m{a="x\"y"}`, []selector{{"m", []matcher{{"a", "=", `x"y`}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := selectors(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("selectors(%q)\n got %v\nwant %v", tt.expr, got, tt.want)
			}
		})
	}
}
