package classify

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/authsift/authsift/rules"
)

// TrackerConfig bounds the correlation state of a Tracker: every kind of
// record has a size limit (LRU entries, the oldest is dropped first) and an
// age limit (by event time).
type TrackerConfig struct {
	// Entries is the most pending hints kept per key kind; the oldest is
	// evicted first.
	Entries int
	// Window is how long after its context line a hint may still decide an
	// event (by event time; events without a time always may).
	Window time.Duration

	// Codes is the most authorization codes remembered (issued, redeemed).
	Codes int
	// CodeWindow is how long a code is remembered after it was last seen,
	// and how far back the Tracker must have watched the stream, without a
	// gap and without dropping a code for room, before it calls a code it
	// never saw issued code_unknown. It must be at least the longest code
	// lifetime.
	CodeWindow time.Duration
	// CodeLifetime is the code lifetime per source (Keycloak's realm
	// accessCodeLifespan, Hydra's ttl.auth_code, ...); sources not listed
	// get DefaultCodeLifetime.
	CodeLifetime map[string]time.Duration

	// Tokens is the most refresh tokens remembered (their last use).
	Tokens int
	// TokenWindow is how long the use of a refresh token is remembered.
	TokenWindow time.Duration
	// RefreshGrace: a second use of a refresh token this soon after the
	// first, from the same network (or, without addresses, the same
	// session), is a race (refresh_token_concurrent); later or from
	// elsewhere it is a replay (refresh_token_reused).
	RefreshGrace time.Duration

	// Slack is how far out of time order events may arrive: an event older
	// than the newest one seen by more than this is a sign of disorder, and
	// the Tracker restarts the coverage that code_unknown needs.
	Slack time.Duration
}

// DefaultCodeLifetime is the code lifetime of sources without their own:
// the longest RFC 6749 recommends.
const DefaultCodeLifetime = 10 * time.Minute

// DefaultTrackerConfig is sized for one busy partition: about 8 MB at the
// size limits.
func DefaultTrackerConfig() TrackerConfig {
	return TrackerConfig{
		Entries: 4096, Window: 30 * time.Second,
		Codes: 32768, CodeWindow: 15 * time.Minute,
		CodeLifetime: map[string]time.Duration{
			rules.SourceKeycloak: time.Minute, // realm accessCodeLifespan default
			rules.SourceHydra:    10 * time.Minute,
			rules.SourceEntra:    10 * time.Minute,
		},
		Tokens: 32768, TokenWindow: time.Hour, RefreshGrace: 30 * time.Second,
		Slack: 5 * time.Second,
	}
}

func (c *TrackerConfig) defaults() {
	d := DefaultTrackerConfig()
	if c.Entries <= 0 {
		c.Entries = d.Entries
	}
	if c.Codes <= 0 {
		c.Codes = d.Codes
	}
	if c.CodeWindow <= 0 {
		c.CodeWindow = d.CodeWindow
	}
	if c.CodeLifetime == nil {
		c.CodeLifetime = d.CodeLifetime
	}
	if c.Tokens <= 0 {
		c.Tokens = d.Tokens
	}
	if c.TokenWindow <= 0 {
		c.TokenWindow = d.TokenWindow
	}
	if c.RefreshGrace <= 0 {
		c.RefreshGrace = d.RefreshGrace
	}
	if c.Slack <= 0 {
		c.Slack = d.Slack
	}
}

// Lifetime is the code lifetime of source.
func (c *TrackerConfig) Lifetime(source string) time.Duration {
	if d, ok := c.CodeLifetime[source]; ok && d > 0 {
		return d
	}
	return DefaultCodeLifetime
}

type hint struct {
	value string
	at    time.Time
}

// codeRec is what the Tracker knows of one code key: when it was last
// issued and redeemed (Unix ns, 0: unknown time), in which order (seq, 0:
// not seen), and how many of its issuances wait for a redemption. A key may
// stand for several codes (Keycloak's is the session and client: a second
// sign-in of the session issues another code under the same key).
type codeRec struct {
	issuedAt, redeemedAt   int64
	issuedSeq, redeemedSeq uint64
	pending                uint32
}

func (r codeRec) last() int64 { return max(r.issuedAt, r.redeemedAt) }

// tokenRec is the last successful use of a refresh token: when, and from
// which network and session (hashes, 0: unknown).
type tokenRec struct {
	usedAt      int64
	usedSeq     uint64
	net, sesion uint64
}

// coverage is how long the Tracker has watched one source's events without
// a gap or disorder.
type coverage struct {
	source           string
	since, watermark int64
}

// TrackerStats are the sizes and drops of a Tracker's state.
type TrackerStats struct {
	Hints, Codes, Tokens int
	// Evicted counts records dropped for room (before their age limit),
	// Expired those dropped at their age limit.
	Evicted, Expired uint64
	// Late counts events that arrived out of time order by more than Slack.
	Late uint64
}

// Tracker classifies an ordered stream of events (one Kafka partition, one
// file), using what earlier events said about later failures: Keycloak's
// OAuth2CodeParser warning before the CODE_TO_TOKEN_ERROR event, and the
// issuance, redemption and use of codes and refresh tokens before an
// ambiguous rejection (rules marked `correlate`). Its memory is bounded by
// TrackerConfig. A Tracker is not safe for concurrent use: keep one per
// partition.
type Tracker struct {
	engine    *Engine
	cfg       TrackerConfig
	bySession *lru.LRU[string, hint]
	byThread  *lru.LRU[string, hint]

	codes  *lru.LRU[uint64, codeRec]
	tokens *lru.LRU[uint64, tokenRec]
	// issuers: the last code issuance seen per source and client, to know
	// that a client's issuances reach this stream at all.
	issuers *lru.LRU[uint64, int64]
	cover   []coverage
	seq     uint64
	// dropped is the newest time of a code record dropped for room: a code
	// newer than this may have been forgotten.
	dropped int64
	// expiring is set while records are dropped at their age limit.
	expiring bool
	stats    TrackerStats
}

// NewTracker returns a Tracker over engine.
func NewTracker(engine *Engine, cfg TrackerConfig) *Tracker {
	cfg.defaults()
	t := &Tracker{engine: engine, cfg: cfg}
	onHintEvict := func(string, hint) { t.stats.Evicted++ }
	t.bySession, _ = lru.NewLRU[string, hint](cfg.Entries, onHintEvict)
	t.byThread, _ = lru.NewLRU[string, hint](cfg.Entries, onHintEvict)
	t.codes, _ = lru.NewLRU[uint64, codeRec](cfg.Codes, func(_ uint64, r codeRec) {
		if t.expiring {
			t.stats.Expired++
			return
		}
		t.stats.Evicted++
		t.dropped = max(t.dropped, r.last())
	})
	t.tokens, _ = lru.NewLRU[uint64, tokenRec](cfg.Tokens, func(uint64, tokenRec) {
		if t.expiring {
			t.stats.Expired++
			return
		}
		t.stats.Evicted++
	})
	t.issuers, _ = lru.NewLRU[uint64, int64](1024, nil)
	return t
}

// SetEngine swaps the engine (a catalog reload) and keeps the state.
func (t *Tracker) SetEngine(e *Engine) { t.engine = e }

// Config returns the Tracker's limits, defaults applied.
func (t *Tracker) Config() TrackerConfig { return t.cfg }

// Len is the number of records held: pending hints, codes, refresh tokens.
func (t *Tracker) Len() int {
	return t.bySession.Len() + t.byThread.Len() + t.codes.Len() + t.tokens.Len()
}

// Evicted counts records dropped for room before their age limit.
func (t *Tracker) Evicted() uint64 { return t.stats.Evicted }

// Stats returns the sizes and drops of the state.
func (t *Tracker) Stats() TrackerStats {
	s := t.stats
	s.Hints = t.bySession.Len() + t.byThread.Len()
	s.Codes = t.codes.Len()
	s.Tokens = t.tokens.Len()
	return s
}

// Gap says that the stream skipped events (a jump of offsets after a
// rebalance or a restart): what the Tracker did not see, it cannot vouch
// for, so code_unknown waits for a new full window.
func (t *Tracker) Gap() { t.cover = t.cover[:0] }

// Classify records what an event says about codes, tokens and later
// failures, and classifies it; a failure of a rule marked `correlate` is
// decided from the records when they prove a cause.
func (t *Tracker) Classify(ev *Event) Verdict {
	t.seq++
	t.observe(ev)
	var joined string
	switch ev.Outcome {
	case Context:
		if ev.Hint != "" {
			h := hint{ev.Hint, ev.Time}
			if ev.SessionID != "" {
				t.bySession.Add(ev.SessionID, h)
			} else if ev.Thread != "" {
				t.byThread.Add(ev.Thread, h)
			}
		}
	case Success:
		t.record(ev)
	case Failure:
		if ev.Context == "" && t.bySession.Len()+t.byThread.Len() > 0 {
			ev.Context, joined = t.take(ev)
		}
	}
	v := t.engine.Classify(ev)
	if v.Decision == Correlated && joined != "" {
		v.Evidence = t.engine.hintEvidence[[2]string{ev.Context, joined}]
	}
	if v.Outcome == Failure && v.Rule != nil {
		switch v.Rule.Correlate {
		case rules.CorrelateCode:
			t.decideCode(ev, &v)
		case rules.CorrelateRefreshToken:
			t.decideToken(ev, &v)
		}
	}
	return v
}

func (t *Tracker) take(ev *Event) (value, joined string) {
	if ev.SessionID != "" {
		if h, ok := t.bySession.Peek(ev.SessionID); ok {
			t.bySession.Remove(ev.SessionID)
			if t.fresh(h, ev) {
				return h.value, "session"
			}
		}
	}
	if ev.Thread != "" {
		if h, ok := t.byThread.Peek(ev.Thread); ok {
			t.byThread.Remove(ev.Thread)
			if t.fresh(h, ev) {
				return h.value, "thread"
			}
		}
	}
	return "", ""
}

func (t *Tracker) fresh(h hint, ev *Event) bool {
	if t.cfg.Window <= 0 || h.at.IsZero() || ev.Time.IsZero() {
		return true
	}
	d := ev.Time.Sub(h.at)
	return d >= -time.Second && d <= t.cfg.Window
}

// observe keeps the coverage of the event's source: since when the Tracker
// has seen its events in time order. An event older than the newest by more
// than Slack restarts it.
func (t *Tracker) observe(ev *Event) {
	if ev.Time.IsZero() || ev.Source == "" {
		return
	}
	ts := ev.Time.UnixNano()
	for i := range t.cover {
		c := &t.cover[i]
		if c.source != ev.Source {
			continue
		}
		switch {
		case ts > c.watermark:
			c.watermark = ts
		case c.watermark-ts > int64(t.cfg.Slack):
			t.stats.Late++
			c.since = c.watermark
		}
		return
	}
	t.cover = append(t.cover, coverage{source: ev.Source, since: ts, watermark: ts})
}

func (t *Tracker) coveredSince(source string) int64 {
	for _, c := range t.cover {
		if c.source == source {
			return c.since
		}
	}
	return 0
}

// record remembers what a successful event did to a code or a token.
func (t *Tracker) record(ev *Event) {
	var ts int64
	if !ev.Time.IsZero() {
		ts = ev.Time.UnixNano()
	}
	switch ev.Step {
	case CodeIssued, CodeRedeemed:
		if ev.CodeKey == 0 {
			return
		}
		r, _ := t.codes.Peek(ev.CodeKey)
		if ev.Step == CodeIssued {
			r.issuedAt, r.issuedSeq = ts, t.seq
			r.pending++
			if ts != 0 {
				t.issuers.Add(issuerKey(ev), ts)
			}
		} else {
			r.redeemedAt, r.redeemedSeq = ts, t.seq
			if r.pending > 0 {
				r.pending--
			}
		}
		t.codes.Add(ev.CodeKey, r)
		if ts != 0 {
			t.expireCodes(ts)
		}
	case TokenUsed:
		if ev.TokenKey == 0 {
			return
		}
		t.tokens.Add(ev.TokenKey, tokenRec{usedAt: ts, usedSeq: t.seq, net: netKey(ev.IP), sesion: strKey(ev.SessionID)})
		if ts != 0 {
			t.expireTokens(ts)
		}
	}
}

// expireCodes drops the codes not seen for CodeWindow, oldest first (a code
// without a time stops it: it leaves by the size limit).
func (t *Tracker) expireCodes(now int64) {
	t.expiring = true
	for {
		_, r, ok := t.codes.GetOldest()
		if !ok || r.last() == 0 || r.last() >= now-int64(t.cfg.CodeWindow) {
			break
		}
		t.codes.RemoveOldest()
	}
	t.expiring = false
}

func (t *Tracker) expireTokens(now int64) {
	t.expiring = true
	for {
		_, r, ok := t.tokens.GetOldest()
		if !ok || r.usedAt == 0 || r.usedAt >= now-int64(t.cfg.TokenWindow) {
			break
		}
		t.tokens.RemoveOldest()
	}
	t.expiring = false
}

func (t *Tracker) class(id string) *rules.Class { return t.engine.catalog.Class(id) }

// set replaces the verdict's class with a correlated one, when the catalog
// has it.
func (t *Tracker) set(v *Verdict, class, evidence string) {
	if c := t.class(class); c != nil {
		v.Class = c
		v.Decision = Correlated
		v.Evidence = evidence
	}
}

// decideCode decides an ambiguous code rejection:
//   - the key was redeemed earlier in the stream and every issuance of it
//     seen was redeemed (so the code presented was): code_reused;
//   - else its latest issuance is older than the lifetime (so every code of
//     the key is): code_expired;
//   - else, the code was never seen and the Tracker can vouch that it would
//     have seen it (see provesUnknown): code_unknown, but only in place of
//     an ambiguous verdict (code_rejected), never against a vendor's signal;
//   - otherwise the verdict stays as the rule gave it, with what is known.
func (t *Tracker) decideCode(ev *Event, v *Verdict) {
	if ev.CodeKey == 0 {
		return
	}
	var now int64
	if !ev.Time.IsZero() {
		now = ev.Time.UnixNano()
	}
	life := t.cfg.Lifetime(ev.Source)
	r, ok := t.codes.Peek(ev.CodeKey)
	switch {
	case ok && r.redeemedSeq != 0 && r.pending == 0 &&
		(now == 0 || r.redeemedAt == 0 || r.redeemedAt <= now+int64(t.cfg.Slack)):
		t.set(v, "code_reused", "code redeemed "+ago(r.redeemedAt, now)+keyNote(ev.CodeKey))
	case ok && r.issuedSeq != 0 && r.issuedAt != 0 && now != 0 && now-r.issuedAt > int64(life):
		e := "code issued " + ago(r.issuedAt, now) + ", past the " + life.String() + " code lifetime of " + ev.Source
		if v.Class != nil && v.Class.ID == "code_reused" {
			e += " (the server reports a code whose single-use entry expired as already used)"
		}
		t.set(v, "code_expired", e+keyNote(ev.CodeKey))
	case ok && r.redeemedSeq != 0 && r.pending > 0:
		// a code of the key was redeemed, another one not yet: either may be presented
		if v.Decision == Direct {
			v.Evidence = "undecided: a code of the same key was redeemed, another one issued " + ago(r.issuedAt, now) +
				" is not, within its lifetime" + keyNote(ev.CodeKey)
		}
	case ok:
		if v.Decision == Direct {
			v.Evidence = "undecided: code issued " + ago(r.issuedAt, now) + ", not redeemed, within its lifetime" + keyNote(ev.CodeKey)
		}
	case v.Class != nil && v.Class.ID == "code_rejected":
		if e, proven := t.provesUnknown(ev, now, life); proven {
			t.set(v, "code_unknown", e+keyNote(ev.CodeKey))
		} else {
			v.Evidence = "undecided: " + e + keyNote(ev.CodeKey)
		}
	}
}

// provesUnknown says whether the Tracker can vouch that a code it has no
// record of was never issued (or so long ago that the server no longer
// knows it): it has watched the source for CodeWindow + Slack without a gap
// or disorder, dropped no code of that window for room, the window covers
// the code lifetime, and issuances of the same client reach this stream.
// It returns what it found either way.
func (t *Tracker) provesUnknown(ev *Event, now int64, life time.Duration) (string, bool) {
	w := int64(t.cfg.CodeWindow)
	since := t.coveredSince(ev.Source)
	last, seen := t.issuers.Peek(issuerKey(ev))
	switch {
	case now == 0:
		return "no record of this code, and the event has no time", false
	case t.cfg.CodeWindow < life:
		return "no record of this code; the " + t.cfg.CodeWindow.String() + " window is shorter than the code lifetime", false
	case since == 0 || now-w-int64(t.cfg.Slack) < since:
		return "no record of this code; the stream was not watched for the whole " + t.cfg.CodeWindow.String() + " before it (start, gap or events out of order)", false
	case t.dropped >= now-w:
		return "no record of this code; codes of the last " + t.cfg.CodeWindow.String() + " were dropped for room", false
	case !seen || last < since:
		return "no record of this code; no code issuance of this client reaches this stream", false
	}
	return "no issuance of this code in the " + t.cfg.CodeWindow.String() + " before this attempt, while this stream carried the client's issuances without a gap", true
}

// decideToken splits a refresh-token reuse: a second use within
// RefreshGrace from the same network (without addresses: the same session)
// is a race; later or from elsewhere, a replay. Without a record of the
// first use the verdict stays as the rule gave it.
func (t *Tracker) decideToken(ev *Event, v *Verdict) {
	if ev.TokenKey == 0 {
		return
	}
	r, ok := t.tokens.Peek(ev.TokenKey)
	if !ok {
		if v.Decision == Direct {
			v.Evidence = "undecided: no earlier use of this token on this stream" + keyNote(ev.TokenKey)
		}
		return
	}
	var now int64
	if !ev.Time.IsZero() {
		now = ev.Time.UnixNano()
	}
	same, how := sameOrigin(r, ev)
	soon := now != 0 && r.usedAt != 0 && now-r.usedAt <= int64(t.cfg.RefreshGrace)
	e := "token used " + ago(r.usedAt, now)
	switch {
	case soon && same:
		t.set(v, "refresh_token_concurrent", e+", within the "+t.cfg.RefreshGrace.String()+" grace, from the same "+how+keyNote(ev.TokenKey))
	case soon && how == "":
		if v.Decision == Direct {
			v.Evidence = "undecided: " + e + ", neither network nor session known" + keyNote(ev.TokenKey)
		}
	case !same && how != "":
		t.set(v, "refresh_token_reused", e+", from another "+how+keyNote(ev.TokenKey))
	case now != 0 && r.usedAt != 0:
		t.set(v, "refresh_token_reused", e+", past the "+t.cfg.RefreshGrace.String()+" grace"+keyNote(ev.TokenKey))
	default:
		if v.Decision == Direct {
			v.Evidence = "undecided: " + e + ", times unknown" + keyNote(ev.TokenKey)
		}
	}
}

// sameOrigin compares the network of two uses, else their session; how is
// what was compared ("" when nothing could be).
func sameOrigin(r tokenRec, ev *Event) (same bool, how string) {
	if n := netKey(ev.IP); n != 0 && r.net != 0 {
		return n == r.net, "network"
	}
	if s := strKey(ev.SessionID); s != 0 && r.sesion != 0 {
		return s == r.sesion, "session"
	}
	return false, ""
}
