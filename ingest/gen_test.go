package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

func genEngine(t testing.TB) *classify.Engine {
	t.Helper()
	cat, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	return classify.New(cat)
}

// genRec is what the tests keep of a classified record.
type genRec struct {
	line                                            int
	outcome                                         classify.Outcome
	class, rule, decision, source, client, ip, user string
	time                                            time.Time
}

func genClassify(t *testing.T, engine *classify.Engine, data []byte) []genRec {
	t.Helper()
	var out []genRec
	err := ClassifyReader(bytes.NewReader(data), "", engine, FormatAuto, func(r *Record) {
		rec := genRec{line: r.Line, outcome: r.Verdict.Outcome, decision: r.Verdict.Decision}
		if r.Verdict.Class != nil {
			rec.class = r.Verdict.Class.ID
		}
		if r.Verdict.Rule != nil {
			rec.rule = r.Verdict.Rule.ID
		}
		if ev := r.Event; ev != nil {
			rec.source, rec.client, rec.ip, rec.user, rec.time = ev.Source, ev.ClientID, ev.IP, ev.UserID, ev.Time
			if r.Verdict.Outcome == classify.Malformed {
				rec.class = ev.Detail
			}
		}
		out = append(out, rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// genUntil generates requests until d of generated time has passed.
func genUntil(t *testing.T, cfg GenConfig, d time.Duration) []byte {
	t.Helper()
	g, err := NewScenarioGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	end := g.Now().Add(d)
	var b []byte
	for g.Now().Before(end) {
		b = g.Append(b)
		b = append(b, '\n')
	}
	return b
}

// checkClean fails on malformed lines and unclassified failures.
func checkClean(t *testing.T, data []byte, recs []genRec) {
	t.Helper()
	lines := bytes.Split(data, []byte("\n"))
	bad := 0
	for _, r := range recs {
		if r.outcome == classify.Malformed || r.outcome == classify.Failure && r.rule == "" {
			if bad++; bad <= 5 {
				t.Errorf("line %d %s (%s): %s", r.line, r.outcome, r.class, lines[r.line-1])
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d bad records in all", bad)
	}
}

func TestGenScenarios(t *testing.T) {
	engine := genEngine(t)
	const client = "billing-api"
	appID := genAppID(client)
	after, total := 30*time.Second, 90*time.Second
	cases := []struct {
		scenario string
		classes  []string // what the scenario means, in the catalog's words
		check    func(t *testing.T, hits []genRec)
	}{
		{ScenarioSecretExpiry, []string{"client_secret_expired", "client_auth_rejected", "client_secret_invalid"}, func(t *testing.T, hits []genRec) {
			n := genCount(hits, func(r genRec) bool { return r.class == "client_secret_expired" && r.source == "entra" })
			m := genCount(hits, func(r genRec) bool { return r.class == "client_auth_rejected" && r.source == "keycloak" })
			if n == 0 || m == 0 {
				t.Errorf("want Entra client_secret_expired and Keycloak client_auth_rejected, got %d and %d", n, m)
			}
		}},
		{ScenarioRedirectDeploy, []string{"redirect_uri_unregistered", "redirect_uri_mismatch"}, nil},
		{ScenarioRefreshReplay, []string{"refresh_token_reused"}, func(t *testing.T, hits []genRec) {
			users := map[string]bool{}
			for _, r := range hits {
				if !strings.HasPrefix(r.ip, "203.0.113.") {
					t.Fatalf("replay from %s, want the other network 203.0.113.0/24", r.ip)
				}
				if r.user != "" {
					users[r.user] = true
				}
			}
			if len(users) == 0 || len(users) > 3 {
				t.Errorf("replays name %d users, want the few whose tokens were stolen", len(users))
			}
		}},
		{ScenarioCredentialStuffing, []string{"user_credentials_invalid"}, func(t *testing.T, hits []genRec) {
			ips, users, named := map[string]bool{}, map[string]bool{}, 0
			for _, r := range hits {
				ips[r.ip] = true
				if r.user != "" { // Keycloak logs no user id for an unknown user name
					users[r.user] = true
					named++
				}
			}
			if len(ips) > 4 || len(users) < named*3/4 || named < len(hits)/4 {
				t.Errorf("%d failures from %d addresses, %d of them for %d users: want many users from few addresses",
					len(hits), len(ips), named, len(users))
			}
		}},
		{ScenarioServerOutage, []string{"server_error", "server_unavailable"}, nil},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			cfg := GenConfig{Seed: 42, Scenarios: []string{c.scenario}, Client: client, After: after}
			data := genUntil(t, cfg, total)
			recs := genClassify(t, engine, data)
			checkClean(t, data, recs)
			start := time.Unix(genDefaultStartUnix, 0)
			var before, hits []genRec
			var successesBefore, failuresAfter int
			for _, r := range recs {
				if r.client != client && r.client != appID {
					continue
				}
				isHit := r.outcome == classify.Failure && strings.Contains(" "+strings.Join(c.classes, " ")+" ", " "+r.class+" ")
				switch {
				case r.time.Before(start.Add(after)):
					if isHit {
						before = append(before, r)
					}
					if r.outcome == classify.Success {
						successesBefore++
					}
				case r.outcome == classify.Failure:
					failuresAfter++
					if isHit {
						hits = append(hits, r)
					}
				}
			}
			if len(before) > 0 {
				t.Errorf("%d %v failures of %s before the scenario started, want none (first at %v)", len(before), c.classes, client, before[0].time)
			}
			if successesBefore == 0 {
				t.Errorf("%s had no traffic before the scenario", client)
			}
			if len(hits) < 100 || float64(len(hits)) < 0.5*float64(failuresAfter) {
				t.Errorf("after the start: %d %v failures of %d failures of %s, want a clear majority", len(hits), c.classes, failuresAfter, client)
			}
			if c.check != nil && len(hits) > 0 {
				c.check(t, hits)
			}
		})
	}
}

func genCount(recs []genRec, f func(genRec) bool) int {
	n := 0
	for _, r := range recs {
		if f(r) {
			n++
		}
	}
	return n
}

// TestGenScenarioEnds: with For, the scenario's failures stop again.
func TestGenScenarioEnds(t *testing.T) {
	engine := genEngine(t)
	cfg := GenConfig{Seed: 5, Scenarios: []string{ScenarioSecretExpiry}, After: 10 * time.Second, For: 20 * time.Second}
	data := genUntil(t, cfg, 60*time.Second)
	end := time.Unix(genDefaultStartUnix, 0).Add(30 * time.Second)
	during, afterEnd := 0, 0
	for _, r := range genClassify(t, engine, data) {
		if r.client != DefaultScenarioClient || r.class != "client_auth_rejected" {
			continue
		}
		if r.time.Before(end) {
			during++
		} else {
			afterEnd++
		}
	}
	if during == 0 || afterEnd != 0 {
		t.Fatalf("%d failures during the scenario, %d after its end: want some, then none", during, afterEnd)
	}
}

// TestGenBaseline: the normal mix is mostly successes, with many classes from
// every source, context lines and noise.
func TestGenBaseline(t *testing.T) {
	engine := genEngine(t)
	data := genUntil(t, GenConfig{Seed: 1}, 60*time.Second)
	recs := genClassify(t, engine, data)
	checkClean(t, data, recs)
	outcomes := map[classify.Outcome]int{}
	classes, sources := map[string]bool{}, map[string]int{}
	for _, r := range recs {
		outcomes[r.outcome]++
		if r.outcome == classify.Failure {
			classes[r.class] = true
		}
		if r.source != "" {
			sources[r.source]++
		}
	}
	succ, fail := outcomes[classify.Success], outcomes[classify.Failure]
	if succ < 3*fail || fail < succ/20 {
		t.Errorf("%d successes, %d failures: want about four successes to one failure", succ, fail)
	}
	if outcomes[classify.Context] == 0 || outcomes[classify.Ignored] == 0 {
		t.Errorf("no context or ignored lines: %v", outcomes)
	}
	if len(classes) < 20 {
		t.Errorf("only %d classes", len(classes))
	}
	for _, s := range []string{"keycloak", "hydra", "entra", "generic"} {
		if sources[s] == 0 {
			t.Errorf("no %s events", s)
		}
	}
}

// TestGenShapes writes every kind of request and every scenario line many
// times and checks each lands in the class it is written for.
func TestGenShapes(t *testing.T) {
	engine := genEngine(t)
	g, err := NewScenarioGenerator(GenConfig{Seed: 3, Scenarios: GenScenarios()})
	if err != nil {
		t.Fatal(err)
	}
	type shape struct {
		name    string
		classes []string
		success bool
		write   func(*Generator, []byte, int) []byte
	}
	var shapes []shape
	for i, it := range g.items {
		var cl []string
		if it.class != "" {
			cl = []string{it.class}
		}
		shapes = append(shapes, shape{fmt.Sprintf("item %d %s", i, it.class), cl, it.flow != 0, it.write})
	}
	for _, s := range g.scen {
		shapes = append(shapes, shape{s.name, s.classes, false, s.write})
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			var data []byte
			for i := 0; i < 60; i++ {
				g.now = g.now.Add(time.Second)
				data = s.write(g, data, i%len(g.clients))
				data = append(data, '\n')
			}
			recs := genClassify(t, engine, data)
			checkClean(t, data, recs)
			n := map[classify.Outcome]int{}
			for _, r := range recs {
				n[r.outcome]++
				if r.outcome == classify.Failure && !strings.Contains(" "+strings.Join(s.classes, " ")+" ", " "+r.class+" ") {
					t.Errorf("line %d is %s, want %v", r.line, r.class, s.classes)
				}
			}
			switch {
			case len(s.classes) > 0 && n[classify.Failure] == 0:
				t.Errorf("no failure: %v", n)
			case s.success && (n[classify.Success] == 0 || n[classify.Failure] > 0):
				t.Errorf("want successes only: %v", n)
			case len(s.classes) == 0 && !s.success && n[classify.Failure]+n[classify.Success] > 0:
				t.Errorf("noise gave %v", n)
			}
		})
	}
}

// TestGenKeys: every request has a key, and every line of it holds the key.
func TestGenKeys(t *testing.T) {
	g, err := NewScenarioGenerator(GenConfig{Seed: 9, Scenarios: GenScenarios()})
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for i := 0; i < 20000; i++ {
		b = g.Append(b[:0])
		k := g.Key()
		if len(k) == 0 {
			t.Fatalf("no key for %s", b)
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if !bytes.Contains(l, k) {
				t.Fatalf("key %s not in line %s", k, l)
			}
		}
	}
}

func TestGenDeterministic(t *testing.T) {
	cases := []struct {
		name string
		cfg  GenConfig
	}{
		{"baseline", GenConfig{Seed: 7}},
		{"all scenarios", GenConfig{Seed: 7, Scenarios: GenScenarios(), Client: "payroll", After: 5 * time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gen := func(seed int64) []byte {
				cfg := c.cfg
				cfg.Seed = seed
				g, err := NewScenarioGenerator(cfg)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if _, err := g.Generate(context.Background(), &buf, GenRun{Lines: 5000}); err != nil {
					t.Fatal(err)
				}
				return buf.Bytes()
			}
			a, b := gen(c.cfg.Seed), gen(c.cfg.Seed)
			if !bytes.Equal(a, b) {
				t.Fatal("same seed, different output")
			}
			if bytes.Equal(a, gen(c.cfg.Seed+1)) {
				t.Fatal("another seed, same output")
			}
		})
	}
}

func TestGenConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  GenConfig
		want string
	}{
		{"unknown scenario", GenConfig{Scenarios: []string{"meteor"}}, `unknown scenario "meteor"`},
		{"negative start", GenConfig{After: -time.Second}, "must not be negative"},
		{"client breaking JSON", GenConfig{Client: `a"b`}, "scenario client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewScenarioGenerator(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// memWriter is a MessageWriter in memory; fail makes a write fail, cancel
// ends the run's context on the n-th write.
type memWriter struct {
	mu       sync.Mutex
	msgs     []kafka.Message
	writes   int
	fail     error
	cancel   func()
	cancelAt int
}

func (w *memWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if w.fail != nil {
		return w.fail
	}
	for _, m := range msgs {
		w.msgs = append(w.msgs, kafka.Message{Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)})
	}
	if w.cancel != nil && w.writes == w.cancelAt {
		w.cancel()
	}
	return nil
}

func TestGenRun(t *testing.T) {
	cases := []struct {
		name     string
		run      GenRun
		kafka    bool
		lines    [2]int64 // least, most
		elapsed  time.Duration
		progress int // progress lines (the summary included)
	}{
		{name: "lines to a writer", run: GenRun{Lines: 1234}, lines: [2]int64{1234, 1234}},
		{name: "lines to kafka", run: GenRun{Lines: 10000}, kafka: true, lines: [2]int64{10000, 10000}},
		{name: "bytes", run: GenRun{Bytes: 100_000}, lines: [2]int64{60, 400}},
		{name: "rate for a duration", run: GenRun{Rate: 200, Duration: 10 * time.Second}, lines: [2]int64{1996, 2004}, elapsed: 10 * time.Second},
		{name: "rate to kafka with progress", kafka: true, lines: [2]int64{497, 503}, elapsed: 5 * time.Second, progress: 6,
			run: GenRun{Rate: 100, Duration: 5 * time.Second, Lines: 0, ProgressEvery: time.Second}},
		{name: "slow rate", run: GenRun{Rate: 0.5, Lines: 3}, lines: [2]int64{3, 3}, elapsed: 4 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := NewGenerator(1)
				var out bytes.Buffer
				var prog bytes.Buffer
				run := c.run
				if c.progress > 0 {
					run.Progress = &prog
				}
				var st GenStats
				var err error
				var mw memWriter
				start := time.Now()
				if c.kafka {
					st, err = g.Produce(context.Background(), &mw, run)
				} else {
					st, err = g.Generate(context.Background(), &out, run)
				}
				if err != nil {
					t.Fatal(err)
				}
				if st.Lines < c.lines[0] || st.Lines > c.lines[1] {
					t.Errorf("%d lines, want %d to %d", st.Lines, c.lines[0], c.lines[1])
				}
				if c.kafka {
					if int64(len(mw.msgs)) != st.Lines {
						t.Errorf("%d messages, stats say %d", len(mw.msgs), st.Lines)
					}
				} else {
					if n := int64(bytes.Count(out.Bytes(), []byte("\n"))); n != st.Lines || int64(out.Len()) != st.Bytes {
						t.Errorf("wrote %d lines / %d bytes, stats say %d / %d", n, out.Len(), st.Lines, st.Bytes)
					}
					if c.run.Bytes > 0 && (st.Bytes < c.run.Bytes || st.Bytes > c.run.Bytes+4096) {
						t.Errorf("%d bytes, want just over %d", st.Bytes, c.run.Bytes)
					}
				}
				if got := time.Since(start); c.elapsed > 0 && (got < c.elapsed-50*time.Millisecond || got > c.elapsed+50*time.Millisecond) {
					t.Errorf("took %v, want %v", got, c.elapsed)
				}
				if c.progress > 0 {
					lines := strings.Split(strings.TrimSpace(prog.String()), "\n")
					if len(lines) != c.progress || !strings.HasPrefix(lines[len(lines)-1], "gen: done, "+strconv.FormatInt(st.Lines, 10)+" lines") ||
						!regexp.MustCompile(`^gen: \d+ lines sent, \d+ lines/s$`).MatchString(lines[1]) {
						t.Errorf("progress:\n%s", prog.String())
					}
				}
			})
		})
	}
}

func TestGenRunStops(t *testing.T) {
	errBroker := errors.New("kafka: broker not available")
	t.Run("write error", func(t *testing.T) {
		_, err := NewGenerator(1).Produce(context.Background(), &memWriter{fail: errBroker}, GenRun{Lines: 10})
		if !errors.Is(err, errBroker) || !strings.HasPrefix(err.Error(), "write to kafka: ") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("broken pipe", func(t *testing.T) {
		_, err := NewGenerator(1).Generate(context.Background(), failWriter{}, GenRun{})
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("context ends the run, the last batch is delivered", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := &memWriter{cancel: cancel, cancelAt: 3}
		st, err := NewGenerator(1).Produce(ctx, w, GenRun{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Lines != int64(len(w.msgs)) || st.Lines < 3*genBatchLines {
			t.Fatalf("stats %d lines, %d messages written", st.Lines, len(w.msgs))
		}
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, net.ErrClosed }

// TestGenKafka sends scenario traffic to an in-process Kafka and reads it
// back per partition: related lines share a partition and keep their order,
// so each partition classifies as the whole stream does.
func TestGenKafka(t *testing.T) {
	const topic = "auth-logs"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w := NewGenKafkaWriter(c.ListenAddrs(), topic)
	defer w.Close()
	g, err := NewScenarioGenerator(GenConfig{Seed: 4, Scenarios: []string{ScenarioRefreshReplay}, After: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const lines = 20000
	st, err := g.Produce(ctx, w, GenRun{Lines: lines})
	if err != nil || st.Lines != lines {
		t.Fatalf("produced %d lines: %v", st.Lines, err)
	}
	engine := genEngine(t)
	keyPart := map[string]int{}
	var all, reuseWarnings, correlated, byState int
	for p := 0; p < 3; p++ {
		var data []byte
		for _, m := range genReadPartition(ctx, t, c.ListenAddrs()[0], topic, p) {
			if q, ok := keyPart[string(m.Key)]; ok && q != p {
				t.Fatalf("key %s in partitions %d and %d", m.Key, q, p)
			}
			keyPart[string(m.Key)] = p
			if bytes.Contains(m.Value, []byte("already used for userSession")) {
				reuseWarnings++
			}
			data = append(append(data, m.Value...), '\n')
			all++
		}
		recs := genClassify(t, engine, data)
		checkClean(t, data, recs)
		// the warning decides its event: a reuse, or (the code's LOGIN seen
		// long before) an expiry
		correlated += genCount(recs, func(r genRec) bool {
			return r.rule == "keycloak.code_to_token.reused" && r.decision == "correlated"
		})
		// the issuance and redemption of a code, the uses of a token are
		// keyed by the session too: the state decides on each partition
		byState += genCount(recs, func(r genRec) bool {
			return r.decision == "correlated" && (r.rule == "keycloak.code_to_token.invalid_code" || r.rule == "keycloak.refresh.reuse_exceeded")
		})
	}
	if all != lines {
		t.Fatalf("read %d messages, want %d", all, lines)
	}
	if reuseWarnings == 0 || correlated != reuseWarnings {
		t.Fatalf("%d OAuth2CodeParser warnings, %d events they decided: every pair must share its partition", reuseWarnings, correlated)
	}
	if byState == 0 {
		t.Fatal("no failure decided by the code and token state on any partition")
	}
}

// TestGenCorrelation: the generated traffic exercises every correlation
// rule - a reuse told by the earlier redemption, an expiry told by the
// code's age, a refresh race and a replay told by the earlier use - and the
// state never claims a code unknown: every generated code was issued.
func TestGenCorrelation(t *testing.T) {
	engine := genEngine(t)
	cfg := GenConfig{Seed: 11, Scenarios: []string{ScenarioRefreshReplay}, After: time.Minute}
	data := genUntil(t, cfg, 20*time.Minute)
	recs := genClassify(t, engine, data)
	checkClean(t, data, recs)
	count := func(class, rule string) int {
		return genCount(recs, func(r genRec) bool {
			return r.class == class && r.decision == "correlated" && (rule == "" || r.rule == rule)
		})
	}
	for _, c := range []struct{ class, rule string }{
		{"code_reused", "keycloak.code_to_token.invalid_code"},
		{"code_expired", "keycloak.code_to_token.reused"},
		{"refresh_token_concurrent", "keycloak.refresh.reuse_exceeded"},
		{"refresh_token_reused", "keycloak.refresh.reuse_exceeded"},
	} {
		if n := count(c.class, c.rule); n == 0 {
			t.Errorf("no %s decided by correlation (rule %s)", c.class, c.rule)
		} else {
			t.Logf("%s by correlation: %d", c.class, n)
		}
	}
	if n := count("code_unknown", "keycloak.code_to_token.invalid_code"); n != 0 {
		t.Errorf("%d codes called unknown by the state, but every generated code was issued", n)
	}
	for _, r := range recs {
		if r.class == "refresh_token_reused" && r.decision == "correlated" && !strings.HasPrefix(r.ip, "203.0.113.") {
			t.Fatalf("replay from %s called reused; only the thief's network replays", r.ip)
		}
	}
}

func genReadPartition(ctx context.Context, t *testing.T, addr, topic string, p int) []kafka.Message {
	t.Helper()
	conn, err := kafka.DialLeader(ctx, "tcp", addr, topic, p)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	last, err := conn.ReadLastOffset()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Seek(0, kafka.SeekAbsolute); err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	for int64(len(out)) < last {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		batch := conn.ReadBatch(1, 16<<20)
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			out = append(out, m)
		}
		if err := batch.Close(); err != nil {
			t.Fatalf("partition %d: %v", p, err)
		}
	}
	return out
}

// BenchmarkGenerate: generated lines to a discard writer (bytes/s and lines/s).
func BenchmarkGenerate(b *testing.B) {
	g, err := NewScenarioGenerator(GenConfig{Seed: 1, Scenarios: GenScenarios(), After: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	st, err := g.Generate(context.Background(), io.Discard, GenRun{Lines: int64(b.N)})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Bytes / int64(b.N))
	b.ReportMetric(float64(st.Lines)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkGenerateKafka: generated lines to an in-process Kafka (kfake),
// one message per line.
func BenchmarkGenerateKafka(b *testing.B) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "auth-logs"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w := NewGenKafkaWriter(c.ListenAddrs(), "auth-logs")
	defer w.Close()
	g := NewGenerator(1)
	b.ResetTimer()
	st, err := g.Produce(context.Background(), w, GenRun{Lines: int64(b.N)})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Bytes / int64(b.N))
	b.ReportMetric(float64(st.Lines)/b.Elapsed().Seconds(), "lines/s")
}
