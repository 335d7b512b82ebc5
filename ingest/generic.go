package ingest

import (
	"bytes"
	"net/url"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Generic: RFC 6749 section 5.2 error objects with context fields beside
// them, RFC 6750 resource-server errors (WWW-Authenticate: Bearer error=...)
// and authorization-endpoint errors in a redirect's Location query.

func (d *Decoder) decodeGenericJSON(v *fastjson.Value) []classify.Event {
	ev := d.next(rules.SourceGeneric, classify.Ignored)
	ev.Endpoint = endpointOf(firstStr(v, "endpoint", "path", "uri", "url", "request_uri"))
	ev.Status = num(v, "status")
	if ev.Status == 0 {
		ev.Status = num(v, "status_code")
	}
	ev.ClientID = d.symAt(v, "client_id")
	ev.GrantType = d.symAt(v, "grant_type")
	ev.RedirectURI = str(v, "redirect_uri")
	ev.UserID = firstStr(v, "user_id", "sub")
	ev.IP = firstStr(v, "ip", "remote_addr", "client_ip")
	ev.TraceID = firstStr(v, "trace_id", "correlation_id", "request_id")
	ev.Time = parseTime(firstStr(v, "time", "timestamp", "ts", "@timestamp"))
	switch {
	case str(v, "error") != "":
		ev.Outcome = classify.Failure
		ev.Error = d.symAt(v, "error")
		ev.Reason = d.symAt(v, "error_description")
	case str(v, "www_authenticate") != "":
		if !bearerError(ev, str(v, "www_authenticate")) {
			break
		}
		ev.Outcome = classify.Failure
		if ev.Endpoint == "" || ev.Endpoint == "other" {
			ev.Endpoint = "resource"
		}
	case strings.Contains(str(v, "location"), "error="):
		if locationError(ev, str(v, "location")) {
			ev.Outcome = classify.Failure
		}
	case ev.Status >= 400 && ev.Endpoint != "" && ev.Endpoint != "other":
		ev.Outcome = classify.Context
	case ev.Status >= 200 && ev.Status < 300 && ev.Endpoint == "token":
		ev.Outcome = classify.Success
	case ev.Status >= 300 && ev.Status < 400 && ev.Endpoint == "authorize" && len(queryParam(v.GetStringBytes("location"), "code")) > 0:
		// the redirect that hands the client its code: the sign-in went through
		ev.Outcome = classify.Success
	}
	if ev.Outcome == classify.Ignored {
		d.events = d.events[:0]
		return d.events
	}
	d.genericKeys(ev, v)
	return d.events
}

// genericKeys sets the correlation keys of a gateway's record that logs the
// request's code or refresh_token (fields `code`, `refresh_token`) or the
// code it redirected with (`location`).
func (d *Decoder) genericKeys(ev *classify.Event, v *fastjson.Value) {
	if d.keys == nil {
		return
	}
	d.requestKeys(ev, unescapeParam(queryParam(v.GetStringBytes("location"), "code")),
		v.GetStringBytes("code"), v.GetStringBytes("refresh_token"))
}

// requestKeys sets the correlation keys of a request a proxy or gateway
// logged: the code its /authorize redirect handed out (issued), the code or
// refresh token of its token request (redeemed, used, or presented by a
// failure). The values are decoded; they only ever enter the keyed hash.
func (d *Decoder) requestKeys(ev *classify.Event, issued, code, refresh []byte) {
	switch {
	case ev.Endpoint == "authorize" && ev.Outcome == classify.Success:
		if ev.CodeKey = d.keys.of(issued, ""); ev.CodeKey != 0 {
			ev.Step = classify.CodeIssued
		}
	case ev.GrantType == "authorization_code":
		ev.CodeKey = d.keys.of(code, "")
		if ev.CodeKey != 0 && ev.Outcome == classify.Success {
			ev.Step = classify.CodeRedeemed
		}
	case ev.GrantType == "refresh_token":
		ev.TokenKey = d.keys.of(refresh, "")
		if ev.TokenKey != 0 && ev.Outcome == classify.Success {
			ev.Step = classify.TokenUsed
		}
	}
}

// queryParam returns the raw value of the query or fragment parameter name
// of a URL, or nil.
func queryParam(u []byte, name string) []byte {
	for off := 0; off < len(u); {
		i := bytes.Index(u[off:], []byte(name))
		if i < 0 {
			return nil
		}
		i += off
		off = i + len(name)
		if i == 0 || off >= len(u) || u[off] != '=' || !(u[i-1] == '?' || u[i-1] == '&' || u[i-1] == '#') {
			continue
		}
		v := u[off+1:]
		if j := bytes.IndexAny(v, "&#"); j >= 0 {
			v = v[:j]
		}
		return v
	}
	return nil
}

// hasParam reports whether the URL (or form body) u has the parameter name.
func hasParam(u []byte, name string) bool { return queryParam(u, name) != nil }

// unescapeParam decodes a percent-encoded value (a code in a URL and the
// same code in a form body must give one key).
func unescapeParam(b []byte) []byte {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return b
	}
	s, err := url.QueryUnescape(string(b))
	if err != nil {
		return b
	}
	return []byte(s)
}

func (d *Decoder) decodeGenericText(line []byte) ([]classify.Event, bool) {
	if i := bytes.Index(line, []byte("WWW-Authenticate: Bearer")); i >= 0 {
		ev := d.next(rules.SourceGeneric, classify.Failure)
		if !bearerError(ev, string(line[i+len("WWW-Authenticate: "):])) {
			d.events = d.events[:0]
			return nil, false
		}
		ev.Endpoint = "resource"
		ev.Status = statusIn(line)
		return d.events, true
	}
	if i := bytes.Index(line, []byte("Location: ")); i >= 0 && bytes.Contains(line[i:], []byte("error=")) {
		ev := d.next(rules.SourceGeneric, classify.Failure)
		loc := strings.Fields(string(line[i+len("Location: "):]))
		if len(loc) == 0 || !locationError(ev, loc[0]) {
			d.events = d.events[:0]
			return nil, false
		}
		return d.events, true
	}
	// A bare redirect URI carrying an authorization error back to the client
	// (the callback request in an access log, a URL in an app log). Only RFC
	// error values count, so that a URL that merely has an "error" parameter
	// is not taken for an OAuth failure.
	if u := errorURL(line); u != "" {
		ev := d.next(rules.SourceGeneric, classify.Failure)
		if !locationError(ev, u) || !d.isOAuthError(ev.Error) {
			d.events = d.events[:0]
			return nil, false
		}
		ev.Status = 0
		return d.events, true
	}
	return nil, false
}

// errorURL returns the whitespace- or quote-delimited token of line that
// holds "?error=", "&error=" or "#error=", or "".
func errorURL(line []byte) string {
	for _, sep := range []string{"?error=", "&error=", "#error="} {
		i := bytes.Index(line, []byte(sep))
		if i < 0 {
			continue
		}
		start := bytes.LastIndexAny(line[:i], " \t\"'(<[") + 1
		end := i + bytes.IndexAny(append(line[i:len(line):len(line)], ' '), " \t\"')>]")
		return string(line[start:end])
	}
	return ""
}

func (d *Decoder) isOAuthError(s string) bool {
	for _, e := range rules.OAuthErrors() {
		if e == s {
			return true
		}
	}
	return false
}

// bearerError parses `Bearer realm="x", error="invalid_token", error_description="..."`.
func bearerError(ev *classify.Event, h string) bool {
	h = strings.TrimSpace(h)
	if !strings.HasPrefix(h, "Bearer") {
		return false
	}
	params := map[string]string{}
	parseCommaKV([]byte(strings.TrimSpace(h[len("Bearer"):])), func(k, v []byte) {
		params[string(k)] = string(v)
	})
	if params["error"] == "" {
		// 401 with a bare Bearer challenge: no credentials were sent (RFC 6750 3.1).
		ev.Error = "missing_token"
		ev.Reason = "the WWW-Authenticate challenge names no error: the request carried no token"
		return true
	}
	ev.Error = params["error"]
	ev.Reason = params["error_description"]
	return true
}

// locationError reads error, error_description and state from a redirect URI.
func locationError(ev *classify.Event, loc string) bool {
	u, err := url.Parse(loc)
	if err != nil {
		return false
	}
	q := u.Query()
	if u.Fragment != "" && q.Get("error") == "" {
		q, _ = url.ParseQuery(u.Fragment)
	}
	if q.Get("error") == "" {
		return false
	}
	ev.Error = q.Get("error")
	ev.Reason = q.Get("error_description")
	ev.Endpoint = "authorize"
	ev.Status = 302
	u.RawQuery, u.Fragment = "", ""
	ev.RedirectURI = u.String()
	return true
}

// statusIn finds an HTTP status written as `HTTP/1.1 401` in a line.
func statusIn(line []byte) int {
	i := bytes.Index(line, []byte("HTTP/"))
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(line[i:]))
	if len(f) < 2 || len(f[1]) != 3 {
		return 0
	}
	n := 0
	for _, c := range f[1] {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
