package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/kafka"
	"github.com/authsift/authsift/ingest/redact"
	"github.com/authsift/authsift/ingest/store"
	"github.com/authsift/authsift/ingest/store/clickhouse"
	"github.com/authsift/authsift/rules"
)

// ServiceConfig is everything `authsift serve` runs with.
type ServiceConfig struct {
	Kafka kafka.Config
	// ClickHouse is nil in metrics-only mode (events are classified and
	// counted, not stored).
	ClickHouse    *clickhouse.Config
	Pipeline      PipelineConfig
	RuleFiles     []string
	ListenAddress string
	// WebConfigFile is an exporter-toolkit web config (TLS, basic auth) for
	// the HTTP endpoints; empty: plain HTTP, no auth.
	WebConfigFile string
	// EnableLifecycle opens POST /-/reload (as Prometheus's
	// --web.enable-lifecycle); otherwise it answers 403.
	EnableLifecycle bool
	Migrate         bool
	Retention       time.Duration
	ClientLimit     int
	ClientAllow     []string
	RedactKey       []byte
	ShutdownTimeout time.Duration
	Version         string
}

// Service is the long-running authsift: the pipeline, its HTTP endpoints,
// catalog reloads and retention.
type Service struct {
	cfg      ServiceConfig
	logger   *slog.Logger
	reg      *prometheus.Registry
	metrics  *Metrics
	pipeline *Pipeline
	consumer *kafka.GroupConsumer
	dlq      io.Closer // the dead-letter writer, nil: none
	ch       *clickhouse.Store
	reloadMu sync.Mutex

	readyMu   sync.Mutex
	readyAt   time.Time
	readyErr  error
	buildInfo *prometheus.GaugeVec
}

// discardSink is the sink of metrics-only mode.
type discardSink struct{}

func (discardSink) Write(context.Context, []store.Row) error { return nil }

// NewService loads the catalog, connects to ClickHouse (migrating when
// asked) and prepares the Kafka consumer.
func NewService(ctx context.Context, cfg ServiceConfig, logger *slog.Logger) (*Service, error) {
	cat, err := rules.Load(cfg.RuleFiles...)
	if err != nil {
		return nil, fmt.Errorf("load catalog:\n%w", err)
	}
	if err := validateWebConfig(cfg.WebConfigFile); err != nil {
		return nil, err
	}
	if err := kafka.CheckAuth(ctx, cfg.Kafka); err != nil {
		if !errors.Is(err, kafka.ErrUnreachable) {
			return nil, err
		}
		logger.Warn("kafka not reachable at start; the consumer keeps trying", "err", err)
	}
	engine := classify.New(cat)
	topics, formats, err := kafka.SplitTopics(cfg.Kafka.Topics, CheckFormat)
	if err != nil {
		return nil, err
	}
	cfg.Pipeline.Formats = formats
	if cfg.ClientLimit <= 0 {
		cfg.ClientLimit = 200
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Service{cfg: cfg, logger: logger, reg: reg}
	s.buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "authsift_build_info",
		Help: "A metric with a constant 1 labelled by the version of authsift."}, []string{"version"})
	reg.MustRegister(s.buildInfo)
	s.buildInfo.WithLabelValues(cfg.Version).Set(1)
	s.metrics = NewMetrics(reg, cat, cfg.ClientLimit, cfg.ClientAllow)

	// One key for the stored hashes of secrets and for the correlation
	// keys, random for this process when no key file is given.
	key := keyOrRandom(cfg.RedactKey)
	red := redact.New(key)
	cfg.Pipeline.CorrelationKey = key
	var sink Sink = discardSink{}
	if cfg.ClickHouse != nil {
		chCfg := *cfg.ClickHouse
		chCfg.Redactor = red
		ch, err := clickhouse.Open(ctx, chCfg)
		if err != nil {
			return nil, fmt.Errorf("connect to clickhouse: %w", err)
		}
		s.ch = ch
		if cfg.Migrate {
			applied, err := ch.Migrate(ctx)
			if err != nil {
				ch.Close()
				return nil, fmt.Errorf("migrate: %w", err)
			}
			logger.Info("schema migrated", "applied", len(applied))
		}
		if err := ch.WriteCatalog(ctx, cat); err != nil {
			logger.Warn("catalog not written to clickhouse; dashboards lack the class texts", "err", err)
		}
		sink = ch
	} else {
		logger.Warn("no clickhouse configured: running metrics-only, events are classified and counted but not stored")
	}
	s.consumer, err = kafka.NewGroupConsumer(cfg.Kafka, topics, logger.With("component", "kafka"))
	if err != nil {
		s.Close()
		return nil, err
	}
	fetcher := s.consumer
	if w := kafka.NewDLQWriter(cfg.Kafka); w != nil {
		s.dlq = w
		s.pipeline = NewPipeline(cfg.Pipeline, engine, fetcher, sink, kafka.TruncateDeadLetters(w), s.metrics, red, logger)
	} else {
		s.pipeline = NewPipeline(cfg.Pipeline, engine, fetcher, sink, nil, s.metrics, red, logger)
	}
	return s, nil
}

// Registry is the service's metrics registry.
func (s *Service) Registry() *prometheus.Registry { return s.reg }

// Close releases the connections.
func (s *Service) Close() {
	if s.consumer != nil {
		s.consumer.Close()
	}
	if s.dlq != nil {
		s.dlq.Close()
	}
	if s.ch != nil {
		s.ch.Close()
	}
}

// Reload loads the catalog again; on failure the live one stays.
func (s *Service) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cat, err := rules.Load(s.cfg.RuleFiles...)
	if err != nil {
		s.metrics.ReloadSuccess.Set(0)
		s.metrics.Reloads.WithLabelValues("failure").Inc()
		s.logger.Error("catalog reload failed; the previous catalog stays live", "err", err)
		return err
	}
	s.pipeline.SetEngine(classify.New(cat))
	s.metrics.CatalogLoaded(cat)
	s.metrics.Reloads.WithLabelValues("success").Inc()
	if s.ch != nil {
		if err := s.ch.WriteCatalog(ctx, cat); err != nil {
			s.logger.Warn("reloaded catalog not written to clickhouse", "err", err)
		}
	}
	s.logger.Info("catalog reloaded", "classes", len(cat.Classes()), "rules", len(cat.Rules()))
	return nil
}

// Handler serves /metrics, /-/healthy, /-/ready and POST /-/reload.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "authsift is healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, r *http.Request) {
		if err := s.ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "authsift is ready")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			http.Error(w, "use POST to reload the catalog", http.StatusMethodNotAllowed)
			return
		}
		if !s.cfg.EnableLifecycle {
			http.Error(w, "lifecycle endpoints are disabled: start with --web.enable-lifecycle (or send SIGHUP)", http.StatusForbidden)
			return
		}
		if err := s.Reload(r.Context()); err != nil {
			http.Error(w, "reload failed, previous catalog kept:\n"+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "catalog reloaded")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "<html><head><title>authsift</title></head><body><h1>authsift</h1><p>%s</p><ul>"+
			`<li><a href="/metrics">/metrics</a></li><li><a href="/-/healthy">/-/healthy</a></li><li><a href="/-/ready">/-/ready</a></li></ul></body></html>`,
			s.cfg.Version)
	})
	return mux
}

// ready checks Kafka and ClickHouse, at most every two seconds.
func (s *Service) ready(ctx context.Context) error {
	s.readyMu.Lock()
	defer s.readyMu.Unlock()
	if time.Since(s.readyAt) < 2*time.Second {
		return s.readyErr
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var errs []error
	var reached bool
	for _, b := range s.cfg.Kafka.Brokers {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", b)
		if err == nil {
			c.Close()
			reached = true
			break
		}
	}
	if !reached {
		errs = append(errs, errors.New("no kafka broker reachable"))
	}
	if s.ch != nil {
		if err := s.ch.Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("clickhouse: %w", err))
		}
	}
	s.readyAt, s.readyErr = time.Now(), errors.Join(errs...)
	return s.readyErr
}

// Run serves HTTP, runs the pipeline and the retention loop until ctx ends
// or one of them fails; reload triggers a catalog reload (SIGHUP).
func (s *Service) Run(ctx context.Context, reload <-chan struct{}) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{Addr: s.cfg.ListenAddress, Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", s.cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.ListenAddress, err)
	}
	s.logger.Info("listening", "address", ln.Addr().String())
	errc := make(chan error, 3)
	var wg sync.WaitGroup
	wg.Add(4)
	go func() {
		// The group outlives ctx: the pipeline's last commits at shutdown
		// go through its generation. It ends when the pipeline is done.
		defer wg.Done()
		s.consumer.Run(context.WithoutCancel(ctx))
	}()
	go func() {
		defer wg.Done()
		if err := serveHTTP(ln, srv, s.cfg.WebConfigFile, s.logger); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := s.pipeline.Run(ctx, s.cfg.ShutdownTimeout); err != nil {
			errc <- err
		}
		s.consumer.Close() // leave the group now, not after a session timeout
		cancel()
	}()
	go func() {
		defer wg.Done()
		s.housekeeping(ctx, reload)
	}()
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
		cancel()
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	srv.Shutdown(shutdownCtx)
	wg.Wait()
	if first == nil {
		select {
		case first = <-errc:
		default:
		}
	}
	return first
}

func (s *Service) housekeeping(ctx context.Context, reload <-chan struct{}) {
	retention := time.NewTicker(time.Hour)
	defer retention.Stop()
	s.applyRetention(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			_ = s.Reload(ctx) // logged and counted by Reload
		case <-retention.C:
			s.applyRetention(ctx)
		}
	}
}

func (s *Service) applyRetention(ctx context.Context) {
	if s.ch == nil || s.cfg.Retention <= 0 {
		return
	}
	dropped, err := s.ch.DropPartitionsOlderThan(ctx, time.Now().Add(-s.cfg.Retention))
	if err != nil {
		s.logger.Warn("retention: old partitions not dropped, will retry in an hour", "err", err)
		return
	}
	if len(dropped) > 0 {
		s.logger.Info("retention: dropped old partitions", "partitions", len(dropped))
	}
}
