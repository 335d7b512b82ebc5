package chtest

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// EnvCHDB gates the tests that run SQL on chdb, an embedded current
// ClickHouse engine driven through python3: unset runs them when python3 can
// import chdb and skips otherwise, "required" fails instead, "off" skips.
const EnvCHDB = "AUTHSIFT_TEST_CHDB"

// Step is one statement for chdb.
type Step struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

// Answer is what chdb said to one step: its result as TabSeparated, or the
// error.
type Answer struct {
	Name  string `json:"name"`
	TSV   string `json:"tsv"`
	Error string `json:"error"`
}

const chdbScript = `
import json, shutil, sys, tempfile
from chdb import session
req = json.load(sys.stdin)
d = tempfile.mkdtemp()
s = session.Session(d)
out = {"version": s.query("SELECT version()", "TSV").bytes().decode().strip(), "steps": []}
for st in req["steps"]:
    r = {"name": st["name"]}
    try:
        r["tsv"] = s.query(st["sql"], "TSV").bytes().decode()
    except Exception as e:
        r["error"] = str(e)
    out["steps"].append(r)
s.close()
shutil.rmtree(d, ignore_errors=True)
json.dump(out, sys.stdout)
`

// RequireCHDB skips or fails the test as EnvCHDB says when chdb cannot be
// imported.
func RequireCHDB(t testing.TB) {
	t.Helper()
	Gate(t, EnvCHDB, func() error {
		if out, err := exec.Command("python3", "-c", "import chdb").CombinedOutput(); err != nil {
			return fmt.Errorf("python3 cannot import chdb: %v %s", err, out)
		}
		return nil
	})
}

// CHDB runs the steps in order in one fresh chdb session and returns the
// engine's version and one answer per step.
func CHDB(t testing.TB, steps []Step) (version string, answers []Answer) {
	t.Helper()
	RequireCHDB(t)
	req, err := json.Marshal(map[string]any{"steps": steps})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", chdbScript)
	cmd.Stdin = strings.NewReader(string(req))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 chdb: %v\n%s", err, stderr.String())
	}
	var res struct {
		Version string   `json:"version"`
		Steps   []Answer `json:"steps"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("chdb answer: %v\n%s", err, out)
	}
	if len(res.Steps) != len(steps) {
		t.Fatalf("chdb answered %d steps, %d sent", len(res.Steps), len(steps))
	}
	t.Logf("chdb ClickHouse %s", res.Version)
	return res.Version, res.Steps
}
