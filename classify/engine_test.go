package classify

import (
	"fmt"
	"testing"
	"time"

	"github.com/authsift/authsift/rules"
)

// testCatalog is the default classes with the rules given, and no others.
func testCatalog(t testing.TB, ruleYAML string) *rules.Catalog {
	t.Helper()
	files, err := rules.DefaultFiles()
	if err != nil {
		t.Fatal(err)
	}
	var keep []rules.File
	for _, f := range files {
		if f.Name == "rules/catalog/classes.yaml" {
			keep = append(keep, f)
		}
	}
	keep = append(keep, rules.File{Name: "test.yaml", Data: []byte(ruleYAML)})
	cat, err := rules.Parse(keep...)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

const engineRules = `
rules:
  - id: keycloak.code.plain
    source: keycloak
    class: code_rejected
    oauth_error: invalid_grant
    correlate: code
    match: {type: CODE_TO_TOKEN_ERROR, error: invalid_code}
    ref: t
  - id: keycloak.code.reused
    source: keycloak
    class: code_reused
    oauth_error: invalid_grant
    correlate: code
    match: {type: CODE_TO_TOKEN_ERROR, error: invalid_code, context: code_already_used}
    ref: t
  - id: keycloak.refresh.reuse
    source: keycloak
    class: refresh_token_reused
    oauth_error: invalid_grant
    correlate: refresh_token
    match: {type: REFRESH_TOKEN_ERROR, error: invalid_token, reason: "Maximum allowed refresh token reuse exceeded"}
    ref: t
  - id: keycloak.code.malformed
    source: keycloak
    class: code_unknown
    oauth_error: invalid_grant
    match: {type: CODE_TO_TOKEN_ERROR, error: invalid_code, context: code_malformed}
    ref: t
  - id: hydra.code.reused
    source: hydra
    class: code_reused
    match: {error: invalid_grant, reason_contains: "already been used"}
    ref: t
  - id: hydra.pkce.malformed
    source: hydra
    class: pkce_verifier_malformed
    match: {error: invalid_grant, reason_regex: "^The PKCE code verifier must (be at least|only)"}
    ref: t
  - id: entra.code.reused
    source: entra
    class: code_reused
    match: {code: "54005"}
    ref: t
  - id: entra.interrupt.kmsi
    source: entra
    normal: the keep-me-signed-in prompt is a step of a normal sign-in
    match: {code: "50140"}
    ref: t
  - id: generic.scope
    source: generic
    class: scope_invalid
    match: {error: invalid_scope}
    ref: t
  - id: generic.by_type
    source: generic
    class: server_error
    match: {type: CRASH}
    ref: t
`

func TestClassify(t *testing.T) {
	e := New(testCatalog(t, engineRules))
	cases := []struct {
		name                            string
		ev                              Event
		outcome                         Outcome
		class, rule, oauthErr, decision string
	}{
		{"more conditions win", Event{Source: "keycloak", Outcome: Failure, Type: "CODE_TO_TOKEN_ERROR", Error: "invalid_code", Context: "code_already_used"},
			Failure, "code_reused", "keycloak.code.reused", "invalid_grant", Correlated},
		{"without context the plain rule", Event{Source: "keycloak", Outcome: Failure, Type: "CODE_TO_TOKEN_ERROR", Error: "invalid_code"},
			Failure, "code_rejected", "keycloak.code.plain", "invalid_grant", Direct},
		{"substring on reason", Event{Source: "hydra", Outcome: Failure, Error: "invalid_grant", Reason: "The authorization code has already been used."},
			Failure, "code_reused", "hydra.code.reused", "invalid_grant", Direct},
		{"regex on reason", Event{Source: "hydra", Outcome: Failure, Error: "invalid_grant", Reason: "The PKCE code verifier must be at least 43 characters."},
			Failure, "pkce_verifier_malformed", "hydra.pkce.malformed", "invalid_grant", Direct},
		{"code index", Event{Source: "entra", Outcome: Failure, Error: "invalid_grant", Code: "54005"},
			Failure, "code_reused", "entra.code.reused", "invalid_grant", Direct},
		{"normal step is not a failure", Event{Source: "entra", Outcome: Failure, Code: "50140"},
			Ignored, "", "entra.interrupt.kmsi", "", Direct},
		{"generic fallback", Event{Source: "hydra", Outcome: Failure, Error: "invalid_scope"},
			Failure, "scope_invalid", "generic.scope", "invalid_scope", Direct},
		{"type index", Event{Source: "generic", Outcome: Failure, Type: "CRASH"},
			Failure, "server_error", "generic.by_type", "", Direct},
		{"unmatched vendor error is unclassified, other", Event{Source: "keycloak", Outcome: Failure, Type: "LOGIN_ERROR", Error: "cookie_not_found"},
			Failure, "unclassified", "", "other", ""},
		{"unmatched wire error keeps it", Event{Source: "hydra", Outcome: Failure, Error: "invalid_grant", Reason: "something new"},
			Failure, "unclassified", "", "invalid_grant", ""},
		{"success passes", Event{Source: "hydra", Outcome: Success}, Success, "", "", "", ""},
		{"context passes", Event{Source: "keycloak", Outcome: Context, Hint: "code_already_used"}, Context, "", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := e.Classify(&c.ev)
			class, rule := "", ""
			if v.Class != nil {
				class = v.Class.ID
			}
			if v.Rule != nil {
				rule = v.Rule.ID
			}
			if v.Outcome != c.outcome || class != c.class || rule != c.rule || v.OAuthError != c.oauthErr || v.Decision != c.decision {
				t.Fatalf("got outcome=%s class=%q rule=%q oauth=%q decision=%q; want %s %q %q %q %q",
					v.Outcome, class, rule, v.OAuthError, v.Decision, c.outcome, c.class, c.rule, c.oauthErr, c.decision)
			}
		})
	}
}

func TestTrackerJoinsContext(t *testing.T) {
	e := New(testCatalog(t, engineRules))
	t0 := time.Date(2024, 5, 14, 9, 0, 0, 0, time.UTC)
	warn := func(session, thread, hint string, at time.Time) *Event {
		return &Event{Source: "keycloak", Outcome: Context, Hint: hint, SessionID: session, Thread: thread, Time: at}
	}
	fail := func(session, thread string, at time.Time) *Event {
		return &Event{Source: "keycloak", Outcome: Failure, Type: "CODE_TO_TOKEN_ERROR", Error: "invalid_code", SessionID: session, Thread: thread, Time: at}
	}
	type step struct {
		ev    *Event
		class string
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"by session, interleaved with another request", []step{
			{warn("s1", "t1", "code_already_used", t0), ""},
			{fail("s2", "t2", t0), "code_rejected"},
			{fail("s1", "t1", t0), "code_reused"},
		}},
		{"by thread when the warning has no session", []step{
			{warn("", "t3", "code_malformed", t0), ""},
			{fail("", "t3", t0), "code_unknown"},
		}},
		{"a hint is used once", []step{
			{warn("s1", "t1", "code_already_used", t0), ""},
			{fail("s1", "t1", t0), "code_reused"},
			{fail("s1", "t1", t0), "code_rejected"},
		}},
		{"a stale hint decides nothing", []step{
			{warn("s1", "t1", "code_already_used", t0), ""},
			{fail("s1", "t1", t0.Add(time.Hour)), "code_rejected"},
		}},
		{"failure before its warning (out of order) stays ambiguous", []step{
			{fail("s1", "t1", t0), "code_rejected"},
			{warn("s1", "t1", "code_already_used", t0), ""},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := NewTracker(e, DefaultTrackerConfig())
			for i, s := range c.steps {
				v := tr.Classify(s.ev)
				got := ""
				if v.Class != nil {
					got = v.Class.ID
				}
				if got != s.class {
					t.Fatalf("step %d: class %q, want %q", i, got, s.class)
				}
			}
		})
	}
}

func TestTrackerBounded(t *testing.T) {
	e := New(testCatalog(t, engineRules))
	tr := NewTracker(e, TrackerConfig{Entries: 100, Window: time.Minute})
	for i := 0; i < 100000; i++ {
		tr.Classify(&Event{Source: "keycloak", Outcome: Context, Hint: "code_already_used", SessionID: fmt.Sprint("s", i)})
	}
	if tr.Len() > 100 {
		t.Fatalf("tracker holds %d hints, bound is 100", tr.Len())
	}
	if tr.Evicted() != 100000-100 {
		t.Fatalf("evicted %d, want %d", tr.Evicted(), 100000-100)
	}
	// The newest hints are still there.
	v := tr.Classify(&Event{Source: "keycloak", Outcome: Failure, Type: "CODE_TO_TOKEN_ERROR", Error: "invalid_code", SessionID: "s99999"})
	if v.Class.ID != "code_reused" {
		t.Fatalf("newest hint lost: %s", v.Class.ID)
	}
}

func TestOutcomeNames(t *testing.T) {
	for _, o := range []Outcome{Ignored, Failure, Success, Context, Malformed} {
		back, ok := ParseOutcome(o.String())
		if !ok || back != o {
			t.Fatalf("%v does not round-trip", o)
		}
	}
}
