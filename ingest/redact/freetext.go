package redact

import "github.com/authsift/authsift/classify"

// FreeText is what an event echoes of its line as free text, redacted: the
// one list of those fields, for every output (JSONL, ClickHouse rows).
type FreeText struct{ Reason, Debug, Detail, RedirectURI string }

// FreeText returns ev's free-text fields redacted.
func (r *Redactor) FreeText(ev *classify.Event) FreeText {
	return FreeText{Reason: r.Redact(ev.Reason), Debug: r.Redact(ev.Debug),
		Detail: r.Redact(ev.Detail), RedirectURI: r.Redact(ev.RedirectURI)}
}
