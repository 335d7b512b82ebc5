package classify

import (
	"testing"

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
