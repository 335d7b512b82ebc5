package gen

// shapes holds the line shapes: built per generator, so no package state.
type shapes struct {
	kcLogin, kcCodeToToken, kcRefresh, kcClientLogin                      kcShape
	kcBadPassword, kcUserNotFound, kcPKCEMismatch, kcPKCEMalformed        kcShape
	kcRedirectMismatch, kcSecretInvalid, kcClientSecretRejected           kcShape
	kcCodeExpired, kcRefreshExpired, kcSessionEnded, kcRedirectUnknown    kcShape
	kcClientNotFound, kcDeployedRedirect, kcCodeInvalid, kcRefreshReused  kcShape
	kcRefreshUse, kcRefreshReusedTok                                      kcShape
	hydraCodeReused, hydraPKCE, hydraRedirectMismatch, hydraRefreshReused hydraError
	hydraRefreshExpired, hydraBadSecret, hydraUnknownClient               hydraError
	hydraGrantNotAllowed, hydraServerError                                hydraError
	entraOK, entraBadPassword, entraNoUser, entraLocked, entraCA          entraSignIn
	entraConsent, entraKMSI, entraRedirect                                entraSignIn
	entraSPOK, entraSPBadSecret, entraSPExpired                           entraSignIn
	entraCodeRedeemed, entraBadSecret, entraSecretExpired, entraPKCE      entraError
	entraRefreshInactive, entraRetryable                                  entraError
	gwInvalidScope, gwUnsupportedGrant, gwCodeRejected, gwUnavailable     gwError
	gwServerError, gwRedirectUnregistered, gwRefreshReused, gwBadPassword gwError
}

func newShapes() *shapes {
	const (
		info, warn = "INFO ", "WARN "
		codeGrant  = "authorization_code"
	)
	return &shapes{
		// Keycloak events: field order and strings from ingest/testdata/keycloak and rules/tests/keycloak.yaml.
		kcLogin: kcShape{level: info, typ: "LOGIN", user: true, details: []string{"auth_method", "openid-connect",
			"auth_type", "code", "response_type", "code", "redirect_uri", "$redirect", "consent", "no_consent_required",
			"code_id", "$session", "username", "$username"}},
		kcCodeToToken: kcShape{level: info, typ: "CODE_TO_TOKEN", user: true, session: true, details: []string{
			"token_id", "$uuid", "grant_type", codeGrant, "refresh_token_type", "Refresh", "scope", "openid email profile",
			"refresh_token_id", "$uuid", "code_id", "$session", "client_auth_method", "client-secret"}},
		kcRefresh: kcShape{level: info, typ: "REFRESH_TOKEN", user: true, session: true, details: []string{
			"token_id", "$uuid", "grant_type", "refresh_token", "refresh_token_type", "Refresh", "scope", "openid email profile",
			"refresh_token_id", "$uuid", "updated_refresh_token_id", "$uuid", "client_auth_method", "client-secret"}},
		kcClientLogin: kcShape{level: info, typ: "CLIENT_LOGIN", user: true, details: []string{"token_id", "$uuid",
			"grant_type", "client_credentials", "scope", "profile email", "client_auth_method", "client-secret"}},
		kcBadPassword: kcShape{level: warn, typ: "LOGIN_ERROR", user: true, err: "invalid_user_credentials", details: []string{
			"auth_method", "openid-connect", "auth_type", "code", "redirect_uri", "$redirect", "code_id", "$session", "username", "$username"}},
		kcUserNotFound: kcShape{level: warn, typ: "LOGIN_ERROR", err: "user_not_found", details: []string{
			"auth_method", "openid-connect", "auth_type", "code", "redirect_uri", "$redirect", "code_id", "$session", "username", "$username"}},
		kcPKCEMismatch: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", user: true, session: true, err: "pkce_verification_failed",
			details: []string{"reason", "Code mismatch", "grant_type", codeGrant, "code_id", "$session", "client_auth_method", "client-secret"}},
		kcPKCEMalformed: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", user: true, session: true, err: "invalid_code_verifier",
			details: []string{"reason", "Invalid code verifier", "grant_type", codeGrant, "code_id", "$session", "client_auth_method", "client-secret"}},
		kcRedirectMismatch: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", user: true, session: true, err: "invalid_redirect_uri",
			details: []string{"reason", "$mismatch", "grant_type", codeGrant, "code_id", "$session", "client_auth_method", "client-secret"}},
		kcSecretInvalid: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", err: "invalid_client_credentials",
			details: []string{"grant_type", codeGrant}},
		kcClientSecretRejected: kcShape{level: warn, typ: "CLIENT_LOGIN_ERROR", err: "invalid_client_credentials",
			details: []string{"grant_type", "client_credentials"}},
		kcCodeExpired: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", err: "expired_code",
			details: []string{"grant_type", codeGrant, "code_id", "$session", "client_auth_method", "client-secret"}},
		kcRefreshExpired: kcShape{level: warn, typ: "REFRESH_TOKEN_ERROR", user: true, session: true, err: "invalid_token", details: []string{
			"reason", "Token is not active", "grant_type", "refresh_token", "refresh_token_type", "Refresh", "client_auth_method", "client-secret"}},
		kcSessionEnded: kcShape{level: warn, typ: "REFRESH_TOKEN_ERROR", user: true, session: true, err: "invalid_token", details: []string{
			"reason", "Session not active", "grant_type", "refresh_token", "refresh_token_type", "Refresh", "client_auth_method", "client-secret"}},
		kcRedirectUnknown: kcShape{level: warn, typ: "LOGIN_ERROR", err: "invalid_redirect_uri",
			details: []string{"redirect_uri", "https://login-callback.example.net/cb"}},
		kcClientNotFound: kcShape{level: warn, typ: "CLIENT_LOGIN_ERROR", unknownClient: true, err: "client_not_found",
			details: []string{"grant_type", "client_credentials"}},
		kcDeployedRedirect: kcShape{level: warn, typ: "LOGIN_ERROR", err: "invalid_redirect_uri",
			details: []string{"redirect_uri", "$deployed"}},
		kcCodeInvalid: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", err: "invalid_code",
			details: []string{"grant_type", codeGrant, "code_id", "$session", "client_auth_method", "client-secret"}},
		kcRefreshReused: kcShape{level: warn, typ: "REFRESH_TOKEN_ERROR", user: true, session: true, err: "invalid_token", details: []string{
			"reason", "Maximum allowed refresh token reuse exceeded", "grant_type", "refresh_token", "refresh_token_type", "Refresh",
			"refresh_token_id", "$uuid", "client_auth_method", "client-secret"}},
		// the same, naming a given refresh token ($token): its use, then a second use
		kcRefreshUse: kcShape{level: info, typ: "REFRESH_TOKEN", user: true, session: true, details: []string{
			"token_id", "$uuid", "grant_type", "refresh_token", "refresh_token_type", "Refresh", "scope", "openid email profile",
			"refresh_token_id", "$token", "updated_refresh_token_id", "$uuid", "client_auth_method", "client-secret"}},
		kcRefreshReusedTok: kcShape{level: warn, typ: "REFRESH_TOKEN_ERROR", user: true, session: true, err: "invalid_token", details: []string{
			"reason", "Maximum allowed refresh token reuse exceeded", "grant_type", "refresh_token", "refresh_token_type", "Refresh",
			"refresh_token_id", "$token", "client_auth_method", "client-secret"}},

		// Hydra: fosite's strings (rules/catalog/hydra.yaml), record shapes of ingest/testdata/hydra.
		hydraCodeReused: hydraError{message: "invalid_grant", reason: "The authorization code has already been used.", status: 400},
		hydraPKCE:       hydraError{message: "invalid_grant", reason: "The PKCE code challenge did not match the code verifier.", status: 400},
		hydraRedirectMismatch: hydraError{message: "invalid_grant",
			reason: `The \"redirect_uri\" from this request does not match the one from the authorize request.`, status: 400},
		hydraRefreshReused: hydraError{message: "invalid_grant", reason: "The refresh token was already used.",
			debug: "Refresh token re-use was detected. All related tokens have been revoked.", status: 400},
		hydraRefreshExpired: hydraError{message: "invalid_grant", reason: "The refresh token expired.", status: 400},
		hydraBadSecret: hydraError{message: "invalid_client", debug: "crypto/bcrypt: hashedPassword is not the hash of the given password",
			status: 401},
		hydraUnknownClient: hydraError{message: "invalid_client", debug: "Unable to locate the resource", status: 401},
		hydraGrantNotAllowed: hydraError{message: "unauthorized_client",
			reason: `The OAuth 2.0 Client is not allowed to use authorization grant \"client_credentials\".`, status: 400},
		hydraServerError: hydraError{message: "server_error", status: 500, logged: true,
			debug: "failed to connect to `host=postgres user=hydra database=hydra`: dial error (dial tcp 10.43.0.12:5432: connect: connection refused)"},

		// Entra sign-in records: ingest/testdata/entra and rules/tests/entra.yaml.
		entraOK:          entraSignIn{code: "0"},
		entraBadPassword: entraSignIn{code: "50126", desc: "Error validating credentials due to invalid username or password."},
		entraNoUser:      entraSignIn{code: "50034", desc: "User does not exist in directory. Contact your tenant admin."},
		entraLocked: entraSignIn{code: "50053",
			desc: "Account is locked because user tried to sign in too many times with an incorrect user ID or password."},
		entraCA: entraSignIn{code: "53003", desc: "Access has been blocked due to conditional access policies."},
		entraConsent: entraSignIn{code: "65001",
			desc: "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource."},
		entraKMSI: entraSignIn{code: "50140", desc: "This error occurred due to 'Keep me signed in' interrupt when the user was signing-in."},
		entraRedirect: entraSignIn{code: "50011",
			desc: "The reply address is missing, misconfigured, or does not match reply addresses configured for the application."},
		entraSPOK:        entraSignIn{code: "0"},
		entraSPBadSecret: entraSignIn{code: "7000215", desc: "Invalid client secret provided."},
		entraSPExpired:   entraSignIn{code: "7000222"}, // service-principal records carry no description (ingest/testdata/entra)
		// Entra token error bodies ($app: the client's application id).
		entraCodeRedeemed: entraError{err: "invalid_grant", code: "54005",
			desc: "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."},
		entraBadSecret: entraError{err: "invalid_client", code: "7000215",
			desc: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '$app'."},
		entraSecretExpired: entraError{err: "invalid_client", code: "7000222",
			desc: "The provided client secret keys for app '$app' are expired. Visit the Azure portal to create new keys for your app, or consider using certificate credentials for added security."},
		entraPKCE: entraError{err: "invalid_grant", code: "50148",
			desc: "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE."},
		entraRefreshInactive: entraError{err: "invalid_grant", code: "700082",
			desc: "The refresh token has expired due to inactivity. The token was issued on 2026-08-01T09:00:00.0000000Z and was inactive for 90.00:00:00."},
		entraRetryable: entraError{err: "temporarily_unavailable", code: "50033", desc: "Retryable error has occurred."},

		// The gateway log: rules/tests/generic.yaml.
		gwInvalidScope: gwError{status: 400, grant: codeGrant, err: "invalid_scope",
			desc: "The requested scope is invalid, unknown, or malformed."},
		gwUnsupportedGrant: gwError{status: 400, grant: "urn:ietf:params:oauth:grant-type:device_code", err: "unsupported_grant_type",
			desc: "The authorization grant type is not supported by the authorization server."},
		gwCodeRejected: gwError{status: 400, grant: codeGrant, err: "invalid_grant",
			desc: "The authorization code is invalid or has expired."},
		gwUnavailable: gwError{status: 503, grant: "refresh_token", err: "temporarily_unavailable",
			desc: "The authorization server is currently unable to handle the request due to a temporary overloading or maintenance of the server."},
		gwServerError: gwError{status: 500, grant: codeGrant, err: "server_error", desc: "Internal Server Error"},
		gwRedirectUnregistered: gwError{status: 400, authorize: true, err: "invalid_request",
			desc: "Invalid parameter: redirect_uri"},
		gwRefreshReused: gwError{status: 400, grant: "refresh_token", err: "invalid_grant", desc: "The refresh token was already used."},
		gwBadPassword:   gwError{status: 401, grant: "password", err: "invalid_grant", desc: "Invalid user credentials"},
	}
}

// baseline is the normal traffic: about three successes in four requests
// with a success or failure, the rest noise.
func (s *shapes) baseline() []item {
	kc := func(sh *kcShape) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.kcEvent(b, c, sh, nil, -1, nil) }
	}
	hy := func(e *hydraError) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.hydraToken(b, e, nil) }
	}
	user := func(e *entraSignIn, category string) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.entraUser(b, c, e, category, nil, -1) }
	}
	sp := func(e *entraSignIn) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.entraSP(b, c, e) }
	}
	tok := func(e *entraError) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.entraToken(b, c, e) }
	}
	gw := func(e *gwError) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.gateway(b, c, e, nil, -1) }
	}
	items := []item{
		// Keycloak
		{weight: 90, flow: flowLogin, write: kc(&s.kcLogin)},
		{weight: 90, flow: flowCode, write: kc(&s.kcCodeToToken)},
		{weight: 130, flow: flowRefresh, write: kc(&s.kcRefresh)},
		{weight: 50, flow: flowClient, write: kc(&s.kcClientLogin)},
		{weight: 18, class: "user_credentials_invalid", write: kc(&s.kcBadPassword)},
		{weight: 6, class: "user_credentials_invalid", write: kc(&s.kcUserNotFound)},
		{weight: 4, class: "pkce_verifier_mismatch", write: kc(&s.kcPKCEMismatch)},
		{weight: 2, class: "pkce_verifier_malformed", write: kc(&s.kcPKCEMalformed)},
		{weight: 3, class: "redirect_uri_mismatch", write: kc(&s.kcRedirectMismatch)},
		{weight: 4, class: "client_auth_rejected", write: kc(&s.kcSecretInvalid)},
		{weight: 3, class: "code_expired", write: kc(&s.kcCodeExpired)},
		{weight: 10, class: "refresh_token_expired", write: kc(&s.kcRefreshExpired)},
		{weight: 8, class: "refresh_token_session_ended", write: kc(&s.kcSessionEnded)},
		{weight: 3, class: "redirect_uri_unregistered", write: kc(&s.kcRedirectUnknown)},
		{weight: 2, class: "client_unknown", write: kc(&s.kcClientNotFound)},
		{weight: 4, class: "code_reused", write: func(g *Generator, b []byte, c int) []byte { return g.kcCodeReused(b, c, &s.kcCodeInvalid) }},
		// correlation: a double submit without the warning (the redemption
		// decides), a code redeemed past the lifespan (its LOGIN now, the
		// exchange 70-150 s later), two tabs refreshing one token at once
		{weight: 3, class: "code_reused", write: func(g *Generator, b []byte, c int) []byte { return g.kcCodeDoubleSubmit(b, c) }},
		{weight: 3, flow: flowLogin, write: func(g *Generator, b []byte, c int) []byte { return g.kcLoginSlowExchange(b, c) }},
		{weight: 3, class: "refresh_token_concurrent", write: func(g *Generator, b []byte, c int) []byte { return g.kcRefreshRace(b, c) }},
		{weight: 2, class: "code_unknown", write: func(g *Generator, b []byte, c int) []byte { return g.kcCodeMalformed(b, c, &s.kcCodeInvalid) }},
		{weight: 40, write: func(g *Generator, b []byte, _ int) []byte { return g.kcNoise(b) }},
		// Hydra
		{weight: 100, flow: flowCode | flowRefresh | flowClient, write: func(g *Generator, b []byte, _ int) []byte { return g.hydraTokenOK(b) }},
		{weight: 40, flow: flowLogin, write: (*Generator).hydraAuthorizeOK},
		{weight: 3, class: "code_reused", write: hy(&s.hydraCodeReused)},
		{weight: 3, class: "pkce_verifier_mismatch", write: hy(&s.hydraPKCE)},
		{weight: 2, class: "redirect_uri_mismatch", write: hy(&s.hydraRedirectMismatch)},
		{weight: 2, class: "refresh_token_reused", write: hy(&s.hydraRefreshReused)},
		{weight: 5, class: "refresh_token_expired", write: hy(&s.hydraRefreshExpired)},
		{weight: 4, class: "client_auth_rejected", write: hy(&s.hydraBadSecret)},
		{weight: 2, class: "client_unknown", write: hy(&s.hydraUnknownClient)},
		{weight: 2, class: "grant_type_not_allowed", write: hy(&s.hydraGrantNotAllowed)},
		{weight: 1, class: "server_error", write: hy(&s.hydraServerError)},
		{weight: 2, class: "redirect_uri_unregistered", write: (*Generator).hydraAuthorizeBadRedirect},
		{weight: 3, class: "interaction_required", write: (*Generator).hydraLoginRequired},
		{weight: 60, write: func(g *Generator, b []byte, _ int) []byte { return g.hydraHealth(b) }},
		// Entra
		{weight: 50, flow: flowLogin | flowCode, write: user(&s.entraOK, "SignInLogs")},
		{weight: 40, flow: flowRefresh, write: user(&s.entraOK, "NonInteractiveUserSignInLogs")},
		{weight: 30, flow: flowClient, write: sp(&s.entraSPOK)},
		{weight: 10, class: "user_credentials_invalid", write: user(&s.entraBadPassword, "SignInLogs")},
		{weight: 2, class: "access_blocked", write: user(&s.entraLocked, "SignInLogs")},
		{weight: 4, class: "access_blocked", write: user(&s.entraCA, "SignInLogs")},
		{weight: 2, class: "consent_required", write: user(&s.entraConsent, "SignInLogs")},
		{weight: 5, write: user(&s.entraKMSI, "SignInLogs")}, // a normal interrupt of the sign-in: ignored
		{weight: 2, class: "client_secret_invalid", write: sp(&s.entraSPBadSecret)},
		{weight: 2, class: "code_reused", write: tok(&s.entraCodeRedeemed)},
		{weight: 2, class: "client_secret_invalid", write: tok(&s.entraBadSecret)},
		{weight: 1, class: "client_secret_expired", write: tok(&s.entraSecretExpired)},
		{weight: 2, class: "pkce_verifier_mismatch", write: tok(&s.entraPKCE)},
		{weight: 3, class: "refresh_token_expired", write: tok(&s.entraRefreshInactive)},
		{weight: 1, class: "server_unavailable", write: tok(&s.entraRetryable)},
		// the gateway
		{weight: 50, flow: flowCode | flowRefresh | flowClient, write: (*Generator).gatewayOK},
		{weight: 3, class: "scope_rejected", write: gw(&s.gwInvalidScope)},
		{weight: 2, class: "grant_type_unsupported", write: gw(&s.gwUnsupportedGrant)},
		{weight: 3, class: "code_rejected", write: gw(&s.gwCodeRejected)},
		{weight: 1, class: "server_unavailable", write: gw(&s.gwUnavailable)},
		{weight: 1, class: "server_error", write: gw(&s.gwServerError)},
	}
	// Zitadel, Authentik, Dex, the proxies, oauth2-proxy: oss.go
	return append(items, ossBaseline()...)
}

// scenarios are the incidents; each writes failures of its classes only.
func (s *shapes) scenarios() map[string]*scenario {
	return map[string]*scenario{
		// One client's secret expires: every token request it makes is
		// refused (Keycloak cannot tell an expired secret from a wrong or a
		// missing one: client_auth_rejected), and it retries.
		ScenarioSecretExpiry: {
			name: ScenarioSecretExpiry, classes: []string{"client_secret_expired", "client_auth_rejected", "client_secret_invalid"},
			weight: 60, breaks: flowCode | flowRefresh | flowClient, share: 1,
			write: func(g *Generator, b []byte, c int) []byte {
				switch n := g.rnd.IntN(10); {
				case n < 4:
					return g.kcEvent(b, c, &s.kcClientSecretRejected, nil, -1, nil)
				case n < 6:
					return g.kcEvent(b, c, &s.kcSecretInvalid, nil, -1, nil)
				case n < 9:
					return g.entraSP(b, c, &s.entraSPExpired)
				default:
					return g.entraToken(b, c, &s.entraSecretExpired)
				}
			},
		},
		// A deploy adds a trailing slash to one client's redirect_uri: every
		// sign-in of that client fails at /authorize (or, where the old URI
		// is still sent at /authorize, at the code exchange).
		ScenarioRedirectDeploy: {
			name: ScenarioRedirectDeploy, classes: []string{"redirect_uri_unregistered", "redirect_uri_mismatch"},
			weight: 30, breaks: flowLogin | flowCode, share: 1,
			write: func(g *Generator, b []byte, c int) []byte {
				switch n := g.rnd.IntN(20); {
				case n < 9:
					return g.kcEvent(b, c, &s.kcDeployedRedirect, nil, -1, nil)
				case n < 12:
					return g.kcEvent(b, c, &s.kcRedirectMismatch, nil, -1, nil)
				case n < 17:
					return g.entraUser(b, c, &s.entraRedirect, "SignInLogs", nil, -1)
				default:
					return g.gateway(b, c, &s.gwRedirectUnregistered, nil, -1)
				}
			},
		},
		// The rotated refresh tokens of a few users of one client are
		// replayed from another network (203.0.113.0/24): the servers detect
		// the reuse.
		ScenarioRefreshReplay: {
			name: ScenarioRefreshReplay, classes: []string{"refresh_token_reused"},
			weight: 36, // a sixth more than the other incidents: 3 in 20 of its requests are the victims' own refreshes
			write: func(g *Generator, b []byte, c int) []byte {
				ip := g.appendIP(g.ids[2][:0], "203.0.113.")
				switch v, n := g.rnd.IntN(len(g.victims)), g.rnd.IntN(20); {
				case n < 5:
					return g.hydraToken(b, &s.hydraRefreshReused, ip)
				case n < 8:
					// the victim refreshes as usual; the thief replays that
					// token from another network a little later
					return g.kcVictimRefresh(b, c, v)
				case n < 15:
					sess := appendUUIDBits(g.ids[0][:0], g.victims[v][1], ^g.victims[v][1])
					return g.kcEvent(b, c, &s.kcRefreshReused, ip, int(g.victims[v][0]), sess)
				default:
					return g.gateway(b, c, &s.gwRefreshReused, ip, -1)
				}
			},
		},
		// Bots try a leaked user/password list against one client's sign-in
		// from four addresses (198.51.100.0/24): most user names do not exist.
		ScenarioCredentialStuffing: {
			name: ScenarioCredentialStuffing, classes: []string{"user_credentials_invalid"},
			weight: 80,
			write: func(g *Generator, b []byte, c int) []byte {
				ip := g.stuffers[g.rnd.IntN(len(g.stuffers))]
				switch n := g.rnd.IntN(10); {
				case n < 4:
					return g.kcEvent(b, c, &s.kcUserNotFound, ip, numUsers+g.rnd.IntN(1_000_000), nil)
				case n < 6:
					return g.kcEvent(b, c, &s.kcBadPassword, ip, g.rnd.IntN(numUsers), nil)
				case n < 8:
					return g.entraUser(b, c, &s.entraNoUser, "SignInLogs", ip, numUsers+g.rnd.IntN(1_000_000))
				case n < 9:
					return g.entraUser(b, c, &s.entraBadPassword, "SignInLogs", ip, g.rnd.IntN(numUsers))
				default:
					return g.gateway(b, c, &s.gwBadPassword, ip, numUsers+g.rnd.IntN(1_000_000))
				}
			},
		},
		// The server loses its database: most requests of every client end
		// in server_error or temporarily_unavailable, and clients retry.
		ScenarioServerOutage: {
			name: ScenarioServerOutage, classes: []string{"server_error", "server_unavailable"},
			weight: 40, breaks: flowAll, share: 0.8, all: true,
			write: func(g *Generator, b []byte, c int) []byte {
				switch n := g.rnd.IntN(20); {
				case n < 7:
					return g.hydraToken(b, &s.hydraServerError, nil)
				case n < 13:
					return g.gateway(b, c, &s.gwUnavailable, nil, -1)
				case n < 18:
					return g.gateway(b, c, &s.gwServerError, nil, -1)
				default:
					return g.entraToken(b, c, &s.entraRetryable)
				}
			},
		},
	}
}
