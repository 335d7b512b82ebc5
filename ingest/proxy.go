package ingest

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Reverse-proxy access logs of an authorization server's endpoints, for the
// servers whose own logs do not say why a request failed (Dex writes most
// token-endpoint failures only into the response body). Read: nginx JSON
// access logs (`log_format ... escape=json`, the response body captured by
// body_filter_by_lua into $resp_body), Envoy JSON access logs
// (%RESPONSE_CODE%, %REQ(:PATH)%; a body only when a filter puts it into
// dynamic metadata) and Traefik's JSON access log.
//
// A 2xx /token response is a success. A response whose body is an RFC 6749
// error object is a failure classified from the body (the generic rules).
// A 4xx or 5xx without a body is a failure with its status as code: 5xx and
// 429 have proxy rules, a 4xx stays unclassified. A WWW-Authenticate Bearer
// challenge or a redirect Location with error= are read as the generic
// decoder reads them. Health checks, static files and other paths are not
// auth events.

func isProxy(t *top) bool { return t.proxy }

func (d *Decoder) decodeProxy(v *fastjson.Value) []classify.Event {
	path := firstStr(v, "request_uri", "uri", "path", "RequestPath", "url")
	if path == "" {
		// nginx $request: "POST /oauth2/token HTTP/1.1"
		if f := strings.Fields(str(v, "request")); len(f) >= 2 {
			path = f[1]
		}
	}
	status := num(v, "status")
	if status == 0 {
		status = num(v, "response_code")
	}
	if status == 0 {
		status = num(v, "DownstreamStatus")
	}
	endpoint := endpointOf(path)
	ev := d.next(rules.SourceProxy, classify.Ignored)
	ev.Status = status
	ev.Endpoint = endpoint
	switch {
	case status >= 400 && bearerChallenge(ev, firstStr(v, "sent_http_www_authenticate", "www_authenticate")):
		// a resource server behind the proxy refused the access token
		ev.Outcome = classify.Failure
		if endpoint == "" || endpoint == "other" {
			ev.Endpoint = "resource"
		}
	case endpoint == "" || endpoint == "other":
		// not an auth endpoint: health checks, static files, the apps behind
	case proxyBodyError(d, ev, firstStr(v, "resp_body", "response_body")):
		ev.Outcome = classify.Failure
	case status >= 300 && status < 400 && strings.Contains(firstStr(v, "sent_http_location", "location"), "error="):
		if locationError(ev, firstStr(v, "sent_http_location", "location")) {
			ev.Outcome = classify.Failure
		}
	case status >= 400:
		ev.Outcome = classify.Failure
		ev.Code = d.sym(strconv.AppendInt(nil, int64(status), 10))
		ev.Reason = "HTTP " + strconv.Itoa(status) + " without an error body"
	case status >= 200 && status < 300 && endpoint == "token":
		ev.Outcome = classify.Success
	case status >= 300 && status < 400 && endpoint == "authorize" &&
		hasParam([]byte(firstStr(v, "sent_http_location", "location")), "code"):
		ev.Outcome = classify.Success
	}
	if ev.Outcome == classify.Ignored {
		d.events = d.events[:0]
		return nil
	}
	if status != 0 {
		ev.Status = status
	}
	form := firstStr(v, "request_body", "req_body")
	if q := strings.IndexByte(path, '?'); q >= 0 && form == "" {
		form = path[q+1:]
	}
	var code, refresh string
	if form != "" && form != "-" {
		if vals, err := url.ParseQuery(form); err == nil {
			ev.GrantType = d.sym([]byte(vals.Get("grant_type")))
			ev.ClientID = d.sym([]byte(vals.Get("client_id")))
			if ev.RedirectURI == "" {
				ev.RedirectURI = vals.Get("redirect_uri")
			}
			code, refresh = vals.Get("code"), vals.Get("refresh_token")
		}
	}
	if d.keys != nil { // correlation keys: the code handed out or presented, the refresh token presented
		loc := []byte(firstStr(v, "sent_http_location", "location"))
		d.requestKeys(ev, unescapeParam(queryParam(loc, "code")), []byte(code), []byte(refresh))
	}
	ip := firstStr(v, "remote_addr", "client_ip", "ClientHost", "downstream_remote_address")
	if xff := firstStr(v, "http_x_forwarded_for", "x_forwarded_for"); xff != "" && xff != "-" {
		ip, _, _ = strings.Cut(xff, ",")
	}
	ev.IP = hostOnly(strings.TrimSpace(ip))
	ev.Host = d.symAt(v, "host")
	if ev.Host == "" {
		ev.Host = d.sym([]byte(firstStr(v, "authority", "http_host", "RequestHost")))
	}
	ev.TraceID = firstStr(v, "request_id", "x_request_id", "trace_id")
	ev.Time = proxyTime(firstStr(v, "time_iso8601", "timestamp", "@timestamp", "start_time", "time", "StartUTC", "time_local"))
	return d.events
}

// proxyBodyError reads an RFC 6749 error object from a logged response body
// (a JSON string in the record, escaped by escape=json); false when there is
// none.
func proxyBodyError(d *Decoder, ev *classify.Event, body string) bool {
	if body == "" || body == "-" || !strings.Contains(body, `"error"`) {
		return false
	}
	var p fastjson.Parser
	b, err := p.Parse(body)
	if err != nil || b.Type() != fastjson.TypeObject {
		return false
	}
	ev.Error = d.symAt(b, "error")
	if ev.Error == "" {
		return false
	}
	ev.Reason = d.symAt(b, "error_description")
	return true
}

// bearerChallenge reads a logged WWW-Authenticate header; false when it
// carries no Bearer challenge.
func bearerChallenge(ev *classify.Event, h string) bool {
	if h == "" || h == "-" || !strings.HasPrefix(strings.TrimSpace(h), "Bearer") {
		return false
	}
	return bearerError(ev, h)
}

// proxyTime parses ISO 8601 and epoch times, and nginx's $time_local.
func proxyTime(s string) time.Time {
	if t := parseTime(s); !t.IsZero() {
		return t
	}
	if t, err := time.Parse("02/Jan/2006:15:04:05 -0700", s); err == nil {
		return t.UTC()
	}
	return time.Time{}
}
