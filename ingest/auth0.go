package ingest

import (
	"bytes"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Auth0: tenant log events (auth0/auth0-log-schemas, schemas/log-types) as
// log streams and webhooks deliver them ({"log_id": "...", "data": {...}}),
// inside an Amazon EventBridge event ({"detail-type": ..., "detail":
// {"log_id", "data"}}), and as the bare objects the Management API
// (/api/v2/logs) returns, one per line.

// isAuth0 says a record is an Auth0 log event or one of its envelopes.
func isAuth0(t *top) bool {
	if t.logID != nil {
		return isObject(t.data) || len(bytesOf(t.typ)) > 0
	}
	return isObject(t.detail) && t.detail.Exists("log_id") && isObject(t.detail.Get("data"))
}

func (d *Decoder) decodeAuth0(v *fastjson.Value, t *top) []classify.Event {
	e := v
	switch {
	case t.logID != nil && isObject(t.data):
		e = t.data
	case t.logID == nil:
		e = t.detail.Get("data")
	}
	d.decodeAuth0Event(e)
	return d.events
}

// auth0Kind says what an Auth0 event type is: its outcome (Ignored for the
// types that are not OAuth or login operations: management API calls,
// sign-ups, MFA enrolment, ...), the endpoint and the grant type.
func auth0Kind(typ string) (outcome classify.Outcome, endpoint, grant string) {
	const (
		authorize = "authorize"
		token     = "token"
	)
	switch typ {
	// successes: a login that went through, a token issued
	case "s", "ssa", "scoa":
		return classify.Success, authorize, ""
	case "seacft":
		return classify.Success, token, "authorization_code"
	case "seccft":
		return classify.Success, token, "client_credentials"
	case "sertft":
		return classify.Success, token, "refresh_token"
	case "sepft":
		return classify.Success, token, "password"
	case "sede":
		return classify.Success, token, "urn:ietf:params:oauth:grant-type:device_code"
	case "seoobft", "seotpft", "sepotpft", "sercft", "sens":
		return classify.Success, token, ""
	// failures
	case "f", "fp", "fu", "fsa", "limit_wc", "limit_sul", "limit_mu", "pwd_leak":
		return classify.Failure, authorize, ""
	case "fcoa", "fco":
		return classify.Failure, "other", ""
	case "feacft":
		return classify.Failure, token, "authorization_code"
	case "feccft":
		return classify.Failure, token, "client_credentials"
	case "fertft", "ferrt":
		return classify.Failure, token, "refresh_token"
	case "fepft":
		return classify.Failure, token, "password"
	case "fede":
		return classify.Failure, token, "urn:ietf:params:oauth:grant-type:device_code"
	case "feoobft", "feotpft", "fepotpft", "fercft", "fens":
		return classify.Failure, token, ""
	case "fdeaz", "fdeac", "fdecc":
		return classify.Failure, "device", ""
	}
	return classify.Ignored, "", ""
}

// decodeAuth0Event decodes one event object in one pass over its keys.
func (d *Decoder) decodeAuth0Event(e *fastjson.Value) {
	o, err := e.Object()
	if err != nil {
		d.malformed(rules.SourceAuth0, "auth0 log event is not an object")
		return
	}
	var typ, desc, date, client, ip, userID, userName, host, tenant, logID *fastjson.Value
	var details, refs *fastjson.Value
	o.Visit(func(k []byte, x *fastjson.Value) {
		switch string(k) {
		case "type":
			typ = x
		case "description":
			desc = x
		case "date":
			date = x
		case "client_id":
			client = x
		case "ip":
			ip = x
		case "user_id":
			userID = x
		case "user_name":
			userName = x
		case "hostname":
			host = x
		case "tenant_name":
			tenant = x
		case "log_id", "_id":
			if logID == nil {
				logID = x
			}
		case "details":
			details = x
		case "references":
			refs = x
		}
	})
	t := d.sym(bytesOf(typ))
	outcome, endpoint, grant := auth0Kind(t)
	if outcome == classify.Ignored {
		return
	}
	ev := d.next(rules.SourceAuth0, outcome)
	ev.Type = t
	ev.Endpoint = endpoint
	ev.GrantType = grant
	ev.Time = parseTimeBytes(bytesOf(date))
	ev.ClientID = d.sym(bytesOf(client))
	ev.IP = toString(bytesOf(ip))
	ev.UserID = toString(bytesOf(userID))
	if ev.UserID == "" {
		ev.UserID = toString(bytesOf(userName))
	}
	ev.Host = d.sym(bytesOf(host))
	ev.Realm = d.sym(bytesOf(tenant))
	if refs != nil {
		ev.TraceID = firstStr(refs, "correlation_id", "trace_id")
	}
	if ev.TraceID == "" {
		ev.TraceID = toString(bytesOf(logID))
	}
	if outcome == classify.Failure {
		ev.Reason = d.sym(bytesOf(desc))
	}
	if isObject(details) {
		d.auth0Details(ev, details)
	}
}

// auth0Details reads the fields of details the rules and triage use:
// failure_reason (fertft), the error object of login failures (message,
// oauthError, payload.code), the client authentication error of feccft,
// the query of an /authorize request (client_id, redirect_uri) and the
// session. Codes and tokens in details are not copied (the raw line is
// redacted before it is stored).
func (d *Decoder) auth0Details(ev *classify.Event, details *fastjson.Value) {
	o, _ := details.Object()
	o.Visit(func(k []byte, x *fastjson.Value) {
		switch string(k) {
		case "failure_reason":
			ev.Code = d.sym(bytesOf(x))
		case "client_authentoication_error", "client_authentication_error": // the schema spells it with the typo
			ev.Debug = d.sym(bytesOf(x))
		case "error":
			switch x.Type() {
			case fastjson.TypeString:
				if ev.Reason == "" && ev.Outcome == classify.Failure {
					ev.Reason = d.sym(bytesOf(x))
				}
			case fastjson.TypeObject:
				if ev.Reason == "" && ev.Outcome == classify.Failure {
					ev.Reason = d.symAt(x, "message")
				}
				if oe := bytesOf(x.Get("oauthError")); len(oe) > 0 && len(oe) <= 64 && bytes.IndexByte(oe, ' ') < 0 {
					ev.Error = d.sym(oe)
				} else {
					ev.Error = d.symAt(x, "payload", "code")
				}
			}
		case "qs":
			if ev.ClientID == "" {
				ev.ClientID = d.symAt(x, "client_id")
			}
			ev.RedirectURI = str(x, "redirect_uri")
		case "session_id":
			ev.SessionID = toString(bytesOf(x))
		case "refresh_token":
			if ev.SessionID == "" {
				ev.SessionID = str(x, "session_id")
			}
		}
	})
}
