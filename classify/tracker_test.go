package classify

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// A correlation test is a stream of events; some are checked.
type cstep struct {
	ev       *Event
	class    string // "" : not checked
	decision string
	evidence string // substring of the evidence; "" : not checked
	gap      bool   // call Gap before the event
}

var ct0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return ct0.Add(d) }

const (
	codeA, codeB, codeC = 0xa1, 0xb2, 0xc3
	tokX, tokY          = 0x51, 0x52
)

func kcIssue(code uint64, client string, t time.Time) *Event {
	return &Event{Source: "keycloak", Outcome: Success, Type: "LOGIN", ClientID: client, CodeKey: code, Step: CodeIssued, Time: t}
}

func kcRedeem(code uint64, client string, t time.Time) *Event {
	return &Event{Source: "keycloak", Outcome: Success, Type: "CODE_TO_TOKEN", ClientID: client, CodeKey: code, Step: CodeRedeemed, Time: t}
}

func kcReject(code uint64, client string, t time.Time) *Event {
	return &Event{Source: "keycloak", Outcome: Failure, Type: "CODE_TO_TOKEN_ERROR", Error: "invalid_code", ClientID: client, CodeKey: code, Time: t}
}

func kcWarn(session string, t time.Time) *Event {
	return &Event{Source: "keycloak", Outcome: Context, Hint: "code_already_used", SessionID: session, Time: t}
}

func kcRejectIn(code uint64, session string, t time.Time) *Event {
	ev := kcReject(code, "web", t)
	ev.SessionID = session
	return ev
}

func kcRefresh(tok uint64, ip, session string, t time.Time) *Event {
	return &Event{Source: "keycloak", Outcome: Success, Type: "REFRESH_TOKEN", TokenKey: tok, Step: TokenUsed, IP: ip, SessionID: session, Time: t}
}

func kcRefreshReuse(tok uint64, ip, session string, t time.Time) *Event {
	return &Event{Source: "keycloak", Outcome: Failure, Type: "REFRESH_TOKEN_ERROR", Error: "invalid_token",
		Reason: "Maximum allowed refresh token reuse exceeded", TokenKey: tok, IP: ip, SessionID: session, Time: t}
}

// noise is another client's traffic between the events of a case.
func noise(t time.Time) *Event { return kcIssue(0xfeed, "other", t) }

// issuances returns a LOGIN of client every minute from 0 to n minutes.
func issuances(client string, n int) []cstep {
	var out []cstep
	for i := 0; i <= n; i++ {
		out = append(out, cstep{ev: kcIssue(uint64(0x1000+i), client, at(time.Duration(i)*time.Minute))})
	}
	return out
}

func runSteps(t *testing.T, cfg TrackerConfig, steps []cstep) *Tracker {
	t.Helper()
	tr := NewTracker(New(testCatalog(t, engineRules)), cfg)
	for i, s := range steps {
		if s.gap {
			tr.Gap()
		}
		v := tr.Classify(s.ev)
		if s.class == "" {
			continue
		}
		got := ""
		if v.Class != nil {
			got = v.Class.ID
		}
		if got != s.class || (s.decision != "" && v.Decision != s.decision) || !strings.Contains(v.Evidence, s.evidence) {
			t.Fatalf("step %d: got %s %s %q; want %s %s evidence containing %q", i, got, v.Decision, v.Evidence, s.class, s.decision, s.evidence)
		}
	}
	return tr
}

func TestTrackerCodes(t *testing.T) {
	cases := []struct {
		name  string
		steps []cstep
	}{
		{"redeemed, then rejected: reuse", []cstep{
			{ev: kcIssue(codeA, "web", at(0))},
			{ev: kcRedeem(codeA, "web", at(2*time.Second))},
			{ev: kcReject(codeA, "web", at(3*time.Second)), class: "code_reused", decision: Correlated, evidence: "code redeemed at 2026-11-23T09:00:02.000Z, 1s before this attempt"},
		}},
		{"interleaved with other codes and clients", []cstep{
			{ev: kcIssue(codeA, "web", at(0))},
			{ev: kcIssue(codeB, "web", at(time.Second))},
			{ev: noise(at(time.Second))},
			{ev: kcRedeem(codeB, "web", at(2*time.Second))},
			{ev: kcRedeem(codeA, "web", at(3*time.Second))},
			{ev: kcReject(codeC, "web", at(3*time.Second)), class: "code_rejected", decision: Direct, evidence: "undecided: no record of this code"},
			{ev: kcReject(codeA, "web", at(4*time.Second)), class: "code_reused", decision: Correlated},
			{ev: kcReject(codeB, "web", at(4*time.Second)), class: "code_reused", decision: Correlated},
		}},
		{"out of order: the rejection before the redemption stays ambiguous", []cstep{
			{ev: kcIssue(codeA, "web", at(0))},
			{ev: kcReject(codeA, "web", at(3*time.Second)), class: "code_rejected", decision: Direct, evidence: "within its lifetime"},
			{ev: kcRedeem(codeA, "web", at(2*time.Second))},
		}},
		{"issued past the lifetime, never redeemed: expired", []cstep{
			{ev: kcIssue(codeA, "web", at(0))},
			{ev: noise(at(30 * time.Second))},
			{ev: kcReject(codeA, "web", at(90*time.Second)), class: "code_expired", decision: Correlated, evidence: "1m30s before this attempt, past the 1m0s code lifetime of keycloak"},
		}},
		{"within the lifetime, not redeemed: stays ambiguous", []cstep{
			{ev: kcIssue(codeA, "web", at(0))},
			{ev: kcReject(codeA, "web", at(20*time.Second)), class: "code_rejected", decision: Direct},
		}},
		{"missing issuance: stays ambiguous", []cstep{
			{ev: kcReject(codeA, "web", at(0)), class: "code_rejected", decision: Direct, evidence: "not watched"},
		}},
		{"a newer code after the redemption: either may be presented", []cstep{
			{ev: kcIssue(codeA, "web", at(0))},
			{ev: kcRedeem(codeA, "web", at(time.Second))},
			{ev: kcIssue(codeA, "web", at(10*time.Second))},
			{ev: kcReject(codeA, "web", at(20*time.Second)), class: "code_rejected", decision: Direct},
			{ev: kcReject(codeA, "web", at(80*time.Second)), class: "code_expired", decision: Correlated},
		}},
		{"two codes of one key, one redeemed: either may be presented", []cstep{
			{ev: kcIssue(codeA, "web", at(0))},
			{ev: kcIssue(codeA, "web", at(5*time.Second))},
			{ev: kcRedeem(codeA, "web", at(6*time.Second))},
			{ev: kcReject(codeA, "web", at(30*time.Second)), class: "code_rejected", decision: Direct, evidence: "another one issued"},
			{ev: kcRedeem(codeA, "web", at(31*time.Second))},
			{ev: kcReject(codeA, "web", at(32*time.Second)), class: "code_reused", decision: Correlated},
		}},
		{"redeemed without a seen issuance, then rejected: reuse", []cstep{
			{ev: kcRedeem(codeA, "web", at(0))},
			{ev: kcReject(codeA, "web", at(time.Second)), class: "code_reused", decision: Correlated},
		}},
		{"Keycloak's already-used warning of an expired code: expired", []cstep{
			{ev: kcIssue(codeA, "web", at(0))},
			{ev: kcWarn("s1", at(75*time.Second))},
			{ev: kcRejectIn(codeA, "s1", at(75*time.Second)), class: "code_expired", decision: Correlated, evidence: "single-use entry expired"},
		}},
		{"Keycloak's already-used warning of a redeemed code: reuse, with the redemption", []cstep{
			{ev: kcIssue(codeA, "web", at(0))},
			{ev: kcRedeem(codeA, "web", at(time.Second))},
			{ev: kcWarn("s1", at(2*time.Second))},
			{ev: kcRejectIn(codeA, "s1", at(2*time.Second)), class: "code_reused", decision: Correlated, evidence: "code redeemed at"},
		}},
		{"the warning alone decides when the code was not seen", []cstep{
			{ev: kcWarn("s1", at(0))},
			{ev: kcRejectIn(codeA, "s1", at(0)), class: "code_reused", decision: Correlated, evidence: "context code_already_used from an earlier line of the same session"},
		}},
		{"never issued while the stream was watched: unknown", append(issuances("web", 16),
			cstep{ev: kcReject(codeA, "web", at(16*time.Minute)), class: "code_unknown", decision: Correlated, evidence: "no issuance of this code in the 15m0s"}),
		},
		{"never issued, but the watch is too short: stays ambiguous", append(issuances("web", 14),
			cstep{ev: kcReject(codeA, "web", at(14*time.Minute)), class: "code_rejected", decision: Direct, evidence: "not watched"}),
		},
		{"never issued, but the client's issuances do not reach the stream", append(issuances("other", 16),
			cstep{ev: kcReject(codeA, "web", at(16*time.Minute)), class: "code_rejected", decision: Direct, evidence: "no code issuance of this client"}),
		},
		{"never issued, but the stream had a gap", append(issuances("web", 16),
			cstep{ev: kcIssue(0x99, "web", at(16*time.Minute)), gap: true},
			cstep{ev: kcReject(codeA, "web", at(16*time.Minute)), class: "code_rejected", decision: Direct}),
		},
		{"never issued, but events arrived out of order", append(issuances("web", 16),
			cstep{ev: kcIssue(0x99, "web", at(10*time.Minute))},
			cstep{ev: kcReject(codeA, "web", at(16*time.Minute)), class: "code_rejected", decision: Direct}),
		},
		{"the warning is not overruled by an unknown code", append(issuances("web", 16),
			cstep{ev: kcWarn("s1", at(16*time.Minute))},
			cstep{ev: kcRejectIn(codeA, "s1", at(16*time.Minute)), class: "code_reused", decision: Correlated}),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runSteps(t, DefaultTrackerConfig(), c.steps) })
	}
}

func TestTrackerCodeUnknownNeedsAllRecords(t *testing.T) {
	cfg := DefaultTrackerConfig()
	cfg.Codes = 8
	steps := issuances("web", 16) // 17 codes in 16 minutes: some are dropped for room
	steps = append(steps, cstep{ev: kcReject(codeA, "web", at(16*time.Minute)), class: "code_rejected", decision: Direct, evidence: "dropped for room"})
	tr := runSteps(t, cfg, steps)
	if s := tr.Stats(); s.Codes > 8 || s.Evicted == 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestTrackerRefreshTokens(t *testing.T) {
	cases := []struct {
		name  string
		steps []cstep
	}{
		{"second use within the grace from the same network: race", []cstep{
			{ev: kcRefresh(tokX, "10.1.2.3", "s1", at(0))},
			{ev: kcRefreshReuse(tokX, "10.1.2.9", "s1", at(400*time.Millisecond)), class: "refresh_token_concurrent", decision: Correlated, evidence: "within the 30s grace, from the same network"},
		}},
		{"interleaved with other tokens", []cstep{
			{ev: kcRefresh(tokX, "10.1.2.3", "s1", at(0))},
			{ev: kcRefresh(tokY, "192.0.2.1", "s2", at(time.Second))},
			{ev: kcRefreshReuse(tokY, "192.0.2.1", "s2", at(2*time.Second)), class: "refresh_token_concurrent"},
			{ev: kcRefreshReuse(tokX, "203.0.113.7", "s1", at(3*time.Second)), class: "refresh_token_reused", decision: Correlated, evidence: "from another network"},
		}},
		{"second use much later from the same network: replay", []cstep{
			{ev: kcRefresh(tokX, "10.1.2.3", "s1", at(0))},
			{ev: kcRefreshReuse(tokX, "10.1.2.3", "s1", at(20*time.Minute)), class: "refresh_token_reused", decision: Correlated, evidence: "past the 30s grace"},
		}},
		{"first use missing: the vendor's verdict stays", []cstep{
			{ev: kcRefreshReuse(tokX, "10.1.2.3", "s1", at(0)), class: "refresh_token_reused", decision: Direct, evidence: "undecided: no earlier use"},
		}},
		{"out of order: the failure before the use stays direct", []cstep{
			{ev: kcRefreshReuse(tokX, "10.1.2.3", "s1", at(time.Second)), class: "refresh_token_reused", decision: Direct},
			{ev: kcRefresh(tokX, "10.1.2.3", "s1", at(0))},
		}},
		{"no addresses: the same session decides", []cstep{
			{ev: kcRefresh(tokX, "", "s1", at(0))},
			{ev: kcRefreshReuse(tokX, "", "s1", at(time.Second)), class: "refresh_token_concurrent", evidence: "same session"},
		}},
		{"no address, no session: a quick second use stays direct", []cstep{
			{ev: kcRefresh(tokX, "", "", at(0))},
			{ev: kcRefreshReuse(tokX, "", "", at(time.Second)), class: "refresh_token_reused", decision: Direct},
		}},
		{"IPv6: the same /64 is the same network", []cstep{
			{ev: kcRefresh(tokX, "2001:db8:1:2::10", "s1", at(0))},
			{ev: kcRefreshReuse(tokX, "2001:db8:1:2::99", "s1", at(time.Second)), class: "refresh_token_concurrent"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runSteps(t, DefaultTrackerConfig(), c.steps) })
	}
}

// TestTrackerBoundedFlood: a flood of codes that are never redeemed, and of
// refresh tokens used once, keeps the state at its size limit, and the heap
// does not grow with the flood.
func TestTrackerBoundedFlood(t *testing.T) {
	const limit, flood = 10000, 1_000_000
	cfg := DefaultTrackerConfig()
	cfg.Codes, cfg.Tokens = limit, limit
	tr := NewTracker(New(testCatalog(t, engineRules)), cfg)
	ev := Event{Source: "keycloak", Outcome: Success, Type: "LOGIN", ClientID: "web", Step: CodeIssued}
	rt := Event{Source: "keycloak", Outcome: Success, Type: "REFRESH_TOKEN", Step: TokenUsed, IP: "10.0.0.1"}
	heapAt := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var first uint64
	for i := 1; i <= flood; i++ {
		ev.CodeKey, ev.Time = uint64(i)*0x9e3779b97f4a7c15, at(time.Duration(i)*time.Millisecond)
		tr.Classify(&ev)
		rt.TokenKey, rt.Time = ev.CodeKey, ev.Time
		tr.Classify(&rt)
		if i == flood/10 {
			first = heapAt()
		}
		if tr.Stats().Codes > limit || tr.Stats().Tokens > limit {
			t.Fatalf("after %d codes the state holds %+v, limit %d", i, tr.Stats(), limit)
		}
	}
	last := heapAt()
	if last > first+4<<20 {
		t.Fatalf("heap grew from %d to %d bytes between %d and %d codes", first, last, flood/10, flood)
	}
	s := tr.Stats()
	if s.Evicted+s.Expired != 2*(flood-limit) {
		t.Fatalf("dropped %d+%d records, want %d", s.Evicted, s.Expired, 2*(flood-limit))
	}
	t.Logf("state %+v, heap %d -> %d bytes", s, first, last)
}

// TestTrackerExpiresByAge: records older than their window leave even below
// the size limit, and count as expired.
func TestTrackerExpiresByAge(t *testing.T) {
	tr := NewTracker(New(testCatalog(t, engineRules)), DefaultTrackerConfig())
	for i := 0; i < 100; i++ {
		tr.Classify(kcIssue(uint64(i+1), "web", at(time.Duration(i)*time.Second)))
	}
	tr.Classify(kcIssue(0xffff, "web", at(time.Hour)))
	if s := tr.Stats(); s.Codes != 1 || s.Expired != 100 || s.Evicted != 0 {
		t.Fatalf("stats %+v, want 1 code, 100 expired", s)
	}
}
