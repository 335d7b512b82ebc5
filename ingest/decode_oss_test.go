package ingest

import (
	"testing"
)

// TestDecodeOSS: Zitadel, Authentik, Dex, reverse-proxy access logs and
// oauth2-proxy lines decode into the fields the rules match on.
func TestDecodeOSS(t *testing.T) {
	cases := []decodeCase{
		{"zitadel slog text",
			`time=2025-11-03T21:53:02.004Z level=WARN msg="request error" oidc_error.parent="ID=CACHE-d24aD Message=Errors.AuthRequest.NotFound" oidc_error.description=Errors.AuthRequest.NotFound oidc_error.type=invalid_request status_code=400`,
			[]want{{source: "zitadel", outcome: "failure", err: "invalid_request", reason: "Errors.AuthRequest.NotFound", debug: "ID=CACHE-d24aD Message=Errors.AuthRequest.NotFound", endpoint: "token", status: 400}}},
		{"zitadel slog JSON at the authorization endpoint",
			`{"time":"2025-11-03T22:10:38.214Z","level":"WARN","msg":"auth request: not redirecting","oidc_error":{"description":"x","type":"invalid_request","redirect_disabled":true}}`,
			[]want{{source: "zitadel", outcome: "failure", err: "invalid_request", reason: "x", endpoint: "authorize"}}},
		{"zitadel default logger",
			`2025/11/03 21:53:02 ERROR auth request oidc_error.parent="disk I/O error (778)" oidc_error.description="disk I/O error (778)" oidc_error.type=server_error`,
			[]want{{source: "zitadel", outcome: "failure", err: "server_error", endpoint: "authorize"}}},
		{"zitadel OIDC error (logrus text) is context",
			`time="2025-11-03T21:52:45Z" level=warning msg="OIDC error" caller="internal/api/oidc/error.go:23" error="ID=OIDC-ahLi2 Message=Errors.User.Code.Invalid"`,
			[]want{{source: "zitadel", outcome: "context"}}},
		{"zitadel OIDC error (logrus JSON) is context, not a generic error object",
			`{"caller":"internal/api/oidc/error.go:48","error":"ID=OIDC-ahLi2 Message=Errors.User.Code.Invalid","level":"warning","msg":"OIDC error","status_code":400,"time":"2025-11-03T21:52:45Z"}`,
			[]want{{source: "zitadel", outcome: "context", status: 400}}},
		{"authentik token warning",
			`server-1      | {"auth_via": "unauthenticated", "client_id": "grafana", "event": "Invalid client secret", "level": "warning", "logger": "authentik.providers.oauth2.views.token", "request_id": "r1", "timestamp": "2025-02-10T09:00:03.402117"}`,
			[]want{{source: "authentik", outcome: "failure", typ: "Invalid client secret", client: "grafana", endpoint: "token"}}},
		{"authentik debug step is not an event",
			`{"event": "Converting authorization code to access token", "level": "debug", "logger": "authentik.providers.oauth2.views.token", "timestamp": "2025-02-10T09:00:03.402117"}`,
			nil},
		{"authentik token request log",
			`{"event": "/application/o/token/", "level": "info", "logger": "authentik.asgi", "method": "POST", "remote": "10.42.3.17", "status": 200, "timestamp": "2025-02-10T09:00:01.118302"}`,
			[]want{{source: "authentik", outcome: "success", endpoint: "token", status: 200, ip: "10.42.3.17"}}},
		{"authentik configuration error event",
			`{"action": "configuration_error", "context": {"http_request": {"path": "/application/o/token/"}, "message": "Invalid redirect URI used by provider", "redirect_uri": "https://a/cb/"}, "event": "Created Event", "level": "info", "logger": "authentik.events.models", "timestamp": "2025-02-10T09:00:18.502331"}`,
			[]want{{source: "authentik", outcome: "failure", typ: "Invalid redirect URI used by provider", endpoint: "token"}}},
		{"dex slog text",
			`time=2025-06-02T08:01:40.517Z level=INFO msg="invalid client_secret on token request" client_id=grafana request_id=8a9b`,
			[]want{{source: "dex", outcome: "failure", typ: "invalid client_secret on token request", client: "grafana", endpoint: "token"}}},
		{"dex slog JSON",
			`{"time":"2025-06-02T08:02:07.212Z","level":"ERROR","msg":"refresh token claimed twice","token_id":"ew3o","request_id":"0c1d"}`,
			[]want{{source: "dex", outcome: "failure", typ: "refresh token claimed twice", endpoint: "token"}}},
		{"dex logrus message with the client appended",
			`time="2021-09-14T12:05:22Z" level=info msg="invalid client_secret on token request for client: example-app"`,
			[]want{{source: "dex", outcome: "failure", typ: "invalid client_secret on token request", client: "example-app"}}},
		{"dex unrelated message is ignored",
			`time=2025-06-02T08:00:00.240Z level=INFO msg="listening on" server=http address=0.0.0.0:5556`,
			nil},
		{"nginx: error body on /token",
			`{"remote_addr":"10.42.3.17","request":"POST /dex/token HTTP/1.1","status":"400","body_bytes_sent":88,"request_body":"grant_type=authorization_code&client_id=grafana&code=abc","resp_body":"{\"error\":\"invalid_grant\",\"error_description\":\"Invalid or expired code parameter.\"}"}`,
			[]want{{source: "proxy", outcome: "failure", err: "invalid_grant", reason: "Invalid or expired code parameter.", endpoint: "token", status: 400, grant: "authorization_code", client: "grafana", ip: "10.42.3.17"}}},
		{"nginx: an error body on an application path is not an auth event",
			`{"request":"GET /api/orders HTTP/1.1","status":404,"body_bytes_sent":30,"resp_body":"{\"error\":\"not_found\"}"}`,
			nil},
		{"nginx: $time_local and X-Forwarded-For",
			`{"time_local":"02/Jun/2025:08:01:22 +0000","remote_addr":"10.0.0.1","http_x_forwarded_for":"203.0.113.9, 10.0.0.1","request_uri":"/oauth2/token","status":503,"upstream_status":"503"}`,
			[]want{{source: "proxy", outcome: "failure", code: "503", endpoint: "token", status: 503, ip: "203.0.113.9"}}},
		{"envoy: 200 on /token",
			`{"start_time":"2025-06-02T09:10:02.118Z","method":"POST","path":"/oauth2/token","response_code":200,"upstream_cluster":"auth","downstream_remote_address":"10.42.3.17:50112"}`,
			[]want{{source: "proxy", outcome: "success", endpoint: "token", status: 200, ip: "10.42.3.17"}}},
		{"proxy: redirect with an error in Location",
			`{"request":"GET /oauth2/auth?client_id=web HTTP/1.1","status":302,"body_bytes_sent":0,"sent_http_location":"https://app.example.com/cb?error=access_denied&state=x"}`,
			[]want{{source: "proxy", outcome: "failure", err: "access_denied", endpoint: "authorize", status: 302}}},
		{"oauth2-proxy CSRF mismatch",
			`10.42.3.51:58344 - 6f5b - bob@example.com [2025/03/04 10:03:12] [AuthFailure] Invalid authentication via OAuth2: CSRF token mismatch, potential attack`,
			[]want{{source: "oauth2_proxy", outcome: "failure", typ: "csrf_mismatch", user: "bob@example.com", ip: "10.42.3.51"}}},
		{"oauth2-proxy provider error printed by x/oauth2",
			`[2025/03/04 10:05:02] [oauthproxy.go:880] Error redeeming code during OAuth2 callback: token exchange failed: oauth2: "invalid_grant" "Code not valid"`,
			[]want{{source: "oauth2_proxy", outcome: "failure", typ: "redeem_failed", err: "invalid_grant", reason: "Code not valid", endpoint: "token"}}},
		{"oauth2-proxy callback with ?error= belongs to oauth2-proxy, not to the generic URL reader",
			`10.42.3.70:50118 - 8b7d - - [2025/03/04 10:04:20] wiki.example.com GET - "/oauth2/callback?error=access_denied&state=P%3A%2F" HTTP/1.1 "Mozilla/5.0" 403 2804 0.000`,
			[]want{{source: "oauth2_proxy", outcome: "context", status: 403}}},
		{"oauth2-proxy probe is ignored",
			`172.17.0.1 - f773 - - [2023/01/07 07:35:39] 172.17.0.6:4180 GET - "/ping" HTTP/1.1 "kube-probe/1.23" 200 2 0.000`,
			nil},
	}
	runDecodeCases(t, cases)
}

// TestPinnedOSSFormats: a pinned format reads only its own lines.
func TestPinnedOSSFormats(t *testing.T) {
	zitadel := `{"time":"2025-11-03T22:10:04.512Z","level":"WARN","msg":"request error","oidc_error":{"description":"invalid code","type":"invalid_grant"}}`
	for _, f := range []string{"dex", "proxy", "authentik", "oauth2_proxy", "generic"} {
		d, err := NewDecoder(f)
		if err != nil {
			t.Fatal(err)
		}
		if evs := d.Decode([]byte(zitadel)); len(evs) != 0 && evs[0].Source == "zitadel" {
			t.Errorf("--format %s decoded a zitadel record: %+v", f, evs)
		}
	}
	d, _ := NewDecoder("zitadel")
	if evs := d.Decode([]byte(zitadel)); len(evs) != 1 || evs[0].Source != "zitadel" {
		t.Errorf("--format zitadel: %+v", evs)
	}
}

// TestDexLoginSuccessfulNeedsConnector: "login successful" is a common
// phrase; only Dex's line (with its connector) is a Dex success.
func TestDexLoginSuccessfulNeedsConnector(t *testing.T) {
	d, _ := NewDecoder(FormatAuto)
	for _, l := range []string{
		`time=2025-06-02T08:01:12.006Z level=INFO msg="login successful" username=jane`,
		`{"time":"2025-06-02T08:01:12.006Z","level":"INFO","msg":"login successful","user_id":42}`,
	} {
		if evs := d.Decode([]byte(l)); len(evs) != 0 {
			t.Errorf("%s: decoded as %+v", l, evs)
		}
	}
	if evs := d.Decode([]byte(`{"time":"2025-06-02T08:01:12.006Z","level":"INFO","msg":"login successful","connector_id":"ldap","username":"jane"}`)); len(evs) != 1 || evs[0].Source != "dex" {
		t.Errorf("dex JSON login: %+v", evs)
	}
}
