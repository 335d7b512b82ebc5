package gen_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest"
	"github.com/authsift/authsift/ingest/gen"
	"github.com/authsift/authsift/rules"
)

func newEngine(t testing.TB) *classify.Engine {
	t.Helper()
	cat, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	return classify.New(cat)
}

// record is what the tests keep of a classified record.
type record struct {
	line                                            int
	outcome                                         classify.Outcome
	class, rule, decision, source, client, ip, user string
	time                                            time.Time
}

func classifyLines(t *testing.T, engine *classify.Engine, data []byte) []record {
	t.Helper()
	var out []record
	err := ingest.ClassifyReader(bytes.NewReader(data), "", engine, ingest.FormatAuto, func(r *ingest.Record) {
		rec := record{line: r.Line, outcome: r.Verdict.Outcome, decision: r.Verdict.Decision}
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

// generateFor generates requests until d of generated time has passed.
func generateFor(t *testing.T, cfg gen.Config, d time.Duration) []byte {
	t.Helper()
	g, err := gen.NewWithConfig(cfg)
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
func checkClean(t *testing.T, data []byte, recs []record) {
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

func TestScenarios(t *testing.T) {
	engine := newEngine(t)
	const client = "billing-api"
	appID := gen.AppID(client)
	after, total := 30*time.Second, 90*time.Second
	cases := []struct {
		scenario string
		classes  []string // what the scenario means, in the catalog's words
		check    func(t *testing.T, hits []record)
	}{
		{gen.ScenarioSecretExpiry, []string{"client_secret_expired", "client_auth_rejected", "client_secret_invalid"}, func(t *testing.T, hits []record) {
			n := countIf(hits, func(r record) bool { return r.class == "client_secret_expired" && r.source == "entra" })
			m := countIf(hits, func(r record) bool { return r.class == "client_auth_rejected" && r.source == "keycloak" })
			if n == 0 || m == 0 {
				t.Errorf("want Entra client_secret_expired and Keycloak client_auth_rejected, got %d and %d", n, m)
			}
		}},
		{gen.ScenarioRedirectDeploy, []string{"redirect_uri_unregistered", "redirect_uri_mismatch"}, nil},
		{gen.ScenarioRefreshReplay, []string{"refresh_token_reused"}, func(t *testing.T, hits []record) {
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
		{gen.ScenarioCredentialStuffing, []string{"user_credentials_invalid"}, func(t *testing.T, hits []record) {
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
		{gen.ScenarioServerOutage, []string{"server_error", "server_unavailable"}, nil},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			cfg := gen.Config{Seed: 42, Scenarios: []string{c.scenario}, Client: client, After: after}
			data := generateFor(t, cfg, total)
			recs := classifyLines(t, engine, data)
			checkClean(t, data, recs)
			start := time.Unix(gen.DefaultStartUnix, 0)
			var before, hits []record
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

func countIf(recs []record, f func(record) bool) int {
	n := 0
	for _, r := range recs {
		if f(r) {
			n++
		}
	}
	return n
}

// TestScenarioEnds: with For, the scenario's failures stop again.
func TestScenarioEnds(t *testing.T) {
	engine := newEngine(t)
	cfg := gen.Config{Seed: 5, Scenarios: []string{gen.ScenarioSecretExpiry}, After: 10 * time.Second, For: 20 * time.Second}
	data := generateFor(t, cfg, 60*time.Second)
	end := time.Unix(gen.DefaultStartUnix, 0).Add(30 * time.Second)
	during, afterEnd := 0, 0
	for _, r := range classifyLines(t, engine, data) {
		if r.client != gen.DefaultScenarioClient || r.class != "client_auth_rejected" {
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

// TestBaseline: the normal mix is mostly successes, with many classes from
// every source, context lines and noise.
func TestBaseline(t *testing.T) {
	engine := newEngine(t)
	data := generateFor(t, gen.Config{Seed: 1}, 60*time.Second)
	recs := classifyLines(t, engine, data)
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

// TestShapes writes every kind of request and every scenario line many
// times and checks each lands in the class it is written for.
func TestShapes(t *testing.T) {
	engine := newEngine(t)
	g, err := gen.NewWithConfig(gen.Config{Seed: 3, Scenarios: gen.Scenarios()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range g.Shapes() {
		t.Run(s.Name, func(t *testing.T) {
			var data []byte
			for i := 0; i < 60; i++ {
				g.Tick(time.Second)
				data = s.Write(data, i%g.Clients())
				data = append(data, '\n')
			}
			recs := classifyLines(t, engine, data)
			checkClean(t, data, recs)
			n := map[classify.Outcome]int{}
			for _, r := range recs {
				n[r.outcome]++
				if r.outcome == classify.Failure && !strings.Contains(" "+strings.Join(s.Classes, " ")+" ", " "+r.class+" ") {
					t.Errorf("line %d is %s, want %v", r.line, r.class, s.Classes)
				}
			}
			switch {
			case len(s.Classes) > 0 && n[classify.Failure] == 0:
				t.Errorf("no failure: %v", n)
			case s.Success && (n[classify.Success] == 0 || n[classify.Failure] > 0):
				t.Errorf("want successes only: %v", n)
			case len(s.Classes) == 0 && !s.Success && n[classify.Failure]+n[classify.Success] > 0:
				t.Errorf("noise gave %v", n)
			}
		})
	}
}

// TestOSSSources: the normal traffic has events of every new source.
func TestOSSSources(t *testing.T) {
	engine := newEngine(t)
	g := gen.New(5)
	var data []byte
	for i := 0; i < 20000; i++ {
		data = g.Append(data)
		data = append(data, '\n')
	}
	sources := map[string]int{}
	for _, r := range classifyLines(t, engine, data) {
		if r.outcome == classify.Failure || r.outcome == classify.Success {
			sources[r.source]++
		}
	}
	for _, s := range []string{"zitadel", "authentik", "dex", "proxy", "oauth2_proxy"} {
		if sources[s] == 0 {
			t.Errorf("no %s events: %v", s, sources)
		}
	}
}

// TestKafka sends scenario traffic to an in-process Kafka and reads it
// back per partition: related lines share a partition and keep their order,
// so each partition classifies as the whole stream does.
func TestKafka(t *testing.T) {
	const topic = "auth-logs"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w := gen.NewKafkaWriter(c.ListenAddrs(), topic)
	defer w.Close()
	g, err := gen.NewWithConfig(gen.Config{Seed: 4, Scenarios: []string{gen.ScenarioRefreshReplay}, After: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const lines = 20000
	st, err := g.Produce(ctx, w, gen.Run{Lines: lines})
	if err != nil || st.Lines != lines {
		t.Fatalf("produced %d lines: %v", st.Lines, err)
	}
	engine := newEngine(t)
	keyPart := map[string]int{}
	var all, reuseWarnings, correlated, byState int
	for p := 0; p < 3; p++ {
		var data []byte
		for _, m := range readPartition(ctx, t, c.ListenAddrs()[0], topic, p) {
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
		recs := classifyLines(t, engine, data)
		checkClean(t, data, recs)
		// the warning decides its event: a reuse, or (the code's LOGIN seen
		// long before) an expiry
		correlated += countIf(recs, func(r record) bool {
			return r.rule == "keycloak.code_to_token.reused" && r.decision == "correlated"
		})
		// the issuance and redemption of a code, the uses of a token are
		// keyed by the session too: the state decides on each partition
		byState += countIf(recs, func(r record) bool {
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

// TestCorrelation: the generated traffic exercises every correlation
// rule - a reuse told by the earlier redemption, an expiry told by the
// code's age, a refresh race and a replay told by the earlier use - and the
// state never claims a code unknown: every generated code was issued.
func TestCorrelation(t *testing.T) {
	engine := newEngine(t)
	cfg := gen.Config{Seed: 11, Scenarios: []string{gen.ScenarioRefreshReplay}, After: time.Minute}
	data := generateFor(t, cfg, 20*time.Minute)
	recs := classifyLines(t, engine, data)
	checkClean(t, data, recs)
	count := func(class, rule string) int {
		return countIf(recs, func(r record) bool {
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

func readPartition(ctx context.Context, t *testing.T, addr, topic string, p int) []kafka.Message {
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
