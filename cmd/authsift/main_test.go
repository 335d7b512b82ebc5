package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authsift/authsift/ingest/chtest"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const sampleLog = `2024-05-14 09:12:01,100 INFO  [io.quarkus] (main) Keycloak 24.0.4 on JVM started in 7.412s.
2024-05-14 09:12:01,120 WARN  [org.keycloak.protocol.oidc.utils.OAuth2CodeParser] (executor-thread-7) Code '0b3c4a47-8f1e-4a4d-9bb6-5c0b1f6e2f10' already used for userSession 'd1e2f3a4-0000-1111-2222-333344445555' and client '3c0d6c4e-aaaa-bbbb-cccc-ddddeeeeffff'.
2024-05-14 09:12:01,124 WARN  [org.keycloak.events] (executor-thread-7) type="CODE_TO_TOKEN_ERROR", realmId="r1", realmName="master", clientId="web-shop", userId="null", sessionId="d1e2f3a4-0000-1111-2222-333344445555", ipAddress="10.0.0.5", error="invalid_code", grant_type="authorization_code", code_id="d1e2f3a4-0000-1111-2222-333344445555", client_auth_method="client-secret"
{"records":[{"time":"2024-01-01T00:00:00Z","category":"SignInLogs","resultType":"0","properties":{"appId":"app1"}},{"time":"2024-01-01T00:00:01Z","category":"SignInLogs","resultType":"0","properties":{"appId":"app2"}}]}
{"error":"invalid_gr
POST /token code=SplxlOBeZQQYbYS6WxSbIA
`

func TestClassifyJSONL(t *testing.T) {
	code, out, errs := runCLI(t, sampleLog, "classify", "-o", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		objs = append(objs, m)
	}
	// One object per line, two for the Event Hubs line.
	wantLines := []float64{1, 2, 3, 4, 4, 5, 6}
	wantOutcomes := []string{"ignored", "context", "failure", "success", "success", "malformed", "ignored"}
	if len(objs) != len(wantLines) {
		t.Fatalf("got %d objects, want %d:\n%s", len(objs), len(wantLines), out)
	}
	for i, m := range objs {
		if m["line"] != wantLines[i] || m["outcome"] != wantOutcomes[i] {
			t.Errorf("object %d: line=%v outcome=%v, want %v %v", i, m["line"], m["outcome"], wantLines[i], wantOutcomes[i])
		}
	}
	f := objs[2]
	if f["class"] != "code_reused" || f["decision"] != "correlated" || f["oauth_error"] != "invalid_grant" ||
		f["owner"] != "client" || f["family"] != "authorization_code" || f["source"] != "keycloak" || f["rule"] == nil {
		t.Errorf("failure object: %v", f)
	}
	if strings.Contains(out, "0b3c4a47-8f1e") || strings.Contains(out, "SplxlOBeZQQYbYS6WxSbIA") {
		t.Error("a secret reached the output")
	}
}

// correlationLog: a code redeemed, then sent again without the parser's
// warning; a refresh token used twice within a second from one network.
const correlationLog = `2025-04-02 12:00:00,100 INFO  [org.keycloak.events] (executor-thread-3) type="LOGIN", realmId="r1", realmName="erp", clientId="erp-web", userId="u1", sessionId="4e6a8c0e-2a4c-4e6a-8c0e-2a4c6e8a0c2e", ipAddress="198.51.100.23", auth_method="openid-connect", auth_type="code", response_type="code", code_id="4e6a8c0e-2a4c-4e6a-8c0e-2a4c6e8a0c2e", username="jdoe"
2025-04-02 12:00:00,900 INFO  [org.keycloak.events] (executor-thread-4) type="CODE_TO_TOKEN", realmId="r1", realmName="erp", clientId="erp-web", userId="u1", sessionId="4e6a8c0e-2a4c-4e6a-8c0e-2a4c6e8a0c2e", ipAddress="10.20.0.7", grant_type="authorization_code", refresh_token_id="0a2c4e6a-8c0e-4a2c-9e6a-8c0e2a4c6e8a", code_id="4e6a8c0e-2a4c-4e6a-8c0e-2a4c6e8a0c2e"
2025-04-02 12:00:01,300 WARN  [org.keycloak.events] (executor-thread-5) type="CODE_TO_TOKEN_ERROR", realmId="r1", realmName="erp", clientId="erp-web", userId="null", sessionId="4e6a8c0e-2a4c-4e6a-8c0e-2a4c6e8a0c2e", ipAddress="10.20.0.7", error="invalid_code", grant_type="authorization_code", code_id="4e6a8c0e-2a4c-4e6a-8c0e-2a4c6e8a0c2e"
2025-04-02 12:05:01,000 INFO  [org.keycloak.events] (executor-thread-8) type="REFRESH_TOKEN", realmId="r1", realmName="erp", clientId="erp-web", userId="u1", sessionId="4e6a8c0e-2a4c-4e6a-8c0e-2a4c6e8a0c2e", ipAddress="198.51.100.23", grant_type="refresh_token", refresh_token_id="c5e7a9b1-3d5f-4c5e-8a9b-1d3f5c7e9a1b", updated_refresh_token_id="d6f8b0c2-4e6a-4d6f-9b0c-2e4a6d8f0b2c"
2025-04-02 12:05:01,700 WARN  [org.keycloak.events] (executor-thread-9) type="REFRESH_TOKEN_ERROR", realmId="r1", realmName="erp", clientId="erp-web", userId="u1", sessionId="4e6a8c0e-2a4c-4e6a-8c0e-2a4c6e8a0c2e", ipAddress="198.51.100.24", error="invalid_token", reason="Maximum allowed refresh token reuse exceeded", grant_type="refresh_token", refresh_token_id="c5e7a9b1-3d5f-4c5e-8a9b-1d3f5c7e9a1b"
`

// TestClassifyCorrelation: classify -o jsonl says how each verdict was
// decided and on what evidence, without the identifiers it joined on; the
// correlation flags take effect; one key file gives the same evidence.
func TestClassifyCorrelation(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte("k"), 0o600)
	failures := func(args ...string) []map[string]any {
		t.Helper()
		code, out, errs := runCLI(t, correlationLog, append([]string{"classify", "-o", "jsonl", "--redact.key-file", keyFile}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, id := range []string{"4e6a8c0e-2a4c-4e6a", "c5e7a9b1-3d5f"} {
			if strings.Contains(evidenceOf(out), id) {
				t.Errorf("evidence names the identifier %s", id)
			}
		}
		var fs []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			if m["outcome"] == "failure" {
				fs = append(fs, m)
			}
		}
		if len(fs) != 2 {
			t.Fatalf("%d failures, want 2:\n%s", len(fs), out)
		}
		return fs
	}
	fs := failures()
	want := []struct{ class, decision, evidence string }{
		{"code_reused", "correlated", "code redeemed at 2025-04-02T12:00:00.900Z, 400ms before this attempt [key "},
		{"refresh_token_concurrent", "correlated", "within the 30s grace, from the same network"},
	}
	for i, w := range want {
		if fs[i]["class"] != w.class || fs[i]["decision"] != w.decision || !strings.Contains(fmt.Sprint(fs[i]["evidence"]), w.evidence) {
			t.Errorf("failure %d: %v %v %q; want %s %s evidence containing %q", i, fs[i]["class"], fs[i]["decision"], fs[i]["evidence"], w.class, w.decision, w.evidence)
		}
	}
	if again := failures(); again[0]["evidence"] != fs[0]["evidence"] {
		t.Errorf("one key file, two evidences: %q, %q", fs[0]["evidence"], again[0]["evidence"])
	}
	// A grace shorter than the 700 ms between the two uses: a replay.
	if fs := failures("--correlation.refresh-grace", "500ms"); fs[1]["class"] != "refresh_token_reused" {
		t.Errorf("with a 500ms grace: %v %q", fs[1]["class"], fs[1]["evidence"])
	}
}

func evidenceOf(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, `"evidence":"`); i >= 0 {
			b.WriteString(l[i:])
		}
	}
	return b.String()
}

func TestClassifyTable(t *testing.T) {
	code, out, errs := runCLI(t, sampleLog, "classify")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"6 lines: 1 failures, 2 successes, 1 context, 1 malformed", "code_reused", "web-shop", "MALFORMED LINES"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestClassifyFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	os.WriteFile(a, []byte(sampleLog), 0o644)
	os.WriteFile(b, []byte(`{"error":"invalid_scope","endpoint":"/token","status":400}`+"\n"), 0o644)
	code, out, errs := runCLI(t, "", "classify", "-o", "jsonl", a, b)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"file":"`+b+`","line":1,"outcome":"failure"`) {
		t.Errorf("second file's record missing or unnamed:\n%s", out)
	}
	code, _, errs = runCLI(t, "", "classify", filepath.Join(dir, "missing.log"))
	if code != exitIOError || !strings.Contains(errs, "missing.log") {
		t.Errorf("missing file: exit %d, %q", code, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"classify", "--format", "nginx"}, exitUsage, "enum value must be one of"},
		{[]string{"classify", "-o", "xml"}, exitUsage, "enum value must be one of"},
		{[]string{"rules", "explain", "code_reuse"}, exitUsage, "did you mean code_reused"},
		{[]string{"--rules.file", "/nonexistent.yaml", "rules", "check"}, exitFailed, "read catalog file"},
		{[]string{"nosuchcommand"}, exitUsage, "expected command"},
		{[]string{"classify", "--correlation.code-lifetime", "keycloak"}, exitUsage, "want SOURCE=DURATION"},
		{[]string{"classify", "--correlation.code-lifetime", "nosuchserver=5m"}, exitUsage, "unknown source"},
		{[]string{"classify", "--correlation.code-window", "1m"}, exitUsage, "shorter than"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, "", c.args...)
		if code != c.code || !strings.Contains(errs, c.err) {
			t.Errorf("%v: exit %d stderr %q; want %d containing %q", c.args, code, errs, c.code, c.err)
		}
	}
}

func TestRulesCommands(t *testing.T) {
	if code, out, errs := runCLI(t, "", "rules", "check"); code != 0 || !strings.Contains(out, "catalog OK") {
		t.Fatalf("check: %d %s %s", code, out, errs)
	}
	if code, out, _ := runCLI(t, "", "rules", "list"); code != 0 || !strings.Contains(out, "refresh_token_reused") || !strings.Contains(out, "security") {
		t.Fatalf("list: %d %s", code, out)
	}
	code, out, _ := runCLI(t, "", "rules", "explain", "pkce_verifier_mismatch")
	for _, want := range []string{"MEANING", "HOW TO CONFIRM", "HOW TO FIX", "owner: client"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("explain lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	if code, out, _ := runCLI(t, "", "rules", "test"); code != 0 || !strings.Contains(out, " passed, 0 failed") {
		t.Fatalf("rules test: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - id: generic.x\n    source: generic\n    class: nope\n    match: {error: x}\n    ref: x\n"), 0o644)
	code, _, errs := runCLI(t, "", "--rules.file", bad, "rules", "check")
	if code != exitFailed || !strings.Contains(errs, bad+`:2:5: rule generic.x: unknown class "nope"`) {
		t.Fatalf("bad catalog: exit %d %q", code, errs)
	}
}

func TestGen(t *testing.T) {
	code, out, _ := runCLI(t, "", "gen", "--lines", "50", "--seed", "9")
	if code != 0 || strings.Count(out, "\n") < 50 {
		t.Fatalf("gen: exit %d, %d lines", code, strings.Count(out, "\n"))
	}
	_, again, _ := runCLI(t, "", "gen", "--lines", "50", "--seed", "9")
	if again != out {
		t.Fatal("same seed gave different output")
	}
}

// TestDemo runs the newcomer's command for a few seconds: in-process Kafka,
// generator, service and (when installed) a local ClickHouse.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("demo runs for seconds")
	}
	code, out, errs := runCLI(t, "", "demo", "--duration", "6s", "--scenario.after", "1s", "--rate", "1000",
		"--web.listen-address", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"in-process Kafka", "ClickHouse:", "Where to look", "demo stopped", "billing-api: ",
		"billing-api's Keycloak failures are client_auth_rejected", "Entra can: it logs client_secret_expired under the app's id, "} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, " 0 failure") {
		t.Errorf("no failure was classified:\n%s", out)
	}
}

// TestMigrateAndTriage: migrate a real ClickHouse, then every triage
// subcommand answers (on an empty database) with a table and with JSON.
func TestMigrateAndTriage(t *testing.T) {
	srv := chtest.Start(t)
	if code, out, errs := runCLI(t, "", "migrate", "--clickhouse.addr", srv.TCP); code != 0 || !strings.Contains(out, "catalog written: 57 classes") {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errs)
	}
	for _, args := range [][]string{{"changes"}, {"client", "billing-api"}, {"class", "client_secret_expired"}, {"recent"}} {
		base := append([]string{"triage"}, args...)
		base = append(base, "--clickhouse.addr", srv.TCP)
		code, out, errs := runCLI(t, "", base...)
		if code != 0 || out == "" {
			t.Errorf("%v: exit %d\n%s\n%s", args, code, out, errs)
		}
		code, out, errs = runCLI(t, "", append(base, "-o", "json")...)
		var v map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
			t.Errorf("%v -o json: exit %d\n%s\n%s", args, code, out, errs)
		}
	}
	if code, out, _ := runCLI(t, "", "triage", "class", "client_secret_expired", "--clickhouse.addr", srv.TCP); code != 0 ||
		!strings.Contains(out, "Create a new secret or certificate") {
		t.Errorf("triage class lacks the fix:\n%s", out)
	}
}
