package ingest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Generator writes realistic mixed-source auth-server log lines: successes,
// failures of many classes, their context lines and unrelated noise, in the
// formats the decoders read. Same seed, same lines.
type Generator struct {
	rnd   *rand.Rand
	now   time.Time
	kinds []genKind
	total int
}

type genKind struct {
	weight int
	write  func(g *Generator, b []byte) []byte
}

var genClients = []string{"web-shop", "mobile-ios", "mobile-android", "billing-api", "partner-portal",
	"grafana", "argo-cd", "backoffice", "spa-dashboard", "cli-tool"}

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed int64) *Generator {
	g := &Generator{
		rnd: rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
	}
	g.kinds = []genKind{
		{30, (*Generator).keycloakSuccess},
		{6, (*Generator).keycloakFailure},
		{3, (*Generator).keycloakCodeReuse},
		{14, (*Generator).hydraSuccess},
		{8, (*Generator).hydraFailure},
		{5, (*Generator).entraTokenError},
		{10, (*Generator).entraSignIn},
		{6, (*Generator).genericError},
		{18, (*Generator).noise},
	}
	for _, k := range g.kinds {
		g.total += k.weight
	}
	return g
}

// Append appends one or more lines (joined by newlines, no trailing one).
func (g *Generator) Append(b []byte) []byte {
	g.now = g.now.Add(time.Duration(g.rnd.IntN(20)) * time.Millisecond)
	n := g.rnd.IntN(g.total)
	for _, k := range g.kinds {
		if n < k.weight {
			return k.write(g, b)
		}
		n -= k.weight
	}
	return b
}

func (g *Generator) pick(list []string) string { return list[g.rnd.IntN(len(list))] }

func (g *Generator) uuid() string {
	a, b := g.rnd.Uint64(), g.rnd.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func (g *Generator) ip() string {
	return fmt.Sprintf("10.%d.%d.%d", g.rnd.IntN(256), g.rnd.IntN(256), 1+g.rnd.IntN(254))
}

func (g *Generator) kcTime() string { return g.now.Format("2006-01-02 15:04:05,000") }
func (g *Generator) thread() string { return fmt.Sprintf("executor-thread-%d", 1+g.rnd.IntN(64)) }

func (g *Generator) keycloakSuccess(b []byte) []byte {
	t := g.pick([]string{"LOGIN", "CODE_TO_TOKEN", "REFRESH_TOKEN", "CODE_TO_TOKEN", "REFRESH_TOKEN"})
	return fmt.Appendf(b, `%s INFO  [org.keycloak.events] (%s) type="%s", realmId="8f1c2a8e-2b7c-4b61-9d2f-0c1b2d3e4f50", realmName="prod", clientId="%s", userId="%s", sessionId="%s", ipAddress="%s", grant_type="authorization_code", code_id="%s", client_auth_method="client-secret"`,
		g.kcTime(), g.thread(), t, g.pick(genClients), g.uuid(), g.uuid(), g.ip(), g.uuid())
}

var genKeycloakFailures = [][2]string{
	{"CODE_TO_TOKEN_ERROR", `error="pkce_verification_failed", reason="Code mismatch", grant_type="authorization_code"`},
	{"CODE_TO_TOKEN_ERROR", `error="invalid_code_verifier", reason="Invalid code verifier", grant_type="authorization_code"`},
	{"CODE_TO_TOKEN_ERROR", `error="invalid_redirect_uri", reason="Parameter 'redirect_uri' did not match originally saved redirect URI used in initial OIDC request. Saved redirectUri: https://app.example.com/cb, redirectUri parameter: https://app.example.com/cb/", grant_type="authorization_code"`},
	{"CODE_TO_TOKEN_ERROR", `error="invalid_client_credentials", grant_type="authorization_code"`},
	{"REFRESH_TOKEN_ERROR", `error="invalid_token", reason="Token is not active", grant_type="refresh_token"`},
	{"REFRESH_TOKEN_ERROR", `error="invalid_token", reason="Session not active", grant_type="refresh_token"`},
	{"LOGIN_ERROR", `error="invalid_user_credentials", auth_method="openid-connect", redirect_uri="https://app.example.com/cb", username="jdoe"`},
	{"LOGIN_ERROR", `error="invalid_redirect_uri", redirect_uri="https://evil.example.net/cb"`},
	{"CLIENT_LOGIN_ERROR", `error="client_not_found", grant_type="client_credentials"`},
}

func (g *Generator) keycloakFailure(b []byte) []byte {
	f := genKeycloakFailures[g.rnd.IntN(len(genKeycloakFailures))]
	return fmt.Appendf(b, `%s WARN  [org.keycloak.events] (%s) type="%s", realmId="8f1c2a8e-2b7c-4b61-9d2f-0c1b2d3e4f50", realmName="prod", clientId="%s", userId="null", ipAddress="%s", %s`,
		g.kcTime(), g.thread(), f[0], g.pick(genClients), g.ip(), f[1])
}

func (g *Generator) keycloakCodeReuse(b []byte) []byte {
	th, session := g.thread(), g.uuid()
	b = fmt.Appendf(b, `%s WARN  [org.keycloak.protocol.oidc.utils.OAuth2CodeParser] (%s) Code '%s' already used for userSession '%s' and client '%s'.`,
		g.kcTime(), th, g.uuid(), session, g.uuid())
	b = append(b, '\n')
	return fmt.Appendf(b, `%s WARN  [org.keycloak.events] (%s) type=CODE_TO_TOKEN_ERROR, realmId=8f1c2a8e-2b7c-4b61-9d2f-0c1b2d3e4f50, clientId=%s, userId=null, ipAddress=%s, error=invalid_code, grant_type=authorization_code, code_id=%s, client_auth_method=client-secret`,
		g.kcTime(), th, g.pick(genClients), g.ip(), session)
}

func (g *Generator) hydraTime() string { return g.now.Format(time.RFC3339Nano) }

func (g *Generator) hydraSuccess(b []byte) []byte {
	return fmt.Appendf(b, `{"http_request":{"headers":{"accept":"application/json","content-type":"application/x-www-form-urlencoded","user-agent":"Go-http-client/1.1"},"host":"hydra.example.com","method":"POST","path":"/oauth2/token","query":null,"remote":"%s:%d","scheme":"https"},"http_response":{"headers":{"cache-control":"no-store","content-type":"application/json;charset=UTF-8"},"size":1420,"status":200,"text_status":"OK","took":%d},"level":"info","msg":"completed handling request","service_name":"Ory Hydra","service_version":"v2.2.0","time":"%s"}`,
		g.ip(), 30000+g.rnd.IntN(30000), 2000000+g.rnd.IntN(9000000), g.hydraTime())
}

var genHydraFailures = [][3]string{
	{"invalid_grant", "The authorization code has already been used.", ""},
	{"invalid_grant", "The PKCE code challenge did not match the code verifier.", ""},
	{"invalid_grant", `The \"redirect_uri\" from this request does not match the one from the authorize request.`, ""},
	{"invalid_grant", "The refresh token was already used.", "Refresh token re-use was detected. All related tokens have been revoked."},
	{"invalid_grant", "The refresh token expired.", ""},
	{"invalid_client", "", "crypto/bcrypt: hashedPassword is not the hash of the given password"},
	{"unauthorized_client", `The OAuth 2.0 Client is not allowed to use authorization grant \"client_credentials\".`, ""},
}

func (g *Generator) hydraFailure(b []byte) []byte {
	f := genHydraFailures[g.rnd.IntN(len(genHydraFailures))]
	status, text := 400, "Bad Request"
	if f[0] == "invalid_client" {
		status, text = 401, "Unauthorized"
	}
	remote := fmt.Sprintf("%s:%d", g.ip(), 30000+g.rnd.IntN(30000))
	b = fmt.Appendf(b, `{"audience":"application","error":{"debug":"%s","message":"%s","reason":"%s","status":"%s","status_code":%d},"http_request":{"headers":{"accept":"application/json","user-agent":"Go-http-client/1.1"},"host":"hydra.example.com","method":"POST","path":"/oauth2/token","query":null,"remote":"%s","scheme":"https"},"level":"error","msg":"An error occurred","service_name":"Ory Hydra","service_version":"v2.2.0","time":"%s"}`,
		f[2], f[0], f[1], text, status, remote, g.hydraTime())
	b = append(b, '\n')
	return fmt.Appendf(b, `{"http_request":{"headers":{"accept":"application/json","user-agent":"Go-http-client/1.1"},"host":"hydra.example.com","method":"POST","path":"/oauth2/token","query":null,"remote":"%s","scheme":"https"},"http_response":{"headers":{"cache-control":"no-store"},"size":250,"status":%d,"text_status":"%s","took":1843210},"level":"info","msg":"completed handling request","service_name":"Ory Hydra","service_version":"v2.2.0","time":"%s"}`,
		remote, status, text, g.hydraTime())
}

var genEntraErrors = [][3]string{
	{"invalid_grant", "54005", "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."},
	{"invalid_client", "7000215", "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'."},
	{"invalid_client", "7000222", "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app."},
	{"invalid_request", "50148", "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE."},
	{"invalid_grant", "700082", "The refresh token has expired due to inactivity. The token was issued on 2026-08-01T09:00:00Z and was inactive for 90.00:00:00."},
}

func (g *Generator) entraTokenError(b []byte) []byte {
	e := genEntraErrors[g.rnd.IntN(len(genEntraErrors))]
	app := g.uuid()
	desc := e[2]
	if strings.Contains(desc, "%s") {
		desc = fmt.Sprintf(desc, app)
	}
	ts := g.now.Format("2006-01-02 15:04:05Z")
	trace, corr := g.uuid(), g.uuid()
	return fmt.Appendf(b, `{"error":"%s","error_description":"AADSTS%s: %s\\r\\nTrace ID: %s\\r\\nCorrelation ID: %s\\r\\nTimestamp: %s","error_codes":[%s],"timestamp":"%s","trace_id":"%s","correlation_id":"%s","error_uri":"https://login.microsoftonline.com/error?code=%s"}`,
		e[0], e[1], desc, trace, corr, ts, e[1], ts, trace, corr, e[1])
}

var genSignIns = [][2]string{
	{"0", ""}, {"0", ""}, {"0", ""}, {"0", ""},
	{"50126", "Error validating credentials due to invalid username or password."},
	{"50053", "Account is locked because user tried to sign in too many times with an incorrect user ID or password."},
	{"53003", "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
	{"65001", "The user or administrator has not consented to use the application."},
}

func (g *Generator) entraSignIn(b []byte) []byte {
	s := genSignIns[g.rnd.IntN(len(genSignIns))]
	errCode := s[0]
	return fmt.Appendf(b, `{"time":"%s","resourceId":"/tenants/72f988bf-86f1-41af-91ab-2d7cd011db47/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"SignInLogs","tenantId":"72f988bf-86f1-41af-91ab-2d7cd011db47","resultType":"%s","resultSignature":"None","resultDescription":"%s","durationMs":0,"callerIpAddress":"%s","correlationId":"%s","identity":"Jane Doe","Level":4,"location":"DE","properties":{"id":"%s","createdDateTime":"%s","userDisplayName":"Jane Doe","userPrincipalName":"jane@contoso.example","userId":"%s","appId":"%s","appDisplayName":"%s","ipAddress":"%s","status":{"errorCode":%s},"clientAppUsed":"Browser","isInteractive":true}}`,
		g.now.Format(time.RFC3339Nano), s[0], s[1], g.ip(), g.uuid(), g.uuid(), g.now.Format(time.RFC3339), g.uuid(), g.uuid(), g.pick(genClients), g.ip(), errCode)
}

var genGeneric = [][2]string{
	{"invalid_scope", "The requested scope is invalid, unknown, or malformed."},
	{"unsupported_grant_type", "The authorization grant type is not supported by the authorization server."},
	{"invalid_grant", "The authorization code is invalid or has expired."},
	{"temporarily_unavailable", "The authorization server is currently unable to handle the request."},
}

func (g *Generator) genericError(b []byte) []byte {
	e := genGeneric[g.rnd.IntN(len(genGeneric))]
	return fmt.Appendf(b, `{"time":"%s","level":"warn","endpoint":"/oauth2/token","status":400,"client_id":"%s","grant_type":"authorization_code","error":"%s","error_description":"%s","trace_id":"%s"}`,
		g.now.Format(time.RFC3339Nano), g.pick(genClients), e[0], e[1], g.uuid())
}

var genNoise = []string{
	`%s INFO  [io.quarkus] (main) Keycloak 24.0.4 on JVM (powered by Quarkus 3.8.4) started in 7.412s. Listening on: http://0.0.0.0:8080`,
	`%s WARN  [org.infinispan.CLUSTER] (jgroups-12,kc-1) ISPN000094: Received new cluster view for channel ISPN: [kc-0|4] (2) [kc-0, kc-1]`,
	`%s INFO  [org.keycloak.services] (executor-thread-3) KC-SERVICES0009: Added user 'admin' to realm 'master'`,
	`%s DEBUG [org.keycloak.transaction.JtaTransactionWrapper] (executor-thread-9) new JtaTransactionWrapper`,
}

func (g *Generator) noise(b []byte) []byte {
	if g.rnd.IntN(2) == 0 {
		return fmt.Appendf(b, `{"http_request":{"headers":{"user-agent":"kube-probe/1.29"},"host":"10.0.0.7:4445","method":"GET","path":"/health/ready","query":null,"remote":"10.0.0.1:41234","scheme":"http"},"http_response":{"status":200,"text_status":"OK","took":210000},"level":"info","msg":"completed handling request","service_name":"Ory Hydra","time":"%s"}`, g.hydraTime())
	}
	return fmt.Appendf(b, g.pick(genNoise), g.kcTime())
}
