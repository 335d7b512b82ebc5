package ingest

import (
	"bytes"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Authentik: structlog JSON records, one per line, keys sorted
// ({"auth_via": ..., "event": "<message>", "level": "warning", "logger":
// "authentik.providers.oauth2.views.token", "request_id": ..., "timestamp":
// ...} plus the call's keyword arguments). The token view
// (authentik/providers/oauth2/views/token.py) logs one warning per refused
// request, e.g. "Invalid client secret", "Code does not exist",
// "Refresh token is revoked": the event text is the type rules match on.
// Some refusals are only visible as an Authentik Event, logged by
// authentik.events.models as event "Created Event" with the action and its
// context: configuration_error "Invalid redirect URI used by provider" (the
// only trace of a redirect_uri mismatch at /token, answered invalid_client)
// is a failure; suspicious_request "Revoked refresh token was used" follows
// the "Refresh token is revoked" warning and is its context. The request
// log (logger authentik.asgi, event = the path, status) of a token request
// is a success below 400 and context from 400 on.

const (
	authentikTokenLogger = "authentik.providers.oauth2"
	authentikEventLogger = "authentik.events.models"
	authentikASGILogger  = "authentik.asgi"
)

func isAuthentik(t *top) bool {
	return t.event != nil && bytes.HasPrefix(bytesOf(t.logger), []byte("authentik."))
}

func (d *Decoder) decodeAuthentik(v *fastjson.Value, t *top) []classify.Event {
	logger := bytesOf(t.logger)
	event := bytesOf(t.event)
	level := v.GetStringBytes("level")
	switch {
	case bytes.HasPrefix(logger, []byte(authentikTokenLogger)):
		if !bytes.Equal(level, []byte("warning")) && !bytes.Equal(level, []byte("error")) &&
			!bytes.Equal(event, []byte("User not authenticated for application")) &&
			!bytes.Equal(event, []byte("JWT token expired")) {
			return nil // debug and info steps of a request that went through
		}
		outcome := classify.Failure
		if bytes.Equal(event, []byte("failed to verify JWT")) || bytes.Equal(event, []byte("Failed to parse regular expression")) {
			// one key or one redirect pattern of several: the refusal, if any, follows
			outcome = classify.Context
		}
		ev := d.next(rules.SourceAuthentik, outcome)
		ev.Type = d.sym(event)
		ev.Endpoint = "token"
		if bytes.Contains(logger, []byte(".authorize")) {
			ev.Endpoint = "authorize"
		}
		ev.GrantType = d.symAt(v, "grant_type")
		d.authentikCommon(ev, v, t)
		return d.events
	case bytes.Equal(logger, []byte(authentikEventLogger)) && bytes.Equal(event, []byte("Created Event")):
		action := v.GetStringBytes("action")
		message := v.GetStringBytes("context", "message")
		switch {
		case bytes.Equal(action, []byte("configuration_error")) && len(message) > 0:
			ev := d.next(rules.SourceAuthentik, classify.Failure)
			ev.Type = d.sym(message)
			ev.RedirectURI = str(v, "context", "redirect_uri")
			ev.Endpoint = endpointOf(str(v, "context", "http_request", "path"))
			d.authentikCommon(ev, v, t)
			return d.events
		case bytes.Equal(action, []byte("suspicious_request")):
			ev := d.next(rules.SourceAuthentik, classify.Context)
			ev.Endpoint = endpointOf(str(v, "context", "http_request", "path"))
			d.authentikCommon(ev, v, t)
			return d.events
		}
		return nil
	case bytes.Equal(logger, []byte(authentikASGILogger)):
		endpoint := endpointOf(toString(event))
		status := num(v, "status")
		var ev *classify.Event
		switch {
		case endpoint != "token" || status == 0:
			return nil
		case status >= 400:
			ev = d.next(rules.SourceAuthentik, classify.Context)
		case status < 300:
			ev = d.next(rules.SourceAuthentik, classify.Success)
		default:
			return nil
		}
		ev.Endpoint = endpoint
		ev.Status = status
		d.authentikCommon(ev, v, t)
		ev.IP = str(v, "remote")
		return d.events
	}
	return nil
}

func (d *Decoder) authentikCommon(ev *classify.Event, v *fastjson.Value, t *top) {
	ev.ClientID = d.sym(bytesOf(t.clientID))
	if ev.IP == "" {
		ev.IP = str(v, "client_ip")
	}
	ev.TraceID = str(v, "request_id")
	ev.Time = parseTime(str(v, "timestamp"))
	if u := v.Get("user"); u != nil {
		if u.Type() == fastjson.TypeObject {
			ev.UserID = str(u, "username")
		} else {
			ev.UserID = str(v, "user")
		}
	}
}
