package realserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The Ory Hydra the suite runs: the version .ci/real/build-hydra builds into
// the real-server directory, its loopback ports and the lifetimes short
// enough to expire during the run.
const (
	hydraVersion    = "v2.3.0"
	hydraPublicPort = 18244
	hydraAdminPort  = 18245
	hydraCodeTTL    = 2 * time.Second // TTL_AUTH_CODE
	hydraATTTL      = 3 * time.Second // TTL_ACCESS_TOKEN
	hydraSubject    = "alice@example.test"
)

var (
	hydraPublic = fmt.Sprintf("http://127.0.0.1:%d", hydraPublicPort)
	hydraAdmin  = fmt.Sprintf("http://127.0.0.1:%d", hydraAdminPort)
)

// hydraClient is an OAuth 2.0 client registered through Hydra's admin API.
type hydraClient struct {
	id, secret, method string
}

// hydraUI is the login, consent and error app Hydra redirects browsers to.
// It accepts or rejects through the admin API as the driver sets it.
type hydraUI struct {
	admin *agent
	mu    sync.Mutex
	login string // "accept" | "reject"
	cons  string // "accept" | "reject"
}

func (u *hydraUI) set(login, cons string) {
	u.mu.Lock()
	u.login, u.cons = login, cons
	u.mu.Unlock()
}

func (u *hydraUI) modes() (string, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.login, u.cons
}

// call is one admin API call with a JSON body (nil for none).
func (u *hydraUI) call(method, path string, body any) (reply, error) {
	var b []byte
	hdr := map[string]string{}
	if body != nil {
		b, _ = json.Marshal(body)
		hdr["Content-Type"] = "application/json"
	}
	r, err := u.admin.doRaw(method, hydraAdmin+path, b, hdr)
	if err == nil && (r.status < 200 || r.status >= 300) {
		err = fmt.Errorf("admin %s %s: %s", method, path, r)
	}
	return r, err
}

func (u *hydraUI) handler() http.Handler {
	mux := http.NewServeMux()
	// finish accepts or rejects a login or consent request and sends the
	// browser on to where Hydra says.
	finish := func(w http.ResponseWriter, r *http.Request, kind, mode string) {
		ch := r.URL.Query().Get(kind + "_challenge")
		q := "?" + kind + "_challenge=" + url.QueryEscape(ch)
		req, err := u.call("GET", "/admin/oauth2/auth/requests/"+kind+q, nil)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		var body map[string]any
		switch {
		case mode == "reject" && kind == "login":
			body = map[string]any{"error": "access_denied", "error_description": "The resource owner denied the request",
				"error_hint": "login rejected by the test login app", "status_code": 403}
		case mode == "reject":
			body = map[string]any{"error": "access_denied", "error_description": "The user did not grant consent",
				"error_hint": "consent rejected by the test consent app", "status_code": 403}
		case kind == "login":
			body = map[string]any{"subject": hydraSubject, "remember": false}
		default:
			body = map[string]any{"grant_scope": req.json["requested_scope"], "grant_access_token_audience": req.json["requested_access_token_audience"],
				"remember": false, "session": map[string]any{"id_token": map[string]any{"email": hydraSubject}}}
		}
		verb := "accept"
		if mode == "reject" {
			verb = "reject"
		}
		done, err := u.call("PUT", "/admin/oauth2/auth/requests/"+kind+"/"+verb+q, body)
		if err != nil || done.str("redirect_to") == "" {
			http.Error(w, fmt.Sprintf("%s %s: %v %s", kind, mode, err, done), 500)
			return
		}
		http.Redirect(w, r, done.str("redirect_to"), http.StatusFound)
	}
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		m, _ := u.modes()
		finish(w, r, "login", m)
	})
	mux.HandleFunc("/consent", func(w http.ResponseWriter, r *http.Request) {
		_, m := u.modes()
		finish(w, r, "consent", m)
	})
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "error page: "+r.URL.Query().Get("error")+": "+r.URL.Query().Get("error_description"))
	})
	return mux
}

// hydraEnv is the environment of the suite's Hydra but for the per-run
// URLs of the login app; the capture's header records it.
func hydraEnv() []string {
	return []string{
		"DSN=memory", "LOG_FORMAT=json", "SQA_OPT_OUT=true",
		"URLS_SELF_ISSUER=" + hydraPublic + "/",
		"SERVE_PUBLIC_HOST=127.0.0.1", fmt.Sprintf("SERVE_PUBLIC_PORT=%d", hydraPublicPort),
		"SERVE_ADMIN_HOST=127.0.0.1", fmt.Sprintf("SERVE_ADMIN_PORT=%d", hydraAdminPort),
		"TTL_AUTH_CODE=" + hydraCodeTTL.String(), "TTL_ACCESS_TOKEN=" + hydraATTTL.String(),
	}
}

// hydraRun is the driver's view of a running Hydra.
type hydraRun struct {
	ui                           *hydraUI
	uiURL                        string
	cb, cb2                      string // the relying party's redirect URIs (nothing is fetched there)
	basic, post, public, limited hydraClient
}

// authURL is an /oauth2/auth request of c; scope "" is "openid offline_access".
func (h *hydraRun) authURL(c hydraClient, scope, redirect string, extra url.Values) string {
	if scope == "" {
		scope = "openid offline_access"
	}
	if redirect == "" {
		redirect = h.cb
	}
	q := url.Values{"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {redirect}, "scope": {scope},
		"state": {randState()}, "nonce": {randState()}}
	for k, v := range extra {
		q[k] = v
	}
	return hydraPublic + "/oauth2/auth?" + q.Encode()
}

// newBrowser is a browser that follows redirects between Hydra and its
// login app and stops at the relying party.
func (h *hydraRun) newBrowser(addr string) *agent {
	return newAgent(addr, browser, hydraPublic, h.uiURL)
}

// callback runs an authorization in b and returns the redirect to the
// relying party.
func (h *hydraRun) callback(b *agent, u string) (*url.URL, error) {
	r, err := b.get(u, nil)
	if err != nil {
		return nil, err
	}
	if r.loc == nil || !strings.HasPrefix(r.loc.String(), h.cb) && !strings.HasPrefix(r.loc.String(), h.cb2) {
		return nil, fmt.Errorf("no redirect to the relying party: %s (location %v)", r, r.loc)
	}
	return r.loc, nil
}

// code signs the test user in to c in b and returns the code.
func (h *hydraRun) code(b *agent, c hydraClient, extra url.Values) (string, error) {
	loc, err := h.callback(b, h.authURL(c, "", "", extra))
	if err != nil {
		return "", err
	}
	if loc.Query().Get("code") == "" {
		return "", fmt.Errorf("no code in %v", loc)
	}
	return loc.Query().Get("code"), nil
}

// authError runs an authorization that must come back to the relying
// party with error want.
func (h *hydraRun) authError(b *agent, u, want string) error {
	loc, err := h.callback(b, u)
	if err != nil {
		return err
	}
	if got := loc.Query().Get("error"); got != want {
		return fmt.Errorf("callback error %q, want %q (%v)", got, want, loc)
	}
	return nil
}

// errorPage runs an authorization that must end on the login app's error
// page (URLS_ERROR) with error want.
func (h *hydraRun) errorPage(b *agent, u, want string) error {
	r, err := b.get(u, nil)
	if err != nil {
		return err
	}
	if r.status != http.StatusBadRequest || !strings.HasPrefix(r.body, "error page: "+want+":") {
		return fmt.Errorf("want the error page with %s, got %s", want, r)
	}
	return nil
}

// token posts form to the token endpoint as c: method client_secret_basic,
// client_secret_post, "none" (client_id in the body only) or "nothing".
func (h *hydraRun) token(a *agent, c hydraClient, method string, form url.Values) (reply, error) {
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	var hdr map[string]string
	switch method {
	case "client_secret_basic":
		hdr = basic(c.id, c.secret)
	case "client_secret_post":
		f.Set("client_id", c.id)
		f.Set("client_secret", c.secret)
	case "none":
		f.Set("client_id", c.id)
	}
	return a.post(hydraPublic+"/oauth2/token", f, hdr)
}

// redeem exchanges code for c with its own authentication method.
func (h *hydraRun) redeem(a *agent, c hydraClient, code, redirect, verifier string) (reply, error) {
	if redirect == "" {
		redirect = h.cb
	}
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return h.token(a, c, c.method, f)
}

func (h *hydraRun) refresh(a *agent, c hydraClient, rt string) (reply, error) {
	return h.token(a, c, c.method, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// tokens runs a whole code flow of c in a new browser at addr and redeems
// the code from a.
func (h *hydraRun) tokens(a *agent, addr string, c hydraClient) (reply, error) {
	code, err := h.code(h.newBrowser(addr), c, nil)
	if err != nil {
		return reply{}, err
	}
	r, err := h.redeem(a, c, code, "", "")
	return expect(r, err, 200)
}

func (h *hydraRun) createClient(name, method, grants, scope string, redirects []string) (hydraClient, error) {
	body := map[string]any{"client_id": name, "client_name": name, "grant_types": strings.Fields(grants), "response_types": []string{"code"},
		"scope": scope, "redirect_uris": redirects, "token_endpoint_auth_method": method}
	c := hydraClient{method: method}
	if method != "none" {
		c.secret = name + "-secret-0123456789"
		body["client_secret"] = c.secret
	}
	r, err := h.ui.call("POST", "/admin/clients", body)
	if err != nil {
		return c, err
	}
	c.id = r.str("client_id")
	if c.id == "" {
		return c, fmt.Errorf("create client %s: no client_id in %s", name, r)
	}
	return c, nil
}

func (h *hydraRun) setup() error {
	var err error
	all := "authorization_code refresh_token client_credentials"
	wide := "openid offline_access profile api:read"
	for _, c := range []struct {
		to                          *hydraClient
		name, method, grants, scope string
		redirects                   []string
	}{
		{&h.basic, "rs-basic", "client_secret_basic", all, wide, []string{h.cb, h.cb2}},
		{&h.post, "rs-post", "client_secret_post", all, wide, []string{h.cb, h.cb2}},
		{&h.public, "rs-public", "none", "authorization_code refresh_token", "openid offline_access", []string{h.cb}},
		{&h.limited, "rs-limited", "client_secret_basic", "authorization_code", "openid api:read", []string{h.cb}},
	} {
		if *c.to, err = h.createClient(c.name, c.method, c.grants, c.scope, c.redirects); err != nil {
			return err
		}
	}
	return nil
}

// startHydra runs the Hydra of .ci/real/build-hydra with the login app and
// returns the driver's handle and the capture of its log.
func startHydra(t *testing.T, dir string) (*hydraRun, *Capture) {
	t.Helper()
	bin := need(t, "bin/hydra")
	portFree(t, hydraPublicPort)
	portFree(t, hydraAdminPort)
	h := &hydraRun{ui: &hydraUI{admin: newAgent("127.0.0.1", "authsift-realserver-admin"), login: "accept", cons: "accept"}}
	ui := httptest.NewServer(h.ui.handler())
	t.Cleanup(ui.Close)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "callback") }))
	t.Cleanup(rp.Close)
	h.uiURL, h.cb, h.cb2 = ui.URL, rp.URL+"/cb", rp.URL+"/cb2"

	logPath := filepath.Join(dir, "hydra.log")
	env := append(hydraEnv(),
		"URLS_LOGIN="+ui.URL+"/login", "URLS_CONSENT="+ui.URL+"/consent", "URLS_ERROR="+ui.URL+"/error",
		"SECRETS_SYSTEM=authsift-real-suite-system-secret-0123456789")
	p := start(t, logPath, env, bin, "serve", "all", "--dev", "--sqa-opt-out")
	waitHTTP(t, p, hydraAdmin+"/health/ready", time.Minute)
	waitHTTP(t, p, hydraPublic+"/health/ready", time.Minute)
	return h, &Capture{Name: "hydra", Path: logPath, Out: "../testdata/hydra/real-" + hydraVersion + "-json",
		Header: []string{
			"Ory Hydra " + hydraVersion + " built from source by .ci/real/build-hydra (github.com/ory/hydra/v2@" + hydraVersion +
				" through the Go module proxy, pop replaced by ory/pop as hydra's go.mod does, go build -tags sqlite, version stamped by -ldflags)",
			"hydra serve all --dev --sqa-opt-out with " + strings.Join(hydraEnv(), " ") +
				" URLS_LOGIN/URLS_CONSENT/URLS_ERROR=<the test's login app on 127.0.0.1> SECRETS_SYSTEM=<set>",
			"this file: Hydra's stdout and stderr combined (Hydra's default log level, info)",
		}}
}

// TestHydra drives Ory Hydra through the failures it can produce, each
// twice, between successful flows.
func TestHydra(t *testing.T) {
	gate(t)
	h, capt := startHydra(t, t.TempDir())
	rec := NewRecorder(t, capt)

	want := func(class string) Want { return Want{capt: {class, class}} }
	none := Want{}
	is := func(code int) func(reply, error) error {
		return func(r reply, e error) error { _, e = expect(r, e, code); return e }
	}
	ok := is(200)
	app := newAgent("192.0.2.20", "Go-http-client/1.1")
	app2 := newAgent("192.0.2.21", "okhttp/4.12.0")
	rs := newAgent("192.0.2.30", "resource-server/1.0")
	attacker := newAgent("203.0.113.66", "python-requests/2.32.3")
	nbrowsers := 0
	addr := func() string { nbrowsers++; return fmt.Sprintf("198.51.100.%d", 10+nbrowsers%200) }
	nb := func() *agent { return h.newBrowser(addr()) }
	pair := func(f func(i int) error) error {
		for i := 0; i < 2; i++ {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}

	rec.Step("setup", none, h.setup)
	t.Logf("clients: basic=%s post=%s public=%s limited=%s", h.basic.id, h.post.id, h.public.id, h.limited.id)

	// The successful flows run between the failure scenarios, in turn.
	successes := []struct {
		name string
		do   func() error
	}{
		{"code-flow-success", func() error {
			tok, err := h.tokens(app, addr(), h.basic)
			if err != nil {
				return err
			}
			return ok(app.get(hydraPublic+"/userinfo", bearer(tok.str("access_token"))))
		}},
		{"code-flow-post-success", func() error { _, err := h.tokens(app2, addr(), h.post); return err }},
		{"pkce-success", func() error {
			v, ch := pkce()
			code, err := h.code(nb(), h.public, url.Values{"code_challenge": {ch}, "code_challenge_method": {"S256"}})
			if err != nil {
				return err
			}
			return ok(h.redeem(app, h.public, code, "", v))
		}},
		{"refresh-success", func() error {
			tok, err := h.tokens(app, addr(), h.basic)
			if err != nil {
				return err
			}
			return ok(h.refresh(app, h.basic, tok.str("refresh_token")))
		}},
		{"client-credentials-success", func() error {
			return ok(h.token(app2, h.basic, "client_secret_basic", url.Values{"grant_type": {"client_credentials"}, "scope": {"api:read"}}))
		}},
	}
	nsucc := 0
	success := func() {
		s := successes[nsucc%len(successes)]
		nsucc++
		rec.Step(s.name, none, s.do)
	}
	// fail runs a failure scenario, then a successful flow.
	fail := func(name string, w Want, do func() error) {
		rec.Step(name, w, do)
		success()
	}
	success()

	// Authorization codes.
	fail("code-reused", want("code_reused"), func() error {
		return pair(func(int) error {
			code, err := h.code(nb(), h.basic, nil)
			if err != nil {
				return err
			}
			if err := ok(h.redeem(app, h.basic, code, "", "")); err != nil {
				return err
			}
			return is(400)(h.redeem(app, h.basic, code, "", ""))
		})
	})
	fail("code-expired", want("code_expired"), func() error {
		var codes []string
		for i := 0; i < 2; i++ {
			code, err := h.code(nb(), h.basic, nil)
			if err != nil {
				return err
			}
			codes = append(codes, code)
		}
		time.Sleep(hydraCodeTTL + 1500*time.Millisecond)
		return pair(func(i int) error { return is(400)(h.redeem(app, h.basic, codes[i], "", "")) })
	})
	fail("code-unknown-wellformed", want("code_unknown"), func() error {
		return pair(func(int) error {
			return is(400)(h.redeem(app, h.basic, "ory_ac_"+randState()+randState()+"."+randState()+randState(), "", ""))
		})
	})
	fail("code-unknown-garbage", want("code_unknown"), func() error {
		return pair(func(i int) error {
			return is(400)(h.redeem(app, h.basic, []string{"not-a-code", "undefined"}[i], "", ""))
		})
	})

	// Redirect URIs.
	fail("redirect-uri-mismatch-at-token", want("redirect_uri_mismatch"), func() error {
		return pair(func(int) error {
			code, err := h.code(nb(), h.basic, nil)
			if err != nil {
				return err
			}
			return is(400)(h.redeem(app, h.basic, code, h.cb2, ""))
		})
	})
	fail("redirect-uri-unregistered-at-auth", want("redirect_uri_unregistered"), func() error {
		return pair(func(i int) error {
			u := []string{"https://evil.example.net/cb", h.cb + "/"}[i]
			return h.errorPage(nb(), h.authURL(h.basic, "", u, nil), "invalid_request")
		})
	})

	// Client authentication.
	fail("client-unknown-at-auth", want("client_unknown"), func() error {
		return pair(func(i int) error {
			c := hydraClient{id: []string{"rs-basic-typo", "shop-frontend"}[i]}
			return h.errorPage(nb(), h.authURL(c, "", "", nil), "invalid_client")
		})
	})
	fail("client-unknown-at-token", want("client_unknown"), func() error {
		return pair(func(i int) error {
			c := hydraClient{id: []string{"rs-basic-typo", "shop-backend"}[i], secret: "s3cr3t-value"}
			return is(401)(h.token(app2, c, "client_secret_basic", url.Values{"grant_type": {"client_credentials"}}))
		})
	})
	fail("client-secret-wrong-basic", want("client_auth_rejected"), func() error {
		return pair(func(int) error {
			c := h.basic
			c.secret = "rotated-last-week"
			return is(401)(h.token(app2, c, "client_secret_basic", url.Values{"grant_type": {"client_credentials"}}))
		})
	})
	fail("client-secret-wrong-code-grant", want("client_auth_rejected"), func() error {
		return pair(func(int) error {
			code, err := h.code(nb(), h.basic, nil)
			if err != nil {
				return err
			}
			c := h.basic
			c.secret = "rotated-last-week"
			return is(401)(h.redeem(app, c, code, "", ""))
		})
	})
	fail("client-secret-missing", want("client_auth_rejected"), func() error {
		return pair(func(int) error {
			return is(401)(h.token(app2, h.basic, "none", url.Values{"grant_type": {"client_credentials"}}))
		})
	})
	fail("client-credentials-missing", want("client_credentials_missing"), func() error {
		return pair(func(int) error {
			return is(400)(h.token(app2, h.basic, "nothing", url.Values{"grant_type": {"client_credentials"}}))
		})
	})
	fail("auth-method-mismatch-post-client-uses-basic", want("client_auth_method_mismatch"), func() error {
		return pair(func(int) error {
			return is(401)(h.token(app2, h.post, "client_secret_basic", url.Values{"grant_type": {"client_credentials"}}))
		})
	})
	fail("auth-method-mismatch-basic-client-uses-post", want("client_auth_method_mismatch"), func() error {
		return pair(func(int) error {
			return is(401)(h.token(app2, h.basic, "client_secret_post", url.Values{"grant_type": {"client_credentials"}}))
		})
	})
	fail("public-client-sends-secret", want("client_public_with_secret"), func() error {
		return pair(func(int) error {
			v, ch := pkce()
			code, err := h.code(nb(), h.public, url.Values{"code_challenge": {ch}, "code_challenge_method": {"S256"}})
			if err != nil {
				return err
			}
			c := h.public
			c.secret = "i-am-public"
			return is(401)(h.token(app, c, "client_secret_basic", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {h.cb}, "code_verifier": {v}}))
		})
	})

	// PKCE.
	fail("pkce-verifier-wrong", want("pkce_verifier_mismatch"), func() error {
		return pair(func(int) error {
			_, ch := pkce()
			other, _ := pkce()
			code, err := h.code(nb(), h.public, url.Values{"code_challenge": {ch}, "code_challenge_method": {"S256"}})
			if err != nil {
				return err
			}
			return is(400)(h.redeem(app, h.public, code, "", other))
		})
	})
	fail("pkce-verifier-missing", want("pkce_rejected"), func() error {
		return pair(func(int) error {
			_, ch := pkce()
			code, err := h.code(nb(), h.public, url.Values{"code_challenge": {ch}, "code_challenge_method": {"S256"}})
			if err != nil {
				return err
			}
			return is(400)(h.redeem(app, h.public, code, "", ""))
		})
	})
	fail("pkce-verifier-without-challenge", want("pkce_verifier_unexpected"), func() error {
		return pair(func(int) error {
			code, err := h.code(nb(), h.public, nil)
			if err != nil {
				return err
			}
			v, _ := pkce()
			return is(400)(h.redeem(app, h.public, code, "", v))
		})
	})

	// Scopes: Hydra has no list of known scopes, only each client's; an
	// unknown scope and one the client may not ask for log the same record.
	fail("scope-unknown-at-auth", want("scope_rejected"), func() error {
		return pair(func(i int) error {
			sc := []string{"openid no-such-scope", "openid offline_acces"}[i]
			return h.authError(nb(), h.authURL(h.basic, sc, "", nil), "invalid_scope")
		})
	})
	fail("scope-not-allowed-at-auth", want("scope_rejected"), func() error {
		return pair(func(int) error {
			return h.authError(nb(), h.authURL(h.limited, "openid offline_access", "", nil), "invalid_scope")
		})
	})
	fail("scope-not-allowed-client-credentials", want("scope_rejected"), func() error {
		return pair(func(int) error {
			return is(400)(h.token(app2, h.basic, "client_secret_basic", url.Values{"grant_type": {"client_credentials"}, "scope": {"api:write"}}))
		})
	})

	// Response and grant types.
	fail("response-type-unsupported", want("response_type_unsupported"), func() error {
		return pair(func(i int) error {
			rt := []string{"token", "code id_token"}[i]
			return h.authError(nb(), h.authURL(h.basic, "", "", url.Values{"response_type": {rt}}), "unsupported_response_type")
		})
	})
	fail("response-type-unknown", want("response_type_unsupported"), func() error {
		return pair(func(int) error {
			return h.authError(nb(), h.authURL(h.basic, "", "", url.Values{"response_type": {"foo"}}), "unsupported_response_type")
		})
	})
	fail("grant-type-not-allowed-client-credentials", want("grant_type_not_allowed"), func() error {
		return pair(func(int) error {
			return is(400)(h.token(app2, h.limited, "client_secret_basic", url.Values{"grant_type": {"client_credentials"}}))
		})
	})
	fail("grant-type-not-allowed-refresh", want("grant_type_not_allowed"), func() error {
		return pair(func(int) error {
			return is(400)(h.refresh(app, h.limited, "ory_rt_"+randState()+randState()+"."+randState()+randState()))
		})
	})
	// No handler claims an unknown grant_type: fosite answers its generic
	// invalid_request, whose hint does not name the grant type.
	fail("grant-type-unsupported", want("request_malformed"), func() error {
		return pair(func(i int) error {
			g := []string{"authorisation_code", "urn:ietf:params:oauth:grant-type:jwt-bearer-typo"}[i]
			return is(400)(h.token(app, h.basic, "client_secret_basic", url.Values{"grant_type": {g}}))
		})
	})

	// Refresh tokens.
	fail("refresh-reused", want("refresh_token_reused"), func() error {
		return pair(func(int) error {
			tok, err := h.tokens(app, addr(), h.basic)
			if err != nil {
				return err
			}
			rt := tok.str("refresh_token")
			if err := ok(h.refresh(app, h.basic, rt)); err != nil {
				return err
			}
			return is(400)(h.refresh(attacker, h.basic, rt))
		})
	})
	// Garbage, unknown and revoked refresh tokens log the same record.
	fail("refresh-garbage", want("refresh_token_rejected"), func() error {
		return pair(func(i int) error {
			return is(400)(h.refresh(app, h.basic, []string{"null", "garbage-refresh-token"}[i]))
		})
	})
	fail("refresh-unknown-wellformed", want("refresh_token_rejected"), func() error {
		return pair(func(int) error {
			return is(400)(h.refresh(app, h.basic, "ory_rt_"+randState()+randState()+"."+randState()+randState()))
		})
	})
	fail("refresh-of-another-client", want("refresh_token_client_mismatch"), func() error {
		return pair(func(int) error {
			tok, err := h.tokens(app, addr(), h.basic)
			if err != nil {
				return err
			}
			return is(400)(h.refresh(app2, h.post, tok.str("refresh_token")))
		})
	})
	fail("refresh-after-consent-revoked", want("refresh_token_rejected"), func() error {
		return pair(func(int) error {
			tok, err := h.tokens(app, addr(), h.basic)
			if err != nil {
				return err
			}
			q := url.Values{"subject": {hydraSubject}, "client": {h.basic.id}}
			if _, err := h.ui.call("DELETE", "/admin/oauth2/auth/sessions/consent?"+q.Encode(), nil); err != nil {
				return err
			}
			return is(400)(h.refresh(app, h.basic, tok.str("refresh_token")))
		})
	})

	// Access tokens at /userinfo and introspection.
	fail("userinfo-garbage-token", want("access_token_invalid"), func() error {
		return pair(func(i int) error {
			return is(401)(app.get(hydraPublic+"/userinfo", bearer([]string{"undefined", "garbage-token-value"}[i])))
		})
	})
	fail("userinfo-missing-token", want("access_token_missing"), func() error {
		return pair(func(int) error { return is(401)(app.get(hydraPublic+"/userinfo", nil)) })
	})
	fail("userinfo-expired-token", want("access_token_expired"), func() error {
		var toks []string
		for i := 0; i < 2; i++ {
			tok, err := h.tokens(app, addr(), h.basic)
			if err != nil {
				return err
			}
			toks = append(toks, tok.str("access_token"))
		}
		time.Sleep(hydraATTTL + 1500*time.Millisecond)
		return pair(func(i int) error { return is(401)(app.get(hydraPublic+"/userinfo", bearer(toks[i]))) })
	})
	// Introspection answers 200 {"active":false} but logs the refusal.
	fail("introspect-garbage-token", want("access_token_invalid"), func() error {
		return pair(func(i int) error {
			r, err := rs.post(hydraAdmin+"/admin/oauth2/introspect", url.Values{"token": {[]string{"undefined", "garbage-token-value"}[i]}}, nil)
			if err := ok(r, err); err != nil {
				return err
			}
			if r.json["active"] != false {
				return fmt.Errorf("introspection of a garbage token: %s", r)
			}
			return nil
		})
	})

	// The login and consent app's decisions.
	fail("login-rejected", want("consent_denied"), func() error {
		h.ui.set("reject", "accept")
		defer h.ui.set("accept", "accept")
		return pair(func(int) error { return h.authError(nb(), h.authURL(h.basic, "", "", nil), "access_denied") })
	})
	fail("consent-rejected", want("consent_denied"), func() error {
		h.ui.set("accept", "reject")
		defer h.ui.set("accept", "accept")
		return pair(func(int) error { return h.authError(nb(), h.authURL(h.basic, "", "", nil), "access_denied") })
	})
	fail("prompt-none-without-session", want("interaction_required"), func() error {
		return pair(func(int) error {
			return h.authError(nb(), h.authURL(h.basic, "", "", url.Values{"prompt": {"none"}}), "login_required")
		})
	})

	rec.Finish()
}
