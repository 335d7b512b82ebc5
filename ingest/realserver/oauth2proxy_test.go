package realserver

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const oauth2ProxyVersion = "v7.15.6"

var o2pBase = fmt.Sprintf("http://127.0.0.1:%d", o2pPort)

// startOAuth2Proxy runs oauth2-proxy with Keycloak (through nginx) as its
// OIDC provider in front of a small app, and returns its log's capture.
func startOAuth2Proxy(t *testing.T, dir string) *Capture {
	t.Helper()
	bin := need(t, "bin/oauth2-proxy")
	portFree(t, o2pPort)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", appPort))
	if err != nil {
		t.Fatal(err)
	}
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s\n", r.Header.Get("X-Forwarded-User"))
	})}}
	app.Start()
	t.Cleanup(app.Close)
	args := oauth2ProxyArgs()
	logPath := filepath.Join(dir, "oauth2-proxy.log")
	p := start(t, logPath, nil, bin, args...)
	waitHTTP(t, p, o2pBase+"/ping", time.Minute)
	return &Capture{Name: "oauth2-proxy", Path: logPath, Out: "../testdata/oauth2_proxy/real-" + oauth2ProxyVersion + "-keycloak" + keycloakVersion,
		Header: []string{"oauth2-proxy " + oauth2ProxyVersion + " (go install github.com/oauth2-proxy/oauth2-proxy/v7@" + oauth2ProxyVersion + "), provider Keycloak " + keycloakVersion + " through nginx",
			"flags: " + strings.Join(oauth2ProxyArgs(), " ")}}
}

func oauth2ProxyArgs() []string {
	return []string{"--http-address=" + strings.TrimPrefix(o2pBase, "http://"),
		fmt.Sprintf("--upstream=http://127.0.0.1:%d/", appPort),
		"--provider=keycloak-oidc", "--oidc-issuer-url=" + kcBase + "/realms/shop",
		"--client-id=o2p", "--client-secret=o2p-secret", "--redirect-url=" + o2pBase + "/oauth2/callback",
		"--cookie-secret=authsift-realserver-cookie-32byt", "--cookie-secure=false", "--email-domain=*",
		"--reverse-proxy=true", "--real-client-ip-header=X-Forwarded-For", "--skip-provider-button=true", "--code-challenge-method=S256"}
}

// o2pSignIn opens the app through oauth2-proxy in browser b and signs in at
// Keycloak; it returns the last answer.
func o2pSignIn(b *agent, user string) (reply, error) {
	r, err := b.get(o2pBase+"/", nil)
	if err != nil || !strings.Contains(r.body, "kc-form-login") {
		return r, err
	}
	act, err := action(r.body)
	if err != nil {
		return r, err
	}
	return b.post(act, map[string][]string{"username": {user}, "password": {user + "-pw"}, "credentialId": {""}}, nil)
}
