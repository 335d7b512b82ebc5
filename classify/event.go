// Package classify is the engine: a normalised Event in, a Verdict out. It is
// pure (no I/O, no logging); the only state is the bounded correlation state
// of a Tracker, one per ordered stream of events (a Kafka partition, a file).
package classify

import "time"

// Outcome is what an event is, for counting.
type Outcome uint8

// Outcomes. A failure gets a class; a success is an operation that succeeded
// (a token issued, a login that went through); context is a line that only
// explains another event (the request log of a failed request, a vendor's
// second line); ignored is not an auth event or a normal step; malformed looks
// like an auth event but could not be decoded.
const (
	Ignored Outcome = iota
	Failure
	Success
	Context
	Malformed
)

func (o Outcome) String() string {
	switch o {
	case Ignored:
		return "ignored"
	case Failure:
		return "failure"
	case Success:
		return "success"
	case Context:
		return "context"
	case Malformed:
		return "malformed"
	}
	return "unknown"
}

// ParseOutcome returns the outcome named s.
func ParseOutcome(s string) (Outcome, bool) {
	for o := Ignored; o <= Malformed; o++ {
		if o.String() == s {
			return o, true
		}
	}
	return Ignored, false
}

// Event is one decoded log event, normalised across sources. The match
// fields (Type ... Context) are described per source in rules/FORMAT.md.
type Event struct {
	Time    time.Time
	Source  string
	Outcome Outcome

	// match fields
	Type      string
	Error     string
	Code      string
	Reason    string
	Debug     string
	GrantType string
	Endpoint  string
	Status    int
	Context   string

	// who and where
	ClientID    string
	UserID      string
	SessionID   string
	IP          string
	Realm       string
	TraceID     string
	RedirectURI string
	Host        string
	Thread      string

	// Hint is what a context event says about the event it explains
	// (one of rules.Contexts), for the Tracker.
	Hint string

	// Correlation keys, for the Tracker: keyed hashes set by the decoders,
	// never the identifiers themselves (0: none). CodeKey names an
	// authorization code (Keycloak: its client and code_id, the user session
	// the code belongs to; a proxy log: the code); TokenKey names the refresh
	// token presented (Keycloak: refresh_token_id).
	CodeKey  uint64
	TokenKey uint64
	// Step says what a successful event did to the code or token it names.
	Step Step

	// Detail says why an event is malformed.
	Detail string
}

// Step is what a successful event did to an authorization code or a
// refresh token.
type Step uint8

// Steps.
const (
	NoStep Step = iota
	// CodeIssued: a code was handed to the client (Keycloak LOGIN with a
	// code_id, an /authorize redirect carrying code=).
	CodeIssued
	// CodeRedeemed: a code was exchanged for tokens (Keycloak CODE_TO_TOKEN,
	// a 2xx authorization_code token request).
	CodeRedeemed
	// TokenUsed: a refresh token was exchanged (Keycloak REFRESH_TOKEN, a 2xx
	// refresh_token token request).
	TokenUsed
)

// Reset clears e for reuse.
func (e *Event) Reset() { *e = Event{} }
