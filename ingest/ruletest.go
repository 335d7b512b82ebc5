package ingest

import (
	"fmt"
	"strings"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// CaseResult is the result of one rule test case.
type CaseResult struct {
	Case     *rules.TestCase
	Problems []string
}

// TestReport is the result of running a catalog's test cases.
type TestReport struct {
	Results []CaseResult
	Failed  int
	// Rules and classes no passing case exercised.
	UntestedRules    []*rules.Rule
	UnreachedClasses []*rules.Class
}

// OK reports whether every case passed and everything was exercised.
func (r *TestReport) OK() bool {
	return r.Failed == 0 && len(r.UntestedRules) == 0 && len(r.UnreachedClasses) == 0
}

type got struct {
	outcome, class, rule, oauthError, decision string
}

func (g got) String() string {
	s := g.outcome
	if g.class != "" {
		s += " class=" + g.class
	}
	if g.rule != "" {
		s += " rule=" + g.rule
	}
	if g.oauthError != "" {
		s += " oauth_error=" + g.oauthError
	}
	if g.decision != "" {
		s += " decision=" + g.decision
	}
	return s
}

// RunTests runs every test case of the catalog through the real decoders
// and engine: the lines of a case are one stream, and the events they give
// (all but ignored lines no rule spoke for) must be the expected ones, in order.
func RunTests(engine *classify.Engine) TestReport {
	cat := engine.Catalog()
	var rep TestReport
	firedRules := map[string]bool{}
	reached := map[string]bool{}
	for _, tc := range cat.Tests() {
		res := CaseResult{Case: tc}
		var gots []got
		var fired []string
		s, err := NewStream(engine, formatOf(tc), classify.DefaultTrackerConfig(), nil)
		if err != nil {
			res.Problems = append(res.Problems, err.Error())
		} else {
			n := 0
			for _, line := range strings.Split(strings.TrimRight(tc.Lines, "\n"), "\n") {
				n++
				s.Line(n, []byte(line), false, func(r *Record) {
					v := r.Verdict
					if v.Outcome == classify.Ignored && v.Rule == nil {
						return
					}
					g := got{outcome: v.Outcome.String(), oauthError: v.OAuthError, decision: v.Decision}
					if v.Class != nil {
						g.class = v.Class.ID
					}
					if v.Rule != nil {
						g.rule = v.Rule.ID
						fired = append(fired, v.Rule.ID)
					}
					gots = append(gots, g)
				})
			}
		}
		res.Problems = append(res.Problems, compare(tc.Expect, gots)...)
		if len(res.Problems) > 0 {
			rep.Failed++
		} else {
			for _, id := range fired {
				firedRules[id] = true
			}
			for _, g := range gots {
				reached[g.class] = true
			}
		}
		rep.Results = append(rep.Results, res)
	}
	for _, r := range cat.Rules() {
		if !firedRules[r.ID] {
			rep.UntestedRules = append(rep.UntestedRules, r)
		}
	}
	for _, c := range cat.Classes() {
		if !reached[c.ID] && c.Unreachable == "" {
			rep.UnreachedClasses = append(rep.UnreachedClasses, c)
		}
	}
	return rep
}

func formatOf(tc *rules.TestCase) string {
	if tc.Format == "" {
		return FormatAuto
	}
	return tc.Format
}

func compare(want []rules.Expectation, gots []got) []string {
	var ps []string
	for i := 0; i < len(want) || i < len(gots); i++ {
		switch {
		case i >= len(gots):
			ps = append(ps, fmt.Sprintf("event %d: want %s, got nothing", i+1, describe(want[i])))
		case i >= len(want):
			ps = append(ps, fmt.Sprintf("event %d: unexpected %s", i+1, gots[i]))
		default:
			w, g := want[i], gots[i]
			outcome := w.Outcome
			if outcome == "" {
				outcome = "failure"
			}
			if outcome != g.outcome || (w.Class != "" && w.Class != g.class) ||
				(w.Rule != "" && w.Rule != g.rule) || (w.OAuthError != "" && w.OAuthError != g.oauthError) ||
				(w.Decision != "" && w.Decision != g.decision) {
				ps = append(ps, fmt.Sprintf("event %d: want %s, got %s", i+1, describe(w), g))
			}
		}
	}
	return ps
}

func describe(e rules.Expectation) string {
	outcome := e.Outcome
	if outcome == "" {
		outcome = "failure"
	}
	return got{outcome: outcome, class: e.Class, rule: e.Rule, oauthError: e.OAuthError, decision: e.Decision}.String()
}
