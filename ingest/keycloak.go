package ingest

import (
	"bytes"
	"github.com/authsift/authsift/ingest/internal/rarebyte"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Keycloak: the org.keycloak.events lines of the jboss-logging event listener
// (<=23: key=value and key='value with spaces'; >=24: key="value"), inside
// Quarkus/WildFly console lines or Quarkus JSON log records; the JSON records
// of the keycloak-kafka event listener plugin; and the WARN lines of
// org.keycloak.protocol.oidc.utils.OAuth2CodeParser, which are context for the
// CODE_TO_TOKEN_ERROR event that follows them.

const codeParserLogger = "OAuth2CodeParser"

// keycloakSuccess are the event types of operations that succeeded.
func keycloakSuccess(t string) bool {
	switch t {
	case "LOGIN", "CODE_TO_TOKEN", "REFRESH_TOKEN", "CLIENT_LOGIN", "TOKEN_EXCHANGE",
		"IDENTITY_PROVIDER_LOGIN", "AUTHREQID_TO_TOKEN", "OAUTH2_DEVICE_CODE_TO_TOKEN",
		"PERMISSION_TOKEN", "REGISTER":
		return true
	}
	return false
}

// keycloakEndpoint maps an event type (without _ERROR) to an endpoint word.
func keycloakEndpoint(t string) string {
	switch t {
	case "CODE_TO_TOKEN", "REFRESH_TOKEN", "CLIENT_LOGIN", "TOKEN_EXCHANGE", "AUTHREQID_TO_TOKEN",
		"OAUTH2_DEVICE_CODE_TO_TOKEN", "PERMISSION_TOKEN", "AUTHREQID_TO_TOKEN_ERROR":
		return "token"
	case "LOGIN", "REGISTER", "IDENTITY_PROVIDER_LOGIN", "IDENTITY_PROVIDER_FIRST_LOGIN",
		"RESET_PASSWORD", "UPDATE_PASSWORD", "VERIFY_EMAIL", "SEND_VERIFY_EMAIL", "UPDATE_TOTP":
		return "authorize"
	case "USER_INFO_REQUEST":
		return "userinfo"
	case "INTROSPECT_TOKEN":
		return "introspect"
	case "LOGOUT", "IDENTITY_PROVIDER_LOGOUT":
		return "logout"
	case "REVOKE_GRANT", "TOKEN_REVOKE":
		return "revoke"
	case "OAUTH2_DEVICE_AUTH", "OAUTH2_DEVICE_VERIFY_USER_CODE":
		return "device"
	}
	return "other"
}

func unescape(v []byte) []byte {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n':
				out = append(out, '\n')
			case 't':
				out = append(out, '\t')
			case 'r':
				out = append(out, '\r')
			default:
				out = append(out, v[i])
			}
			continue
		}
		out = append(out, v[i])
	}
	return out
}

func startsWithKey(s []byte) bool {
	for i, c := range s {
		switch {
		case c == '=':
			return i > 0
		case c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return false
}

// fillKeycloak sets an event field from one key/value of an event record.
func (d *Decoder) fillKeycloak(ev *classify.Event, key, val []byte) {
	if string(val) == "null" {
		return
	}
	switch string(key) {
	case "type":
		ev.Type = d.sym(val)
	case "realmName":
		ev.Realm = d.sym(val)
	case "realmId":
		if ev.Realm == "" {
			ev.Realm = d.sym(val)
		}
	case "clientId":
		ev.ClientID = d.sym(val)
	case "userId":
		ev.UserID = toString(val)
	case "sessionId":
		ev.SessionID = toString(val)
	case "ipAddress":
		ev.IP = toString(val)
	case "error":
		ev.Error = d.sym(val)
	case "reason":
		ev.Reason = d.sym(val)
	case "detail":
		// Some events carry their text as detail= (introspection's
		// "Authentication failed."): the reason when there is none.
		if ev.Reason == "" {
			ev.Reason = d.sym(val)
		}
	case "grant_type":
		ev.GrantType = d.sym(val)
	case "redirect_uri":
		ev.RedirectURI = toString(val)
	case "code_id":
		if ev.SessionID == "" {
			ev.SessionID = toString(val)
		}
		d.kc.codeID = val
	case "refresh_token_id":
		d.kc.tokenID = val
	case "response_type":
		d.kc.responseType = val
	}
}

// kcIDs are the identifiers of one Keycloak event that become its
// correlation keys; they point into the line being decoded.
type kcIDs struct {
	codeID, tokenID, responseType []byte
}

// keycloakKeys sets the correlation keys of an event: the code of a LOGIN
// (issued; code_id is the user session the code belongs to, with the
// client: Keycloak writes no id of the code itself), CODE_TO_TOKEN
// (redeemed) and CODE_TO_TOKEN_ERROR, and the refresh token presented to
// REFRESH_TOKEN (used) and REFRESH_TOKEN_ERROR.
func (d *Decoder) keycloakKeys(ev *classify.Event) {
	ids := d.kc
	d.kc = kcIDs{}
	if d.keys == nil {
		return
	}
	switch ev.Type {
	case "LOGIN":
		if len(ids.responseType) == 0 || bytes.Contains(ids.responseType, []byte("code")) {
			if ev.CodeKey = d.keys.of(ids.codeID, ev.ClientID); ev.CodeKey != 0 {
				ev.Step = classify.CodeIssued
			}
		}
	case "CODE_TO_TOKEN":
		if ev.CodeKey = d.keys.of(ids.codeID, ev.ClientID); ev.CodeKey != 0 {
			ev.Step = classify.CodeRedeemed
		}
	case "CODE_TO_TOKEN_ERROR":
		ev.CodeKey = d.keys.of(ids.codeID, ev.ClientID)
	case "REFRESH_TOKEN":
		if ev.TokenKey = d.keys.of(ids.tokenID, ""); ev.TokenKey != 0 {
			ev.Step = classify.TokenUsed
		}
	case "REFRESH_TOKEN_ERROR":
		ev.TokenKey = d.keys.of(ids.tokenID, "")
	}
}

// finishKeycloak sets outcome and endpoint from the event type.
func finishKeycloak(ev *classify.Event) {
	t := ev.Type
	switch {
	case strings.HasSuffix(t, "_ERROR"):
		ev.Outcome = classify.Failure
		t = strings.TrimSuffix(t, "_ERROR")
	case ev.Error != "":
		ev.Outcome = classify.Failure
	case keycloakSuccess(t):
		ev.Outcome = classify.Success
	default:
		ev.Outcome = classify.Ignored
	}
	ev.Endpoint = keycloakEndpoint(t)
}

// consolePrefix splits `2024-05-14 09:12:01,124 WARN  [logger] (thread) msg`.
type consolePrefix struct {
	time                       time.Time
	level, logger, thread, msg []byte
}

func splitConsole(line []byte) consolePrefix {
	var p consolePrefix
	// The logger's bracket is the last one before the message: a syslog or
	// container prefix ("kc.sh[1234]:") may hold brackets too.
	head := line
	if m := bytes.Index(line, []byte("] (")); m >= 0 {
		head = line[:m+1]
	}
	lb := bytes.LastIndexByte(head, '[')
	rb := -1
	if lb >= 0 {
		rb = lb + bytes.IndexByte(line[lb:], ']')
	}
	if lb < 0 || rb < lb {
		p.msg = line
		return p
	}
	// head is "[date ]time LEVEL " possibly behind a container prefix
	var words [4][]byte
	n := 0
	for f := line[:lb]; len(f) > 0; {
		f = bytes.TrimLeft(f, " ")
		if len(f) == 0 {
			break
		}
		end := bytes.IndexByte(f, ' ')
		if end < 0 {
			end = len(f)
		}
		if n == len(words) {
			copy(words[:], words[1:])
			n--
		}
		words[n] = f[:end]
		n++
		f = f[end:]
	}
	if n > 0 {
		p.level = words[n-1]
		switch {
		case n >= 3:
			var buf [48]byte
			p.time = parseTimeBytes(append(append(append(buf[:0], words[n-3]...), ' '), words[n-2]...))
		case n == 2:
			p.time = parseTimeBytes(words[0])
		}
	}
	p.logger = line[lb+1 : rb]
	rest := bytes.TrimLeft(line[rb+1:], " ")
	if len(rest) > 0 && rest[0] == '(' {
		if e := bytes.IndexByte(rest, ')'); e > 0 {
			p.thread = rest[1:e]
			rest = bytes.TrimLeft(rest[e+1:], " ")
		}
	}
	p.msg = rest
	return p
}

// decodeKeycloakText decodes a console line; ok is false when the line is
// not a Keycloak line.
func (d *Decoder) decodeKeycloakText(line []byte) ([]classify.Event, bool) {
	if rarebyte.Index(line, codeParserLogger, 10) >= 0 || rarebyte.Index(line, "already used for userSession", 21) >= 0 {
		p := splitConsole(line)
		return d.keycloakCodeParser(p.msg, d.sym(p.thread), p.time), true
	}
	i := keycloakEventStart(line)
	if i < 0 {
		return nil, false
	}
	p := splitConsole(line[:i])
	return d.keycloakEventKV(line[i:], d.sym(p.thread), p.time), true
}

// keycloakEventStart finds `type=` of an event record that also has realmId.
func keycloakEventStart(line []byte) int {
	if rarebyte.Index(line, "realmId=", 5) < 0 {
		return -1
	}
	for off := 0; ; {
		i := rarebyte.Index(line[off:], "type=", 1)
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 || line[i-1] == ' ' || line[i-1] == ')' || line[i-1] == '\t' {
			return i
		}
		off = i + 5
	}
}

func (d *Decoder) keycloakEventKV(rec []byte, thread string, ts time.Time) []classify.Event {
	ev := d.next(rules.SourceKeycloak, classify.Ignored)
	d.kc = kcIDs{}
	if !parseCommaKV(rec, func(k, v []byte) { d.fillKeycloak(ev, k, v) }) {
		d.events = d.events[:0]
		return d.malformed(rules.SourceKeycloak, "keycloak event: unterminated quoted value")
	}
	if ev.Type == "" {
		d.events = d.events[:0]
		return d.malformed(rules.SourceKeycloak, "keycloak event: no type")
	}
	ev.Thread = thread
	ev.Time = ts
	finishKeycloak(ev)
	d.keycloakKeys(ev)
	if ev.Outcome == classify.Ignored {
		d.events = d.events[:0]
	}
	return d.events
}

// keycloakCodeParser turns an OAuth2CodeParser warning into a context event.
func (d *Decoder) keycloakCodeParser(msg []byte, thread string, ts time.Time) []classify.Event {
	var hint, session string
	switch {
	case bytes.Contains(msg, []byte("already used for userSession")):
		hint = "code_already_used"
		session = quotedAfter(msg, []byte("userSession '"))
	case bytes.Contains(msg, []byte("Invalid format of the")):
		hint = "code_malformed"
	default:
		return nil
	}
	ev := d.next(rules.SourceKeycloak, classify.Context)
	ev.Hint = hint
	ev.SessionID = session
	ev.Thread = thread
	ev.Time = ts
	return d.events
}

func quotedAfter(msg, prefix []byte) string {
	i := bytes.Index(msg, prefix)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(prefix):]
	j := bytes.IndexByte(rest, '\'')
	if j < 0 {
		return ""
	}
	return toString(rest[:j])
}

// jsonLogger returns the logger of a Quarkus JSON log record, in the default
// layout (loggerName) or the ECS layout of Keycloak >= 26 (log.logger).
func jsonLogger(v *fastjson.Value) []byte {
	if l := v.GetStringBytes("loggerName"); l != nil {
		return l
	}
	return v.GetStringBytes("log.logger")
}

func isKeycloakJSONLog(t *top) bool {
	l := bytesOf(t.loggerName)
	if l == nil {
		l = bytesOf(t.logLogger)
	}
	return l != nil && (bytes.HasPrefix(l, []byte("org.keycloak")) || bytes.Contains(l, []byte(codeParserLogger)))
}

// decodeKeycloakJSONLog decodes a Quarkus JSON log record (default or ECS layout).
func (d *Decoder) decodeKeycloakJSONLog(v *fastjson.Value) []classify.Event {
	logger := jsonLogger(v)
	msg := v.GetStringBytes("message")
	thread := firstStr(v, "threadName", "process.thread.name")
	ts := parseTime(firstStr(v, "timestamp", "@timestamp"))
	if bytes.Contains(logger, []byte(codeParserLogger)) {
		return d.keycloakCodeParser(msg, thread, ts)
	}
	if string(logger) != "org.keycloak.events" {
		return nil
	}
	i := keycloakEventStart(msg)
	if i < 0 {
		return nil
	}
	evs := d.keycloakEventKV(msg[i:], thread, ts)
	if len(evs) == 1 {
		evs[0].Host = firstStr(v, "hostName", "host.hostname")
	}
	return evs
}

func isKeycloakPlugin(t *top) bool {
	return t.realmID != nil && t.typ != nil && t.loggerName == nil && t.logLogger == nil
}

// decodeKeycloakPlugin decodes a keycloak-kafka event listener record.
func (d *Decoder) decodeKeycloakPlugin(v *fastjson.Value) []classify.Event {
	ev := d.next(rules.SourceKeycloak, classify.Ignored)
	d.kc = kcIDs{}
	visit := func(k []byte, x *fastjson.Value) {
		if x.Type() == fastjson.TypeString {
			b, _ := x.StringBytes()
			d.fillKeycloak(ev, k, b)
		}
	}
	v.GetObject().Visit(visit)
	if det := v.GetObject("details"); det != nil {
		det.Visit(visit)
	}
	if ev.Type == "" {
		d.events = d.events[:0]
		return d.malformed(rules.SourceKeycloak, "keycloak plugin record: no type")
	}
	ev.Time = parseTime(str(v, "time"))
	finishKeycloak(ev)
	d.keycloakKeys(ev)
	if ev.Outcome == classify.Ignored {
		d.events = d.events[:0]
	}
	return d.events
}
