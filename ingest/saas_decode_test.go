package ingest

import "testing"

// TestDecodeAuth0Okta: the Auth0 and Okta decoders (auth0.go, okta.go) field by field.
func TestDecodeAuth0Okta(t *testing.T) {
	cases := []struct {
		name, format, line string
		want               []want
	}{
		{"auth0 bare Management API object, fertft with failure_reason", "",
			`{"date":"2026-11-23T09:00:01.120Z","type":"fertft","description":"Unsuccessful Refresh Token exchange","client_id":"c1","client_name":"spa","ip":"203.0.113.20","user_id":"auth0|u1","details":{"failure_reason":"session_not_found","refresh_token":{"access":"online","session_id":"S1"}},"hostname":"t.eu.auth0.com","tenant_name":"t","log_id":"900","_id":"900"}`,
			[]want{{source: "auth0", outcome: "failure", typ: "fertft", code: "session_not_found", reason: "Unsuccessful Refresh Token exchange",
				grant: "refresh_token", endpoint: "token", client: "c1", ip: "203.0.113.20", user: "auth0|u1", session: "S1"}}},
		{"auth0 log stream record, /authorize failure: client and redirect from the query, error from the error object", "",
			`{"log_id":"901","data":{"date":"2021-11-03T03:06:05.696Z","type":"f","description":"Callback URL mismatch. http://localhost:3000/callback is not in the list of allowed callback URLs","ip":"81.2.69.143","details":{"qs":{"client_id":"c2","redirect_uri":"http://localhost:3000/callback"},"error":{"message":"m","oauthError":"Callback URL mismatch. long text","payload":{"code":"unauthorized_client"}}},"log_id":"901"}}`,
			[]want{{source: "auth0", outcome: "failure", typ: "f", err: "unauthorized_client", endpoint: "authorize", client: "c2", ip: "81.2.69.143"}}},
		{"auth0 error object with a short oauthError; no description: the error message is the reason", "",
			`{"log_id":"902","data":{"type":"fsa","description":"","client_id":"c3","details":{"error":{"message":"Login required","oauthError":"login_required"}}}}`,
			[]want{{source: "auth0", outcome: "failure", typ: "fsa", err: "login_required", reason: "Login required", client: "c3"}}},
		{"auth0 feccft client authentication error (the schema's spelling) is the debug field", "",
			`{"log_id":"903","data":{"type":"feccft","description":"Unauthorized","client_id":"c4","details":{"client_authentoication_error":"x"}}}`,
			[]want{{source: "auth0", outcome: "failure", typ: "feccft", reason: "Unauthorized", debug: "x", grant: "client_credentials", endpoint: "token", client: "c4"}}},
		{"auth0 inside an EventBridge event", "",
			`{"version":"0","detail-type":"Auth0 log","source":"aws.partner/auth0.com/x/auth0.logs","detail":{"log_id":"904","data":{"type":"seacft","client_id":"c5","details":{"code":"****abc"}}}}`,
			[]want{{source: "auth0", outcome: "success", typ: "seacft", grant: "authorization_code", endpoint: "token", client: "c5"}}},
		{"auth0 management API call is ignored", "", `{"log_id":"905","data":{"type":"sapi","description":"Create a log stream"}}`, nil},
		{"auth0 line under --format okta is not decoded", "okta", `{"log_id":"906","data":{"type":"fp","description":"Wrong email or password."}}`, nil},
		{"auth0 line under --format auth0", "auth0", `{"log_id":"907","data":{"type":"fp","description":"Wrong email or password."}}`,
			[]want{{source: "auth0", outcome: "failure", typ: "fp", reason: "Wrong email or password."}}},
		{"okta token grant failure: a reason code is also the error; client from the actor", "",
			`{"actor":{"id":"0oa1","type":"PublicClientApp"},"client":{"ipAddress":"203.0.113.30"},"debugContext":{"debugData":{"grantType":"refresh_token"}},"eventType":"app.oauth2.as.token.grant","outcome":{"result":"FAILURE","reason":"invalid_refresh_token"},"published":"2026-11-23T09:00:01.120Z","target":[{"id":"aus1","type":"AuthorizationServer"},{"id":"00u1","type":"User","alternateId":"anna@example.com"}],"transaction":{"id":"T1"},"authenticationContext":{"externalSessionId":"X1"},"uuid":"u"}`,
			[]want{{source: "okta", outcome: "failure", typ: "app.oauth2.as.token.grant", err: "invalid_refresh_token", reason: "invalid_refresh_token",
				grant: "refresh_token", endpoint: "token", client: "0oa1", user: "anna@example.com", ip: "203.0.113.30", session: "X1"}}},
		{"okta sign-in failure: user from the actor, client from an AppInstance target; a sentence reason is no error", "",
			`{"actor":{"id":"00u1","type":"User","alternateId":"anna@example.com"},"eventType":"user.authentication.sso","outcome":{"result":"FAILURE","reason":"User is not assigned to this app"},"published":"2026-11-23T09:00:01Z","target":[{"id":"0oa2","type":"AppInstance"}]}`,
			[]want{{source: "okta", outcome: "failure", typ: "user.authentication.sso", reason: "User is not assigned to this app", endpoint: "authorize", client: "0oa2", user: "anna@example.com"}}},
		{"okta reuse detection is a failure whatever outcome.result says", "",
			`{"eventType":"app.oauth2.token.detect_reuse","outcome":{"result":"SUCCESS"},"published":"2022-12-13 15:22:58.759"}`,
			[]want{{source: "okta", outcome: "failure", typ: "app.oauth2.token.detect_reuse", grant: "refresh_token", endpoint: "token"}}},
		{"okta id token grant is not a second success of the request", "",
			`{"eventType":"app.oauth2.as.token.grant.id_token","outcome":{"result":"SUCCESS"},"published":"2026-11-23T09:00:01Z"}`, nil},
		{"okta policy ALLOW is a normal step", "",
			`{"eventType":"policy.evaluate_sign_on","outcome":{"result":"ALLOW","reason":"Sign-on policy evaluation resulted in ALLOW"},"published":"2026-11-23T09:00:01Z"}`, nil},
		{"okta account lock is context", "",
			`{"eventType":"user.account.lock","outcome":{"result":"FAILURE","reason":"LOCKED_OUT"},"published":"2026-11-23T09:00:01Z","actor":{"type":"User","alternateId":"a@example.com"}}`,
			[]want{{source: "okta", outcome: "context", typ: "user.account.lock", user: "a@example.com"}}},
		{"okta event hook: one event per element, a non-object element is malformed", "",
			`{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","data":{"events":[{"eventType":"user.session.start","outcome":{"result":"SUCCESS"},"published":"2026-11-23T09:00:01Z"},7,{"eventType":"user.session.start","outcome":{"result":"FAILURE","reason":"INVALID_CREDENTIALS"},"published":"2026-11-23T09:00:02Z"}]}}`,
			[]want{{source: "okta", outcome: "success"}, {source: "okta", outcome: "malformed"}, {source: "okta", outcome: "failure", err: "INVALID_CREDENTIALS"}}},
		{"okta event hook without a list is malformed", "",
			`{"eventType":"com.okta.event_hook","data":{"events":"x"}}`, []want{{source: "okta", outcome: "malformed"}}},
		{"okta inside an EventBridge event", "",
			`{"version":"0","detail-type":"SystemLog","detail":{"eventType":"app.oauth2.invalid_client_credentials","outcome":{"result":"FAILURE"},"published":"2026-11-23T09:00:01Z"}}`,
			[]want{{source: "okta", outcome: "failure", typ: "app.oauth2.invalid_client_credentials", endpoint: "token"}}},
		{"an object with eventType but no published is not okta", "", `{"eventType":"deploy","status":"ok"}`, nil},
		{"truncated okta JSON is malformed okta", "", `{"eventType":"user.session.start","outcome":{"res`, []want{{source: "okta", outcome: "malformed"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := NewDecoder(c.format)
			if err != nil {
				t.Fatal(err)
			}
			evs := d.Decode([]byte(c.line))
			if len(evs) != len(c.want) {
				t.Fatalf("got %d events, want %d: %+v", len(evs), len(c.want), evs)
			}
			for i := range evs {
				check(t, &evs[i], c.want[i])
			}
		})
	}
}
