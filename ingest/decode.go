// Package ingest holds all I/O of authsift: the log decoders of every source,
// line readers, the rule test runner and output writers.
package ingest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// FormatAuto detects the source of every line.
const FormatAuto = "auto"

// Formats lists the values --format accepts.
func Formats() []string {
	return append([]string{FormatAuto}, rules.Sources()...)
}

// Decoder turns log lines into events. It detects the source per line unless
// a format is pinned. It is not safe for concurrent use: keep one per
// goroutine. The events it returns are valid until the next call.
type Decoder struct {
	format string
	parser fastjson.Parser
	top    top
	events []classify.Event
	// envelope holds the inner line of a shipper's JSON record; depth stops
	// envelopes within envelopes.
	envelope []byte
	depth    int
	// symbols interns the low-cardinality strings (error codes, reasons,
	// event types, client ids) so that a repeated value costs no allocation.
	symbols map[string]string
	// keys makes the events' correlation keys; nil: none are made.
	keys *keyHasher
	// kc holds the identifiers of the Keycloak event being decoded.
	kc kcIDs
}

// maxSymbols bounds the intern table; past it values are copied as usual.
const maxSymbols = 8192

// sym returns b as a string, interned when short.
func (d *Decoder) sym(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 512 {
		return toString(b)
	}
	if s, ok := d.symbols[string(b)]; ok {
		return s
	}
	s := toString(b)
	if len(d.symbols) < maxSymbols {
		d.symbols[s] = s
	}
	return s
}

// symAt returns the interned string at keys, or "" (numbers are formatted).
func (d *Decoder) symAt(v *fastjson.Value, keys ...string) string {
	x := v.Get(keys...)
	if x == nil {
		return ""
	}
	switch x.Type() {
	case fastjson.TypeString:
		b, _ := x.StringBytes()
		return d.sym(b)
	case fastjson.TypeNumber:
		return d.sym(x.MarshalTo(nil))
	}
	return ""
}

// NewDecoder returns a decoder for format (FormatAuto or a source).
func NewDecoder(format string) (*Decoder, error) {
	if format == "" {
		format = FormatAuto
	}
	for _, f := range Formats() {
		if f == format {
			return &Decoder{format: format, symbols: map[string]string{}}, nil
		}
	}
	return nil, fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats(), ", "))
}

// CheckFormat reports a format no decoder reads (kafka.SplitTopics checks
// the formats pinned per topic with it).
func CheckFormat(format string) error {
	_, err := NewDecoder(format)
	return err
}

func (d *Decoder) wants(source string) bool {
	return d.format == FormatAuto || d.format == source
}

// next appends a fresh event of source and returns it.
func (d *Decoder) next(source string, outcome classify.Outcome) *classify.Event {
	d.events = append(d.events, classify.Event{})
	ev := &d.events[len(d.events)-1]
	ev.Source = source
	ev.Outcome = outcome
	return ev
}

func (d *Decoder) malformed(source, reason string) []classify.Event {
	ev := d.next(source, classify.Malformed)
	ev.Detail = reason
	return d.events
}

// Decode decodes one line. It returns no event for a line that is not an
// auth event (ignored), one event per auth event otherwise (an Event Hubs
// envelope carries several), or one malformed event with the reason.
func (d *Decoder) Decode(line []byte) []classify.Event {
	d.events = d.events[:0]
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil
	}
	if line[0] == '{' {
		return d.decodeJSON(line)
	}
	if i := bytes.IndexByte(line, '{'); i > 0 && i < 64 && line[len(line)-1] == '}' && !bytes.Contains(line[:i], []byte("type=")) {
		// A JSON record behind a prefix (container runtime, syslog).
		if ev := d.decodeJSON(line[i:]); len(ev) > 0 && ev[0].Outcome != classify.Malformed {
			return ev
		}
		d.events = d.events[:0]
	}
	return d.decodeText(line)
}

// looksLikeOurs says that a line which does not decode was meant to be an
// auth event: it carries one of the sources' markers.
func looksLikeOurs(line []byte) bool {
	for _, m := range [...]string{`"error`, "keycloak", "hydra", "AADSTS", "oauth", `"records"`, "type=", "realmId", "grant_type",
		`"log_id"`, `"eventType"`, "oidc_error", "authentik"} {
		if bytes.Contains(line, []byte(m)) {
			return true
		}
	}
	return false
}

func (d *Decoder) decodeJSON(line []byte) []classify.Event {
	v, err := d.parser.ParseBytes(line)
	if err != nil {
		if looksLikeOurs(line) {
			return d.malformed(d.guessSource(line), "invalid JSON: "+truncate(err.Error(), 120))
		}
		return nil
	}
	if v.Type() != fastjson.TypeObject {
		return nil
	}
	t := &d.top
	t.scan(v)
	switch {
	case t.records != nil && d.wants(rules.SourceEntra):
		return d.decodeEntraRecords(v)
	case isEntraTokenError(t) && d.wants(rules.SourceEntra):
		return d.decodeEntraTokenError(v)
	case isEntraSignIn(t) && d.wants(rules.SourceEntra):
		d.decodeEntraSignIn(v)
		return d.events
	case isKeycloakJSONLog(t) && d.wants(rules.SourceKeycloak):
		return d.decodeKeycloakJSONLog(v)
	case isKeycloakPlugin(t) && d.wants(rules.SourceKeycloak):
		return d.decodeKeycloakPlugin(v)
	case isHydra(t) && d.wants(rules.SourceHydra):
		return d.decodeHydra(t)
	case isAuth0(t) && d.wants(rules.SourceAuth0):
		return d.decodeAuth0(v, t)
	case isOkta(t) && d.wants(rules.SourceOkta):
		return d.decodeOkta(v, t)
	case isZitadel(t) && d.wants(rules.SourceZitadel):
		return d.decodeZitadelJSON(v, t)
	case isAuthentik(t) && d.wants(rules.SourceAuthentik):
		return d.decodeAuthentik(v, t)
	case isProxy(t) && d.wants(rules.SourceProxy):
		return d.decodeProxy(v)
	case isDex(t, v) && d.wants(rules.SourceDex):
		return d.decodeDexJSON(v, t)
	case d.wants(rules.SourceGeneric):
		if evs := d.decodeGenericJSON(v); len(evs) > 0 {
			return evs
		}
	}
	return d.decodeEnvelope(v)
}

// decodeEnvelope decodes the log line a shipper wrapped in JSON: Docker's
// json-file driver ({"log": "...", "stream", "time"}), Fluent Bit, Vector or
// the OTel collector ({"message" | "log" | "body": "...", ...}). One level
// deep: the inner line is decoded as if it stood alone.
func (d *Decoder) decodeEnvelope(v *fastjson.Value) []classify.Event {
	if d.depth > 0 {
		return nil
	}
	var inner []byte
	for _, k := range []string{"log", "message", "body", "msg"} {
		if b := v.GetStringBytes(k); len(b) > 0 {
			inner = b
			break
		}
	}
	if len(inner) == 0 {
		return nil
	}
	// The parser's buffers are reused by the inner decode: copy first.
	d.envelope = append(d.envelope[:0], inner...)
	d.depth++
	evs := d.Decode(d.envelope)
	d.depth--
	return evs
}

// textDecoder reads the plain-text lines of one source; ok false means the
// line is not that source's.
type textDecoder struct {
	source string
	decode func(d *Decoder, line []byte) (evs []classify.Event, ok bool)
}

// textDecoders are in the order they are tried: Zitadel and oauth2-proxy
// before generic (their lines can carry an ?error= URL generic would
// claim), Dex last (its messages are common phrases).
func textDecoders() [6]textDecoder {
	return [...]textDecoder{
		{rules.SourceKeycloak, (*Decoder).decodeKeycloakText},
		{rules.SourceHydra, (*Decoder).decodeHydraText},
		{rules.SourceZitadel, (*Decoder).decodeZitadelText},
		{rules.SourceOAuth2Proxy, (*Decoder).decodeOAuth2ProxyText},
		{rules.SourceGeneric, (*Decoder).decodeGenericText},
		{rules.SourceDex, (*Decoder).decodeDexText},
	}
}

func (d *Decoder) decodeText(line []byte) []classify.Event {
	for _, td := range textDecoders() {
		if d.wants(td.source) {
			if evs, ok := td.decode(d, line); ok {
				return evs
			}
		}
	}
	return nil
}

func (d *Decoder) guessSource(line []byte) string {
	switch {
	case d.format != FormatAuto:
		return d.format
	case bytes.Contains(line, []byte("keycloak")) || bytes.Contains(line, []byte("realmId")):
		return rules.SourceKeycloak
	case bytes.Contains(line, []byte("AADSTS")) || bytes.Contains(line, []byte(`"records"`)):
		return rules.SourceEntra
	case bytes.Contains(line, []byte("hydra")) || bytes.Contains(line, []byte("Hydra")):
		return rules.SourceHydra
	case bytes.Contains(line, []byte(`"log_id"`)):
		return rules.SourceAuth0
	case bytes.Contains(line, []byte(`"eventType"`)):
		return rules.SourceOkta
	case bytes.Contains(line, []byte("oidc_error")):
		return rules.SourceZitadel
	case bytes.Contains(line, []byte(`"logger": "authentik.`)):
		return rules.SourceAuthentik
	}
	return rules.SourceGeneric
}

// str returns the string at keys, or "" (also for JSON null and non-strings;
// numbers are formatted).
func str(v *fastjson.Value, keys ...string) string {
	x := v.Get(keys...)
	if x == nil {
		return ""
	}
	switch x.Type() {
	case fastjson.TypeString:
		b, _ := x.StringBytes()
		return toString(b)
	case fastjson.TypeNumber:
		return string(x.MarshalTo(nil))
	}
	return ""
}

// firstStr returns the first non-empty string among the keys (one level).
func firstStr(v *fastjson.Value, keys ...string) string {
	for _, k := range keys {
		if s := str(v, k); s != "" {
			return s
		}
	}
	return ""
}

// num returns the integer at keys, also when it is a quoted number.
func num(v *fastjson.Value, keys ...string) int {
	x := v.Get(keys...)
	if x == nil {
		return 0
	}
	switch x.Type() {
	case fastjson.TypeNumber:
		n, _ := x.Int()
		return n
	case fastjson.TypeString:
		b, _ := x.StringBytes()
		n, _ := strconv.Atoi(string(b))
		return n
	}
	return 0
}

// toString copies b into a string, replacing invalid UTF-8.
func toString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// parseTime parses the timestamps the sources write; zero when it cannot.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if s[0] >= '0' && s[0] <= '9' && len(s) >= 10 && s[4] != '-' {
		// epoch seconds or milliseconds
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			if f > 1e12 {
				return time.UnixMilli(int64(f)).UTC()
			}
			return time.Unix(int64(f), int64((f-float64(int64(f)))*1e9)).UTC()
		}
	}
	if t, ok := parseRFC3339(s); ok {
		return t
	}
	for _, l := range [...]string{time.RFC3339Nano, "2006-01-02 15:04:05,000", "2006-01-02 15:04:05.000",
		"2006-01-02 15:04:05Z", "2006-01-02 15:04:05", "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// parseTimeBytes is parseTime(toString(b)) without the copy for the common
// forms: when b[4] is '-', parseTime tries parseRFC3339 first, which only
// accepts ASCII.
func parseTimeBytes(b []byte) time.Time {
	if len(b) >= 19 && b[4] == '-' {
		if t, ok := parseRFC3339(b); ok {
			return t
		}
	}
	return parseTime(toString(b))
}

// endpointOf maps a request path to an endpoint word.
func endpointOf(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path = path[:i]
	}
	p := strings.ToLower(strings.TrimRight(path, "/"))
	switch {
	case p == "":
		return ""
	case strings.HasSuffix(p, "/token") || p == "token" || strings.HasSuffix(p, "/access_token"):
		return "token"
	case strings.HasSuffix(p, "/auth") || strings.HasSuffix(p, "/authorize") || p == "authorize":
		return "authorize"
	case strings.HasSuffix(p, "/revoke") || strings.HasSuffix(p, "/revocation"):
		return "revoke"
	case strings.HasSuffix(p, "/introspect"):
		return "introspect"
	case strings.HasSuffix(p, "/userinfo"):
		return "userinfo"
	case strings.HasSuffix(p, "/logout") || strings.HasSuffix(p, "/sessions/logout"):
		return "logout"
	case strings.HasSuffix(p, "/device_authorization") || strings.HasSuffix(p, "/device/auth"):
		return "device"
	}
	return "other"
}

// hostOnly strips the port from host:port.
func hostOnly(s string) string {
	if strings.Count(s, ":") == 1 {
		return s[:strings.IndexByte(s, ':')]
	}
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i > 0 {
			return s[1:i]
		}
	}
	return s
}

// parseRFC3339 is a fast path for the forms most sources write:
// 2006-01-02T15:04:05[.fraction]Z and 2006-01-02 15:04:05[,.]fraction (no
// zone: UTC); anything else goes to time.Parse.
func parseRFC3339[T string | []byte](s T) (time.Time, bool) {
	end := len(s)
	if end > 0 && s[end-1] == 'Z' {
		end--
	}
	if end < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	nsec := 0
	if end > 19 {
		digits := end - 20
		if (s[19] != '.' && s[19] != ',') || digits < 1 || digits > 9 {
			return time.Time{}, false
		}
		f, ok := num(20, end)
		if !ok {
			return time.Time{}, false
		}
		for i := digits; i < 9; i++ {
			f *= 10
		}
		nsec = f
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}
