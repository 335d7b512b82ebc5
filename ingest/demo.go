package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/authsift/authsift/ingest/gen"
	"github.com/authsift/authsift/ingest/kafka"
	"github.com/authsift/authsift/ingest/localch"
	"github.com/authsift/authsift/ingest/store/clickhouse"
)

// DemoConfig is what `authsift demo` runs with.
type DemoConfig struct {
	// ClickHouseAddr is a server to use; empty: start Debian's
	// clickhouse-server (or `clickhouse server`) in a temp dir if installed,
	// else run metrics-only.
	ClickHouseAddr string
	NoClickHouse   bool
	Listen         string
	Rate           float64
	Scenarios      []string
	Client         string
	After          time.Duration
	Duration       time.Duration
	RuleFiles      []string
	Version        string
}

const demoTopic = "auth-logs"

// Demo runs the whole pipeline on this machine: an in-process Kafka
// (kfake), the traffic generator with an incident scenario, the service,
// and ClickHouse when one can be found or started. It tells the user where
// to look and prints a status line every 10 seconds.
func Demo(ctx context.Context, cfg DemoConfig, out io.Writer, logger *slog.Logger) error {
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	kf, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, demoTopic, demoTopic+".dlq"))
	if err != nil {
		return fmt.Errorf("start in-process kafka: %w", err)
	}
	defer kf.Close()
	brokers := kf.ListenAddrs()

	chAddr, chNote, stopCH, err := demoClickHouse(cfg)
	if err != nil {
		return err
	}
	defer stopCH()

	svcCfg := ServiceConfig{
		Kafka:         kafka.Config{Brokers: brokers, Group: "authsift-demo", Topics: []string{demoTopic}, DLQTopic: demoTopic + ".dlq"},
		Pipeline:      PipelineConfig{BatchRows: 5000, FlushInterval: time.Second},
		RuleFiles:     cfg.RuleFiles,
		ListenAddress: cfg.Listen,
		Migrate:       true,
		Version:       cfg.Version,
	}
	if chAddr != "" {
		svcCfg.ClickHouse = &clickhouse.Config{Addrs: []string{chAddr}, Database: "authsift"}
	}
	svc, err := NewService(ctx, svcCfg, logger)
	if err != nil {
		return err
	}
	defer svc.Close()

	g, err := gen.NewWithConfig(gen.Config{Seed: time.Now().UnixNano(), Scenarios: cfg.Scenarios, Client: cfg.Client,
		After: cfg.After, Clock: time.Now})
	if err != nil {
		return err
	}
	w := gen.NewKafkaWriter(brokers, demoTopic)
	defer w.Close()

	demoIntro(out, cfg, chAddr, chNote)
	errc := make(chan error, 2)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { errc <- svc.Run(runCtx, nil) }()
	go func() {
		_, err := g.Produce(runCtx, w, gen.Run{Rate: cfg.Rate})
		if err != nil && runCtx.Err() == nil {
			errc <- fmt.Errorf("generator: %w", err)
		}
	}()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			cancel()
			err := <-errc
			demoStatus(out, svc.Registry(), cfg.Client)
			fmt.Fprintln(out, "demo stopped")
			return err
		case err := <-errc:
			return err
		case <-tick.C:
			demoStatus(out, svc.Registry(), cfg.Client)
		}
	}
}

// demoClickHouse finds or starts a ClickHouse server for the demo.
func demoClickHouse(cfg DemoConfig) (addr, note string, stop func(), err error) {
	stop = func() {}
	switch {
	case cfg.NoClickHouse:
		return "", "ClickHouse: off (--no-clickhouse): metrics only", stop, nil
	case cfg.ClickHouseAddr != "":
		return cfg.ClickHouseAddr, "ClickHouse: " + cfg.ClickHouseAddr + " (database authsift)", stop, nil
	}
	bin, args, err := localch.Binary(os.Getenv("AUTHSIFT_CLICKHOUSE_BIN"))
	if err != nil {
		return "", "ClickHouse: none found, running metrics-only. Install Debian's clickhouse-server " +
			"(apt-get install clickhouse-server) or pass --clickhouse.addr to store events.", stop, nil
	}
	dir, err := os.MkdirTemp("", "authsift-demo-clickhouse-")
	if err != nil {
		return "", "", stop, fmt.Errorf("make clickhouse dir: %w", err)
	}
	var srv *localch.Server
	for range 3 {
		var taken bool
		srv, taken, err = localch.Start(dir, bin, args)
		if err == nil || !taken {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", "", stop, fmt.Errorf("start local clickhouse (%s): %w", bin, err)
	}
	stop = func() {
		srv.Stop()
		os.RemoveAll(dir)
	}
	return srv.TCP, fmt.Sprintf("ClickHouse: started %s on %s (HTTP %s), data in %s (removed at exit)", bin, srv.TCP, srv.HTTP, dir), stop, nil
}

func demoIntro(out io.Writer, cfg DemoConfig, chAddr, chNote string) {
	listen := cfg.Listen
	if strings.HasPrefix(listen, ":") {
		listen = "localhost" + listen
	}
	fmt.Fprintf(out, "authsift demo: in-process Kafka (topic %s), the traffic generator at %.0f lines/s, the service.\n", demoTopic, cfg.Rate)
	fmt.Fprintln(out, chNote)
	fmt.Fprintf(out, "\nWhat is happening: normal traffic of Keycloak, Hydra, Entra, Auth0, Okta, Zitadel, Authentik, Dex, nginx/Envoy, oauth2-proxy and a gateway; after %s the scenario(s) %s hit client %q.\n",
		cfg.After, strings.Join(cfg.Scenarios, ", "), cfg.Client)
	if slices.Contains(cfg.Scenarios, gen.ScenarioSecretExpiry) {
		fmt.Fprintf(out, "Keycloak cannot tell an expired client secret from a wrong or a missing one: %s's Keycloak failures are client_auth_rejected. "+
			"Entra can: it logs client_secret_expired under the app's id, %s, not its name.\n", cfg.Client, gen.AppID(cfg.Client))
	}
	fmt.Fprintf(out, "\nWhere to look:\n  metrics:   http://%s/metrics   (curl -s http://%s/metrics | grep -E 'authsift_(client_)?failures_total')\n", listen, listen)
	fmt.Fprintf(out, "  health:    http://%s/-/ready\n", listen)
	if chAddr != "" {
		host, port, _ := strings.Cut(chAddr, ":")
		fmt.Fprintf(out, "  triage:    clickhouse-client --host %s --port %s --query \"SELECT class, client_id, count() AS n FROM authsift.events FINAL "+
			"WHERE outcome = 'failure' AND time > now() - INTERVAL 5 MINUTE GROUP BY class, client_id ORDER BY n DESC LIMIT 10\"\n", host, port)
		fmt.Fprintf(out, "  the fix:   clickhouse-client --host %s --port %s --query \"SELECT id, fix_line FROM authsift.classes FINAL WHERE id = 'client_secret_expired'\"\n", host, port)
	}
	fmt.Fprintf(out, "  explain:   authsift rules explain client_secret_expired\n\nStatus every 10 s; Ctrl-C stops.\n\n")
}

// demoStatus prints events processed and the top failure classes.
func demoStatus(out io.Writer, reg *prometheus.Registry, scenarioClient string) {
	mfs, err := reg.Gather()
	if err != nil {
		return
	}
	outcomes := map[string]float64{}
	classes := map[string]float64{}
	client := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue()
			switch mf.GetName() {
			case "authsift_events_total":
				outcomes[label(m, "outcome")] += v
			case "authsift_failures_total":
				classes[label(m, "class")] += v
			case "authsift_client_failures_total":
				if label(m, "client_id") == scenarioClient && v > 0 {
					client[label(m, "class")] += v
				}
			}
		}
	}
	fmt.Fprintf(out, "%s  events: %.0f success, %.0f failure, %.0f context | top classes: %s\n",
		time.Now().Format("15:04:05"), outcomes["success"], outcomes["failure"], outcomes["context"], topText(classes, 4))
	if len(client) > 0 {
		fmt.Fprintf(out, "          %s: %s\n", scenarioClient, topText(client, 4))
	}
}

// topText is "k1 n1, k2 n2, ..." for the n largest values.
func topText(m map[string]float64, n int) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for i := 0; i < len(keys) && i < n; i++ {
		parts = append(parts, fmt.Sprintf("%s %.0f", keys[i], m[keys[i]]))
	}
	return strings.Join(parts, ", ")
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
