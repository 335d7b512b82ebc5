package ingest

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// OtherClient is the client_id label of failures of clients past the
// per-client series limit.
const OtherClient = "__other__"

// Metrics are the service's Prometheus metrics (DESIGN.md, "Metrics").
type Metrics struct {
	Failures       *prometheus.CounterVec
	ClientFailures *prometheus.CounterVec
	Events         *prometheus.CounterVec

	Messages         *prometheus.CounterVec
	Lag              *prometheus.GaugeVec
	LastEventTime    prometheus.Gauge
	LastProcessed    prometheus.Gauge
	BatchRows        prometheus.Histogram
	FlushDuration    prometheus.Histogram
	Flushes          prometheus.Counter
	FlushErrors      *prometheus.CounterVec
	HighWaterErrors  *prometheus.CounterVec
	CommitDuration   prometheus.Histogram
	CommitErrors     prometheus.Counter
	DLQ              *prometheus.CounterVec
	DLQErrors        prometheus.Counter
	Malformed        *prometheus.CounterVec
	ReplaySkipped    prometheus.Counter
	RebalanceDropped prometheus.Counter
	RollupRepaired   prometheus.Counter
	CorrelationState prometheus.Gauge
	CorrelationEvict prometheus.Counter
	// per kind of record (hints, codes, tokens): held, limits, drops by age
	CorrelationRecords *prometheus.GaugeVec
	CorrelationLimit   *prometheus.GaugeVec
	CorrelationWindow  *prometheus.GaugeVec
	CorrelationExpired prometheus.Counter
	CorrelationLate    prometheus.Counter
	ReloadSuccess      prometheus.Gauge
	ReloadTime         prometheus.Gauge
	Reloads            *prometheus.CounterVec
	CatalogRules       prometheus.Gauge

	clients *clientLimiter
	series  seriesCache

	corrMu   sync.Mutex
	trackers map[*classify.Tracker]classify.TrackerStats
}

// seriesCache keeps the counters Observe used, so that counting an event is
// a map lookup instead of hashing its label values again. It is bounded: it
// starts over when it holds maxCachedSeries (a reload brings new classes).
type seriesCache struct {
	mu       sync.Mutex
	events   map[eventSeries]prometheus.Counter
	failures map[failureSeries]prometheus.Counter
}

type eventSeries struct {
	source  string
	outcome classify.Outcome
}

type failureSeries struct {
	source     string
	class      *rules.Class
	oauthError string
}

const maxCachedSeries = 4096

// NewMetrics registers the metrics on reg and pre-creates the series of the
// catalog's classes, so that they exist from start-up. clientLimit bounds the
// client_id values of ClientFailures; allow lists clients always tracked.
func NewMetrics(reg prometheus.Registerer, cat *rules.Catalog, clientLimit int, allow []string) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		Failures: f.NewCounterVec(prometheus.CounterOpts{Name: "authsift_failures_total",
			Help: "Classified auth failures by source, class, family, owner and normalised OAuth wire error."},
			[]string{"source", "class", "family", "owner", "oauth_error"}),
		ClientFailures: f.NewCounterVec(prometheus.CounterOpts{Name: "authsift_client_failures_total",
			Help: "Auth failures per client and class; client_id is bounded (allow-list plus the most recently active, the rest under " + OtherClient + ")."},
			[]string{"client_id", "class"}),
		Events: f.NewCounterVec(prometheus.CounterOpts{Name: "authsift_events_total",
			Help: "Decoded events by source and outcome (failure, success, context, ignored, malformed): successes are the denominator of failure ratios."},
			[]string{"source", "outcome"}),
		Messages: f.NewCounterVec(prometheus.CounterOpts{Name: "authsift_kafka_messages_total",
			Help: "Kafka messages fetched, per topic."}, []string{"topic"}),
		Lag: f.NewGaugeVec(prometheus.GaugeOpts{Name: "authsift_kafka_consumer_lag",
			Help: "Messages between the last fetched offset and the partition's high-water mark."}, []string{"topic", "partition"}),
		LastEventTime: f.NewGauge(prometheus.GaugeOpts{Name: "authsift_last_event_timestamp_seconds",
			Help: "Time written in the newest event processed (Unix seconds)."}),
		LastProcessed: f.NewGauge(prometheus.GaugeOpts{Name: "authsift_last_processed_timestamp_seconds",
			Help: "When the pipeline last stored and committed a batch (Unix seconds)."}),
		BatchRows: f.NewHistogram(prometheus.HistogramOpts{Name: "authsift_batch_rows",
			Help: "Rows per flushed batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		FlushDuration: f.NewHistogram(prometheus.HistogramOpts{Name: "authsift_flush_duration_seconds",
			Help: "Time to store one batch in ClickHouse, retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 12)}),
		Flushes: f.NewCounter(prometheus.CounterOpts{Name: "authsift_flushes_total", Help: "Batches stored."}),
		FlushErrors: f.NewCounterVec(prometheus.CounterOpts{Name: "authsift_clickhouse_write_errors_total",
			Help: "Failed batch writes to ClickHouse (each is retried), by error category."}, []string{"category"}),
		HighWaterErrors: f.NewCounterVec(prometheus.CounterOpts{Name: "authsift_clickhouse_high_water_errors_total",
			Help: "Failed reads of a partition's stored high-water mark when its messages start or jump (asked again at its next message; the flush checks again before storing), by error category."}, []string{"category"}),
		CommitDuration: f.NewHistogram(prometheus.HistogramOpts{Name: "authsift_kafka_commit_duration_seconds",
			Help: "Time to commit Kafka offsets after a stored batch.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 10)}),
		CommitErrors: f.NewCounter(prometheus.CounterOpts{Name: "authsift_kafka_commit_errors_total",
			Help: "Failed offset commits (the batch is replayed after a restart; the high-water check skips what was stored)."}),
		DLQ: f.NewCounterVec(prometheus.CounterOpts{Name: "authsift_dlq_messages_total",
			Help: "Messages sent to the dead-letter topic, by reason."}, []string{"reason"}),
		DLQErrors: f.NewCounter(prometheus.CounterOpts{Name: "authsift_dlq_errors_total",
			Help: "Failed writes to the dead-letter topic (retried)."}),
		Malformed: f.NewCounterVec(prometheus.CounterOpts{Name: "authsift_decode_errors_total",
			Help: "Lines that looked like auth events but could not be decoded, by source."}, []string{"source"}),
		ReplaySkipped: f.NewCounter(prometheus.CounterOpts{Name: "authsift_replay_skipped_messages_total",
			Help: "Messages skipped because ClickHouse already held them (a replay after a crash or rebalance)."}),
		RollupRepaired: f.NewCounter(prometheus.CounterOpts{Name: "authsift_rollup_repaired_events_total",
			Help: "Events added to the events_1m rollup after a replay found them stored in events but not in the rollup (ClickHouse stopped mid-insert)."}),
		RebalanceDropped: f.NewCounter(prometheus.CounterOpts{Name: "authsift_rebalance_dropped_messages_total",
			Help: "Messages given up unstored in a rebalance that could not wait for them (ClickHouse down or slow); the partitions' next owner reads them again."}),
		CorrelationState: f.NewGauge(prometheus.GaugeOpts{Name: "authsift_correlation_entries",
			Help: "Correlation records (context hints, codes, refresh tokens) held across all partitions."}),
		CorrelationEvict: f.NewCounter(prometheus.CounterOpts{Name: "authsift_correlation_evicted_total",
			Help: "Correlation records dropped for room before their age limit (a full state: correlation is best effort)."}),
		CorrelationRecords: f.NewGaugeVec(prometheus.GaugeOpts{Name: "authsift_correlation_records",
			Help: "Correlation records held across all partitions, by kind (hints, codes, tokens)."}, []string{"kind"}),
		CorrelationLimit: f.NewGaugeVec(prometheus.GaugeOpts{Name: "authsift_correlation_limit_records",
			Help: "Size limit of the correlation state of one partition, by kind (hints, codes, tokens)."}, []string{"kind"}),
		CorrelationWindow: f.NewGaugeVec(prometheus.GaugeOpts{Name: "authsift_correlation_window_seconds",
			Help: "Age limit of correlation records, by kind (hints, codes, tokens)."}, []string{"kind"}),
		CorrelationExpired: f.NewCounter(prometheus.CounterOpts{Name: "authsift_correlation_expired_total",
			Help: "Correlation records dropped at their age limit."}),
		CorrelationLate: f.NewCounter(prometheus.CounterOpts{Name: "authsift_correlation_late_events_total",
			Help: "Events that arrived out of time order by more than the tolerated slack (code_unknown then waits for a full clean window)."}),
		ReloadSuccess: f.NewGauge(prometheus.GaugeOpts{Name: "authsift_catalog_reload_success",
			Help: "1 when the last catalog (re)load succeeded, 0 when it failed and the previous catalog stays live."}),
		ReloadTime: f.NewGauge(prometheus.GaugeOpts{Name: "authsift_catalog_reload_last_success_timestamp_seconds",
			Help: "When the catalog was last loaded successfully."}),
		Reloads: f.NewCounterVec(prometheus.CounterOpts{Name: "authsift_catalog_reloads_total",
			Help: "Catalog reloads by result."}, []string{"result"}),
		CatalogRules: f.NewGauge(prometheus.GaugeOpts{Name: "authsift_catalog_rules",
			Help: "Rules in the live catalog."}),
		clients:  newClientLimiter(clientLimit, allow),
		trackers: map[*classify.Tracker]classify.TrackerStats{},
	}
	for _, k := range []string{"hints", "codes", "tokens"} {
		m.CorrelationRecords.WithLabelValues(k)
	}
	for _, r := range []string{"success", "failure"} {
		m.Reloads.WithLabelValues(r)
	}
	for _, cat := range []string{"timeout", "network", "server", "schema", "other"} {
		m.FlushErrors.WithLabelValues(cat)
		m.HighWaterErrors.WithLabelValues(cat)
	}
	m.CatalogLoaded(cat)
	return m
}

// CatalogLoaded records a successful (re)load and pre-creates the series of
// the catalog's classes.
func (m *Metrics) CatalogLoaded(cat *rules.Catalog) {
	m.ReloadSuccess.Set(1)
	m.ReloadTime.Set(float64(time.Now().Unix()))
	m.CatalogRules.Set(float64(len(cat.Rules())))
	for _, s := range rules.Sources() {
		for _, o := range []classify.Outcome{classify.Failure, classify.Success, classify.Context, classify.Ignored, classify.Malformed} {
			m.Events.WithLabelValues(s, o.String())
		}
	}
}

// Observe counts one classified event.
func (m *Metrics) Observe(ev *classify.Event, v *classify.Verdict) {
	m.series.event(m.Events, ev.Source, v.Outcome).Inc()
	switch v.Outcome {
	case classify.Failure:
		m.series.failure(m.Failures, ev.Source, v.Class, v.OAuthError).Inc()
		m.ClientFailures.WithLabelValues(m.clients.label(ev.ClientID, m.ClientFailures), v.Class.ID).Inc()
	case classify.Malformed:
		m.Malformed.WithLabelValues(ev.Source).Inc()
	}
	if !ev.Time.IsZero() {
		m.LastEventTime.Set(float64(ev.Time.Unix()))
	}
}

func (c *seriesCache) event(vec *prometheus.CounterVec, source string, o classify.Outcome) prometheus.Counter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cachedSeries(&c.events, eventSeries{source, o}, func() prometheus.Counter {
		return vec.WithLabelValues(source, o.String())
	})
}

func (c *seriesCache) failure(vec *prometheus.CounterVec, source string, class *rules.Class, oauthError string) prometheus.Counter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cachedSeries(&c.failures, failureSeries{source, class, oauthError}, func() prometheus.Counter {
		oe := oauthError
		if oe == "" {
			oe = rules.OtherOAuthError
		}
		return vec.WithLabelValues(source, class.ID, class.Family, class.Owner, oe)
	})
}

// cachedSeries returns the counter of k in *m, made by mk the first time;
// the map starts over when it holds maxCachedSeries.
func cachedSeries[K comparable](m *map[K]prometheus.Counter, k K, mk func() prometheus.Counter) prometheus.Counter {
	if ctr, ok := (*m)[k]; ok {
		return ctr
	}
	if *m == nil || len(*m) >= maxCachedSeries {
		*m = map[K]prometheus.Counter{}
	}
	ctr := mk()
	(*m)[k] = ctr
	return ctr
}

// ObserveCorrelation takes the state of one partition's tracker into the
// correlation metrics.
func (m *Metrics) ObserveCorrelation(tr *classify.Tracker) {
	m.corrMu.Lock()
	defer m.corrMu.Unlock()
	s := tr.Stats()
	old := m.trackers[tr]
	if s.Expired > old.Expired {
		m.CorrelationExpired.Add(float64(s.Expired - old.Expired))
	}
	if s.Late > old.Late {
		m.CorrelationLate.Add(float64(s.Late - old.Late))
	}
	m.trackers[tr] = s
	cfg := tr.Config()
	m.CorrelationLimit.WithLabelValues("hints").Set(float64(2 * cfg.Entries))
	m.CorrelationLimit.WithLabelValues("codes").Set(float64(cfg.Codes))
	m.CorrelationLimit.WithLabelValues("tokens").Set(float64(cfg.Tokens))
	m.CorrelationWindow.WithLabelValues("hints").Set(cfg.Window.Seconds())
	m.CorrelationWindow.WithLabelValues("codes").Set(cfg.CodeWindow.Seconds())
	m.CorrelationWindow.WithLabelValues("tokens").Set(cfg.TokenWindow.Seconds())
	m.setCorrelationRecords()
}

// ForgetCorrelation drops a partition's tracker (the partition went idle or
// moved to another replica).
func (m *Metrics) ForgetCorrelation(tr *classify.Tracker) {
	m.corrMu.Lock()
	defer m.corrMu.Unlock()
	delete(m.trackers, tr)
	m.setCorrelationRecords()
}

func (m *Metrics) setCorrelationRecords() {
	var hints, codes, tokens int
	for _, s := range m.trackers {
		hints, codes, tokens = hints+s.Hints, codes+s.Codes, tokens+s.Tokens
	}
	m.CorrelationRecords.WithLabelValues("hints").Set(float64(hints))
	m.CorrelationRecords.WithLabelValues("codes").Set(float64(codes))
	m.CorrelationRecords.WithLabelValues("tokens").Set(float64(tokens))
}

// clientLimiter bounds the client_id label: allow-listed clients always get
// their own series; others do while fewer than limit are tracked; a tracked
// client idle for idleAfter is dropped (its series deleted) to make room.
type clientLimiter struct {
	mu        sync.Mutex
	limit     int
	allow     map[string]bool
	seen      map[string]time.Time
	idleAfter time.Duration
	now       func() time.Time
}

func newClientLimiter(limit int, allow []string) *clientLimiter {
	c := &clientLimiter{limit: limit, allow: map[string]bool{}, seen: map[string]time.Time{},
		idleAfter: time.Hour, now: time.Now}
	for _, a := range allow {
		c.allow[a] = true
	}
	return c
}

// ClientLabelNotLogged is the client_id label of failures whose line named
// no client (the server does not log one, or the request carried none).
const ClientLabelNotLogged = "(not logged)"

func (c *clientLimiter) label(client string, vec *prometheus.CounterVec) string {
	if client == "" {
		return ClientLabelNotLogged
	}
	if c.allow[client] {
		return client
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.seen[client]; ok {
		c.seen[client] = now
		return client
	}
	if len(c.seen) >= c.limit {
		for k, at := range c.seen {
			if now.Sub(at) > c.idleAfter {
				delete(c.seen, k)
				vec.DeletePartialMatch(prometheus.Labels{"client_id": k})
			}
		}
	}
	if len(c.seen) >= c.limit {
		return OtherClient
	}
	c.seen[client] = now
	return client
}
