package ingest

import (
	"bytes"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Dex: log/slog records (text by default, JSON with logger.format: json).
// Dex writes most token-endpoint failures only into the response body: its
// logs name a handful of failures (a wrong or missing client secret, refresh
// token reuse, expiry and client mismatch, a lost auth request), which are
// read here; the rest needs the proxy source. The message is the type rules
// match on; releases before the move to slog (logrus) appended the client to
// the message ("... on token request for client: web"), which is cut off.
// "login successful" with a connector is a success.

const dexLoginSuccessful = "login successful"

// dexMessage returns the known message msg starts with and its endpoint, or
// "": the messages Dex logs for a failure or a success (server/handlers.go,
// server/refreshhandlers.go; HEAD server/grants/*.go).
func dexMessage(msg []byte) (string, string) {
	if len(msg) < 10 {
		return "", ""
	}
	for _, m := range [...]struct{ msg, endpoint string }{
		{"invalid client_secret on token request", "token"},
		{"missing client_secret on token request", "token"},
		{"refresh token claimed twice", "token"},
		{"refresh token expired due to inactivity", "token"},
		{"refresh token expired", "token"},
		{"trying to claim token for different client", "token"},
		{"invalid 'state' parameter provided", "authorize"},
		{"failed to get auth request", "authorize"},
		{"failed to get refresh token", "token"},
		{"failed to refresh identity", "token"},
		{"failed to update refresh token", "token"},
		{"failed to get auth code", "token"},
		{"unsupported grant type", "token"},
		{"unregistered redirect_uri", "authorize"},
		{"invalid client_id provided", "authorize"},
		{"failed to parse authorization request", "authorize"},
		{"failed login attempt", "authorize"},
		{"failed to verify ID token", "userinfo"},
		{dexLoginSuccessful, "authorize"},
	} {
		if bytes.HasPrefix(msg, []byte(m.msg)) {
			return m.msg, m.endpoint
		}
	}
	return "", ""
}

func isDex(t *top, v *fastjson.Value) bool {
	m, _ := dexMessage(bytesOf(t.msg))
	if m == dexLoginSuccessful {
		// a common phrase: only Dex's carries the connector
		return v.Exists("connector_id") || bytes.HasPrefix(bytesOf(t.msg), []byte("login successful: connector"))
	}
	return m != ""
}

func (d *Decoder) decodeDexJSON(v *fastjson.Value, t *top) []classify.Event {
	raw := bytesOf(t.msg)
	msg, endpoint := dexMessage(raw)
	ev := d.dexEvent(msg, endpoint)
	ev.ClientID = d.sym(bytesOf(t.clientID))
	ev.Reason = str(v, "err")
	if ev.Reason == "" {
		ev.Reason = dexMessageErr(raw, msg)
	}
	dexRefine(ev)
	ev.Time = parseTimeBytes(bytesOf(t.time))
	ev.TraceID = str(v, "request_id")
	ev.UserID = firstStr(v, "username", "user_id")
	return d.events
}

func (d *Decoder) dexEvent(msg, endpoint string) *classify.Event {
	if msg == dexLoginSuccessful {
		ev := d.next(rules.SourceDex, classify.Success)
		ev.Endpoint = endpoint
		return ev
	}
	ev := d.next(rules.SourceDex, classify.Failure)
	ev.Type = msg
	ev.Endpoint = endpoint
	return ev
}

// decodeDexText decodes a slog or logrus text line with a known message; ok
// is false for other lines.
func (d *Decoder) decodeDexText(line []byte) ([]classify.Event, bool) {
	i := bytes.Index(line, []byte(`msg="`))
	if i < 0 || !bytes.Contains(line, []byte("level=")) {
		return nil, false
	}
	msg, endpoint := dexMessage(line[i+len(`msg="`):])
	if msg == "" || msg == dexLoginSuccessful && !bytes.Contains(line, []byte("connector_id=")) &&
		!bytes.Contains(line, []byte(`login successful: connector`)) {
		return nil, false
	}
	ev := d.dexEvent(msg, endpoint)
	ev.Reason = dexMessageErr(line[i+len(`msg="`):], msg)
	if j := strings.IndexByte(ev.Reason, '"'); j >= 0 {
		ev.Reason = ev.Reason[:j]
	}
	parseLogfmt(line, func(k, v []byte) {
		switch string(k) {
		case "time":
			ev.Time = parseTime(string(v))
		case "client_id":
			ev.ClientID = d.sym(v)
		case "err":
			ev.Reason = toString(v)
		case "request_id":
			ev.TraceID = toString(v)
		case "username":
			ev.UserID = toString(v)
		case "msg":
			// logrus releases: "... on token request for client: web"
			if c, ok := strings.CutPrefix(string(v), msg+" for client: "); ok {
				ev.ClientID = d.sym([]byte(c))
			}
		}
	})
	dexRefine(ev)
	return d.events, true
}

// dexMessageErr is the error logrus releases appended to the message
// ("failed to get refresh token: not found"), or "".
func dexMessageErr(raw []byte, msg string) string {
	if rest, ok := bytes.CutPrefix(raw, []byte(msg+": ")); ok {
		return string(rest)
	}
	return ""
}

// dexRefine marks the second line of a failure Dex logs twice as its
// context: "failed to update refresh token" that wraps the connector's
// refresh error follows "failed to refresh identity" for the same request;
// "failed to parse authorization request" with "Unregistered redirect_uri."
// or "Invalid client_id." follows the line that names the redirect_uri or
// client (seen on Dex v2.45.1, ingest/testdata/dex/real-v2.45.1-*.log).
func dexRefine(ev *classify.Event) {
	if ev.Outcome == classify.Success {
		ev.Reason = ""
	}
	switch {
	case ev.Type == "failed to update refresh token" && strings.HasPrefix(ev.Reason, "refresh token error: "),
		ev.Type == "failed to parse authorization request" && (ev.Reason == "Unregistered redirect_uri." || ev.Reason == "Invalid client_id."):
		ev.Outcome = classify.Context
	}
}
