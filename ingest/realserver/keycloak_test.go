package realserver

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The Keycloak the suite runs: the version .ci/real/install puts in the
// real-server directory, and the loopback ports of the stack.
const (
	keycloakVersion = "26.5.6"
	kcPort          = 18180 // Keycloak itself
	proxyPort       = 18181 // nginx in front of Keycloak
	o2pPort         = 18182 // oauth2-proxy
	appPort         = 18183 // the app behind oauth2-proxy
	rpPort          = 18199 // relying parties' redirect_uri: nothing listens there
)

var (
	kcBase  = fmt.Sprintf("http://127.0.0.1:%d", proxyPort) // what browsers and apps reach
	rpURI   = fmt.Sprintf("http://127.0.0.1:%d/cb", rpPort)
	browser = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
)

// kcAdmin talks to Keycloak's admin API directly (not through the proxy).
type kcAdmin struct {
	a     *agent
	base  string
	token string
}

func (k *kcAdmin) call(method, path string, body any) (reply, error) {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	hdr := bearer(k.token)
	hdr["Content-Type"] = "application/json"
	r, err := k.a.doRaw(method, k.base+"/admin/realms"+path, b, hdr)
	if err == nil && r.status >= 300 {
		err = fmt.Errorf("admin %s %s: %s", method, path, r)
	}
	return r, err
}

// realm is one realm of the driver's, reached through the proxy.
type realm struct {
	name string
}

func (r realm) url(p string) string {
	return kcBase + "/realms/" + r.name + "/protocol/openid-connect/" + p
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func randState() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize opens the authorization endpoint in a browser and, when
// Keycloak shows its login form, signs in as user. It returns the
// redirect to the relying party (code or error) or Keycloak's page.
func (b *agent) authorize(r realm, params url.Values, user, pass string) (reply, error) {
	if params.Get("state") == "" {
		params.Set("state", randState())
	}
	rep, err := b.get(r.url("auth")+"?"+params.Encode(), nil)
	if err != nil || rep.status != 200 || user == "" || !strings.Contains(rep.body, "kc-form-login") {
		return rep, err
	}
	act, err := action(rep.body)
	if err != nil {
		return rep, err
	}
	return b.post(act, url.Values{"username": {user}, "password": {pass}, "credentialId": {""}}, nil)
}

// code signs user in to client and returns the code of the redirect.
func (b *agent) code(r realm, client string, extra url.Values, user, pass string) (string, error) {
	p := url.Values{"client_id": {client}, "redirect_uri": {rpURI}, "response_type": {"code"}, "scope": {"openid"}}
	for k, v := range extra {
		p[k] = v
	}
	rep, err := b.authorize(r, p, user, pass)
	if err != nil {
		return "", err
	}
	if rep.loc == nil || rep.loc.Query().Get("code") == "" {
		return "", fmt.Errorf("no code in redirect: %s (location %v)", rep, rep.loc)
	}
	return rep.loc.Query().Get("code"), nil
}

// token posts to the token endpoint.
func (a *agent) token(r realm, form url.Values, hdr map[string]string) (reply, error) {
	return a.post(r.url("token"), form, hdr)
}

// exchange redeems a code for a confidential client with client_secret_post.
func (a *agent) exchange(r realm, client, secret, code string, extra url.Values) (reply, error) {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpURI}, "client_id": {client}}
	if secret != "" {
		f.Set("client_secret", secret)
	}
	for k, v := range extra {
		f[k] = v
	}
	return a.token(r, f, nil)
}

// kcSetup creates the driver's realms, clients and users.
func kcSetup(k *kcAdmin) error {
	mk := func(path string, body any) error { _, err := k.call("POST", path, body); return err }
	realms := []map[string]any{
		{"realm": "shop", "enabled": true, "sslRequired": "none", "revokeRefreshToken": true, "refreshTokenMaxReuse": 0,
			"bruteForceProtected": true, "failureFactor": 3, "waitIncrementSeconds": 60, "maxFailureWaitSeconds": 900,
			"maxDeltaTimeSeconds": 43200, "quickLoginCheckMilliSeconds": 1, "minimumQuickLoginWaitSeconds": 60},
		// short: lifetimes short enough to expire during the run.
		// The login form times out after 3 s (accessCodeLifespanLogin).
		{"realm": "short", "enabled": true, "sslRequired": "none", "accessTokenLifespan": 2, "accessCodeLifespanLogin": 3},
	}
	for _, r := range realms {
		if err := mk("", r); err != nil {
			return err
		}
	}
	client := func(id string, extra map[string]any) map[string]any {
		c := map[string]any{"clientId": id, "enabled": true, "protocol": "openid-connect",
			"redirectUris":        []string{rpURI, fmt.Sprintf("http://127.0.0.1:%d/oauth2/callback", o2pPort)},
			"standardFlowEnabled": true, "publicClient": false, "secret": id + "-secret",
			"clientAuthenticatorType": "client-secret", "directAccessGrantsEnabled": false}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	for _, r := range []string{"shop", "short"} {
		for _, c := range []map[string]any{
			// In the short realm web's sessions, and so its refresh tokens, idle out after 3 s.
			client("web", map[string]any{"directAccessGrantsEnabled": true, "attributes": map[string]string{"client.session.idle.timeout": map[string]string{"shop": "1800", "short": "3"}[r]}}),
			client("web2", map[string]any{"directAccessGrantsEnabled": true}),
			client("spa", map[string]any{"publicClient": true, "attributes": map[string]string{"pkce.code.challenge.method": "S256"}}),
			client("svc", map[string]any{"serviceAccountsEnabled": true, "standardFlowEnabled": false}),
			client("batch", map[string]any{"serviceAccountsEnabled": false, "standardFlowEnabled": false}),
			client("api", map[string]any{"bearerOnly": true}),
			client("legacy", map[string]any{"enabled": false}),
			client("consent-app", map[string]any{"consentRequired": true}),
			client("o2p", nil),
		} {
			if err := mk("/"+r+"/clients", c); err != nil {
				return err
			}
		}
		for _, u := range []struct {
			name    string
			enabled bool
		}{{"alice", true}, {"bob", true}, {"carol", true}, {"dave", false}, {"erin", true}, {"frank", true}, {"grace", true}} {
			if err := mk("/"+r+"/users", map[string]any{"username": u.name, "enabled": u.enabled,
				"email": u.name + "@example.com", "emailVerified": true, "firstName": u.name, "lastName": "Example",
				"credentials": []map[string]any{{"type": "password", "value": u.name + "-pw", "temporary": false}}}); err != nil {
				return err
			}
		}
	}
	// A client scope that exists in the realm but is not one of web's.
	return mk("/shop/client-scopes", map[string]any{"name": "payments", "protocol": "openid-connect"})
}

// kcStack is a running Keycloak behind nginx (and oauth2-proxy), with the
// captures of their logs.
type kcStack struct {
	admin              *kcAdmin
	text, json, access *Capture
	o2p                *Capture
}

func startKeycloak(t *testing.T, dir string) *kcStack {
	home := need(t, "keycloak-"+keycloakVersion)
	java := need(t, "java21/bin/java")
	portFree(t, kcPort)
	text := filepath.Join(dir, "keycloak-text.log")
	jsonLog := filepath.Join(dir, "keycloak-json.log")
	// One run, two formats: the console in JSON, the file handler in the
	// default text pattern (the same pattern as the default console).
	p := start(t, jsonLog, []string{
		"JAVA_HOME=" + filepath.Dir(filepath.Dir(java)),
		"JAVA_OPTS_APPEND=--add-opens java.base/java.lang=ALL-UNNAMED",
		"KC_BOOTSTRAP_ADMIN_USERNAME=admin", "KC_BOOTSTRAP_ADMIN_PASSWORD=admin",
	}, filepath.Join(home, "bin", "kc.sh"), keycloakArgs(text)...)
	waitHTTP(t, p, fmt.Sprintf("http://127.0.0.1:%d/realms/master", kcPort), 6*time.Minute)
	a := newAgent("127.0.0.1", "authsift-realserver-admin")
	tok, err := a.post(fmt.Sprintf("http://127.0.0.1:%d/realms/master/protocol/openid-connect/token", kcPort),
		url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {"admin"}, "password": {"admin"}}, nil)
	if err != nil || tok.str("access_token") == "" {
		t.Fatalf("admin token: %v %s", err, tok)
	}
	hdr := []string{"Keycloak " + keycloakVersion + " (keycloak-quarkus-dist from Maven Central), Java 21+, kc.sh " + strings.Join(keycloakArgs("<file>"), " ")}
	return &kcStack{
		admin: &kcAdmin{a: a, base: fmt.Sprintf("http://127.0.0.1:%d", kcPort), token: tok.str("access_token")},
		text:  &Capture{Name: "keycloak-text", Path: text, Out: "../testdata/keycloak/real-kc" + keycloakVersion + "-text", Header: append(hdr, "this file: the file handler, default text pattern")},
		json:  &Capture{Name: "keycloak-json", Path: jsonLog, Out: "../testdata/keycloak/real-kc" + keycloakVersion + "-json", Header: append(hdr, "this file: the console, --log-console-output=json (stdout and stderr)")},
	}
}

func keycloakArgs(textFile string) []string {
	return []string{"start-dev", "--db=dev-mem", "--http-host=127.0.0.1", fmt.Sprintf("--http-port=%d", kcPort),
		"--proxy-headers=xforwarded", "--spi-events-listener--jboss-logging--success-level=info",
		"--log=console,file", "--log-console-output=json", "--log-file=" + textFile, "--log-file-output=default"}
}
