package realserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// agent is one party on the network: a browser (cookies, a user agent), an
// application server or an attacker. Each sends from its own address
// through the proxy's X-Forwarded-For.
type agent struct {
	c    *http.Client
	addr string
	ua   string
}

// newAgent returns an agent that follows redirects except those that leave
// the servers under test (to a relying party's redirect_uri), which it
// returns to the caller.
func newAgent(addr, ua string, servers ...string) *agent {
	jar, _ := cookiejar.New(nil)
	a := &agent{addr: addr, ua: ua}
	a.c = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			for _, s := range servers {
				if strings.HasPrefix(req.URL.String(), s) {
					return nil
				}
			}
			return http.ErrUseLastResponse
		}}
	return a
}

// reply is an HTTP answer, read whole.
type reply struct {
	status int
	body   string
	loc    *url.URL
	json   map[string]any
}

func (r reply) String() string {
	return fmt.Sprintf("%d %.300s", r.status, r.body)
}

// str returns a string field of a JSON answer.
func (r reply) str(k string) string {
	s, _ := r.json[k].(string)
	return s
}

// do sends a form (or nothing) as this agent: its address in
// X-Forwarded-For, its user agent.
func (a *agent) do(method, u string, body url.Values, hdr map[string]string) (reply, error) {
	h := map[string]string{"X-Forwarded-For": a.addr, "User-Agent": a.ua}
	var raw []byte
	if body != nil {
		raw = []byte(body.Encode())
		h["Content-Type"] = "application/x-www-form-urlencoded"
	}
	for k, v := range hdr {
		h[k] = v
	}
	return a.doRaw(method, u, raw, h)
}

func (a *agent) get(u string, hdr map[string]string) (reply, error) { return a.do("GET", u, nil, hdr) }

func (a *agent) post(u string, form url.Values, hdr map[string]string) (reply, error) {
	return a.do("POST", u, form, hdr)
}

var formAction = regexp.MustCompile(`<form[^>]*\baction="([^"]+)"`)

// action returns the action URL of the first form in an HTML page.
func action(page string) (string, error) {
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("no form in page: %.300s", page)
	}
	return html.UnescapeString(m[1]), nil
}

// basic returns an Authorization header value for HTTP Basic.
func basic(user, pass string) map[string]string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	return map[string]string{"Authorization": req.Header.Get("Authorization")}
}

func bearer(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok}
}

// expect checks an answer's status.
func expect(r reply, err error, status int) (reply, error) {
	if err != nil {
		return r, err
	}
	if r.status != status {
		return r, fmt.Errorf("want HTTP %d, got %s", status, r)
	}
	return r, nil
}

// doRaw sends body with exactly the headers hdr and reads the answer
// whole.
func (a *agent) doRaw(method, u string, body []byte, hdr map[string]string) (reply, error) {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, body: string(b)}
	r.loc, _ = resp.Location()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(b, &r.json)
	}
	return r, err
}
