package redact

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	r := New([]byte("k"))
	secrets := []struct{ in, secret string }{
		{"POST /token code=SplxlOBeZQQYbYS6WxSbIA&grant_type=authorization_code", "SplxlOBeZQQYbYS6WxSbIA"},
		{`{"refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA","x":1}`, "tGzv3JOkF0XG5Qx2TlKWIA"},
		{"client_secret=s3cr3t-value&client_id=web", "s3cr3t-value"},
		{"Authorization: Bearer mF_9.B5f-4.1JqM", "mF_9.B5f-4.1JqM"},
		{"Authorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW", "czZCaGRSa3F0MzpnWDFmQmF0M2JW"},
		{"token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl used", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"},
		{"Code '0b3c4a47-8f1e' already used for userSession 'd1'", "0b3c4a47-8f1e"},
		{"client_assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhIn0.sig&x=1", "eyJhbGciOiJSUzI1NiJ9"},
		{"code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
	}
	for _, s := range secrets {
		out := r.Redact(s.in)
		if strings.Contains(out, s.secret) {
			t.Errorf("secret survived: %q -> %q", s.in, out)
		}
		if !strings.Contains(out, "<redacted:") {
			t.Errorf("no redaction mark: %q", out)
		}
	}
	// Same secret, same hash: mentions can still be matched.
	if a, b := r.Redact("code=abc123456"), r.Redact("x code=abc123456"); !strings.HasSuffix(b, strings.TrimPrefix(a, "")) {
		t.Errorf("hashes differ: %q %q", a, b)
	}
	// Text without secrets is untouched.
	for _, s := range []string{"The authorization code has already been used.", "Token is not active", "redirect_uri did not match", "a Bearer challenge without error"} {
		if got := r.Redact(s); got != s {
			t.Errorf("changed clean text %q -> %q", s, got)
		}
	}
}

func TestRedactMore(t *testing.T) {
	r := New([]byte("k"))
	cases := []struct{ in, secret string }{
		{`client_secret="s3cr3t value", grant_type="client_credentials"`, "s3cr3t value"},
		{`{"password": "hunter22"}`, "hunter22"},
		{`type=CODE_TO_TOKEN_ERROR, code_id=abc`, ""},
		{`GET /cb?state=xyz&Code=AbC123`, "AbC123"},
		{`token=abc.def.ghi`, "abc.def.ghi"},
	}
	for _, c := range cases {
		out := r.Redact(c.in)
		if c.secret == "" {
			if out != c.in {
				t.Errorf("changed %q -> %q", c.in, out)
			}
			continue
		}
		if strings.Contains(out, c.secret) {
			t.Errorf("secret survived: %q -> %q", c.in, out)
		}
	}
	// Redacting twice changes nothing more.
	once := r.Redact("code=abc123456&refresh_token=zzz")
	if twice := r.Redact(once); twice != once {
		t.Errorf("not idempotent: %q -> %q", once, twice)
	}
}

func BenchmarkRedact(b *testing.B) {
	r := New([]byte("k"))
	line := `2024-05-14 09:12:01,124 WARN  [org.keycloak.events] (executor-thread-7) type="CODE_TO_TOKEN_ERROR", realmId="8f1c2a8e-2b7c-4b61-9d2f-0c1b2d3e4f50", realmName="prod", clientId="web-shop", userId="null", ipAddress="10.1.2.3", error="pkce_verification_failed", reason="Code mismatch", grant_type="authorization_code", code_id="d1e2f3a4-1111-2222-3333-444455556666"`
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = r.Redact(line)
	}
}

// TestRedactProxyBodies: a reverse proxy's access log carries the token
// request's form body and the response body as a JSON string (nginx
// escape=json), where quotes are escaped.
func TestRedactProxyBodies(t *testing.T) {
	r := New([]byte("k"))
	cases := []struct{ in, secret string }{
		{`"request_body":"grant_type=refresh_token&refresh_token=ChlldzNvamg2ZGtieXFr&client_id=kubernetes&client_secret=a3ViZXJuZXRlcy1zZWNyZXQ"`, "ChlldzNvamg2ZGtieXFr"},
		{`"request_body":"grant_type=refresh_token&refresh_token=ChlldzNvamg2ZGtieXFr&client_id=kubernetes&client_secret=a3ViZXJuZXRlcy1zZWNyZXQ"`, "a3ViZXJuZXRlcy1zZWNyZXQ"},
		{`"request_body":"code=vbnm4kq2c7yq3xrp5w6ta2hzd&grant_type=authorization_code"`, "vbnm4kq2c7yq3xrp5w6ta2hzd"},
		{`"resp_body":"{\"access_token\":\"SlAV32hkKGopaque\",\"token_type\":\"bearer\"}"`, "SlAV32hkKGopaque"},
		{`"resp_body":"{\"refresh_token\":\"Chl6cGx3b2Rma2Zt\",\"expires_in\":86399}"`, "Chl6cGx3b2Rma2Zt"},
		{`"resp_body":"{\"refresh_token\": \"Chl6cGx3b2Rma2Zt\"}"`, "Chl6cGx3b2Rma2Zt"},
		{`"request":"GET /oauth2/callback?code=c4a38db7df8d4f09a32b7d7dd0e3c543&state=xyz HTTP/1.1"`, "c4a38db7df8d4f09a32b7d7dd0e3c543"},
	}
	for _, c := range cases {
		out := r.Redact(c.in)
		if strings.Contains(out, c.secret) {
			t.Errorf("secret survived: %q -> %q", c.in, out)
		}
	}
	// error bodies stay readable
	body := `"resp_body":"{\"error\":\"invalid_grant\",\"error_description\":\"Invalid or expired code parameter.\"}"`
	if got := r.Redact(body); got != body {
		t.Errorf("changed an error body: %q", got)
	}
	once := r.Redact(cases[3].in)
	if twice := r.Redact(once); twice != once {
		t.Errorf("not idempotent: %q -> %q", once, twice)
	}
}
