package main

import (
	"context"
	"io"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/authsift/authsift/ingest"
	"github.com/authsift/authsift/ingest/gen"
)

type demoOptions struct {
	chAddr    string
	noCH      bool
	listen    string
	rate      float64
	scenarios []string
	client    string
	after     time.Duration
	duration  time.Duration
	logLevel  string
}

func (o *demoOptions) flags(cmd *kingpin.CmdClause) {
	cmd.Flag("clickhouse.addr", "Use this ClickHouse (native protocol host:port) instead of starting a local one.").
		PlaceHolder("HOST:9000").StringVar(&o.chAddr)
	cmd.Flag("no-clickhouse", "Do not store events: metrics only.").BoolVar(&o.noCH)
	cmd.Flag("web.listen-address", "Address of the service's /metrics and health endpoints.").Default(":9866").StringVar(&o.listen)
	cmd.Flag("rate", "Generated log lines per second.").Default("500").Float64Var(&o.rate)
	cmd.Flag("scenario", "Incident to rehearse (repeatable): "+joinScenarios()+".").
		Default(gen.ScenarioSecretExpiry).EnumsVar(&o.scenarios, gen.Scenarios()...)
	cmd.Flag("scenario.client", "Client the incident hits.").Default(gen.DefaultScenarioClient).StringVar(&o.client)
	cmd.Flag("scenario.after", "When the incident starts.").Default("30s").DurationVar(&o.after)
	cmd.Flag("duration", "Stop after this long (0: until Ctrl-C).").Default("0").DurationVar(&o.duration)
	cmd.Flag("log.level", "Log level of the service: debug, info, warn, error.").Default("warn").
		EnumVar(&o.logLevel, "debug", "info", "warn", "error")
}

func joinScenarios() string {
	s := ""
	for i, n := range gen.Scenarios() {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

func runDemo(ctx context.Context, g *globalOptions, o *demoOptions, stdout, stderr io.Writer) (int, error) {
	cfg := ingest.DemoConfig{ClickHouseAddr: o.chAddr, NoClickHouse: o.noCH, Listen: o.listen, Rate: o.rate,
		Scenarios: o.scenarios, Client: o.client, After: o.after, Duration: o.duration, RuleFiles: g.ruleFiles, Version: version}
	if err := ingest.Demo(ctx, cfg, stdout, newLogger(stderr, o.logLevel, "logfmt")); err != nil {
		return exitFailed, err
	}
	return exitOK, nil
}
