package ingest

import (
	"fmt"
	"testing"
	"time"

	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/gen"
	"github.com/authsift/authsift/ingest/store/clickhouse"
)

// TestTriageNamesTheScenario: `authsift gen`'s secret-expiry incident goes
// through Kafka (kfake), the pipeline and the real ClickHouse server; triage
// `changes` must name the client and a client-authentication class first.
func TestTriageNamesTheScenario(t *testing.T) {
	srv := chtest.Start(t)
	h := newHarness(t, "auth")
	now := time.Now().UTC().Truncate(time.Minute)
	g, err := gen.NewWithConfig(gen.Config{Seed: 9, Scenarios: []string{gen.ScenarioSecretExpiry}, Client: "billing-api",
		After: 170 * time.Minute, Start: now.Add(-3 * time.Hour), Step: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for g.Now().Before(now) {
		lines = append(lines, splitLines(g.Append(nil))...)
	}
	h.produce("auth", lines)
	ch := openCH(t, srv.TCP, "scenario")
	if err := ch.WriteCatalog(t.Context(), h.engine.Catalog()); err != nil {
		t.Fatal(err)
	}
	r := h.run(h.reader("s1", "auth"), ch, nil, PipelineConfig{BatchRows: 2000})
	eventually(t, "all committed", func() bool { return committed(t, h.brokers, "s1", "auth") == int64(len(lines)) })
	r.stop(t)
	rep, err := ch.TriageChanges(t.Context(), clickhouse.TriageWindow{Now: now.Add(time.Minute), Since: 10 * time.Minute, Baseline: 2 * time.Hour, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	clients := rep.Section(clickhouse.SectionClients)
	if clients == nil || len(clients.Rows) == 0 {
		t.Fatalf("no client rose: %+v", rep)
	}
	client, class := triageStr(clients.Value(0, "client_id")), triageStr(clients.Value(0, "class"))
	if client != "billing-api" || (class != "client_auth_rejected" && class != "client_secret_invalid" && class != "client_secret_expired") {
		t.Fatalf("triage names %s / %s first, want billing-api with a client-secret class", client, class)
	}
}

// triageStr renders a result value for comparisons.
func triageStr(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}
