package gen

import (
	"strconv"
)

// Generator traffic of the open-source servers and the proxies in front of
// them: Zitadel (slog text records of zitadel/oidc's op.RequestError),
// Authentik (structlog JSON: the token view's warning, then the request
// log), Dex (slog text) with nginx's JSON access log in front of it (the
// code failures Dex only writes into the response body), an Envoy access
// log, and oauth2-proxy as the relying party. Line shapes are those of
// ingest/testdata/{zitadel,authentik,dex,proxy,oauth2_proxy}.

// ossBaseline is the normal traffic of these sources, appended to the
// baseline.
func ossBaseline() []item {
	zt := func(desc, typ, parent string, status int) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, _ int) []byte { return g.zitadelError(b, desc, typ, parent, status) }
	}
	ak := func(event, extra string, revoked bool) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.authentikFailure(b, c, event, extra, revoked) }
	}
	dx := func(level, msg, kv string) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.dexLine(b, c, level, msg, kv) }
	}
	ng := func(status int, body string) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.nginxToken(b, c, status, body) }
	}
	o2p := func(msg string) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.o2pAuthFailure(b, c, msg) }
	}
	return []item{
		// Zitadel: the OP logs failures only.
		{weight: 3, class: "code_rejected", write: zt("Errors.AuthRequest.NotFound", "invalid_request",
			"ID=CACHE-d24aD Message=Errors.AuthRequest.NotFound Parent=(sql: no rows in result set)", 400)},
		{weight: 1, class: "code_unknown", write: zt("Errors.User.Code.Invalid", "invalid_request",
			"ID=OIDC-ahLi2 Message=Errors.User.Code.Invalid Parent=(crypto: cipher: message authentication failed)", 400)},
		{weight: 2, class: "pkce_verifier_mismatch", write: zt("invalid code challenge", "invalid_grant", "", 400)},
		{weight: 1, class: "redirect_uri_mismatch", write: zt("redirect_uri does not correspond", "invalid_grant", "", 400)},
		{weight: 2, class: "refresh_token_rejected", write: zt("Errors.User.RefreshToken.Invalid", "invalid_request",
			"ID=OIDCS-ef2Gi Message=Errors.User.RefreshToken.Invalid Parent=(invalid_refresh_token)", 400)},
		{weight: 2, class: "client_secret_invalid", write: zt("Errors.Project.App.ClientSecretInvalid", "invalid_client",
			"ID=COMMAND-Bz542 Message=Errors.Project.App.ClientSecretInvalid Parent=(crypto/bcrypt: hashedPassword is not the hash of the given password)", 401)},
		{weight: 1, class: "server_error", write: zt("Errors.Internal", "server_error",
			"ID=OIDC-AhX2u Message=Errors.Internal Parent=(invalid signature (error fetching keys: ID=QUERY-Tha6f Message=Errors.AuthNKey.NotFound Parent=(sql: no rows in result set)))", 500)},
		// Authentik
		{weight: 30, flow: flowCode | flowRefresh | flowClient, write: func(g *Generator, b []byte, c int) []byte {
			g.setKey(g.appendHex(g.ids[0][:0], 32))
			return g.authentikRequestLog(b, 200)
		}},
		{weight: 3, class: "client_secret_invalid", write: ak("Invalid client secret", `"client_id": "$client", `, false)},
		{weight: 2, class: "code_rejected", write: ak("Code does not exist", `"code": "$code", `, false)},
		{weight: 1, class: "code_expired", write: ak("Code is expired", "", false)},
		{weight: 1, class: "pkce_verifier_mismatch", write: ak("Code challenge not matching", "", false)},
		{weight: 2, class: "refresh_token_expired", write: ak("Refresh token is expired", "", false)},
		{weight: 1, class: "refresh_token_reused", write: ak("Refresh token is revoked", "", true)},
		{weight: 1, class: "redirect_uri_mismatch", write: (*Generator).authentikRedirectMismatch},
		{weight: 10, write: func(g *Generator, b []byte, _ int) []byte { return g.authentikTask(b) }},
		// Dex: its own log for what it logs, nginx in front for the rest.
		{weight: 20, flow: flowLogin, write: func(g *Generator, b []byte, c int) []byte {
			return g.dexLine(b, c, "INFO", "login successful", "connector_id=ldap username=$user")
		}},
		{weight: 2, class: "client_secret_invalid", write: dx("INFO", "invalid client_secret on token request", "client_id=$client")},
		{weight: 1, class: "refresh_token_reused", write: dx("ERROR", "refresh token claimed twice", "token_id=$token")},
		{weight: 2, class: "refresh_token_expired", write: dx("ERROR", "refresh token expired due to inactivity", "token_id=$token")},
		{weight: 1, class: "login_session_expired", write: dx("ERROR", "invalid 'state' parameter provided", `err="not found"`)},
		{weight: 25, flow: flowCode | flowClient, write: ng(200, "")},
		{weight: 2, class: "code_rejected", write: ng(400, `{\"error\":\"invalid_grant\",\"error_description\":\"Invalid or expired code parameter.\"}`)},
		{weight: 1, class: "pkce_verifier_mismatch", write: ng(400, `{\"error\":\"invalid_grant\",\"error_description\":\"Invalid code_verifier.\"}`)},
		{weight: 1, class: "redirect_uri_mismatch", write: ng(400, `{\"error\":\"invalid_request\",\"error_description\":\"redirect_uri did not match URI from initial request.\"}`)},
		{weight: 1, class: "server_unavailable", write: ng(502, "")},
		{weight: 10, write: func(g *Generator, b []byte, _ int) []byte { return g.nginxHealth(b) }},
		// Envoy in front of an authorization server that went away.
		{weight: 1, class: "server_unavailable", write: func(g *Generator, b []byte, _ int) []byte { return g.envoyUnavailable(b) }},
		// oauth2-proxy, the relying party.
		{weight: 20, flow: flowLogin, write: (*Generator).o2pSuccess},
		{weight: 2, class: "state_invalid", write: (*Generator).o2pCSRFCookieMissing},
		{weight: 1, class: "state_invalid", write: o2p("CSRF token mismatch, potential attack")},
		{weight: 1, class: "access_blocked", write: o2p("unauthorized")},
		{weight: 1, class: "server_unavailable", write: (*Generator).o2pUnreachable},
		{weight: 10, write: func(g *Generator, b []byte, _ int) []byte { return g.o2pProbe(b) }},
	}
}

// appendOSSValue appends v with $client, $code, $token and $user filled in.
func (g *Generator) appendOSSValue(b []byte, v string, c int) []byte {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != '$' {
			i++
		}
		b = append(b, v[:i]...)
		v = v[i:]
		if len(v) == 0 {
			break
		}
		switch {
		case len(v) >= 7 && v[:7] == "$client":
			b = append(b, g.clients[c]...)
			v = v[7:]
		case len(v) >= 5 && v[:5] == "$code":
			b = g.appendHex(b, 32)
			v = v[5:]
		case len(v) >= 6 && v[:6] == "$token":
			b = g.appendToken(b, 25)
			v = v[6:]
		case len(v) >= 5 && v[:5] == "$user":
			b = g.appendUsername(b, g.rnd.IntN(5000))
			v = v[5:]
		default:
			b = append(b, '$')
			v = v[1:]
		}
	}
	return b
}

// ---------------------------------------------------------------- Zitadel

// zitadelError: op.RequestError's record (slog text); keyed by its time.
func (g *Generator) zitadelError(b []byte, desc, typ, parent string, status int) []byte {
	b = append(b, "time="...)
	start := len(b)
	b = appendRFC3339Milli(b, g.now)
	g.setKey(b[start:])
	if status >= 500 {
		b = append(b, ` level=ERROR msg="request error"`...)
	} else {
		b = append(b, ` level=WARN msg="request error"`...)
	}
	if parent != "" {
		b = append(b, ` oidc_error.parent="`...)
		b = append(b, parent...)
		b = append(b, '"')
	}
	b = append(b, ` oidc_error.description=`...)
	if hasSpace(desc) {
		b = strconv.AppendQuote(b, desc)
	} else {
		b = append(b, desc...)
	}
	b = append(b, ` oidc_error.type=`...)
	b = append(b, typ...)
	b = append(b, ` status_code=`...)
	return strconv.AppendInt(b, int64(status), 10)
}

func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- Authentik

// authentikHead appends the keys every Authentik record starts with.
func (g *Generator) authentikHead(b []byte, auth string) []byte {
	b = append(b, `{"auth_via": "`...)
	b = append(b, auth...)
	return append(b, `", "domain_url": "authentik.example.com", `...)
}

func (g *Generator) authentikTail(b []byte) []byte {
	b = append(b, `, "host": "authentik.example.com", "pid": 41, "request_id": "`...)
	b = append(b, g.key...)
	b = append(b, `", "schema_name": "public", "timestamp": "`...)
	b = appendDateTime(b, g.now, 'T')
	b = append(b, '.')
	b = appendFrac(b, g.now, 6)
	return append(b, `"}`...)
}

// authentikRequestLog: the asgi record of a token request (keyed already).
func (g *Generator) authentikRequestLog(b []byte, status int) []byte {
	b = g.authentikHead(b, "oauth_client_secret")
	b = append(b, `"event": "/application/o/token/", "level": "info", "logger": "authentik.asgi", "method": "POST", "remote": "`...)
	b = g.appendIP(b, "10.42.")
	b = append(b, `", "runtime": `...)
	b = strconv.AppendInt(b, int64(15+g.rnd.IntN(80)), 10)
	b = append(b, `, "scheme": "https", "status": `...)
	b = strconv.AppendInt(b, int64(status), 10)
	return g.authentikTail(b)
}

// authentikFailure: the token view's warning, an Event for a revoked
// refresh token, then the request log of the refused request.
func (g *Generator) authentikFailure(b []byte, c int, event, extra string, revoked bool) []byte {
	g.setKey(g.appendHex(g.ids[0][:0], 32))
	b = g.authentikHead(b, "oauth_client_secret")
	b = g.appendOSSValue(b, extra, c)
	b = append(b, `"event": "`...)
	b = append(b, event...)
	b = append(b, `", "level": "warning", "logger": "authentik.providers.oauth2.views.token"`...)
	b = g.authentikTail(b)
	if revoked {
		b = append(b, '\n')
		b = g.authentikEvent(b, "suspicious_request", "Revoked refresh token was used")
	}
	b = append(b, '\n')
	return g.authentikRequestLog(b, 400)
}

func (g *Generator) authentikEvent(b []byte, action, message string) []byte {
	b = append(b, `{"action": "`...)
	b = append(b, action...)
	b = append(b, `", "auth_via": "oauth_client_secret", "context": {"http_request": {"args": {}, "method": "POST", "path": "/application/o/token/", "request_id": "`...)
	b = append(b, g.key...)
	b = append(b, `"}, "message": "`...)
	b = append(b, message...)
	b = append(b, `"}, "domain_url": "authentik.example.com", "event": "Created Event", "level": "info", "logger": "authentik.events.models"`...)
	return g.authentikTail(b)
}

func (g *Generator) authentikRedirectMismatch(b []byte, c int) []byte {
	g.setKey(g.appendHex(g.ids[0][:0], 32))
	b = g.authentikEvent(b, "configuration_error", "Invalid redirect URI used by provider")
	b = append(b, '\n')
	return g.authentikRequestLog(b, 400)
}

func (g *Generator) authentikTask(b []byte) []byte {
	b = append(b, `{"domain_url": null, "event": "Task published", "level": "info", "logger": "authentik.root.celery", "pid": 63, "schema_name": "public", "task_id": "`...)
	start := len(b)
	b = g.appendHex(b, 32)
	g.setKey(b[start:])
	b = append(b, `", "task_name": "authentik.events.tasks.event_trigger_handler", "timestamp": "`...)
	b = appendDateTime(b, g.now, 'T')
	b = append(b, '.')
	b = appendFrac(b, g.now, 6)
	return append(b, `"}`...)
}

// ---------------------------------------------------------------- Dex and nginx

// dexLine: a Dex slog text record, keyed by its request id.
func (g *Generator) dexLine(b []byte, c int, level, msg, kv string) []byte {
	b = append(b, "time="...)
	b = appendRFC3339Milli(b, g.now)
	b = append(b, " level="...)
	b = append(b, level...)
	b = append(b, ` msg="`...)
	b = append(b, msg...)
	b = append(b, `" `...)
	b = g.appendOSSValue(b, kv, c)
	b = append(b, ` request_id=`...)
	start := len(b)
	b = g.appendUUID(b)
	g.setKey(b[start:])
	return b
}

// nginxToken: nginx's record of a POST to Dex's token endpoint, with the
// response body for refusals.
func (g *Generator) nginxToken(b []byte, c, status int, body string) []byte {
	b = g.nginxHead(b, "POST /dex/token HTTP/1.1", status)
	b = append(b, `,"http_user_agent":"Go-http-client/1.1","request_id":"`...)
	start := len(b)
	b = g.appendHex(b, 32)
	g.setKey(b[start:])
	b = append(b, `","request_body":"grant_type=authorization_code&code=`...)
	b = g.appendToken(b, 25)
	b = append(b, `&client_id=`...)
	b = append(b, g.clients[c]...)
	b = append(b, `","resp_body":"`...)
	switch {
	case body != "":
		b = append(b, body...)
	case status == 200:
		b = append(b, `{\"access_token\":\"`...)
		b = g.appendToken(b, 40)
		b = append(b, `\",\"token_type\":\"bearer\",\"expires_in\":86399}`...)
	}
	return append(b, `"}`...)
}

func (g *Generator) nginxHead(b []byte, request string, status int) []byte {
	b = append(b, `{"time_iso8601":"`...)
	b = appendDateTime(b, g.now, 'T')
	b = append(b, `+00:00","remote_addr":"`...)
	b = g.appendIP(b, "10.42.")
	b = append(b, `","request":"`...)
	b = append(b, request...)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"body_bytes_sent":`...)
	b = strconv.AppendInt(b, int64(20+g.rnd.IntN(1300)), 10)
	b = append(b, `,"upstream_addr":"10.42.1.9:5556","upstream_status":"`...)
	b = strconv.AppendInt(b, int64(status), 10)
	return append(b, '"')
}

func (g *Generator) nginxHealth(b []byte) []byte {
	b = g.nginxHead(b, "GET /dex/healthz HTTP/1.1", 200)
	b = append(b, `,"http_user_agent":"kube-probe/1.30","request_id":"`...)
	start := len(b)
	b = g.appendHex(b, 32)
	g.setKey(b[start:])
	return append(b, `","request_body":"","resp_body":"Health check passed"}`...)
}

// envoyUnavailable: Envoy could not reach the authorization server.
func (g *Generator) envoyUnavailable(b []byte) []byte {
	b = append(b, `{"start_time":"`...)
	b = appendRFC3339Milli(b, g.now)
	b = append(b, `","method":"POST","path":"/oauth2/token","protocol":"HTTP/1.1","response_code":503,"response_flags":"UF,URX","response_code_details":"upstream_reset_before_response_started{connection_failure}","bytes_received":240,"bytes_sent":91,"duration":`...)
	b = strconv.AppendInt(b, int64(20+g.rnd.IntN(80)), 10)
	b = append(b, `,"x_forwarded_for":"`...)
	b = g.appendIP(b, "10.42.")
	b = append(b, `","user_agent":"Go-http-client/1.1","request_id":"`...)
	start := len(b)
	b = g.appendUUID(b)
	g.setKey(b[start:])
	return append(b, `","authority":"auth.example.com","upstream_cluster":"outbound|4444||auth.auth.svc.cluster.local"}`...)
}

// ---------------------------------------------------------------- oauth2-proxy

// o2pPrefix appends "<ip:port> - <request id> - <user> [2006/01/02 15:04:05] "
// and keys the request by its id; user < 0 writes "-".
func (g *Generator) o2pPrefix(b []byte, user int) []byte {
	b = g.appendIP(b, "10.42.")
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(30000+g.rnd.IntN(30000)), 10)
	b = append(b, " - "...)
	start := len(b)
	b = g.appendUUID(b)
	g.setKey(b[start:])
	b = append(b, " - "...)
	if user < 0 {
		b = append(b, '-')
	} else {
		b = g.appendUsername(b, user)
		b = append(b, "@example.com"...)
	}
	b = append(b, " ["...)
	b = appendO2PTime(b, g)
	return append(b, "] "...)
}

// appendO2PTime: 2006/01/02 15:04:05.
func appendO2PTime(b []byte, g *Generator) []byte {
	start := len(b)
	b = appendDateTime(b, g.now, ' ')
	b[start+4], b[start+7] = '/', '/'
	return b
}

// o2pSameRequest appends the prefix of another line of the keyed request.
func (g *Generator) o2pSameRequest(b []byte, ip []byte) []byte {
	b = append(b, ip...)
	b = append(b, " - "...)
	b = append(b, g.key...)
	b = append(b, " - - ["...)
	b = appendO2PTime(b, g)
	return append(b, "] "...)
}

func (g *Generator) o2pCallback(b []byte, c, status int) []byte {
	b = append(b, g.clients[c]...)
	b = append(b, `.example.com GET - "/oauth2/callback?code=`...)
	b = g.appendToken(b, 20)
	b = append(b, `&state=`...)
	b = g.appendToken(b, 16)
	b = append(b, `%3A%2F" HTTP/1.1 "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36" `...)
	b = strconv.AppendInt(b, int64(status), 10)
	return append(b, " 2710 0.004"...)
}

// o2pSuccess: the AuthSuccess line and the callback's request log.
func (g *Generator) o2pSuccess(b []byte, c int) []byte {
	u := g.rnd.IntN(5000)
	start := len(b)
	b = g.o2pPrefix(b, u)
	ipLen := indexByte(b[start:], ' ')
	b = append(b, "[AuthSuccess] Authenticated via OAuth2: Session{email:"...)
	b = g.appendUsername(b, u)
	b = append(b, "@example.com token:true id_token:true refresh_token:true}\n"...)
	b = g.o2pSameRequest(b, b[start:start+ipLen])
	return g.o2pCallback(b, c, 302)
}

// o2pCSRFCookieMissing: the cookie diagnostics (context), the failure, and
// the callback's request log (context).
func (g *Generator) o2pCSRFCookieMissing(b []byte, c int) []byte {
	start := len(b)
	b = g.o2pPrefix(b, -1)
	ipLen := indexByte(b[start:], ' ')
	b = append(b, "[AuthFailure] No cookies were found in OAuth callback.\n"...)
	line := len(b)
	b = g.o2pSameRequest(b, b[start:start+ipLen])
	b = append(b, "[AuthFailure] Invalid authentication via OAuth2: unable to obtain CSRF cookie: http: named cookie not present (state="...)
	b = g.appendToken(b, 16)
	b = append(b, ")\n"...)
	b = g.o2pSameRequest(b, b[line:line+ipLen])
	return g.o2pCallback(b, c, 403)
}

func (g *Generator) o2pAuthFailure(b []byte, _ int, msg string) []byte {
	b = g.o2pPrefix(b, g.rnd.IntN(5000))
	b = append(b, "[AuthFailure] Invalid authentication via OAuth2: "...)
	return append(b, msg...)
}

// o2pUnreachable: the standard logger's line, keyed by its time.
func (g *Generator) o2pUnreachable(b []byte, _ int) []byte {
	b = append(b, '[')
	start := len(b)
	b = appendO2PTime(b, g)
	g.setKey(b[start:])
	return append(b, `] [oauthproxy.go:880] Error redeeming code during OAuth2 callback: token exchange failed: Post "https://sso.example.com/realms/corp/protocol/openid-connect/token": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`...)
}

func (g *Generator) o2pProbe(b []byte) []byte {
	b = g.o2pPrefix(b, -1)
	return append(b, `10.42.1.7:4180 GET - "/ping" HTTP/1.1 "kube-probe/1.30" 200 2 0.000`...)
}

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return len(b)
}
