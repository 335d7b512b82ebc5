package classify

import (
	"testing"
	"time"

	"github.com/authsift/authsift/rules"
)

// BenchmarkClassify measures the engine alone with the full default catalog
// over a mix of events that hit the index, miss it and fall back to generic.
func BenchmarkClassify(b *testing.B) {
	cat, err := rules.Load()
	if err != nil {
		b.Fatal(err)
	}
	e := New(cat)
	events := []Event{
		{Source: "keycloak", Outcome: Failure, Type: "CODE_TO_TOKEN_ERROR", Error: "invalid_code", Context: "code_already_used"},
		{Source: "keycloak", Outcome: Failure, Type: "REFRESH_TOKEN_ERROR", Error: "invalid_token", Reason: "Token is not active", GrantType: "refresh_token"},
		{Source: "hydra", Outcome: Failure, Error: "invalid_grant", Reason: "The PKCE code challenge did not match the code verifier.", Status: 400, Endpoint: "token"},
		{Source: "hydra", Outcome: Failure, Error: "invalid_grant", Reason: "The refresh token was already used.", Status: 400, Endpoint: "token"},
		{Source: "entra", Outcome: Failure, Type: "token_error", Error: "invalid_client", Code: "7000215", Reason: "Invalid client secret provided."},
		{Source: "entra", Outcome: Failure, Type: "SignInLogs", Code: "50126", Reason: "Error validating credentials due to invalid username or password."},
		{Source: "generic", Outcome: Failure, Error: "invalid_scope", Reason: "The requested scope is invalid.", Endpoint: "token"},
		{Source: "generic", Outcome: Failure, Error: "no_such_error"},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := e.Classify(&events[i%len(events)])
		if v.Outcome == Malformed {
			b.Fatal("impossible")
		}
	}
}

// BenchmarkTracker is BenchmarkClassify's mix through a Tracker, with code
// issuances, redemptions and refresh-token uses feeding the state and
// ambiguous failures reading it: what correlation adds to the engine.
func BenchmarkTracker(b *testing.B) {
	cat, err := rules.Load()
	if err != nil {
		b.Fatal(err)
	}
	tr := NewTracker(New(cat), DefaultTrackerConfig())
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	events := []Event{
		{Source: "keycloak", Outcome: Success, Type: "LOGIN", ClientID: "web", Step: CodeIssued},
		{Source: "keycloak", Outcome: Success, Type: "CODE_TO_TOKEN", ClientID: "web", Step: CodeRedeemed},
		{Source: "keycloak", Outcome: Success, Type: "REFRESH_TOKEN", IP: "10.1.2.3", Step: TokenUsed},
		{Source: "keycloak", Outcome: Failure, Type: "CODE_TO_TOKEN_ERROR", Error: "invalid_code", ClientID: "web"},
		{Source: "keycloak", Outcome: Failure, Type: "REFRESH_TOKEN_ERROR", Error: "invalid_token", IP: "10.1.2.3",
			Reason: "Maximum allowed refresh token reuse exceeded"},
		{Source: "hydra", Outcome: Failure, Error: "invalid_grant", Reason: "The PKCE code challenge did not match the code verifier.", Status: 400, Endpoint: "token"},
		{Source: "entra", Outcome: Failure, Type: "token_error", Error: "invalid_client", Code: "7000215", Reason: "Invalid client secret provided."},
		{Source: "generic", Outcome: Failure, Error: "invalid_scope", Reason: "The requested scope is invalid.", Endpoint: "token"},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &events[i%len(events)]
		// a new code and token every round, seen by every step of the round
		ev.CodeKey, ev.TokenKey = uint64(i/len(events))+1, uint64(i/len(events))+1
		ev.Time = t0.Add(time.Duration(i) * time.Millisecond)
		if v := tr.Classify(ev); v.Outcome == Malformed {
			b.Fatal("impossible")
		}
	}
}
