package ingest

import (
	"bytes"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Okta: System Log events (developer.okta.com/docs/reference/api/system-log,
// the LogEvent object) one per line as the System Log API returns them (the
// items of its array), inside an Event Hook delivery ({"eventType":
// "com.okta.event_hook", "data": {"events": [...]}}: one event per element)
// and inside an Amazon EventBridge event from Okta's log streaming
// ({"detail-type": "SystemLog", "detail": {...}}).

const oktaEventHook = "com.okta.event_hook"

// isOkta says a record is an Okta System Log event or one of its envelopes.
func isOkta(t *top) bool {
	if et := bytesOf(t.eventType); len(et) > 0 {
		return t.published != nil || (string(et) == oktaEventHook && isObject(t.data))
	}
	return isObject(t.detail) && t.detail.Exists("eventType")
}

func (d *Decoder) decodeOkta(v *fastjson.Value, t *top) []classify.Event {
	switch {
	case t.published != nil:
		d.decodeOktaEvent(v)
	case t.eventType != nil:
		events := t.data.GetArray("events")
		if events == nil {
			return d.malformed(rules.SourceOkta, "okta event hook: data.events is not a list")
		}
		for _, e := range events {
			d.decodeOktaEvent(e)
		}
	default:
		d.decodeOktaEvent(t.detail)
	}
	return d.events
}

// oktaKind says what an Okta event is: its outcome (Ignored for events that
// are neither an OAuth operation nor a sign-in) and the endpoint.
func oktaKind(eventType, result string) (classify.Outcome, string) {
	failed := result == "FAILURE" || result == "DENY"
	switch {
	case eventType == "app.oauth2.as.token.detect_reuse" || eventType == "app.oauth2.token.detect_reuse":
		// Okta's reuse detection: a failure whatever outcome.result says
		// (the detection itself "succeeds").
		return classify.Failure, "token"
	case eventType == "app.oauth2.invalid_client_credentials" || eventType == "app.oauth2.invalid_client_ids":
		return classify.Failure, "token"
	case strings.HasPrefix(eventType, "app.oauth2."):
		endpoint := "other"
		switch {
		case strings.Contains(eventType, ".token."):
			endpoint = "token"
		case strings.Contains(eventType, ".authorize"):
			endpoint = "authorize"
		}
		switch {
		case failed || strings.HasSuffix(eventType, ".scope_denied"):
			return classify.Failure, endpoint
		case result == "SUCCESS" && strings.HasSuffix(eventType, ".token.grant.access_token"):
			// one token request logs a grant event per token (access,
			// id, refresh): the access token counts the request once
			return classify.Success, endpoint
		}
	case eventType == "user.session.start":
		switch {
		case failed:
			return classify.Failure, "authorize"
		case result == "SUCCESS":
			return classify.Success, "authorize"
		}
	case strings.HasPrefix(eventType, "user.authentication."):
		if failed {
			return classify.Failure, "authorize"
		}
	case eventType == "policy.evaluate_sign_on":
		if result == "DENY" { // ALLOW and CHALLENGE (step-up) are normal steps
			return classify.Failure, "authorize"
		}
	case eventType == "user.account.lock":
		// the lock that failed sign-ins caused: it explains the LOCKED_OUT
		// failures that follow, it is not a request of its own
		return classify.Context, "authorize"
	}
	return classify.Ignored, ""
}

// decodeOktaEvent decodes one LogEvent object in one pass over its keys.
func (d *Decoder) decodeOktaEvent(e *fastjson.Value) {
	o, err := e.Object()
	if err != nil {
		d.malformed(rules.SourceOkta, "okta event is not an object")
		return
	}
	var eventType, published, outcome, actor, client, debug, target, transaction, authn, uuid *fastjson.Value
	o.Visit(func(k []byte, x *fastjson.Value) {
		switch string(k) {
		case "eventType":
			eventType = x
		case "published":
			published = x
		case "outcome":
			outcome = x
		case "actor":
			actor = x
		case "client":
			client = x
		case "debugContext":
			debug = x
		case "target":
			target = x
		case "transaction":
			transaction = x
		case "authenticationContext":
			authn = x
		case "uuid":
			uuid = x
		}
	})
	et := d.sym(bytesOf(eventType))
	var result, reason []byte
	if outcome != nil {
		result = bytesOf(outcome.Get("result"))
		reason = bytesOf(outcome.Get("reason"))
	}
	kind, endpoint := oktaKind(et, string(result))
	if kind == classify.Ignored {
		return
	}
	ev := d.next(rules.SourceOkta, kind)
	ev.Type = et
	ev.Endpoint = endpoint
	ev.Time = parseTimeBytes(bytesOf(published))
	if kind == classify.Failure {
		ev.Reason = d.sym(reason)
		// a reason code (invalid_refresh_token, INVALID_CREDENTIALS) is
		// also the error; a sentence is not
		if len(reason) > 0 && len(reason) <= 64 && bytes.IndexByte(reason, ' ') < 0 {
			ev.Error = ev.Reason
		}
	}
	if data := debug.Get("debugData"); data != nil {
		ev.GrantType = d.symAt(data, "grantType")
		ev.RedirectURI = str(data, "redirectUri")
	}
	if ev.GrantType == "" && strings.HasSuffix(et, ".detect_reuse") {
		ev.GrantType = "refresh_token"
	}
	if client != nil {
		ev.IP = str(client, "ipAddress")
	}
	if actor != nil {
		switch at := string(bytesOf(actor.Get("type"))); {
		case at == "User":
			ev.UserID = str(actor, "alternateId")
		case strings.Contains(at, "App") || strings.Contains(at, "Client"):
			ev.ClientID = d.symAt(actor, "id")
		}
	}
	for _, tg := range target.GetArray() {
		switch tt := string(bytesOf(tg.Get("type"))); {
		case tt == "User" && ev.UserID == "":
			ev.UserID = firstStr(tg, "alternateId", "id")
		case (strings.Contains(tt, "App") || strings.Contains(tt, "Client")) && ev.ClientID == "":
			ev.ClientID = d.symAt(tg, "id")
		}
	}
	if authn != nil {
		ev.SessionID = str(authn, "externalSessionId")
	}
	if transaction != nil {
		ev.TraceID = str(transaction, "id")
	}
	if ev.TraceID == "" {
		ev.TraceID = toString(bytesOf(uuid))
	}
}
