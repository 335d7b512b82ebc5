package realserver

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestKeycloak drives Keycloak (both log formats) behind nginx through the
// failures it can produce, each twice or more, between successes.
func TestKeycloak(t *testing.T) {
	gate(t)
	dir := t.TempDir()
	st := startKeycloak(t, dir)
	st.access = startNginx(t, dir)
	// The realms, clients and users are made before the captures start
	// (their lines are part of "startup"): oauth2-proxy needs the realm.
	if err := kcSetup(st.admin); err != nil {
		t.Fatal(err)
	}
	o2p := startOAuth2Proxy(t, dir)
	rec := NewRecorder(t, st.text, st.json, st.access, o2p)

	// kc wants the same failures in both Keycloak formats; ng in the proxy's log.
	want := func(kc []string, ng []string) Want {
		return Want{st.text: kc, st.json: kc, st.access: ng}
	}
	n := func(class string, k int) []string { return slices.Repeat([]string{class}, k) }
	none := Want{}
	shop, short := realm{"shop"}, realm{"short"}
	app := newAgent("192.0.2.10", "Go-http-client/1.1")
	app2 := newAgent("192.0.2.11", "okhttp/4.12.0")
	attacker := newAgent("203.0.113.66", "python-requests/2.32.3")
	var browsers []*agent
	nb := func() *agent {
		b := newAgent(fmt.Sprintf("198.51.100.%d", 10+len(browsers)), browser, kcBase)
		browsers = append(browsers, b)
		return b
	}
	is := func(code int) func(reply, error) error {
		return func(r reply, e error) error { _, e = expect(r, e, code); return e }
	}
	ok := is(200)

	// success signs a new browser in to web and redeems the code.
	success := func(r realm, user string) (reply, error) {
		c, err := nb().code(r, "web", nil, user, user+"-pw")
		if err != nil {
			return reply{}, err
		}
		r2, err := app.exchange(r, "web", "web-secret", c, nil)
		return expect(r2, err, 200)
	}
	rec.Step("code-flow-success", none, func() error { _, err := success(shop, "alice"); return err })

	// Codes that will be redeemed after Keycloak's default 60 s lifespan.
	var late []string
	lateAt := time.Now()
	rec.Step("code-issued-for-late-exchange", none, func() error {
		for i := 0; i < 2; i++ {
			c, err := nb().code(shop, "web", nil, "bob", "bob-pw")
			if err != nil {
				return err
			}
			late = append(late, c)
		}
		lateAt = time.Now()
		return nil
	})
	// Refresh tokens rotated now and replayed after the correlation grace.
	var rotated []string
	rotatedAt := time.Now()
	rec.Step("refresh-rotated-for-late-replay", none, func() error {
		for i := 0; i < 2; i++ {
			tok, err := success(shop, "carol")
			if err != nil {
				return err
			}
			old := tok.str("refresh_token")
			if err := ok(app.token(shop, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}, "client_id": {"web"}, "client_secret": {"web-secret"}}, nil)); err != nil {
				return err
			}
			rotated = append(rotated, old)
		}
		rotatedAt = time.Now()
		return nil
	})

	rec.Step("code-reused", want(n("code_reused", 2), n("code_reused", 2)), func() error {
		for i := 0; i < 2; i++ {
			c, err := nb().code(shop, "web", nil, "alice", "alice-pw")
			if err != nil {
				return err
			}
			if err := ok(app.exchange(shop, "web", "web-secret", c, nil)); err != nil {
				return err
			}
			if err := is(400)(app.exchange(shop, "web", "web-secret", c, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("code-unknown", want([]string{"code_unknown", "code_rejected"}, n("code_rejected", 2)), func() error {
		for _, c := range []string{"not-a-code", "4f1c2a9e-7b3d-4e8a-9c1f-2d3e4f5a6b7c.ab12cd34-ef56-7890-abcd-ef1234567890.0f9e8d7c-6b5a-4321-8765-4321fedcba98"} {
			if err := is(400)(app.exchange(shop, "web", "web-secret", c, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("redirect-uri-mismatch-at-token", want(n("redirect_uri_mismatch", 2), n("redirect_uri_mismatch", 2)), func() error {
		for i := 0; i < 2; i++ {
			c, err := nb().code(shop, "web", nil, "alice", "alice-pw")
			if err != nil {
				return err
			}
			if err := is(400)(app.exchange(shop, "web", "web-secret", c, url.Values{"redirect_uri": {rpURI + "/other"}})); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("redirect-uri-unregistered-at-auth", want(n("redirect_uri_unregistered", 2), n("unclassified", 2)), func() error {
		for _, u := range []string{"https://evil.example.net/cb", rpURI + "/"} {
			r, err := nb().get(shop.url("auth")+"?"+url.Values{"client_id": {"web"}, "redirect_uri": {u}, "response_type": {"code"}, "scope": {"openid"}, "state": {randState()}}.Encode(), nil)
			if err := is(400)(r, err); err != nil {
				return err
			}
		}
		return nil
	})
	// A refresh token of web for a new sign-in of user.
	refreshOf := func(r realm, user string) (string, error) {
		tok, err := success(r, user)
		return tok.str("refresh_token"), err
	}
	refresh := func(a *agent, r realm, client, rt string) (reply, error) {
		return a.token(r, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {client}, "client_secret": {client + "-secret"}}, nil)
	}
	rec.Step("refresh-success", none, func() error {
		rt, err := refreshOf(shop, "alice")
		if err != nil {
			return err
		}
		return ok(refresh(app, shop, "web", rt))
	})
	rec.Step("client-unknown-at-auth", want(n("client_unknown", 2), n("unclassified", 2)), func() error {
		for _, c := range []string{"web-typo", "shop-frontend"} {
			if err := is(400)(nb().get(shop.url("auth")+"?"+url.Values{"client_id": {c}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {"openid"}, "state": {randState()}}.Encode(), nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("client-unknown-at-token", want(n("client_unknown", 2), n("client_auth_rejected", 2)), func() error {
		for _, c := range []string{"web-typo", "shop-backend"} {
			if err := is(401)(app.token(shop, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {rpURI}, "client_id": {c}, "client_secret": {"s3cr3t-value"}}, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("client-secret-wrong", want(n("client_auth_rejected", 2), n("client_auth_rejected", 2)), func() error {
		for i := 0; i < 2; i++ {
			c, err := nb().code(shop, "web", nil, "alice", "alice-pw")
			if err != nil {
				return err
			}
			if err := is(401)(app.exchange(shop, "web", "rotated-last-week", c, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("client-secret-missing", want(n("client_auth_rejected", 2), n("client_auth_rejected", 2)), func() error {
		for i := 0; i < 2; i++ {
			c, err := nb().code(shop, "web", nil, "alice", "alice-pw")
			if err != nil {
				return err
			}
			if err := is(401)(app.exchange(shop, "web", "", c, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("client-secret-wrong-basic", want(n("client_auth_rejected", 2), n("client_auth_rejected", 2)), func() error {
		for i := 0; i < 2; i++ {
			if err := is(401)(app2.token(shop, url.Values{"grant_type": {"client_credentials"}}, basic("svc", "svc-secret-old"))); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("client-credentials-success", none, func() error {
		return ok(app2.token(shop, url.Values{"grant_type": {"client_credentials"}}, basic("svc", "svc-secret")))
	})
	rec.Step("client-credentials-without-service-account", want(n("grant_type_not_allowed", 2), n("grant_type_not_allowed", 2)), func() error {
		for i := 0; i < 2; i++ {
			if err := is(401)(app2.token(shop, url.Values{"grant_type": {"client_credentials"}}, basic("batch", "batch-secret"))); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("grant-type-unsupported", want(nil, n("grant_type_unsupported", 2)), func() error {
		for _, g := range []string{"authorisation_code", "urn:ietf:params:oauth:grant-type:jwt-bearer-typo"} {
			if err := is(400)(app.token(shop, url.Values{"grant_type": {g}, "client_id": {"web"}, "client_secret": {"web-secret"}}, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("password-grant-not-allowed", want(n("grant_type_not_allowed", 2), n("grant_type_not_allowed", 2)), func() error {
		for i := 0; i < 2; i++ {
			if err := is(400)(app2.token(shop, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-pw"}, "client_id": {"o2p"}, "client_secret": {"o2p-secret"}}, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("pkce-success", none, func() error {
		v, ch := pkce()
		c, err := nb().code(shop, "spa", url.Values{"code_challenge": {ch}, "code_challenge_method": {"S256"}}, "alice", "alice-pw")
		if err != nil {
			return err
		}
		return ok(app.token(shop, url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {rpURI}, "client_id": {"spa"}, "code_verifier": {v}}, nil))
	})
	rec.Step("pkce-verifier-wrong", want(n("pkce_verifier_mismatch", 2), n("pkce_verifier_mismatch", 2)), func() error {
		for i := 0; i < 2; i++ {
			_, ch := pkce()
			other, _ := pkce()
			c, err := nb().code(shop, "spa", url.Values{"code_challenge": {ch}, "code_challenge_method": {"S256"}}, "alice", "alice-pw")
			if err != nil {
				return err
			}
			if err := is(400)(app.token(shop, url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {rpURI}, "client_id": {"spa"}, "code_verifier": {other}}, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("pkce-verifier-missing", want(n("pkce_verifier_missing", 2), n("pkce_verifier_missing", 2)), func() error {
		for i := 0; i < 2; i++ {
			_, ch := pkce()
			c, err := nb().code(shop, "spa", url.Values{"code_challenge": {ch}, "code_challenge_method": {"S256"}}, "alice", "alice-pw")
			if err != nil {
				return err
			}
			if err := is(400)(app.token(shop, url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {rpURI}, "client_id": {"spa"}}, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("pkce-challenge-missing", want(n("pkce_challenge_missing", 2), n("pkce_challenge_missing", 2)), func() error {
		for i := 0; i < 2; i++ {
			r, err := nb().get(shop.url("auth")+"?"+url.Values{"client_id": {"spa"}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {"openid"}, "state": {randState()}}.Encode(), nil)
			if err != nil {
				return err
			}
			if r.loc == nil || r.loc.Query().Get("error") == "" {
				return fmt.Errorf("want an error redirect, got %s", r)
			}
		}
		return nil
	})
	authErr := func(params url.Values) error {
		params.Set("state", randState())
		r, err := nb().get(shop.url("auth")+"?"+params.Encode(), nil)
		if err != nil {
			return err
		}
		if r.loc == nil || r.loc.Query().Get("error") == "" && !strings.Contains(r.loc.Fragment, "error=") {
			return fmt.Errorf("want an error redirect, got %s %v", r, r.loc)
		}
		return nil
	}
	rec.Step("scope-unknown", want(n("scope_rejected", 2), n("scope_rejected", 2)), func() error {
		for _, sc := range []string{"openid offline_acces", "openid read:orders"} {
			if err := authErr(url.Values{"client_id": {"web"}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {sc}}); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("scope-not-allowed", want(n("scope_rejected", 2), n("scope_rejected", 2)), func() error {
		for i := 0; i < 2; i++ {
			if err := authErr(url.Values{"client_id": {"web"}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {"openid payments"}}); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("response-type-not-allowed", want(n("grant_type_not_allowed", 2), n("grant_type_not_allowed", 2)), func() error {
		for _, rt := range []string{"token", "code id_token"} {
			if err := authErr(url.Values{"client_id": {"web"}, "redirect_uri": {rpURI}, "response_type": {rt}, "scope": {"openid"}, "nonce": {"n1"}}); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("response-type-missing", want(n("request_missing_parameter", 2), n("request_missing_parameter", 2)), func() error {
		for i := 0; i < 2; i++ {
			if err := authErr(url.Values{"client_id": {"web"}, "redirect_uri": {rpURI}, "scope": {"openid"}}); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("prompt-none-without-session", want(nil, n("interaction_required", 2)), func() error {
		for i := 0; i < 2; i++ {
			if err := authErr(url.Values{"client_id": {"web"}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {"openid"}, "prompt": {"none"}}); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("password-wrong-at-form", want(n("user_credentials_invalid", 2), nil), func() error {
		for i := 0; i < 2; i++ {
			r, err := nb().authorize(shop, url.Values{"client_id": {"web"}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {"openid"}}, "erin", "erin-pw-typo")
			if err != nil {
				return err
			}
			if r.loc != nil {
				return fmt.Errorf("wrong password redirected: %v", r.loc)
			}
		}
		return nil
	})
	rec.Step("password-wrong-at-token", want(n("user_credentials_invalid", 2), n("user_credentials_invalid", 2)), func() error {
		for _, u := range []string{"frank", "nobody"} {
			if err := is(401)(app.token(shop, url.Values{"grant_type": {"password"}, "username": {u}, "password": {"guess"}, "client_id": {"web"}, "client_secret": {"web-secret"}}, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("password-grant-success", none, func() error {
		return ok(app.token(shop, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-pw"}, "client_id": {"web"}, "client_secret": {"web-secret"}}, nil))
	})
	rec.Step("user-disabled", want(n("access_blocked", 2), n("access_blocked", 1)), func() error {
		r, err := nb().authorize(shop, url.Values{"client_id": {"web"}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {"openid"}}, "dave", "dave-pw")
		if err != nil {
			return err
		}
		if r.loc != nil {
			return fmt.Errorf("disabled user redirected: %v", r.loc)
		}
		return is(400)(app.token(shop, url.Values{"grant_type": {"password"}, "username": {"dave"}, "password": {"dave-pw"}, "client_id": {"web"}, "client_secret": {"web-secret"}}, nil))
	})
	rec.Step("brute-force-lockout", want(append(n("user_credentials_invalid", 3), n("access_blocked", 2)...), n("user_credentials_invalid", 5)), func() error {
		for i := 0; i < 5; i++ {
			attacker.token(shop, url.Values{"grant_type": {"password"}, "username": {"grace"}, "password": {fmt.Sprintf("winter202%d", i)}, "client_id": {"web"}, "client_secret": {"web-secret"}}, nil)
		}
		return nil
	})
	rec.Step("bearer-only-client-at-auth", want(n("grant_type_not_allowed", 2), n("unclassified", 2)), func() error {
		for i := 0; i < 2; i++ {
			if err := is(403)(nb().get(shop.url("auth")+"?"+url.Values{"client_id": {"api"}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {"openid"}, "state": {randState()}}.Encode(), nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("client-disabled", want(n("client_disabled", 2), []string{"unclassified", "client_auth_rejected"}), func() error {
		if err := is(400)(nb().get(shop.url("auth")+"?"+url.Values{"client_id": {"legacy"}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {"openid"}, "state": {randState()}}.Encode(), nil)); err != nil {
			return err
		}
		return is(401)(app.token(shop, url.Values{"grant_type": {"client_credentials"}}, basic("legacy", "legacy-secret")))
	})
	rec.Step("refresh-of-another-client", want(n("refresh_token_client_mismatch", 2), n("refresh_token_client_mismatch", 2)), func() error {
		for i := 0; i < 2; i++ {
			rt, err := refreshOf(shop, "alice")
			if err != nil {
				return err
			}
			if err := is(400)(refresh(app2, shop, "web2", rt)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("refresh-after-logout", want(n("refresh_token_session_ended", 2), n("refresh_token_session_ended", 2)), func() error {
		for i := 0; i < 2; i++ {
			rt, err := refreshOf(shop, "alice")
			if err != nil {
				return err
			}
			if err := is(204)(app.post(shop.url("logout"), url.Values{"client_id": {"web"}, "client_secret": {"web-secret"}, "refresh_token": {rt}}, nil)); err != nil {
				return err
			}
			if err := is(400)(refresh(app, shop, "web", rt)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("refresh-garbage", want(n("refresh_token_unknown", 2), n("refresh_token_rejected", 2)), func() error {
		for _, rt := range []string{"null", "eyJhbGciOiJIUzUxMiJ9.not-a-token.x"} {
			if err := is(400)(refresh(app, shop, "web", rt)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("refresh-concurrent", want(n("refresh_token_concurrent", 2), n("refresh_token_concurrent", 2)), func() error {
		for i := 0; i < 2; i++ {
			rt, err := refreshOf(shop, "bob")
			if err != nil {
				return err
			}
			if err := ok(refresh(app, shop, "web", rt)); err != nil {
				return err
			}
			if err := is(400)(refresh(app, shop, "web", rt)); err != nil {
				return err
			}
		}
		return nil
	})
	var shortTokens []reply
	shortAt := time.Now()
	rec.Step("short-realm-sign-ins", none, func() error {
		shortAt = time.Now()
		for i := 0; i < 2; i++ {
			tok, err := success(short, "alice")
			if err != nil {
				return err
			}
			shortTokens = append(shortTokens, tok)
		}
		return nil
	})
	// The login page left open past the login timeout, then submitted.
	rec.Step("login-form-expired", want(n("login_session_expired", 2), nil), func() error {
		var forms []*agent
		var acts []string
		for i := 0; i < 2; i++ {
			b := nb()
			r, err := b.get(short.url("auth")+"?"+url.Values{"client_id": {"web"}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {"openid"}, "state": {randState()}}.Encode(), nil)
			if err != nil {
				return err
			}
			act, err := action(r.body)
			if err != nil {
				return err
			}
			forms, acts = append(forms, b), append(acts, act)
		}
		time.Sleep(4 * time.Second)
		for i, b := range forms {
			r, err := b.post(acts[i], url.Values{"username": {"alice"}, "password": {"alice-pw"}, "credentialId": {""}}, nil)
			if err != nil {
				return err
			}
			if r.loc != nil && r.loc.Query().Get("code") != "" {
				return fmt.Errorf("an expired login form still signed in: %v", r.loc)
			}
		}
		return nil
	})
	rec.Step("userinfo-success", none, func() error {
		tok, err := success(shop, "alice")
		if err != nil {
			return err
		}
		return ok(app.get(shop.url("userinfo"), bearer(tok.str("access_token"))))
	})
	rec.Step("userinfo-missing-token", want(n("access_token_missing", 2), n("access_token_missing", 2)), func() error {
		for i := 0; i < 2; i++ {
			if err := is(401)(app.get(shop.url("userinfo"), nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("userinfo-garbage-token", want(n("access_token_invalid", 2), n("access_token_invalid", 2)), func() error {
		for _, tok := range []string{"undefined", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"} {
			if err := is(401)(app.get(shop.url("userinfo"), bearer(tok))); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("introspect-garbage-token", want(n("access_token_invalid", 2), nil), func() error {
		for _, tok := range []string{"undefined", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"} {
			if err := ok(app2.post(shop.url("token/introspect"), url.Values{"token": {tok}}, basic("svc", "svc-secret"))); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("introspect-wrong-secret", want(n("client_auth_rejected", 2), n("client_auth_rejected", 2)), func() error {
		for i := 0; i < 2; i++ {
			if err := is(401)(app2.post(shop.url("token/introspect"), url.Values{"token": {"abc"}}, basic("svc", "svc-secret-old"))); err != nil {
				return err
			}
		}
		return nil
	})
	// oauth2-proxy in front of an app, Keycloak its provider.
	nbo := func() *agent {
		b := newAgent(fmt.Sprintf("198.51.100.%d", 10+len(browsers)), browser, kcBase, o2pBase)
		browsers = append(browsers, b)
		return b
	}
	rec.Step("oauth2-proxy-sign-in-success", none, func() error {
		r, err := o2pSignIn(nbo(), "alice")
		if err == nil && !strings.HasPrefix(r.body, "hello") {
			err = fmt.Errorf("no app page after sign-in: %s", r)
		}
		return err
	})
	// A callback whose state is not the one of the browser's CSRF cookie (a
	// forged or crossed callback): oauth2-proxy v7.15 redeems the code
	// first, so the code is a real one and the exchange succeeds.
	rec.Step("oauth2-proxy-state-mismatch", Want{o2p: n("state_invalid", 2)}, func() error {
		for i := 0; i < 2; i++ {
			b := nbo()
			b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
				if req.URL.Path == "/oauth2/callback" {
					return http.ErrUseLastResponse
				}
				return nil
			}
			r, err := b.get(o2pBase+"/oauth2/start?rd=%2F", nil)
			if err != nil {
				return err
			}
			act, err := action(r.body)
			if err != nil {
				return err
			}
			r, err = b.post(act, url.Values{"username": {"bob"}, "password": {"bob-pw"}, "credentialId": {""}}, nil)
			if err != nil || r.loc == nil || r.loc.Path != "/oauth2/callback" {
				return fmt.Errorf("no callback redirect: %v %s", err, r)
			}
			q := r.loc.Query()
			nonce, rd, _ := strings.Cut(q.Get("state"), ":")
			q.Set("state", strings.Repeat("A", len(nonce))+":"+rd)
			r.loc.RawQuery = q.Encode()
			if err := is(403)(b.get(r.loc.String(), nil)); err != nil {
				return err
			}
		}
		return nil
	})
	// o2pStart begins a sign-in in a new browser and returns it with the
	// state oauth2-proxy sent to Keycloak (its CSRF cookie is set).
	o2pStart := func() (*agent, string, error) {
		b := nbo()
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		r, err := b.get(o2pBase+"/oauth2/start?rd=%2F", nil)
		if err != nil || r.loc == nil || r.loc.Query().Get("state") == "" {
			return nil, "", fmt.Errorf("oauth2/start: %v %s", err, r)
		}
		return b, r.loc.Query().Get("state"), nil
	}
	rec.Step("oauth2-proxy-callback-error", Want{o2p: n("consent_denied", 2)}, func() error {
		for i := 0; i < 2; i++ {
			b, state, err := o2pStart()
			if err != nil {
				return err
			}
			q := url.Values{"error": {"access_denied"}, "error_description": {"The user denied the request"}, "state": {state}}
			if err := is(403)(b.get(o2pBase+"/oauth2/callback?"+q.Encode(), nil)); err != nil {
				return err
			}
		}
		return nil
	})
	// A callback with a code Keycloak never issued: oauth2-proxy's exchange
	// fails at Keycloak (and the proxy logs that exchange too). Each
	// callback makes two token requests: golang.org/x/oauth2 retries a
	// failed exchange with the other client-authentication style (Basic,
	// then the form body), and Keycloak refuses both.
	rec.Step("oauth2-proxy-callback-bad-code", Want{o2p: n("code_rejected", 2), st.text: n("code_unknown", 4), st.json: n("code_unknown", 4), st.access: n("code_rejected", 4)}, func() error {
		for i := 0; i < 2; i++ {
			b, state, err := o2pStart()
			if err != nil {
				return err
			}
			q := url.Values{"code": {"pasted-from-another-tab"}, "state": {state}}
			if err := is(500)(b.get(o2pBase+"/oauth2/callback?"+q.Encode(), nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("oauth2-proxy-csrf-cookie-missing", Want{o2p: n("state_invalid", 2)}, func() error {
		for i := 0; i < 2; i++ {
			if err := is(403)(nbo().get(o2pBase+"/oauth2/callback?code=x&state="+url.QueryEscape(randState()+":/"), nil)); err != nil {
				return err
			}
		}
		return nil
	})

	// The short realm's lifetimes (access 2 s, session idle 3 s) are over.
	time.Sleep(time.Until(shortAt.Add(4 * time.Second)))
	rec.Step("userinfo-expired-token", want(n("access_token_expired", 2), n("access_token_invalid", 2)), func() error {
		for _, tok := range shortTokens {
			if err := is(401)(app.get(short.url("userinfo"), bearer(tok.str("access_token")))); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("refresh-expired", want(n("refresh_token_expired", 2), n("refresh_token_expired", 2)), func() error {
		for _, tok := range shortTokens {
			if err := is(400)(refresh(app, short, "web", tok.str("refresh_token"))); err != nil {
				return err
			}
		}
		return nil
	})
	// Past the correlation's refresh grace (30 s) and Keycloak's code
	// lifespan (60 s) plus authsift's slack (5 s).
	time.Sleep(time.Until(lateAt.Add(67 * time.Second)))
	time.Sleep(time.Until(rotatedAt.Add(35 * time.Second)))
	rec.Step("refresh-reused-late", want(n("refresh_token_reused", 2), n("refresh_token_reused", 2)), func() error {
		for _, rt := range rotated {
			if err := is(400)(refresh(attacker, shop, "web", rt)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("code-expired", want(n("code_expired", 2), n("code_rejected", 2)), func() error {
		for _, c := range late {
			if err := is(400)(app.exchange(shop, "web", "web-secret", c, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.Step("code-flow-success-at-end", none, func() error { _, err := success(shop, "carol"); return err })
	rec.Finish()
}
