// Package rules is the catalog: the failure classes with their meaning and
// fix, the per-source matching rules and the rule test cases. It decodes
// strictly and reports every problem with file:line:col. It is a leaf: it
// knows nothing of decoding logs or of the engine that applies the rules.
package rules

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
)

//go:embed catalog/*.yaml tests/*.yaml
var embedded embed.FS

// Class is one failure class of the taxonomy, with what an SRE needs to act.
type Class struct {
	ID          string     `yaml:"id"`
	Family      string     `yaml:"family"`
	Owner       string     `yaml:"owner"`
	Title       string     `yaml:"title"`
	Meaning     string     `yaml:"meaning"`
	Confirm     string     `yaml:"confirm"`
	Fix         string     `yaml:"fix"`
	References  StringList `yaml:"references"`
	Unreachable string     `yaml:"unreachable"`
	Pos         Position
}

// FixLine is the first line of Fix: the one-line fix for summaries.
func (c *Class) FixLine() string {
	s := strings.TrimSpace(c.Fix)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// Match holds the conditions of a rule; every condition given must hold.
type Match struct {
	Type           StringList `yaml:"type"`
	Error          StringList `yaml:"error"`
	Code           StringList `yaml:"code"`
	Context        StringList `yaml:"context"`
	GrantType      StringList `yaml:"grant_type"`
	Endpoint       StringList `yaml:"endpoint"`
	Status         int        `yaml:"status"`
	Reason         string     `yaml:"reason"`
	ReasonContains StringList `yaml:"reason_contains"`
	ReasonRegex    string     `yaml:"reason_regex"`
	Debug          string     `yaml:"debug"`
	DebugContains  StringList `yaml:"debug_contains"`
	Pos            Position

	// ReasonRE is ReasonRegex compiled once at load.
	ReasonRE *regexp.Regexp `yaml:"-"`
}

// Conditions counts the conditions of m: more conditions, more specific.
func (m *Match) Conditions() int {
	n := 0
	for _, l := range []StringList{m.Type, m.Error, m.Code, m.Context, m.GrantType, m.Endpoint, m.ReasonContains, m.DebugContains} {
		if len(l) > 0 {
			n++
		}
	}
	for _, s := range []string{m.Reason, m.ReasonRegex, m.Debug} {
		if s != "" {
			n++
		}
	}
	if m.Status != 0 {
		n++
	}
	return n
}

// Rule maps decoded events of one source to a class.
type Rule struct {
	ID         string `yaml:"id"`
	Source     string `yaml:"source"`
	Class      string `yaml:"class"`
	OAuthError string `yaml:"oauth_error"`
	Normal     string `yaml:"normal"`
	// Correlate marks an ambiguous failure the Tracker may decide from the
	// stream's earlier events: "code" (a code rejection: reuse, expiry or an
	// unknown code) or "refresh_token" (a refresh-token reuse: a race or a
	// replay). One of Correlations().
	Correlate string `yaml:"correlate"`
	Match     Match  `yaml:"match"`
	Ref       string `yaml:"ref"`
	Pos       Position

	// Order is the rule's place in the catalog: ties go to the earlier rule.
	Order int `yaml:"-"`
}

// Expectation is one expected event of a test case.
type Expectation struct {
	Outcome    string `yaml:"outcome"`
	Class      string `yaml:"class"`
	Rule       string `yaml:"rule"`
	OAuthError string `yaml:"oauth_error"`
	// Decision is direct or correlated; empty: not checked.
	Decision string `yaml:"decision"`
	Pos      Position
}

// TestCase is a promtool-style rule test: log lines in, events out.
type TestCase struct {
	Name   string        `yaml:"name"`
	Ref    string        `yaml:"ref"`
	Format string        `yaml:"format"`
	Lines  string        `yaml:"lines"`
	Expect []Expectation `yaml:"expect"`
	Pos    Position
}

type file struct {
	Classes []Class    `yaml:"classes"`
	Rules   []Rule     `yaml:"rules"`
	Tests   []TestCase `yaml:"tests"`
}

// Catalog is a validated set of classes, rules and test cases.
type Catalog struct {
	classes map[string]*Class
	order   []*Class
	rules   []*Rule
	tests   []*TestCase
}

// Classes returns the classes in catalog order.
func (c *Catalog) Classes() []*Class { return c.order }

// Class returns the class with the id, or nil.
func (c *Catalog) Class(id string) *Class { return c.classes[id] }

// Rules returns the rules in catalog order.
func (c *Catalog) Rules() []*Rule { return c.rules }

// Tests returns the test cases.
func (c *Catalog) Tests() []*TestCase { return c.tests }

// File is a catalog file's name and content.
type File struct {
	Name string
	Data []byte
}

// DefaultFiles returns the embedded catalog and test files.
func DefaultFiles() ([]File, error) {
	var out []File
	for _, dir := range []string{"catalog", "tests"} {
		names, err := fs.Glob(embedded, dir+"/*.yaml")
		if err != nil {
			return nil, fmt.Errorf("list embedded %s: %w", dir, err)
		}
		sort.Strings(names)
		for _, n := range names {
			data, err := embedded.ReadFile(n)
			if err != nil {
				return nil, fmt.Errorf("read embedded %s: %w", n, err)
			}
			out = append(out, File{Name: path.Join("rules", n), Data: data})
		}
	}
	return out, nil
}

// Load builds a catalog from the embedded default plus the files at paths,
// which add to or override it by id.
func Load(paths ...string) (*Catalog, error) {
	files, err := DefaultFiles()
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read catalog file: %w", err)
		}
		files = append(files, File{Name: p, Data: data})
	}
	return Parse(files...)
}

// Parse decodes, merges and validates catalog files. A later file's class or
// rule replaces an earlier one with the same id. Every problem is returned.
func Parse(files ...File) (*Catalog, error) {
	c := &Catalog{classes: map[string]*Class{}}
	ruleIdx := map[string]int{}
	var problems Problems
	for _, f := range files {
		var parsed file
		ps := decodeFile(f.Name, f.Data, &parsed)
		problems = append(problems, ps...)
		if len(ps) > 0 {
			continue
		}
		problems = append(problems, duplicatesInFile(parsed)...)
		for i := range parsed.Classes {
			cl := &parsed.Classes[i]
			if old, ok := c.classes[cl.ID]; ok {
				*old = *cl
				continue
			}
			c.classes[cl.ID] = cl
			c.order = append(c.order, cl)
		}
		for i := range parsed.Rules {
			r := &parsed.Rules[i]
			if j, ok := ruleIdx[r.ID]; ok {
				r.Order = c.rules[j].Order
				c.rules[j] = r
				continue
			}
			r.Order = len(c.rules)
			ruleIdx[r.ID] = len(c.rules)
			c.rules = append(c.rules, r)
		}
		for i := range parsed.Tests {
			c.tests = append(c.tests, &parsed.Tests[i])
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	problems = append(problems, c.validate()...)
	if len(problems) > 0 {
		return nil, problems
	}
	return c, nil
}

func duplicatesInFile(f file) Problems {
	var ps Problems
	seen := map[string]bool{}
	for _, cl := range f.Classes {
		if seen["c:"+cl.ID] {
			ps = append(ps, Problem{cl.Pos, fmt.Sprintf("class %q defined twice in this file", cl.ID)})
		}
		seen["c:"+cl.ID] = true
	}
	for _, r := range f.Rules {
		if seen["r:"+r.ID] {
			ps = append(ps, Problem{r.Pos, fmt.Sprintf("rule %q defined twice in this file", r.ID)})
		}
		seen["r:"+r.ID] = true
	}
	return ps
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
var ruleIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_-]+)+$`)

func (c *Catalog) validate() Problems {
	var ps Problems
	add := func(pos Position, format string, args ...any) {
		ps = append(ps, Problem{pos, fmt.Sprintf(format, args...)})
	}
	for _, cl := range c.order {
		switch {
		case !idPattern.MatchString(cl.ID):
			add(cl.Pos, "class id %q is not lower_snake", cl.ID)
		case !contains(Families(), cl.Family):
			add(cl.Pos, "class %s: unknown family %q (known: %s)", cl.ID, cl.Family, strings.Join(Families(), ", "))
		case !contains(Owners(), cl.Owner):
			add(cl.Pos, "class %s: unknown owner %q (known: %s)", cl.ID, cl.Owner, strings.Join(Owners(), ", "))
		case cl.Title == "" || cl.Meaning == "" || cl.Fix == "":
			add(cl.Pos, "class %s: title, meaning and fix are required", cl.ID)
		}
	}
	for _, id := range TaxonomyIDs() {
		if c.classes[id] == nil {
			add(Position{File: "taxonomy.md", Line: 1, Col: 1}, "taxonomy class %q is missing from the catalog", id)
		}
	}
	for _, r := range c.rules {
		ps = append(ps, c.validateRule(r)...)
	}
	for _, tc := range c.tests {
		ps = append(ps, c.validateTest(tc)...)
	}
	return ps
}

func (c *Catalog) validateRule(r *Rule) Problems {
	var ps Problems
	add := func(pos Position, format string, args ...any) {
		ps = append(ps, Problem{pos, fmt.Sprintf(format, args...)})
	}
	if !ruleIDPattern.MatchString(r.ID) {
		add(r.Pos, "rule id %q must look like source.what (lowercase, dots)", r.ID)
	}
	if !contains(Sources(), r.Source) {
		add(r.Pos, "rule %s: unknown source %q (known: %s)", r.ID, r.Source, strings.Join(Sources(), ", "))
	}
	switch {
	case r.Class == "" && r.Normal == "":
		add(r.Pos, "rule %s: needs a class, or `normal` saying why the event is not a failure", r.ID)
	case r.Class != "" && r.Normal != "":
		add(r.Pos, "rule %s: a rule has a class or is `normal`, not both", r.ID)
	case r.Class != "" && c.classes[r.Class] == nil:
		add(r.Pos, "rule %s: unknown class %q", r.ID, r.Class)
	case r.Class == Unclassified:
		add(r.Pos, "rule %s: no rule may assign %q", r.ID, Unclassified)
	}
	switch {
	case r.Correlate != "" && !contains(Correlations(), r.Correlate):
		add(r.Pos, "rule %s: unknown correlate %q (known: %s)", r.ID, r.Correlate, strings.Join(Correlations(), ", "))
	case r.Correlate != "" && r.Normal != "":
		add(r.Pos, "rule %s: a `normal` rule has nothing to correlate", r.ID)
	}
	if r.OAuthError != "" && !contains(OAuthErrors(), r.OAuthError) {
		add(r.Pos, "rule %s: oauth_error %q is not an RFC 6749/6750/OIDC error", r.ID, r.OAuthError)
	}
	if r.Ref == "" {
		add(r.Pos, "rule %s: ref (where its strings come from) is required", r.ID)
	}
	m := &r.Match
	if len(m.Code) == 0 && len(m.Error) == 0 && len(m.Type) == 0 {
		add(m.Pos, "rule %s: match needs at least one of code, error or type (the index keys)", r.ID)
	}
	for _, h := range m.Context {
		if !contains(Contexts(), h) {
			add(m.Pos, "rule %s: unknown context %q (known: %s)", r.ID, h, strings.Join(Contexts(), ", "))
		}
	}
	for _, l := range []StringList{m.Type, m.Error, m.Code, m.GrantType, m.Endpoint, m.ReasonContains, m.DebugContains} {
		for _, s := range l {
			if s == "" {
				add(m.Pos, "rule %s: empty string in a match list", r.ID)
			}
		}
	}
	if m.ReasonRegex != "" {
		re, err := regexp.Compile(m.ReasonRegex)
		if err != nil {
			add(m.Pos, "rule %s: reason_regex: %v", r.ID, err)
		}
		m.ReasonRE = re
	}
	return ps
}

func (c *Catalog) validateTest(tc *TestCase) Problems {
	var ps Problems
	add := func(pos Position, format string, args ...any) {
		ps = append(ps, Problem{pos, fmt.Sprintf(format, args...)})
	}
	if tc.Name == "" || tc.Ref == "" || strings.TrimSpace(tc.Lines) == "" {
		add(tc.Pos, "test %q: name, ref and lines are required", tc.Name)
	}
	if tc.Format != "" && !contains(Sources(), tc.Format) {
		add(tc.Pos, "test %q: unknown format %q", tc.Name, tc.Format)
	}
	for _, e := range tc.Expect {
		if e.Class != "" && c.classes[e.Class] == nil {
			add(e.Pos, "test %q: unknown class %q", tc.Name, e.Class)
		}
		switch e.Outcome {
		case "", "failure", "success", "context", "malformed", "ignored":
		default:
			add(e.Pos, "test %q: unknown outcome %q", tc.Name, e.Outcome)
		}
		switch e.Decision {
		case "", DecisionDirect, DecisionCorrelated:
		default:
			add(e.Pos, "test %q: unknown decision %q (known: %s, %s)", tc.Name, e.Decision, DecisionDirect, DecisionCorrelated)
		}
	}
	return ps
}
