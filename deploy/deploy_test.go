// Package deploy holds the deployment files (compose, Kubernetes, the
// Prometheus, Alertmanager and Grafana configs); this test checks that every
// file parses, that every file they reference exists, that the authsift flags
// they pass exist, and that the Kubernetes PrometheusRule carries the rules
// of dashboards/.
package deploy

import (
	"bytes"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite kubernetes/prometheusrule.yaml from dashboards/")

func yamlFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.Walk(".", func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) < 10 {
		t.Fatalf("walk: %v (%d files)", err, len(files))
	}
	return files
}

func decodeAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, doc)
	}
}

func TestEveryFileParses(t *testing.T) {
	for _, f := range yamlFiles(t) {
		if docs := decodeAll(t, f); len(docs) == 0 {
			t.Errorf("%s: empty", f)
		}
	}
}

func get(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

// authsiftFlags returns the long flags `authsift <cmd> --help` lists.
func authsiftFlags(t *testing.T, cmd string) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "run", "../cmd/authsift", cmd, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("authsift %s --help: %v\n%s", cmd, err, out)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`--(?:\[no-\])?([a-z0-9.-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	return flags
}

func checkArgs(t *testing.T, where string, args []any, known map[string]map[string]bool) {
	t.Helper()
	if len(args) == 0 {
		t.Errorf("%s: no arguments", where)
		return
	}
	cmd, _ := args[0].(string)
	flags := known[cmd]
	if flags == nil {
		t.Errorf("%s: unknown authsift command %q", where, cmd)
		return
	}
	for _, a := range args[1:] {
		s, _ := a.(string)
		name, _, _ := strings.Cut(strings.TrimPrefix(s, "--"), "=")
		if !strings.HasPrefix(s, "--") || !flags[name] {
			t.Errorf("%s: authsift %s has no flag %q", where, cmd, s)
		}
	}
}

func TestComposeReferencesAndFlags(t *testing.T) {
	known := map[string]map[string]bool{"serve": authsiftFlags(t, "serve"), "gen": authsiftFlags(t, "gen")}
	compose := decodeAll(t, "compose.yaml")[0]
	services, _ := compose["services"].(map[string]any)
	for _, want := range []string{"kafka", "clickhouse", "authsift", "generator", "prometheus", "alertmanager", "grafana"} {
		if services[want] == nil {
			t.Errorf("compose: no service %s", want)
		}
	}
	for name, svc := range services {
		if ctx, ok := get(svc, "build", "context").(string); ok {
			df, _ := get(svc, "build", "dockerfile").(string)
			if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
				t.Errorf("compose %s: dockerfile: %v", name, err)
			}
			args, _ := get(svc, "command").([]any)
			checkArgs(t, "compose "+name, args, known)
		}
		vols, _ := get(svc, "volumes").([]any)
		for _, v := range vols {
			s, _ := v.(string)
			host, _, _ := strings.Cut(s, ":")
			if strings.HasPrefix(host, ".") {
				if _, err := os.Stat(host); err != nil {
					t.Errorf("compose %s: volume %s: %v", name, host, err)
				}
			}
		}
	}
}

func TestKubernetes(t *testing.T) {
	known := map[string]map[string]bool{"serve": authsiftFlags(t, "serve")}
	kust := decodeAll(t, "kubernetes/kustomization.yaml")[0]
	res, _ := kust["resources"].([]any)
	kinds := map[string]bool{}
	for _, r := range res {
		for _, doc := range decodeAll(t, filepath.Join("kubernetes", r.(string))) {
			kind, _ := doc["kind"].(string)
			kinds[kind] = true
			if kind == "Deployment" {
				containers, _ := get(doc, "spec", "template", "spec", "containers").([]any)
				args, _ := get(containers[0], "args").([]any)
				checkArgs(t, "deployment", args, known)
			}
		}
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "Secret", "ServiceMonitor", "PrometheusRule", "ScaledObject"} {
		if !kinds[k] {
			t.Errorf("kustomization has no %s", k)
		}
	}
}

// ruleGroups returns the groups of dashboards' recording and alert rules.
func ruleGroups(t *testing.T) []any {
	t.Helper()
	var groups []any
	for _, f := range []string{"../dashboards/recording.yaml", "../dashboards/alerts.yaml"} {
		g, _ := decodeAll(t, f)[0]["groups"].([]any)
		groups = append(groups, g...)
	}
	return groups
}

func TestPrometheusRuleInSync(t *testing.T) {
	want := map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "PrometheusRule",
		"metadata":   map[string]any{"name": "authsift", "labels": map[string]any{"app.kubernetes.io/name": "authsift"}},
		"spec":       map[string]any{"groups": ruleGroups(t)},
	}
	path := "kubernetes/prometheusrule.yaml"
	if *update {
		var b bytes.Buffer
		b.WriteString("# Generated from dashboards/recording.yaml and dashboards/alerts.yaml:\n# go test ./deploy -run PrometheusRule -update\n")
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(want); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := decodeAll(t, path)[0]
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s is out of date with dashboards/: go test ./deploy -run PrometheusRule -update", path)
	}
}

func TestPrometheusConfig(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is required in CI")
		}
		t.Skip("no promtool")
	}
	// Lay the files out as the compose file mounts them.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "authsift"), 0o755)
	for src, dst := range map[string]string{"prometheus/prometheus.yml": "prometheus.yml",
		"../dashboards/alerts.yaml": "authsift/alerts.yaml", "../dashboards/recording.yaml": "authsift/recording.yaml"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, dst), data, 0o644)
	}
	out, err := exec.Command(promtool, "check", "config", filepath.Join(dir, "prometheus.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
}

func TestAlertmanagerRoutesAndGrafana(t *testing.T) {
	am := decodeAll(t, "alertmanager/alertmanager.yml")[0]
	receivers := map[string]bool{}
	for _, r := range am["receivers"].([]any) {
		receivers[get(r, "name").(string)] = true
	}
	if !receivers[get(am, "route", "receiver").(string)] {
		t.Error("alertmanager: the default route's receiver is not defined")
	}
	for _, r := range get(am, "route", "routes").([]any) {
		if !receivers[get(r, "receiver").(string)] {
			t.Errorf("alertmanager: route receiver %v undefined", get(r, "receiver"))
		}
	}
	ds := decodeAll(t, "grafana/provisioning/datasources/datasources.yaml")[0]
	types := map[string]bool{}
	for _, d := range ds["datasources"].([]any) {
		types[get(d, "type").(string)] = true
	}
	if !types["prometheus"] || !types["grafana-clickhouse-datasource"] {
		t.Errorf("grafana data sources: %v", types)
	}
}
