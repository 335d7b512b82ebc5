package ingest

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Microsoft Entra ID: token-endpoint error bodies ({"error",
// "error_description":"AADSTSnnnn: ...", "error_codes":[n], ...}), sign-in
// log records as exported by diagnostic settings (category *SignInLogs,
// resultType, properties{...}), the same records inside an Event Hubs
// {"records":[...]} envelope, and Microsoft Graph signIn objects.

func isEntraTokenError(t *top) bool {
	if bytesOf(t.errorV) == nil {
		return false
	}
	return t.errorCodes != nil || bytes.HasPrefix(bytesOf(t.errorDesc), []byte("AADSTS"))
}

func isEntraSignIn(t *top) bool {
	if bytes.HasSuffix(bytesOf(t.category), []byte("SignInLogs")) {
		return true
	}
	return isObject(t.status) && t.status.Exists("errorCode") && t.appID != nil
}

func (d *Decoder) decodeEntraTokenError(v *fastjson.Value) []classify.Event {
	ev := d.next(rules.SourceEntra, classify.Failure)
	ev.Type = "token_error"
	ev.Endpoint = "token"
	ev.Error = d.symAt(v, "error")
	code, reason := splitAADSTS(str(v, "error_description"))
	if codes := v.GetArray("error_codes"); len(codes) > 0 {
		if n, err := codes[0].Int(); err == nil {
			code = strconv.Itoa(n)
		}
	}
	ev.Code = code
	ev.Reason = reason
	ev.TraceID = firstStr(v, "correlation_id", "trace_id")
	ev.Time = parseTime(str(v, "timestamp"))
	ev.ClientID = d.symAt(v, "client_id")
	if ev.ClientID == "" {
		ev.ClientID = d.sym(entraAppInText(reason))
	}
	ev.GrantType = d.symAt(v, "grant_type")
	return d.events
}

// entraAppInText returns the application id an Entra error text names
// ("... for a secret added to app '<id>'.", "The provided client secret
// keys for app '<id>' are expired.", "Application with identifier '<id>'
// was not found ..."), or nil: a token error body has no client_id field.
func entraAppInText(text string) []byte {
	for _, marker := range []string{"app '", "Application with identifier '"} {
		i := strings.Index(text, marker)
		if i < 0 {
			continue
		}
		rest := text[i+len(marker):]
		if j := strings.IndexByte(rest, '\''); j > 0 && j <= 128 {
			return []byte(rest[:j])
		}
	}
	return nil
}

// splitAADSTS splits "AADSTS70008: text\r\nTrace ID: ..." into "70008" and "text".
func splitAADSTS(desc string) (code, reason string) {
	if i := strings.IndexAny(desc, "\r\n"); i >= 0 {
		desc = desc[:i]
	}
	if strings.HasPrefix(desc, "AADSTS") {
		rest := desc[len("AADSTS"):]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		code = rest[:j]
		desc = strings.TrimLeft(strings.TrimPrefix(rest[j:], ":"), " ")
	}
	return code, strings.TrimSpace(desc)
}

func (d *Decoder) decodeEntraRecords(v *fastjson.Value) []classify.Event {
	recs := v.GetArray("records")
	if recs == nil {
		return d.malformed(rules.SourceEntra, "event hubs envelope: records is not a list")
	}
	for _, r := range recs {
		var rt top
		rt.scan(r)
		if r.Type() != fastjson.TypeObject || !isEntraSignIn(&rt) {
			ev := d.next(rules.SourceEntra, classify.Malformed)
			ev.Detail = "event hubs record is not a sign-in log record"
			continue
		}
		d.decodeEntraSignIn(r)
	}
	return d.events
}

func (d *Decoder) decodeEntraSignIn(v *fastjson.Value) {
	props := v.Get("properties")
	if props == nil || props.Type() != fastjson.TypeObject {
		props = v // a Graph signIn object has the fields at the top
	}
	code := d.symAt(v, "resultType")
	if code == "" {
		code = d.symAt(props, "status", "errorCode")
	}
	outcome := classify.Failure
	if code == "0" || code == "" {
		outcome = classify.Success
	}
	ev := d.next(rules.SourceEntra, outcome)
	ev.Type = d.symAt(v, "category")
	if ev.Type == "" {
		ev.Type = "SignInLogs"
	}
	ev.Endpoint = "authorize"
	if outcome == classify.Failure {
		ev.Code = code
		ev.Reason = d.symAt(v, "resultDescription")
		if ev.Reason == "" {
			ev.Reason = d.symAt(props, "status", "failureReason")
		}
	}
	ev.ClientID = d.symAt(props, "appId")
	ev.UserID = firstStr(props, "userId", "userPrincipalName")
	ev.IP = firstStr(v, "callerIpAddress")
	if ev.IP == "" {
		ev.IP = str(props, "ipAddress")
	}
	ev.TraceID = firstStr(v, "correlationId")
	if ev.TraceID == "" {
		ev.TraceID = str(props, "correlationId")
	}
	ev.Realm = d.symAt(v, "tenantId")
	// The token presented: a refresh token (or a primary refresh token)
	// makes this a refresh-token redemption.
	switch d.symAt(props, "incomingTokenType") {
	case "refreshToken", "primaryRefreshToken":
		ev.GrantType = "refresh_token"
	}
	ev.Time = parseTime(firstStr(v, "time", "createdDateTime"))
}
