package ingest

import (
	"github.com/authsift/authsift/ingest/redact"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/authsift/authsift/classify"
)

// Record is one classified event with where it came from.
type Record struct {
	File    string
	Line    int
	Event   *classify.Event
	Verdict classify.Verdict
}

// AppendJSON appends r as one JSON object (no newline). Free text is redacted.
func AppendJSON(b []byte, r *Record, red *redact.Redactor) []byte {
	ev, v := r.Event, r.Verdict
	b = append(b, '{')
	if r.File != "" {
		b = appendField(b, "file", r.File)
		b = append(b, ',')
	}
	b = append(b, `"line":`...)
	b = strconv.AppendInt(b, int64(r.Line), 10)
	b = append(b, `,"outcome":"`...)
	b = append(b, v.Outcome.String()...)
	b = append(b, '"')
	if ev == nil {
		return append(b, '}')
	}
	b = appendOpt(b, "source", ev.Source)
	if !ev.Time.IsZero() {
		b = appendOpt(b, "time", ev.Time.UTC().Format(time.RFC3339Nano))
	}
	if v.Class != nil {
		b = appendOpt(b, "class", v.Class.ID)
		b = appendOpt(b, "family", v.Class.Family)
		b = appendOpt(b, "owner", v.Class.Owner)
	}
	if v.Outcome == classify.Failure {
		oe := v.OAuthError
		if oe == "" {
			oe = "other"
		}
		b = appendOpt(b, "oauth_error", oe)
	}
	if v.Rule != nil {
		b = appendOpt(b, "rule", v.Rule.ID)
		b = appendOpt(b, "decision", v.Decision)
		b = appendOpt(b, "evidence", v.Evidence)
	}
	b = appendOpt(b, "type", ev.Type)
	b = appendOpt(b, "error", ev.Error)
	b = appendOpt(b, "code", ev.Code)
	text := red.FreeText(ev)
	b = appendOpt(b, "reason", text.Reason)
	b = appendOpt(b, "debug", text.Debug)
	b = appendOpt(b, "client_id", ev.ClientID)
	b = appendOpt(b, "user_id", ev.UserID)
	b = appendOpt(b, "grant_type", ev.GrantType)
	b = appendOpt(b, "endpoint", ev.Endpoint)
	if ev.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(ev.Status), 10)
	}
	b = appendOpt(b, "realm", ev.Realm)
	b = appendOpt(b, "ip", ev.IP)
	b = appendOpt(b, "trace_id", ev.TraceID)
	b = appendOpt(b, "redirect_uri", text.RedirectURI)
	b = appendOpt(b, "detail", text.Detail)
	return append(b, '}')
}

func appendOpt(b []byte, k, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',')
	return appendField(b, k, v)
}

func appendField(b []byte, k, v string) []byte {
	b = append(b, '"')
	b = append(b, k...)
	b = append(b, `":`...)
	return AppendJSONString(b, v)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
