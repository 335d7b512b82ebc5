package gen

import (
	"hash/fnv"
	"strings"
)

// The generator's Auth0 and Okta traffic: Auth0 tenant log events as a log
// stream delivers them ({"log_id","data"}) and Okta System Log events, with
// the shapes of ingest/testdata/auth0 and ingest/testdata/okta and the texts
// of rules/catalog/auth0.yaml and okta.yaml.

const (
	auth0Tenant = "acme-prod"
	auth0Host   = "acme-prod.eu.auth0.com"
	oktaAS      = "aus3k5m7nPqR9sT1u3v5" // the custom authorization server
)

// saas holds the clients' Auth0 and Okta ids.
type saas struct {
	auth0IDs []string // 32 characters, as Auth0 client ids
	oktaIDs  []string // 0oa + 17 characters, as Okta app ids
	logID    []byte   // scratch for an Auth0 log_id
}

func newSaaS(clients []string) *saas {
	s := &saas{}
	for _, c := range clients {
		s.auth0IDs = append(s.auth0IDs, base62("auth0/"+c, 32))
		s.oktaIDs = append(s.oktaIDs, "0oa"+base62("okta/"+c, 17))
	}
	return s
}

const base62Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// base62 returns n stable base62 characters derived from seed.
func base62(seed string, n int) string {
	b := make([]byte, 0, n)
	h := fnv.New64a()
	h.Write([]byte(seed))
	v := h.Sum64()
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			v = splitmix64(v + uint64(i))
		}
		b = append(b, base62Chars[v%62])
		v /= 62
	}
	return string(b)
}

// auth0Event is one Auth0 log event type with its description.
type auth0Event struct {
	typ, desc string
	user      bool   // the event names a user
	details   string // the details object, "" for {}
	agent     string // user_agent; "" for a browser
}

// oktaEvent is one Okta System Log event.
type oktaEvent struct {
	eventType, display, result, reason string
	user                               bool   // the actor is the user (else the client app)
	grant                              string // debugData.grantType
	uri                                string // debugData.requestUri
	idToken                            bool   // an id token grant event follows (one request, two events)
}

// saasItems are the Auth0 and Okta requests of the normal traffic.
func saasItems() []item {
	const codeGrant = "authorization_code"
	a0 := func(e auth0Event) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.auth0Line(b, c, &e) }
	}
	ok := func(e oktaEvent) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.oktaLine(b, c, &e) }
	}
	const (
		token     = "/oauth2/" + oktaAS + "/v1/token"
		authorize = "/oauth2/" + oktaAS + "/v1/authorize"
		browser   = ""
		server    = "Go-http-client 2.0.0 / Other 0.0.0"
		refresh   = `{"refresh_token":{"access":"offline"}}`
	)
	return []item{
		// Auth0
		{weight: 25, flow: flowLogin, write: a0(auth0Event{typ: "s", desc: "Successful login", user: true, details: `{"prompts":[],"stats":{"loginsCount":17}}`})},
		{weight: 20, flow: flowCode, write: a0(auth0Event{typ: "seacft", desc: "Authorization Code for Access Token", user: true, details: `{"code":"******************************************$code"}`, agent: server})},
		{weight: 20, flow: flowRefresh, write: a0(auth0Event{typ: "sertft", user: true, details: refresh, agent: browser})},
		{weight: 10, flow: flowClient, write: a0(auth0Event{typ: "seccft", desc: "Client Credentials for Access Token", agent: server})},
		{weight: 5, class: "user_credentials_invalid", write: a0(auth0Event{typ: "fp", desc: "Wrong email or password.", user: true,
			details: `{"error":{"message":"Wrong email or password."}}`})},
		{weight: 2, class: "user_credentials_invalid", write: a0(auth0Event{typ: "fu", desc: "Wrong email or password.",
			details: `{"error":{"message":"Wrong email or password."}}`})},
		{weight: 2, class: "code_rejected", write: a0(auth0Event{typ: "feacft", desc: "Invalid authorization code",
			details: `{"code":"******************************************$code"}`, agent: server})},
		{weight: 3, class: "refresh_token_rejected", write: a0(auth0Event{typ: "fertft", desc: "Unknown or invalid refresh token.", user: true, details: refresh})},
		{weight: 1, class: "refresh_token_reused", write: a0(auth0Event{typ: "ferrt", desc: "Unsuccessful Refresh Token exchange, reused refresh token detected",
			user: true, details: `{"familyId":"$family","latestCounter":4,"tokenCounter":2}`})},
		{weight: 1, class: "redirect_uri_unregistered", write: a0(auth0Event{typ: "f", desc: "Callback URL mismatch. $deployed is not in the list of allowed callback URLs",
			details: `{"body":{},"qs":{"client_id":"$client","redirect_uri":"$deployed","response_type":"code","scope":"openid profile"},"error":{"message":"Callback URL mismatch. $deployed is not in the list of allowed callback URLs","payload":{"code":"unauthorized_client","status":403,"name":"CallbackMismatchError"},"type":"callback-url-mismatch"}}`})},
		{weight: 1, class: "client_secret_invalid", write: a0(auth0Event{typ: "feccft", desc: "Unauthorized", agent: server})},
		{weight: 1, class: "access_blocked", write: a0(auth0Event{typ: "limit_wc", desc: "User ($email) attempted 10 consecutive logins unsuccessfully. Brute force protection is enabled for this connection, further attempts are blocked from this IP address for this user."})},
		{weight: 2, class: "interaction_required", write: a0(auth0Event{typ: "fsa", desc: "Login required",
			details: `{"body":{},"qs":{"client_id":"$client","redirect_uri":"$redirect","response_type":"code","response_mode":"web_message","prompt":"none","scope":"openid profile email"},"error":{"message":"Login required","oauthError":"login_required","type":"oauth-authorization"}}`})},
		{weight: 3, write: a0(auth0Event{typ: "sapi", desc: "Update a client", agent: browser,
			details: `{"request":{"method":"patch","path":"/api/v2/clients/$client","query":{},"channel":"https://manage.auth0.com/"},"response":{"statusCode":200}}`})},
		// Okta
		{weight: 20, flow: flowLogin, write: ok(oktaEvent{eventType: "user.session.start", display: "User login to Okta", result: "SUCCESS", user: true, uri: "/idp/idx/identify"})},
		{weight: 15, flow: flowCode, write: ok(oktaEvent{eventType: "app.oauth2.as.token.grant.access_token", display: "OAuth2 access token is granted", result: "SUCCESS",
			grant: codeGrant, uri: token, idToken: true})},
		{weight: 10, flow: flowRefresh, write: ok(oktaEvent{eventType: "app.oauth2.as.token.grant.access_token", display: "OAuth2 access token is granted", result: "SUCCESS",
			grant: "refresh_token", uri: token})},
		{weight: 8, flow: flowClient, write: ok(oktaEvent{eventType: "app.oauth2.as.token.grant.access_token", display: "OAuth2 access token is granted", result: "SUCCESS",
			grant: "client_credentials", uri: token})},
		{weight: 5, class: "user_credentials_invalid", write: ok(oktaEvent{eventType: "user.session.start", display: "User login to Okta", result: "FAILURE",
			reason: "INVALID_CREDENTIALS", user: true, uri: "/idp/idx/challenge/answer"})},
		{weight: 1, class: "access_blocked", write: ok(oktaEvent{eventType: "user.session.start", display: "User login to Okta", result: "FAILURE",
			reason: "LOCKED_OUT", user: true, uri: "/idp/idx/identify"})},
		{weight: 3, class: "refresh_token_rejected", write: ok(oktaEvent{eventType: "app.oauth2.as.token.grant", display: "OAuth2 token grant request", result: "FAILURE",
			reason: "invalid_refresh_token", grant: "refresh_token", uri: token})},
		{weight: 1, class: "refresh_token_reused", write: ok(oktaEvent{eventType: "app.oauth2.as.token.detect_reuse", display: "Refresh token reuse detected", result: "FAILURE",
			grant: "refresh_token", uri: token})},
		{weight: 1, class: "scope_not_allowed", write: ok(oktaEvent{eventType: "app.oauth2.as.authorize.scope_denied", display: "OAuth2 authorization request scope denied",
			result: "FAILURE", user: true, uri: authorize})},
		{weight: 1, class: "client_secret_invalid", write: ok(oktaEvent{eventType: "app.oauth2.invalid_client_credentials", display: "Invalid OAuth2 client credentials",
			result: "FAILURE", uri: token})},
		{weight: 5, write: ok(oktaEvent{eventType: "policy.evaluate_sign_on", display: "Evaluation of sign-on policy", result: "ALLOW",
			reason: "Sign-on policy evaluation resulted in ALLOW", user: true, uri: "/idp/idx/introspect"})},
	}
}

// auth0Line appends a log stream record of client c. In details and the
// description, $code (the tail Auth0 leaves of a masked code), $client,
// $redirect, $deployed, $family and $email are filled in.
func (g *Generator) auth0Line(b []byte, c int, e *auth0Event) []byte {
	user := g.rnd.IntN(numUsers)
	// log_id: 900, the time to the second, then digits (56 in all)
	id := append(g.saas.logID[:0], "900"...)
	y, mo, d := g.now.Date()
	h, mi, s := g.now.Clock()
	for _, v := range [...]int{y / 100, y % 100, int(mo), d, h, mi, s} {
		id = append2(id, v)
	}
	for len(id) < 56 {
		v := g.rnd.Uint64()
		for i := 0; i < 18 && len(id) < 56; i++ {
			id = append(id, byte('0'+v%10))
			v /= 10
		}
	}
	g.saas.logID = id
	g.setKey(id)
	b = append(b, `{"log_id":"`...)
	b = append(b, id...)
	b = append(b, `","data":{"date":"`...)
	b = appendRFC3339Milli(b, g.now)
	b = append(b, `","type":"`...)
	b = append(b, e.typ...)
	b = append(b, `","description":"`...)
	b = g.auth0Fill(b, e.desc, c, user)
	b = append(b, `","connection":"Username-Password-Authentication","connection_id":"con_1a5wCUmAs6VOU17n","client_id":"`...)
	b = append(b, g.saas.auth0IDs[c]...)
	b = append(b, `","client_name":"`...)
	b = append(b, g.clients[c]...)
	b = append(b, `","ip":"`...)
	b = g.appendIP(b, "192.0.2.")
	b = append(b, `","user_agent":"`...)
	if e.agent == "" {
		b = append(b, "Chrome 131.0.0 / Mac OS X 10.15.7"...)
	} else {
		b = append(b, e.agent...)
	}
	b = append(b, `","details":`...)
	if e.details == "" {
		b = append(b, "{}"...)
	} else {
		b = g.auth0Fill(b, e.details, c, user)
	}
	b = append(b, `,"hostname":"`+auth0Host+`","user_id":"`...)
	if e.user {
		b = append(b, "auth0|"...)
		b = appendHexBits(b, splitmix64(uint64(user)), 16)
		b = appendHexBits(b, splitmix64(uint64(user)+1<<40), 8)
	}
	b = append(b, `","user_name":"`...)
	if e.user || e.typ == "fu" || e.typ == "limit_wc" {
		b = g.appendUsername(b, user)
		b = append(b, "@acme.example"...)
	}
	b = append(b, `","tenant_name":"`+auth0Tenant+`","environment_name":"prod-eu-1","log_id":"`...)
	b = append(b, id...)
	return append(b, `"}}`...)
}

// auth0Fill appends s with its $ placeholders filled in.
func (g *Generator) auth0Fill(b []byte, s string, c, user int) []byte {
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			return append(b, s...)
		}
		b = append(b, s[:i]...)
		s = s[i+1:]
		j := 0
		for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
			j++
		}
		switch s[:j] {
		case "code":
			b = g.appendToken(b, 3)
		case "client":
			b = append(b, g.saas.auth0IDs[c]...)
		case "redirect":
			b = appendRedirect(b, g.clients[c], false)
		case "deployed":
			b = appendRedirect(b, g.clients[c], true)
		case "family":
			b = g.appendToken(b, 22)
		case "email":
			b = g.appendUsername(b, user)
			b = append(b, "@acme.example"...)
		default:
			b = append(b, '$')
			b = append(b, s[:j]...)
		}
		s = s[j:]
	}
}

// oktaLine appends a System Log event of client c (and the id token event
// of the same request when e.idToken).
func (g *Generator) oktaLine(b []byte, c int, e *oktaEvent) []byte {
	user := g.rnd.IntN(numUsers)
	txn := g.ids[0][:0]
	txn = g.appendToken(txn, 26)
	g.setKey(txn)
	ip := g.appendIP(g.ids[2][:0], "192.0.2.")
	session := g.ids[1][:0]
	session = append(session, "102"...)
	session = g.appendToken(session, 22)
	b = g.oktaEventLine(b, c, e, e.eventType, e.display, user, txn, ip, session)
	if e.idToken {
		b = append(b, '\n')
		b = g.oktaEventLine(b, c, e, "app.oauth2.as.token.grant.id_token", "OAuth2 id token is granted", user, txn, ip, session)
	}
	return b
}

func (g *Generator) oktaEventLine(b []byte, c int, e *oktaEvent, eventType, display string, user int, txn, ip, session []byte) []byte {
	b = append(b, `{"actor":{"id":"`...)
	if e.user {
		b = g.appendOktaUserID(b, user)
		b = append(b, `","type":"User","alternateId":"`...)
		b = g.appendUsername(b, user)
		b = append(b, `@acme.example","displayName":"`...)
		b = g.appendDisplayName(b, user)
	} else {
		b = append(b, g.saas.oktaIDs[c]...)
		b = append(b, `","type":"PublicClientApp","alternateId":"`...)
		b = append(b, g.saas.oktaIDs[c]...)
		b = append(b, `","displayName":"`...)
		b = append(b, g.clients[c]...)
	}
	b = append(b, `","detailEntry":null},"client":{"userAgent":{"rawUserAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","os":"Mac OS X","browser":"CHROME"},"zone":"null","device":"Computer","id":null,"ipAddress":"`...)
	b = append(b, ip...)
	b = append(b, `","geographicalContext":{"city":"Frankfurt am Main","state":"Hesse","country":"Germany","postalCode":"60313","geolocation":{"lat":50.1109,"lon":8.6821}}},"authenticationContext":{"authenticationProvider":null,"credentialProvider":null,"credentialType":null,"issuer":null,"interface":null,"authenticationStep":0,"externalSessionId":"`...)
	if e.user || e.grant != "client_credentials" {
		b = append(b, session...)
	} else {
		b = append(b, "unknown"...)
	}
	b = append(b, `"},"displayMessage":"`...)
	b = append(b, display...)
	b = append(b, `","eventType":"`...)
	b = append(b, eventType...)
	b = append(b, `","outcome":{"result":"`...)
	b = append(b, e.result...)
	if e.reason == "" {
		b = append(b, `","reason":null},"published":"`...)
	} else {
		b = append(b, `","reason":"`...)
		b = append(b, e.reason...)
		b = append(b, `"},"published":"`...)
	}
	b = appendRFC3339Milli(b, g.now)
	b = append(b, `","securityContext":{"asNumber":64496,"asOrg":"example transit","isp":"example isp","domain":"example.net","isProxy":false},"severity":"`...)
	if e.result == "FAILURE" {
		b = append(b, "WARN"...)
	} else {
		b = append(b, "INFO"...)
	}
	b = append(b, `","debugContext":{"debugData":{`...)
	if e.grant != "" {
		b = append(b, `"grantType":"`...)
		b = append(b, e.grant...)
		b = append(b, `",`...)
	}
	b = append(b, `"requestId":"`...)
	b = append(b, txn...)
	b = append(b, `","requestUri":"`...)
	b = append(b, e.uri...)
	b = append(b, `","url":"`...)
	b = append(b, e.uri...)
	b = append(b, `?"}},"legacyEventType":null,"transaction":{"type":"WEB","id":"`...)
	b = append(b, txn...)
	b = append(b, `","detail":{}},"uuid":"`...)
	b = g.appendUUID(b)
	b = append(b, `","version":"0","request":{"ipChain":[{"ip":"`...)
	b = append(b, ip...)
	b = append(b, `","version":"V4","source":null}]},"target":[`...)
	if e.user {
		b = append(b, `{"id":"`...)
		b = append(b, g.saas.oktaIDs[c]...)
		b = append(b, `","type":"AppInstance","alternateId":"`...)
		b = append(b, g.clients[c]...)
		b = append(b, `","displayName":"OpenID Connect Client","detailEntry":{"signOnModeType":"OPENID_CONNECT"}},`...)
	}
	return append(b, `{"id":"`+oktaAS+`","type":"AuthorizationServer","alternateId":"https://acme.okta.com/oauth2/`+oktaAS+`","displayName":"default","detailEntry":null}]}`...)
}

// appendOktaUserID appends user's Okta id: 00u and 17 characters.
func (g *Generator) appendOktaUserID(b []byte, user int) []byte {
	b = append(b, "00u"...)
	v := splitmix64(uint64(user) + 7<<40)
	for i := 0; i < 17; i++ {
		if i == 10 {
			v = splitmix64(v)
		}
		b = append(b, base62Chars[v%62])
		v /= 62
	}
	return b
}
