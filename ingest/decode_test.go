package ingest

import (
	"testing"
	"time"

	"github.com/authsift/authsift/classify"
)

// want is the subset of an event a decoder test checks; empty fields are not checked.
type want struct {
	source, outcome, typ, err, code, reason, debug, grant, endpoint, client, session, thread, hint, ip, user string
	status                                                                                                   int
}

func check(t *testing.T, ev *classify.Event, w want) {
	t.Helper()
	pairs := []struct{ name, got, want string }{
		{"source", ev.Source, w.source}, {"outcome", ev.Outcome.String(), w.outcome}, {"type", ev.Type, w.typ},
		{"error", ev.Error, w.err}, {"code", ev.Code, w.code}, {"reason", ev.Reason, w.reason}, {"debug", ev.Debug, w.debug},
		{"grant_type", ev.GrantType, w.grant}, {"endpoint", ev.Endpoint, w.endpoint}, {"client", ev.ClientID, w.client},
		{"session", ev.SessionID, w.session}, {"thread", ev.Thread, w.thread}, {"hint", ev.Hint, w.hint}, {"ip", ev.IP, w.ip},
		{"user", ev.UserID, w.user},
	}
	for _, p := range pairs {
		if p.want != "" && p.got != p.want {
			t.Errorf("%s = %q, want %q", p.name, p.got, p.want)
		}
	}
	if w.status != 0 && ev.Status != w.status {
		t.Errorf("status = %d, want %d", ev.Status, w.status)
	}
}

func TestDecode(t *testing.T) {
	cases := []decodeCase{
		{"keycloak <=23 console, single quotes with nested quotes",
			`2023-06-01 10:15:02,811 WARN  [org.keycloak.events] (executor-thread-12) type=CODE_TO_TOKEN_ERROR, realmId=demo, clientId=web, userId=null, ipAddress=10.0.0.5, error=invalid_redirect_uri, reason='Parameter 'redirect_uri' did not match originally saved redirect URI used in initial OIDC request. Saved redirectUri: https://a/cb, redirectUri parameter: https://a/cb/', grant_type=authorization_code, code_id=5f2d, client_auth_method=client-secret`,
			[]want{{source: "keycloak", outcome: "failure", typ: "CODE_TO_TOKEN_ERROR", err: "invalid_redirect_uri",
				reason: "Parameter 'redirect_uri' did not match originally saved redirect URI used in initial OIDC request. Saved redirectUri: https://a/cb, redirectUri parameter: https://a/cb/",
				grant:  "authorization_code", endpoint: "token", client: "web", session: "5f2d", thread: "executor-thread-12", ip: "10.0.0.5"}}},
		{"keycloak >=24 double quotes with escapes",
			`2024-05-14 09:12:01,124 WARN  [org.keycloak.events] (executor-thread-7) type="REFRESH_TOKEN_ERROR", realmId="r1", realmName="master", clientId="muximux", userId="u1", sessionId="s1", ipAddress="192.168.64.1", error="invalid_token", reason="say \"hi\", then go", grant_type="refresh_token"`,
			[]want{{source: "keycloak", outcome: "failure", typ: "REFRESH_TOKEN_ERROR", err: "invalid_token", reason: `say "hi", then go`,
				grant: "refresh_token", endpoint: "token", client: "muximux", session: "s1", user: "u1"}}},
		{"keycloak success",
			`2024-05-14 09:12:01,124 INFO  [org.keycloak.events] (executor-thread-7) type="CODE_TO_TOKEN", realmId="r1", clientId="web", userId="u1", sessionId="s1", ipAddress="10.0.0.1"`,
			[]want{{source: "keycloak", outcome: "success", typ: "CODE_TO_TOKEN", endpoint: "token"}}},
		{"keycloak non-operation event is ignored",
			`2024-05-14 09:12:01,124 INFO  [org.keycloak.events] (executor-thread-7) type="USER_INFO_REQUEST", realmId="r1", clientId="web"`,
			nil},
		{"keycloak OAuth2CodeParser already used",
			`2024-05-14 09:12:01,120 WARN  [org.keycloak.protocol.oidc.utils.OAuth2CodeParser] (executor-thread-7) Code '0b3c4a47-8f1e-4a4d-9bb6-5c0b1f6e2f10' already used for userSession 'd1e2f3a4' and client '3c0d6c4e'.`,
			[]want{{source: "keycloak", outcome: "context", hint: "code_already_used", session: "d1e2f3a4", thread: "executor-thread-7"}}},
		{"keycloak OAuth2CodeParser invalid format",
			`2024-05-14 09:12:01,120 WARN  [org.keycloak.protocol.oidc.utils.OAuth2CodeParser] (executor-thread-2) Invalid format of the code`,
			[]want{{source: "keycloak", outcome: "context", hint: "code_malformed", thread: "executor-thread-2"}}},
		{"keycloak quarkus JSON record",
			`{"timestamp":"2024-05-14T09:12:01.124Z","sequence":8861,"loggerClassName":"org.jboss.logging.Logger","loggerName":"org.keycloak.events","level":"WARN","message":"type=\"LOGIN_ERROR\", realmId=\"r1\", clientId=\"web\", userId=\"null\", ipAddress=\"10.1.1.1\", error=\"invalid_user_credentials\", auth_method=\"openid-connect\"","threadName":"executor-thread-1","threadId":23,"mdc":{},"ndc":"","hostName":"kc-0","processName":"QuarkusEntryPoint","processId":1}`,
			[]want{{source: "keycloak", outcome: "failure", typ: "LOGIN_ERROR", err: "invalid_user_credentials", endpoint: "authorize", thread: "executor-thread-1", client: "web"}}},
		{"keycloak kafka plugin record",
			`{"id":"e1","time":1596621346453,"type":"CODE_TO_TOKEN_ERROR","realmId":"r1","clientId":"web","userId":null,"sessionId":null,"ipAddress":"10.0.0.9","error":"invalid_code","details":{"grant_type":"authorization_code","code_id":"c1"}}`,
			[]want{{source: "keycloak", outcome: "failure", typ: "CODE_TO_TOKEN_ERROR", err: "invalid_code", grant: "authorization_code", session: "c1", client: "web"}}},
		{"hydra error record",
			`{"audience":"application","error":{"debug":"","message":"invalid_grant","reason":"The authorization code has already been used.","status":"Bad Request","status_code":400},"http_request":{"headers":{},"host":"127.0.0.1:4444","method":"POST","path":"/oauth2/token","query":null,"remote":"127.0.0.1:55744","scheme":"http"},"level":"error","msg":"An error occurred","service_name":"Ory Hydra","time":"2024-03-01T10:00:00Z"}`,
			[]want{{source: "hydra", outcome: "failure", err: "invalid_grant", reason: "The authorization code has already been used.", endpoint: "token", status: 400, ip: "127.0.0.1"}}},
		{"hydra request log of a failed request is context",
			`{"http_request":{"path":"/oauth2/token","remote":"127.0.0.1:1"},"http_response":{"status":400},"level":"info","msg":"completed handling request"}`,
			[]want{{source: "hydra", outcome: "context", endpoint: "token", status: 400}}},
		{"hydra token issued is a success",
			`{"http_request":{"path":"/oauth2/token","remote":"127.0.0.1:1"},"http_response":{"status":200},"level":"info","msg":"completed handling request"}`,
			[]want{{source: "hydra", outcome: "success", endpoint: "token", status: 200}}},
		{"hydra health check is ignored",
			`{"http_request":{"path":"/health/ready"},"http_response":{"status":200},"level":"info","msg":"completed handling request"}`,
			nil},
		{"hydra v2 text format (Go maps, derived from logrusx's text formatter)",
			`time=2024-03-01T10:00:00Z level=info msg=access denied audience=application error=map[debug: message:invalid_grant reason:The authorization code has already been used. status:Bad Request status_code:400] http_request=map[headers:map[accept:application/json] host:127.0.0.1:4444 method:POST path:/oauth2/token query:<nil> remote:10.0.0.7:55744 scheme:http] service_name=Ory Hydra service_version=v2.2.0`,
			[]want{{source: "hydra", outcome: "failure", err: "invalid_grant", reason: "The authorization code has already been used.", endpoint: "token", status: 400, ip: "10.0.0.7"}}},
		{"hydra v1 logfmt",
			`time="2019-01-01T00:00:00Z" level=error msg="An error occurred" debug="session subject is empty." description="The authorization server encountered an unexpected condition" error=server_error`,
			[]want{{source: "hydra", outcome: "failure", err: "server_error", reason: "The authorization server encountered an unexpected condition", debug: "session subject is empty."}}},
		{"kratos record is not hydra",
			`{"error":{"message":"invalid_grant"},"msg":"An error occurred","service_name":"Ory Kratos","http_request":{"path":"/self-service/login"}}`,
			nil},
		{"entra token error body",
			`{"error":"invalid_grant","error_description":"AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2023-10-01 06:31:41Z","error_codes":[70008],"timestamp":"2023-10-01 06:31:41Z","trace_id":"1","correlation_id":"2"}`,
			[]want{{source: "entra", outcome: "failure", typ: "token_error", err: "invalid_grant", code: "70008",
				reason: "The provided authorization code or refresh token has expired due to inactivity.", endpoint: "token"}}},
		{"entra event hubs envelope, one event per record",
			`{"records":[{"time":"2024-01-01T00:00:00Z","category":"SignInLogs","resultType":"50126","resultDescription":"Invalid username or password.","callerIpAddress":"1.2.3.4","properties":{"appId":"app1","userId":"u1","status":{"errorCode":50126}}},{"time":"2024-01-01T00:00:01Z","category":"NonInteractiveUserSignInLogs","resultType":"0","properties":{"appId":"app2"}}]}`,
			[]want{
				{source: "entra", outcome: "failure", typ: "SignInLogs", code: "50126", reason: "Invalid username or password.", client: "app1", ip: "1.2.3.4", user: "u1"},
				{source: "entra", outcome: "success", typ: "NonInteractiveUserSignInLogs", client: "app2"}}},
		{"generic RFC 6749 error object",
			`{"time":"2024-01-01T00:00:00Z","endpoint":"/oauth2/token","status":400,"client_id":"web","grant_type":"authorization_code","error":"invalid_grant","error_description":"The authorization code is invalid or has expired."}`,
			[]want{{source: "generic", outcome: "failure", err: "invalid_grant", endpoint: "token", status: 400, client: "web", grant: "authorization_code"}}},
		{"generic RFC 6750 header",
			`HTTP/1.1 401 Unauthorized WWW-Authenticate: Bearer realm="example", error="invalid_token", error_description="The access token expired"`,
			[]want{{source: "generic", outcome: "failure", err: "invalid_token", reason: "The access token expired", endpoint: "resource", status: 401}}},
		{"generic redirect Location",
			`HTTP/1.1 302 Found Location: https://localhost/myapp/?error=invalid_request&error_description=AADSTS90014%3a+The+request+body+must+contain+the+following+parameter%3a+%27response_type%27.&state=D79E5777`,
			[]want{{source: "generic", outcome: "failure", err: "invalid_request", endpoint: "authorize", reason: "AADSTS90014: The request body must contain the following parameter: 'response_type'."}}},
		{"docker json-file envelope around a keycloak line",
			`{"log":"2024-05-14 09:12:01,124 WARN  [org.keycloak.events] (executor-thread-7) type=CODE_TO_TOKEN_ERROR, realmId=r1, clientId=web, userId=null, ipAddress=10.0.0.5, error=invalid_code_verifier, reason='Invalid code verifier', grant_type=authorization_code\n","stream":"stdout","time":"2024-05-14T09:12:01.124Z"}`,
			[]want{{source: "keycloak", outcome: "failure", err: "invalid_code_verifier", reason: "Invalid code verifier", thread: "executor-thread-7"}}},
		{"syslog prefix with brackets before the logger",
			`May 14 09:12:01 kc1 kc.sh[1234]: 2024-05-14 09:12:01,124 WARN  [org.keycloak.events] (executor-thread-7) type=LOGIN_ERROR, realmId=r1, clientId=web, userId=null, ipAddress=10.0.0.5, error=user_not_found`,
			[]want{{source: "keycloak", outcome: "failure", err: "user_not_found", thread: "executor-thread-7"}}},
		{"unrelated text is ignored", `2024-05-14 09:00:00,000 INFO  [io.quarkus] (main) Keycloak started`, nil},
		{"truncated JSON of ours is malformed", `{"error":"invalid_gr`, []want{{outcome: "malformed"}}},
		{"unterminated quote is malformed",
			`2024-05-14 09:12:01,124 WARN  [org.keycloak.events] (t) type="LOGIN_ERROR", realmId="r1", error="oops`,
			[]want{{source: "keycloak", outcome: "malformed"}}},
	}
	runDecodeCases(t, cases)
}

// decodeCase is a line and the events it must decode to.
type decodeCase struct {
	name string
	line string
	want []want
}

// runDecodeCases decodes each case's line with source detection and checks
// its events.
func runDecodeCases(t *testing.T, cases []decodeCase) {
	t.Helper()
	d, err := NewDecoder(FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
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

func TestPinnedFormat(t *testing.T) {
	d, _ := NewDecoder("hydra")
	if evs := d.Decode([]byte(`{"error":"invalid_grant","error_description":"x"}`)); len(evs) != 0 {
		t.Fatalf("a generic line decoded under --format hydra: %+v", evs)
	}
	if _, err := NewDecoder("nginx"); err == nil {
		t.Fatal("unknown format accepted")
	}
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{
		"2026-11-23T09:00:00Z", "2026-11-23T09:00:00.1Z", "2026-11-23T09:00:00.123456789Z", "2024-02-29T23:59:59.5Z",
		"2024-03-01T10:00:00+02:00", "2024-05-14 09:12:01,124", "2013-12-31 06:31:41Z", "1596621346453",
	} {
		got := parseTime(s)
		if got.IsZero() {
			t.Errorf("%q did not parse", s)
			continue
		}
		if want, err := time.Parse(time.RFC3339Nano, s); err == nil && !got.Equal(want) {
			t.Errorf("%q: fast path gave %v, time.Parse %v", s, got, want)
		}
	}
	for _, s := range []string{"", "2026-13-23T09:00:00Z", "2026-11-23T09:00:00.Z", "not a time", "2026-11-23T09:00:00.1234567890Z"} {
		if got := parseTime(s); !got.IsZero() && s != "2026-11-23T09:00:00.1234567890Z" {
			t.Errorf("%q parsed as %v", s, got)
		}
	}
}
