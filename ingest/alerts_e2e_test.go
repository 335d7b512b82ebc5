package ingest

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/gen"
)

// TestAlertsFireOnScenarios drives `authsift gen` incident scenarios through
// the decoders, the engine and the service's metrics, scrapes the real
// /metrics handler once a minute of event time, and has promtool evaluate
// dashboards/recording.yaml and alerts.yaml over those scrapes: the alert
// for the incident must fire for the scenario's client after it starts, and
// no alert may fire for that client before.
func TestAlertsFireOnScenarios(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is required in CI")
		}
		t.Skip("no promtool")
	}
	cases := []struct {
		scenario, alert string
	}{
		{gen.ScenarioSecretExpiry, "AuthsiftClientInvalidClientSpike"},
		{gen.ScenarioRefreshReplay, "AuthsiftRefreshTokenReplay"},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			const minutes, after = 150, 120
			start := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
			g, err := gen.NewWithConfig(gen.Config{Seed: 5, Scenarios: []string{c.scenario}, Client: "billing-api",
				After: after * time.Minute, Start: start, Step: 120 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			engine := defaultEngine(t)
			reg := prometheus.NewRegistry()
			m := NewMetrics(reg, engine.Catalog(), 200, nil)
			handler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
			s, err := NewStream(engine, FormatAuto, classify.DefaultTrackerConfig(), nil)
			if err != nil {
				t.Fatal(err)
			}
			series := map[string][]string{} // "name{labels}" -> one value per minute
			scrape := func(minute int) {
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
				parser := expfmt.NewTextParser(model.UTF8Validation)
				families, err := parser.TextToMetricFamilies(bytes.NewReader(rec.Body.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				for name, mf := range families {
					if !strings.HasSuffix(name, "_total") {
						continue
					}
					for _, metric := range mf.GetMetric() {
						labels := model.LabelSet{}
						for _, l := range metric.GetLabel() {
							labels[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
						}
						key := name + labels.String()
						for len(series[key]) < minute {
							series[key] = append(series[key], "_")
						}
						series[key] = append(series[key], fmt.Sprint(metric.GetCounter().GetValue()))
					}
				}
			}
			minute := 0
			for minute < minutes {
				for _, line := range splitLines(g.Append(nil)) {
					s.Line(0, line, false, func(r *Record) {
						if r.Event != nil {
							v := r.Verdict
							m.Observe(r.Event, &v)
						}
					})
				}
				for minute < minutes && !g.Now().Before(start.Add(time.Duration(minute+1)*time.Minute)) {
					scrape(minute)
					minute++
				}
			}
			var in strings.Builder
			keys := make([]string, 0, len(series))
			for k := range series {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&in, "      - series: '%s'\n        values: '%s'\n", k, strings.Join(series[k], " "))
			}
			fmt.Fprintf(&in, "      - series: 'up{job=\"authsift\", instance=\"a:9866\"}'\n        values: '1+0x%d'\n", minutes)
			abs := func(p string) string { a, _ := filepath.Abs(p); return a }
			test := fmt.Sprintf(`rule_files:
  - %s
  - %s
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
%s    promql_expr_test:
      - expr: count(ALERTS{alertstate="firing", client_id="billing-api"}) or vector(0)
        eval_time: %dm
        exp_samples:
          - labels: '{}'
            value: 0
      - expr: count(ALERTS{alertname=%q, alertstate="firing", client_id="billing-api"})
        eval_time: %dm
        exp_samples:
          - labels: '{}'
            value: 1
`, abs("../dashboards/recording.yaml"), abs("../dashboards/alerts.yaml"), in.String(), after-5, c.alert, minutes-1)
			path := filepath.Join(t.TempDir(), "scenario_test.yaml")
			if err := os.WriteFile(path, []byte(test), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool: %v\n%s", err, out)
			}
		})
	}
}
