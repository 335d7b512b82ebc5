package ingest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/authsift/authsift/ingest/chtest"
	"github.com/authsift/authsift/ingest/kafka"
	"github.com/authsift/authsift/ingest/store/clickhouse"
)

func TestServiceEndpoints(t *testing.T) {
	srv := chtest.Start(t)
	kf, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	defer kf.Close()
	rulesFile := filepath.Join(t.TempDir(), "extra.yaml")
	good := "rules:\n  - id: generic.extra\n    source: generic\n    class: scope_invalid\n    match: {error: extra_error}\n    ref: test\n"
	os.WriteFile(rulesFile, []byte(good), 0o644)
	svc, err := NewService(t.Context(), ServiceConfig{
		Kafka:      kafka.Config{Brokers: kf.ListenAddrs(), Group: "svc", Topics: []string{"auth"}},
		ClickHouse: &clickhouse.Config{Addrs: []string{srv.TCP}, Database: "svc"},
		Migrate:    true, RuleFiles: []string{rulesFile}, Version: "test", EnableLifecycle: true,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	h := svc.Handler()
	do := func(method, path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := do("GET", "/-/healthy"); code != 200 {
		t.Fatalf("healthy: %d", code)
	}
	if code, body := do("GET", "/-/ready"); code != 200 {
		t.Fatalf("ready with kafka and clickhouse up: %d %s", code, body)
	}
	if code, body := do("GET", "/metrics"); code != 200 || !strings.Contains(body, `authsift_build_info{version="test"} 1`) ||
		!strings.Contains(body, `authsift_events_total{outcome="failure",source="keycloak"} 0`) {
		t.Fatalf("metrics: %d\n%.2000s", code, body)
	}
	if code, _ := do("GET", "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET reload: %d", code)
	}
	os.WriteFile(rulesFile, []byte("rules:\n  - id: generic.extra\n    source: generic\n    class: no_such_class\n    match: {error: x}\n    ref: t\n"), 0o644)
	code, body := do("POST", "/-/reload")
	if code != http.StatusInternalServerError || !strings.Contains(body, rulesFile+":2:5") {
		t.Fatalf("bad reload: %d %s", code, body)
	}
	if v := testutil.ToFloat64(svc.metrics.ReloadSuccess); v != 0 {
		t.Fatalf("reload_success after a bad catalog: %v", v)
	}
	if svc.pipeline.Engine().Catalog().Class("scope_invalid") == nil || len(svc.pipeline.Engine().Catalog().Rules()) == 0 {
		t.Fatal("the live catalog was lost")
	}
	os.WriteFile(rulesFile, []byte(strings.Replace(good, "scope_invalid", "scope_not_allowed", 1)), 0o644)
	if code, body := do("POST", "/-/reload"); code != 200 {
		t.Fatalf("good reload: %d %s", code, body)
	}
	if v := testutil.ToFloat64(svc.metrics.ReloadSuccess); v != 1 {
		t.Fatalf("reload_success after a good catalog: %v", v)
	}
	for _, r := range svc.pipeline.Engine().Catalog().Rules() {
		if r.ID == "generic.extra" && r.Class != "scope_not_allowed" {
			t.Fatalf("reloaded rule has class %s", r.Class)
		}
	}
	kf.Close()
	svc.readyAt = svc.readyAt.AddDate(0, 0, -1) // skip the 2 s cache
	if code, body := do("GET", "/-/ready"); code != http.StatusServiceUnavailable || !strings.Contains(body, "kafka") {
		t.Fatalf("ready with kafka down: %d %s", code, body)
	}
}
