package ingest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

// kcFlow is a Keycloak code flow of one session: the LOGIN that issues the
// code, its exchange, and the same code sent again (no parser warning).
func kcFlow(session string, at time.Time) []string {
	ts := func(d time.Duration) string { return at.Add(d).Format("2006-01-02 15:04:05,000") }
	return []string{
		ts(0) + ` INFO  [org.keycloak.events] (executor-thread-3) type="LOGIN", realmId="r1", realmName="erp", clientId="erp-web", userId="u1", sessionId="` + session + `", ipAddress="198.51.100.23", auth_method="openid-connect", response_type="code", code_id="` + session + `", username="jdoe"`,
		ts(800*time.Millisecond) + ` INFO  [org.keycloak.events] (executor-thread-4) type="CODE_TO_TOKEN", realmId="r1", realmName="erp", clientId="erp-web", userId="u1", sessionId="` + session + `", ipAddress="10.20.0.7", grant_type="authorization_code", code_id="` + session + `"`,
		ts(1200*time.Millisecond) + ` WARN  [org.keycloak.events] (executor-thread-5) type="CODE_TO_TOKEN_ERROR", realmId="r1", realmName="erp", clientId="erp-web", userId="null", sessionId="` + session + `", ipAddress="10.20.0.7", error="invalid_code", grant_type="authorization_code", code_id="` + session + `"`,
	}
}

// TestPipelineCorrelationPerPartition: the lines of a session keyed by the
// session id share a partition, and the pipeline decides the reuse there;
// the same flow scattered over partitions stays ambiguous, never a wrong
// certainty. The correlation metrics report the state and its limits.
func TestPipelineCorrelationPerPartition(t *testing.T) {
	h := newHarness(t, "kc")
	at := time.Date(2025, 4, 2, 12, 0, 0, 0, time.UTC)
	const keyed, scattered = "4e6a8c0e-2a4c-4e6a-8c0e-2a4c6e8a0c2e", "5f7a9c1e-3b5d-4f7a-9c1e-3b5d7f9a1c3e"
	var msgs []kafka.Message
	for _, l := range kcFlow(keyed, at) {
		msgs = append(msgs, kafka.Message{Key: []byte("p0"), Value: []byte(l)})
	}
	for i, l := range kcFlow(scattered, at.Add(time.Second)) {
		msgs = append(msgs, kafka.Message{Key: []byte("p" + strconv.Itoa(i)), Value: []byte(l)})
	}
	w := &kafka.Writer{Addr: kafka.TCP(h.brokers...), Topic: "kc", BatchTimeout: 5 * time.Millisecond,
		Balancer: kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { n, _ := strconv.Atoi(string(m.Key[1:])); return n })}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	sink := newMemSink()
	r := h.run(h.reader("g-corr", "kc"), sink, nil, PipelineConfig{BatchRows: 100})
	eventually(t, "every row stored", func() bool { return sink.count() == len(msgs) })
	r.stop(t)
	got := map[string]string{}
	for _, row := range sink.rows {
		if row.Event.Type == "CODE_TO_TOKEN_ERROR" {
			got[row.Event.SessionID] = fmt.Sprintf("%s %s %s", row.Verdict.Class.ID, row.Verdict.Decision, row.Verdict.Evidence)
			if strings.Contains(row.Verdict.Evidence, row.Event.SessionID) {
				t.Errorf("evidence names the session: %s", row.Verdict.Evidence)
			}
		}
	}
	if !strings.HasPrefix(got[keyed], "code_reused correlated code redeemed at 2025-04-02T12:00:00.800Z") {
		t.Errorf("keyed by session: %s", got[keyed])
	}
	if !strings.HasPrefix(got[scattered], "code_rejected direct undecided") {
		t.Errorf("scattered over partitions: %s", got[scattered])
	}
	// the keyed code on partition 0; the scattered one's issuance on 0 and
	// its redemption on 1, which never meet
	if n := testutil.ToFloat64(r.metrics.CorrelationRecords.WithLabelValues("codes")); n != 3 {
		t.Errorf("authsift_correlation_records{kind=codes} = %v, want 3", n)
	}
	if n := testutil.ToFloat64(r.metrics.CorrelationLimit.WithLabelValues("codes")); n <= 0 {
		t.Errorf("authsift_correlation_limit_records{kind=codes} = %v", n)
	}
	if n := testutil.ToFloat64(r.metrics.CorrelationWindow.WithLabelValues("codes")); n != 900 {
		t.Errorf("authsift_correlation_window_seconds{kind=codes} = %v, want 900", n)
	}
}
