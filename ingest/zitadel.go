package ingest

import (
	"bytes"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Zitadel and other servers built on zitadel/oidc's pkg/op: log/slog
// records with the oidc_error group (pkg/oidc/error.go LogValue: parent,
// description, type, state, session_state, redirect_disabled). op.RequestError
// and op.WriteError log msg "request error" (token, introspection, revocation
// endpoints) with status_code; op.AuthRequestError and TryErrorRedirect log
// "auth request", "auth request: not redirecting" or "auth request redirect"
// (authorization endpoint). The level is WARN, ERROR for server_error, INFO
// for authorization_pending. Read as JSON (slog.JSONHandler: a nested
// oidc_error object) or text (slog.TextHandler: oidc_error.type=... keys,
// also behind the default logger's "2006/01/02 15:04:05 LEVEL msg" prefix).
//
// Zitadel itself first logs the storage error as a logrus record,
// msg "OIDC error" (internal/api/oidc/error.go): that line is context of the
// "request error" record that follows. Zitadel answers its own errors with
// the i18n key as description (Errors.User.Code.Invalid, ...) and, below
// status 500, the wire error invalid_request.

const (
	zitadelRequestError = "request error"
	zitadelOIDCError    = "OIDC error"
)

func isZitadel(t *top) bool {
	if isObject(t.oidcError) {
		return true
	}
	return bytes.Equal(bytesOf(t.msg), []byte(zitadelOIDCError))
}

func (d *Decoder) decodeZitadelJSON(v *fastjson.Value, t *top) []classify.Event {
	msg := bytesOf(t.msg)
	if !isObject(t.oidcError) {
		ev := d.next(rules.SourceZitadel, classify.Context)
		ev.Status = num(v, "status_code")
		ev.Time = parseTimeBytes(bytesOf(t.time))
		return d.events
	}
	e := t.oidcError
	ev := d.next(rules.SourceZitadel, classify.Failure)
	ev.Error = d.symAt(e, "type")
	ev.Reason = d.symAt(e, "description")
	ev.Debug = str(e, "parent")
	ev.Status = num(v, "status_code")
	ev.Endpoint = zitadelEndpoint(msg)
	ev.Time = parseTimeBytes(bytesOf(t.time))
	if ar := v.Get("auth_request"); isObject(ar) {
		ev.ClientID = d.symAt(ar, "client_id")
		ev.RedirectURI = str(ar, "redirect_uri")
	}
	if ev.ClientID == "" {
		ev.ClientID = d.sym(bytesOf(t.clientID))
	}
	return d.events
}

// zitadelEndpoint tells the endpoint from the record's message.
func zitadelEndpoint(msg []byte) string {
	if bytes.HasPrefix(msg, []byte("auth request")) {
		return "authorize"
	}
	return "token"
}

// decodeZitadelText decodes slog text records with oidc_error.* keys and
// Zitadel's "OIDC error" logrus lines; ok is false for other lines.
func (d *Decoder) decodeZitadelText(line []byte) ([]classify.Event, bool) {
	if bytes.Contains(line, []byte(`msg="OIDC error"`)) {
		ev := d.next(rules.SourceZitadel, classify.Context)
		parseLogfmt(line, func(k, v []byte) {
			switch string(k) {
			case "time":
				ev.Time = parseTime(string(v))
			case "status_code":
				ev.Status, _ = strconv.Atoi(string(v))
			}
		})
		return d.events, true
	}
	i := bytes.Index(line, []byte("oidc_error."))
	if i < 0 || !bytes.Contains(line[i:], []byte("oidc_error.type=")) {
		return nil, false
	}
	ev := d.next(rules.SourceZitadel, classify.Failure)
	var msg []byte
	parseLogfmt(line, func(k, v []byte) {
		switch string(k) {
		case "msg":
			msg = v
		case "time":
			ev.Time = parseTime(string(v))
		case "oidc_error.type":
			ev.Error = d.sym(v)
		case "oidc_error.description":
			ev.Reason = d.sym(v)
		case "oidc_error.parent":
			ev.Debug = toString(v)
		case "status_code":
			ev.Status, _ = strconv.Atoi(string(v))
		case "auth_request.client_id", "client_id":
			ev.ClientID = d.sym(v)
		}
	})
	if msg == nil {
		// the default logger: "2006/01/02 15:04:05 WARN auth request oidc_error.type=..."
		msg = bytes.TrimSpace(line[:i])
		for _, lvl := range [...]string{"ERROR ", "WARN ", "INFO ", "DEBUG "} {
			if j := bytes.Index(msg, []byte(lvl)); j >= 0 {
				msg = msg[j+len(lvl):]
				break
			}
		}
	}
	ev.Endpoint = zitadelEndpoint(msg)
	return d.events, true
}
