package ingest

import (
	"github.com/authsift/authsift/ingest/redact"
	"strings"
	"testing"
)

// TestRedactAuth0Okta: the secrets Auth0 and Okta events can carry do not
// survive in the stored raw line.
func TestRedactAuth0Okta(t *testing.T) {
	r := redact.New([]byte("k"))
	cases := []struct{ in, secret string }{
		// Auth0 masks details.code itself ("****...PDH"); an unmasked one is hashed too.
		{`{"log_id":"1","data":{"type":"feacft","details":{"code":"SplxlOBeZQQYbYS6WxSbIA"}}}`, "SplxlOBeZQQYbYS6WxSbIA"},
		{`{"log_id":"1","data":{"type":"f","details":{"body":{"client_secret":"abc-secret-1","refresh_token":"v1.MjAyNi0xMS0yMw"}}}}`, "abc-secret-1"},
		{`{"log_id":"1","data":{"type":"f","details":{"body":{"refresh_token":"v1.MjAyNi0xMS0yMw"}}}}`, "v1.MjAyNi0xMS0yMw"},
		{`{"log_id":"1","data":{"type":"fsa","details":{"qs":{"id_token_hint":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"}}}}`, "eyJzdWIiOiIxMjMifQ"},
		// Okta: the authentication transaction token in debugData.url.
		{`{"eventType":"app.oauth2.authorize.code","debugContext":{"debugData":{"url":"/login/token/redirect?stateToken=02.id.ASDDFJLKF"}}}`, "02.id.ASDDFJLKF"},
		{`{"eventType":"user.session.start","debugContext":{"debugData":{"url":"/login/sessionCookieRedirect?sessionToken=20111Qx8tNnwY&redirectUrl=x"}}}`, "20111Qx8tNnwY"},
	}
	for _, c := range cases {
		out := r.Redact(c.in)
		if strings.Contains(out, c.secret) {
			t.Errorf("secret survived: %q -> %q", c.in, out)
		}
	}
	// A code Auth0 masked is hashed like any code: the same mask gives the same hash.
	if out := r.Redact(`"details":{"code":"******************************************PDH"}`); !strings.Contains(out, "<redacted:") {
		t.Errorf("masked code not hashed: %q", out)
	}
}
