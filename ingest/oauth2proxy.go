package ingest

import (
	"bytes"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// oauth2-proxy, the relying party's side of the flow
// (oauth2-proxy/oauth2-proxy oauthproxy.go OAuthCallback). Three line kinds:
//
//	standard  [2024/12/31 04:38:22] [oauthproxy.go:895] Error redeeming code during OAuth2 callback: ...
//	auth      172.18.0.1:61256 - <request id> - user@example.com [2024/12/31 04:38:22] [AuthFailure] Invalid authentication via OAuth2: ...
//	request   172.18.0.1:61256 - <request id> - - [2024/12/31 04:38:22] host GET - "/oauth2/callback?code=...&state=..." HTTP/1.1 "<agent>" 500 2771 0.009
//
// (releases before v5: "2017/04/18 09:51:10 oauthproxy.go:478: ..."). The
// type rules match on names what failed: csrf_mismatch (the state does not
// match the CSRF cookie), csrf_cookie_missing, unauthorized (the user is not
// in the allowed emails or groups), callback_error (the provider redirected
// back with ?error=, the error is the wire error), redeem_failed (the code
// exchange failed: the provider's error is read from the message when it is
// there, as golang.org/x/oauth2 prints it, `oauth2: "invalid_grant" "Code not
// valid"`, or as an embedded JSON body), redeem_unreachable (the token
// endpoint could not be reached), missing_code. When x/oauth2 printed the
// body on the next line ("cannot fetch token: 400 Bad Request" then
// "Response: {...}"), the exchange line is context and the Response line
// (an RFC 6749 error object, read by the generic decoder) is the failure.
// The CSRF cookie diagnostics logged just before a csrf_cookie_missing
// failure, and the request log of a callback that failed, are context.
// "[AuthSuccess] Authenticated via OAuth2" is a success.

const (
	o2pRedeem        = "Error redeeming code during OAuth2 callback: "
	o2pRedeemOld     = "error redeeming code "
	o2pCallbackError = "Error while parsing OAuth2 callback: "
	o2pAuthFailure   = "Invalid authentication via OAuth2"
	o2pCSRFMismatch  = "CSRF token mismatch"
	o2pAuthSuccess   = "Authenticated via OAuth2"
	o2pTimeLayout    = "2006/01/02 15:04:05"
)

// looksLikeOAuth2Proxy is the cheap test before any parsing.
func looksLikeOAuth2Proxy(line []byte) bool {
	return bytes.Contains(line, []byte("OAuth2")) || bytes.Contains(line, []byte("/oauth2/callback")) ||
		bytes.Contains(line, []byte("OAuth callback")) || bytes.Contains(line, []byte(o2pRedeemOld))
}

// decodeOAuth2ProxyText decodes an oauth2-proxy line that says something
// about a login; ok is false for other lines.
func (d *Decoder) decodeOAuth2ProxyText(line []byte) ([]classify.Event, bool) {
	if !looksLikeOAuth2Proxy(line) {
		return nil, false
	}
	s := string(line)
	switch {
	case strings.Contains(s, `"/oauth2/callback`):
		return d.o2pRequestLog(s)
	case strings.Contains(s, o2pRedeem) || strings.Contains(s, o2pRedeemOld):
		return d.o2pRedeem(s), true
	case strings.Contains(s, o2pCallbackError):
		msg := strings.TrimSpace(s[strings.Index(s, o2pCallbackError)+len(o2pCallbackError):])
		ev := d.o2pEvent(s, classify.Failure, "callback_error")
		ev.Endpoint = "authorize"
		if isIdentifier(msg) {
			ev.Error = d.sym([]byte(msg))
		} else {
			ev.Reason = msg
		}
		return d.events, true
	case strings.Contains(s, o2pAuthFailure) || strings.Contains(s, "Error while loading CSRF cookie"):
		typ := "unauthorized"
		switch {
		case strings.Contains(s, o2pCSRFMismatch):
			typ = "csrf_mismatch"
		case strings.Contains(s, "CSRF cookie"):
			typ = "csrf_cookie_missing"
		case !strings.Contains(s, "unauthorized"):
			typ = "auth_failure"
		}
		ev := d.o2pEvent(s, classify.Failure, typ)
		ev.Reason = o2pMessage(s)
		return d.events, true
	case strings.Contains(s, "OAuth callback") && strings.Contains(s, "ookie"):
		// LoggingCSRFCookiesInOAuthCallback, just before csrf_cookie_missing
		d.o2pEvent(s, classify.Context, "")
		return d.events, true
	case strings.Contains(s, "[AuthSuccess]") && strings.Contains(s, o2pAuthSuccess):
		d.o2pEvent(s, classify.Success, "")
		return d.events, true
	}
	return nil, false
}

// o2pRedeem reads a failed code exchange.
func (d *Decoder) o2pRedeem(s string) []classify.Event {
	i := strings.Index(s, o2pRedeem)
	rest := ""
	if i >= 0 {
		rest = s[i+len(o2pRedeem):]
	} else {
		rest = s[strings.Index(s, o2pRedeemOld)+len(o2pRedeemOld):]
	}
	rest = strings.TrimSpace(rest)
	ev := d.o2pEvent(s, classify.Failure, "redeem_failed")
	ev.Endpoint = "token"
	ev.Reason = rest
	switch {
	case o2pWireError(d, ev, rest):
	case strings.Contains(rest, "cannot fetch token: ") && !strings.Contains(rest, "Response:"):
		// x/oauth2 before v0.13 printed the body on the next line
		// ("Response: {...}"): that line is the failure.
		ev.Outcome = classify.Context
	case rest == "missing code" || strings.HasSuffix(rest, "missing code"):
		ev.Type = "missing_code"
	case o2pUnreachable(rest):
		ev.Type = "redeem_unreachable"
	}
	return d.events
}

// o2pWireError finds the provider's error in the message: x/oauth2's
// `oauth2: "invalid_grant" "description"` or an embedded JSON body.
func o2pWireError(d *Decoder, ev *classify.Event, rest string) bool {
	if i := strings.Index(rest, `oauth2: "`); i >= 0 {
		q := rest[i+len(`oauth2: "`):]
		if j := strings.IndexByte(q, '"'); j > 0 && isIdentifier(q[:j]) {
			ev.Error = d.sym([]byte(q[:j]))
			if desc := strings.TrimSpace(q[j+1:]); len(desc) > 1 && desc[0] == '"' {
				if k := strings.IndexByte(desc[1:], '"'); k >= 0 {
					ev.Reason = desc[1 : 1+k]
				}
			}
			return true
		}
	}
	if i := strings.Index(rest, `{"error"`); i >= 0 {
		var p fastjson.Parser
		v, err := p.Parse(rest[i:])
		if err != nil {
			// a JSON body followed by more text
			if j := strings.IndexByte(rest[i:], '}'); j > 0 {
				v, err = p.Parse(rest[i : i+j+1])
			}
		}
		if err == nil && v.Type() == fastjson.TypeObject {
			if e := d.symAt(v, "error"); e != "" {
				ev.Error = e
				ev.Reason = d.symAt(v, "error_description")
				return true
			}
		}
	}
	return false
}

func o2pUnreachable(s string) bool {
	for _, m := range [...]string{"dial tcp", "i/o timeout", "connection refused", "no such host",
		"context deadline exceeded", "TLS handshake", "connection reset", "EOF"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// o2pRequestLog: the request log of the callback is context when it failed.
func (d *Decoder) o2pRequestLog(s string) ([]classify.Event, bool) {
	q := strings.Index(s, `" HTTP/`)
	if q < 0 {
		return nil, false
	}
	f := strings.Fields(s[q+2:])
	// HTTP/1.1 "<agent...>" status size duration: the status is third from the end
	if len(f) < 4 {
		return nil, false
	}
	status := 0
	for _, c := range f[len(f)-3] {
		if c < '0' || c > '9' {
			return nil, false
		}
		status = status*10 + int(c-'0')
	}
	if status < 400 {
		return nil, true // the callback went through: the AuthSuccess line counts it
	}
	ev := d.o2pEvent(s, classify.Context, "")
	ev.Status = status
	ev.Endpoint = "authorize"
	return d.events, true
}

func (d *Decoder) o2pEvent(s string, outcome classify.Outcome, typ string) *classify.Event {
	ev := d.next(rules.SourceOAuth2Proxy, outcome)
	ev.Type = typ
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			if t, err := time.Parse(o2pTimeLayout, s[i+1:i+j]); err == nil {
				ev.Time = t.UTC()
			}
		}
	}
	if ev.Time.IsZero() && len(s) >= 19 {
		if t, err := time.Parse(o2pTimeLayout, s[:19]); err == nil {
			ev.Time = t.UTC()
		}
	}
	// auth and request lines: "<client ip:port> - <request id> - <user> [...]"
	if f := strings.SplitN(s, " - ", 3); len(f) == 3 && !strings.HasPrefix(s, "[") {
		ip := strings.Fields(f[0]) // after a container prefix ("oauth2-proxy  | ")
		if len(ip) > 0 {
			ev.IP = hostOnly(ip[len(ip)-1])
		}
		ev.TraceID = strings.TrimSpace(f[1])
		if u, _, ok := strings.Cut(f[2], " ["); ok && u != "-" {
			ev.UserID = u
		}
	}
	return ev
}

// o2pMessage is the message after the "[AuthFailure] " marker.
func o2pMessage(s string) string {
	if i := strings.Index(s, "] "+o2pAuthFailure); i >= 0 {
		return s[i+2:]
	}
	if i := strings.Index(s, o2pAuthFailure); i >= 0 {
		return s[i:]
	}
	return ""
}
