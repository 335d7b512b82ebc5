package classify

import (
	"sort"
	"strings"

	"github.com/authsift/authsift/rules"
)

// Decision says how a verdict was reached.
const (
	// Direct: the vendor's own signal in the event decided the class.
	Direct = rules.DecisionDirect
	// Correlated: other events of the stream (a vendor's second line, the
	// issuance or an earlier use of a code or token) decided it.
	Correlated = rules.DecisionCorrelated
)

// Verdict is the classification of one event.
type Verdict struct {
	Outcome Outcome
	// Class is set for failures (unclassified when no rule matched).
	Class *rules.Class
	// Rule is the rule that fired; nil for unclassified failures.
	Rule *rules.Rule
	// OAuthError is the wire error normalised to rules.OAuthErrors or "other"
	// (empty when the event carries none).
	OAuthError string
	Decision   string
	// Evidence says, for a correlated verdict, which earlier events decided
	// it (and, for a correlation candidate left ambiguous, why): short,
	// without secrets.
	Evidence string
}

type field uint8

const (
	byCode field = iota
	byError
	byType
)

// index holds one source's rules by the value of their index key.
type index [3]map[string][]*rules.Rule

// Engine applies a catalog to events. It is immutable and safe for
// concurrent use; swap the whole Engine to reload.
type Engine struct {
	catalog      *rules.Catalog
	index        map[string]*index
	unclassified *rules.Class
	oauthErrors  map[string]struct{}
	// hintEvidence is the evidence of a verdict decided by a context hint,
	// per hint and how it was joined ("", "session", "thread"): built once.
	hintEvidence map[[2]string]string
}

// New indexes the rules of a validated catalog.
func New(cat *rules.Catalog) *Engine {
	e := &Engine{
		catalog:      cat,
		index:        map[string]*index{},
		unclassified: cat.Class(rules.Unclassified),
		oauthErrors:  map[string]struct{}{},
	}
	for _, s := range rules.OAuthErrors() {
		e.oauthErrors[s] = struct{}{}
	}
	e.hintEvidence = map[[2]string]string{}
	for _, h := range rules.Contexts() {
		e.hintEvidence[[2]string{h, ""}] = "context " + h + " from an earlier line"
		for _, by := range []string{"session", "thread"} {
			e.hintEvidence[[2]string{h, by}] = "context " + h + " from an earlier line of the same " + by
		}
	}
	for _, r := range cat.Rules() {
		// A rule is filed under its most selective key only: code, else
		// error, else type.
		f, values := byCode, r.Match.Code
		if len(values) == 0 {
			f, values = byError, r.Match.Error
		}
		if len(values) == 0 {
			f, values = byType, r.Match.Type
		}
		idx := e.index[r.Source]
		if idx == nil {
			idx = &index{{}, {}, {}}
			e.index[r.Source] = idx
		}
		for _, v := range values {
			idx[f][v] = append(idx[f][v], r)
		}
	}
	for _, idx := range e.index {
		for _, m := range idx {
			for _, list := range m {
				sort.SliceStable(list, func(i, j int) bool {
					ci, cj := list[i].Match.Conditions(), list[j].Match.Conditions()
					if ci != cj {
						return ci > cj
					}
					return list[i].Order < list[j].Order
				})
			}
		}
	}
	return e
}

// Catalog returns the catalog the engine applies.
func (e *Engine) Catalog() *rules.Catalog { return e.catalog }

// Classify returns the verdict for ev. Only failures are matched against the
// rules; other outcomes pass through.
func (e *Engine) Classify(ev *Event) Verdict {
	if ev.Outcome != Failure {
		return Verdict{Outcome: ev.Outcome}
	}
	r := e.lookup(ev.Source, ev)
	if r == nil && ev.Source != rules.SourceGeneric {
		r = e.lookup(rules.SourceGeneric, ev)
	}
	if r == nil {
		return Verdict{Outcome: Failure, Class: e.unclassified, OAuthError: e.normalise(ev.Error)}
	}
	v := Verdict{Outcome: Failure, Rule: r, Decision: Direct}
	if r.Normal != "" {
		v.Outcome = Ignored
	} else {
		v.Class = e.catalog.Class(r.Class)
	}
	if len(r.Match.Context) > 0 {
		v.Decision = Correlated
		v.Evidence = e.hintEvidence[[2]string{ev.Context, ""}]
	}
	v.OAuthError = r.OAuthError
	if v.OAuthError == "" {
		v.OAuthError = e.normalise(ev.Error)
	}
	return v
}

func (e *Engine) normalise(s string) string {
	if s == "" {
		return ""
	}
	if _, ok := e.oauthErrors[s]; ok {
		return s
	}
	return rules.OtherOAuthError
}

func (e *Engine) lookup(source string, ev *Event) *rules.Rule {
	idx := e.index[source]
	if idx == nil {
		return nil
	}
	if ev.Code != "" {
		if r := first(idx[byCode][ev.Code], ev); r != nil {
			return r
		}
	}
	if ev.Error != "" {
		if r := first(idx[byError][ev.Error], ev); r != nil {
			return r
		}
	}
	if ev.Type != "" {
		if r := first(idx[byType][ev.Type], ev); r != nil {
			return r
		}
	}
	return nil
}

func first(candidates []*rules.Rule, ev *Event) *rules.Rule {
	for _, r := range candidates {
		if matches(&r.Match, ev) {
			return r
		}
	}
	return nil
}

func matches(m *rules.Match, ev *Event) bool {
	return oneOf(m.Type, ev.Type) && oneOf(m.Error, ev.Error) && oneOf(m.Code, ev.Code) &&
		oneOf(m.Context, ev.Context) && oneOf(m.GrantType, ev.GrantType) &&
		oneOf(m.Endpoint, ev.Endpoint) &&
		(m.Status == 0 || m.Status == ev.Status) &&
		(m.Reason == "" || m.Reason == ev.Reason) &&
		containsAny(m.ReasonContains, ev.Reason) &&
		(m.ReasonRE == nil || m.ReasonRE.MatchString(ev.Reason)) &&
		(m.Debug == "" || m.Debug == ev.Debug) &&
		containsAny(m.DebugContains, ev.Debug)
}

// oneOf: an empty list is no condition.
func oneOf(list rules.StringList, s string) bool {
	if len(list) == 0 {
		return true
	}
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func containsAny(list rules.StringList, s string) bool {
	if len(list) == 0 {
		return true
	}
	for _, v := range list {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}
