package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"

	"github.com/authsift/authsift/ingest"
	"github.com/authsift/authsift/ingest/kafka"
	"github.com/authsift/authsift/ingest/store/clickhouse"
)

type serveOptions struct {
	kafkaBrokers []string
	kafkaGroup   string
	kafkaTopics  []string
	kafkaDLQ     string
	kafkaAuth    kafka.Auth
	ch           clickhouseOptions
	migrate      bool
	retention    time.Duration
	batchRows    int
	batchEvery   time.Duration
	listen       string
	webConfig    string
	lifecycle    bool
	clientLimit  int
	clientAllow  []string
	keyFile      string
	shutdown     time.Duration
	logLevel     string
	logFormat    string
	memoryLimit  units.Base2Bytes
	corr         correlationOptions
}

type clickhouseOptions struct {
	addrs        []string
	database     string
	user         string
	passwordFile string
	tls          bool
	tlsCA        string
	tlsInsecure  bool
	cluster      string
	compression  string
}

func (c *clickhouseOptions) flags(cmd *kingpin.CmdClause, required bool) {
	addr := cmd.Flag("clickhouse.addr", "ClickHouse native-protocol address host:port (repeatable; none: metrics-only).")
	if required {
		addr = addr.Required()
	}
	addr.PlaceHolder("HOST:9000").StringsVar(&c.addrs)
	cmd.Flag("clickhouse.database", "ClickHouse database.").Default("authsift").StringVar(&c.database)
	cmd.Flag("clickhouse.user", "ClickHouse user.").Default("default").StringVar(&c.user)
	cmd.Flag("clickhouse.password-file", "File holding the ClickHouse password (else $"+clickhouse.PasswordEnv+").").
		PlaceHolder("FILE").StringVar(&c.passwordFile)
	cmd.Flag("clickhouse.tls", "Connect to ClickHouse with TLS.").BoolVar(&c.tls)
	cmd.Flag("clickhouse.tls-ca-file", "CA bundle that signs the ClickHouse certificate.").PlaceHolder("FILE").StringVar(&c.tlsCA)
	cmd.Flag("clickhouse.tls-insecure-skip-verify", "Do not verify the ClickHouse certificate (testing only).").BoolVar(&c.tlsInsecure)
	cmd.Flag("clickhouse.compression", "Compression of the native protocol: lz4 (light CPU, ~4x less traffic), zstd (smaller, more CPU) or none (least CPU; for a server on the same host or a fast network).").
		Default(clickhouse.CompressionLZ4).EnumVar(&c.compression, clickhouse.CompressionLZ4, clickhouse.CompressionZSTD, clickhouse.CompressionNone)
	cmd.Flag("clickhouse.cluster", "ClickHouse cluster: migrations ON CLUSTER, replicated tables behind a Distributed table.").
		StringVar(&c.cluster)
}

func (c *clickhouseOptions) config() *clickhouse.Config {
	if len(c.addrs) == 0 {
		return nil
	}
	return &clickhouse.Config{Addrs: splitList(c.addrs), Database: c.database, User: c.user, PasswordFile: c.passwordFile,
		TLS: c.tls, TLSCAFile: c.tlsCA, TLSInsecureSkipVerify: c.tlsInsecure, Cluster: c.cluster, Compression: c.compression}
}

func (o *serveOptions) flags(cmd *kingpin.CmdClause) {
	cmd.Flag("kafka.brokers", "Kafka bootstrap brokers host:port (repeatable or comma-separated).").
		Default("localhost:9092").StringsVar(&o.kafkaBrokers)
	cmd.Flag("kafka.group", "Kafka consumer group: replicas with the same group share the partitions.").
		Default("authsift").StringVar(&o.kafkaGroup)
	cmd.Flag("kafka.topic", "Topic to consume, optionally with its format pinned: 'auth-logs' or 'kc-events:keycloak' (repeatable).").
		Required().StringsVar(&o.kafkaTopics)
	cmd.Flag("kafka.tls", "Connect to Kafka with TLS.").BoolVar(&o.kafkaAuth.TLS)
	cmd.Flag("kafka.tls-ca-file", "CA bundle that signs the brokers' certificates.").PlaceHolder("FILE").StringVar(&o.kafkaAuth.TLSCAFile)
	cmd.Flag("kafka.tls-insecure-skip-verify", "Do not verify the brokers' certificates (testing only).").BoolVar(&o.kafkaAuth.TLSInsecureSkipVerify)
	cmd.Flag("kafka.sasl.mechanism", "SASL mechanism: plain, scram-sha-256 or scram-sha-512 (empty: no SASL).").
		EnumVar(&o.kafkaAuth.Mechanism, "", "plain", "scram-sha-256", "scram-sha-512")
	cmd.Flag("kafka.sasl.username", "SASL user name.").StringVar(&o.kafkaAuth.Username)
	cmd.Flag("kafka.sasl.password-file", "File holding the SASL password (else $"+kafka.PasswordEnv+").").
		PlaceHolder("FILE").StringVar(&o.kafkaAuth.PasswordFile)
	cmd.Flag("kafka.dlq-topic", "Dead-letter topic for undecodable messages (raw bytes + reason headers); empty: count only.").
		StringVar(&o.kafkaDLQ)
	o.ch.flags(cmd, false)
	cmd.Flag("migrate", "Create or upgrade the ClickHouse schema at start.").BoolVar(&o.migrate)
	cmd.Flag("retention", "Drop ClickHouse partitions (days) older than this, checked hourly; 0 keeps everything.").
		Default("0s").DurationVar(&o.retention)
	cmd.Flag("batch.rows", "Store a batch when it holds this many rows.").Default("10000").IntVar(&o.batchRows)
	cmd.Flag("batch.interval", "Store a batch at least this often.").Default("1s").DurationVar(&o.batchEvery)
	cmd.Flag("web.listen-address", "Address of /metrics, /-/healthy, /-/ready, POST /-/reload and /debug/pprof/.").
		Default(":9866").StringVar(&o.listen)
	cmd.Flag("web.config.file", "Web config file (exporter-toolkit format: TLS and basic auth of every HTTP endpoint).").
		PlaceHolder("FILE").StringVar(&o.webConfig)
	cmd.Flag("web.enable-lifecycle", "Allow POST /-/reload (else only SIGHUP reloads the catalog).").BoolVar(&o.lifecycle)
	cmd.Flag("metrics.client-limit", "Most client_id values with their own per-client series; the rest are "+ingest.OtherClient+".").
		Default("200").IntVar(&o.clientLimit)
	cmd.Flag("metrics.client", "client_id that always gets its own series (repeatable).").StringsVar(&o.clientAllow)
	cmd.Flag("redact.key-file", "Key for hashing secrets found in logs (default: random per process).").
		PlaceHolder("FILE").StringVar(&o.keyFile)
	cmd.Flag("shutdown-timeout", "On SIGTERM: time to store and commit the pending batch.").Default("15s").DurationVar(&o.shutdown)
	cmd.Flag("memory.limit", "Soft memory limit of the Go runtime; under it the garbage collector runs less often (GOGC=400 unless GOGC is set). 0: the runtime's defaults. GOMEMLIMIT, when set, wins.").
		Default("384MiB").BytesVar(&o.memoryLimit)
	o.corr.flags(cmd)
	cmd.Flag("log.level", "Log level: debug, info, warn, error.").Default("info").EnumVar(&o.logLevel, "debug", "info", "warn", "error")
	cmd.Flag("log.format", "Log format: logfmt or json.").Default("logfmt").EnumVar(&o.logFormat, "logfmt", "json")
}

// tuneGC trades memory for CPU: the pipeline allocates fast (every Kafka
// message, every insert's column buffers) over a small live heap, so the
// default GOGC=100 collects several times a second. Within a soft memory
// limit, GOGC=400 collects a quarter as often; the limit makes the runtime
// collect earlier rather than grow past it. GOGC and GOMEMLIMIT in the
// environment win.
func tuneGC(limit int64) {
	if limit <= 0 {
		return
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// config turns the flags into the service config.
func (o *serveOptions) config(g *globalOptions) (ingest.ServiceConfig, error) {
	cfg := ingest.ServiceConfig{
		Kafka: kafka.Config{Brokers: splitList(o.kafkaBrokers), Group: o.kafkaGroup, Topics: splitList(o.kafkaTopics),
			DLQTopic: o.kafkaDLQ},
		ClickHouse:      o.ch.config(),
		Pipeline:        ingest.PipelineConfig{BatchRows: o.batchRows, FlushInterval: o.batchEvery},
		RuleFiles:       g.ruleFiles,
		ListenAddress:   o.listen,
		WebConfigFile:   o.webConfig,
		EnableLifecycle: o.lifecycle,
		Migrate:         o.migrate,
		Retention:       o.retention,
		ClientLimit:     o.clientLimit,
		ClientAllow:     o.clientAllow,
		ShutdownTimeout: o.shutdown,
		Version:         version,
	}
	tracker, err := o.corr.config()
	if err != nil {
		return cfg, err
	}
	cfg.Pipeline.Tracker = tracker
	if o.batchRows <= 0 || o.batchEvery <= 0 {
		return cfg, fmt.Errorf("%w: --batch.rows and --batch.interval must be positive", errUsage)
	}
	if _, _, err := kafka.SplitTopics(cfg.Kafka.Topics, ingest.CheckFormat); err != nil {
		return cfg, fmt.Errorf("%w: --kafka.topic: %v", errUsage, err)
	}
	if err := o.kafkaAuth.Validate(); err != nil {
		return cfg, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := o.kafkaAuth.Apply(&cfg.Kafka); err != nil {
		return cfg, err
	}
	if cfg.ClickHouse != nil {
		if err := cfg.ClickHouse.Validate(); err != nil {
			return cfg, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	if o.keyFile != "" {
		key, err := os.ReadFile(o.keyFile)
		if err != nil {
			return cfg, fmt.Errorf("read redaction key: %w", err)
		}
		cfg.RedactKey = key
	}
	return cfg, nil
}

func runServe(ctx context.Context, g *globalOptions, o *serveOptions, stderr io.Writer) (int, error) {
	cfg, err := o.config(g)
	if err != nil {
		return exitUsage, err
	}
	logger := newLogger(stderr, o.logLevel, o.logFormat)
	tuneGC(int64(o.memoryLimit))
	svc, err := ingest.NewService(ctx, cfg, logger)
	if err != nil {
		return exitFailed, err
	}
	defer svc.Close()
	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	logger.Info("starting", "version", version, "topics", strings.Join(cfg.Kafka.Topics, ","), "metrics_only", cfg.ClickHouse == nil)
	if err := svc.Run(ctx, reload); err != nil {
		return exitFailed, err
	}
	logger.Info("stopped")
	return exitOK, nil
}

type migrateOptions struct {
	ch    clickhouseOptions
	print string
}

func runMigrate(ctx context.Context, g *globalOptions, o *migrateOptions, stdout io.Writer) (int, error) {
	if o.print != "" {
		features := clickhouse.ModernFeatures()
		if o.print != "modern" {
			f, err := clickhouse.FeaturesFor(o.print)
			if err != nil {
				return exitUsage, fmt.Errorf("%w: --print takes 'modern' or a server version such as 18.16.1: %v", errUsage, err)
			}
			features = f
		}
		schema := clickhouse.Schema{Database: o.ch.database, Cluster: o.ch.cluster, Features: features}
		fmt.Fprintln(stdout, schema.DDL())
		return exitOK, nil
	}
	cfg := o.ch.config()
	if cfg == nil {
		return exitUsage, fmt.Errorf("%w: --clickhouse.addr is required (or --print)", errUsage)
	}
	if err := cfg.Validate(); err != nil {
		return exitUsage, fmt.Errorf("%w: %v", errUsage, err)
	}
	ch, err := clickhouse.Open(ctx, *cfg)
	if err != nil {
		return exitFailed, err
	}
	defer ch.Close()
	applied, err := ch.Migrate(ctx)
	if err != nil {
		return exitFailed, err
	}
	for _, m := range applied {
		fmt.Fprintf(stdout, "applied %d: %s\n", m.Version, m.Description)
	}
	engine, err := g.engine()
	if err != nil {
		return exitFailed, err
	}
	if err := ch.WriteCatalog(ctx, engine.Catalog()); err != nil {
		return exitFailed, err
	}
	fmt.Fprintf(stdout, "catalog written: %d classes\n", len(engine.Catalog().Classes()))
	fmt.Fprintf(stdout, "schema of %s is current (server %s)\n", cfg.Database, ch.Version())
	return exitOK, nil
}
