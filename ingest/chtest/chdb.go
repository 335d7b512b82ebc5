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

// Session is one chdb session. The sessions of one CHDBSessions call run one
// after the other on the same data. chdb always runs queries as its user
// "default": with Grants nil that user has chdb's usual privileges (every
// one but access management); otherwise exactly Grants, GRANT statements
// without a grantee ("GRANT SELECT ON db.*"), given to it in a users.xml as
// ClickHouse reads them for users defined there (<grants><query>), and
// checked by the engine's access control like any user's.
type Session struct {
	Grants []string `json:"grants"`
	Steps  []Step   `json:"steps"`
}

// The embedded engine starts again with each session's connection string;
// a config-file whose users_config names a users.xml gives "default" its
// grants. chdb does not read access_control_improvements from that config
// (select_from_system_db_requires_grant stays off) and cannot switch users
// (EXECUTE AS needs allow_impersonate_user there; its queries always
// authenticate as "default").
const chdbScript = `
import json, os, shutil, sys, tempfile
from xml.sax.saxutils import escape
from chdb import session
req = json.load(sys.stdin)
d = tempfile.mkdtemp()
conf = tempfile.mkdtemp()
out = {"sessions": []}
for i, se in enumerate(req["sessions"]):
    path = d
    if se["grants"] is not None:
        users = os.path.join(conf, "users%d.xml" % i)
        with open(users, "w") as f:
            f.write("<clickhouse><profiles><default/></profiles><quotas><default/></quotas><users><default>"
                "<password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota><grants>"
                + "".join("<query>%s</query>" % escape(g) for g in se["grants"]) + "</grants></default></users></clickhouse>")
        cfg = os.path.join(conf, "config%d.xml" % i)
        with open(cfg, "w") as f:
            f.write("<clickhouse><users_config>%s</users_config></clickhouse>" % escape(users))
        path = d + "?config-file=" + cfg
    s = session.Session(path)
    if i == 0:
        out["version"] = s.query("SELECT version()", "TSV").bytes().decode().strip()
    answers = []
    for st in se["steps"]:
        r = {"name": st["name"]}
        try:
            r["tsv"] = s.query(st["sql"], "TSV").bytes().decode()
        except Exception as e:
            r["error"] = str(e)
        answers.append(r)
    s.close()
    out["sessions"].append(answers)
shutil.rmtree(d, ignore_errors=True)
shutil.rmtree(conf, ignore_errors=True)
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
	version, all := CHDBSessions(t, []Session{{Steps: steps}})
	return version, all[0]
}

// CHDBSessions runs the sessions in order on one fresh data directory and
// returns the engine's version and, per session, one answer per step.
func CHDBSessions(t testing.TB, sessions []Session) (version string, answers [][]Answer) {
	t.Helper()
	RequireCHDB(t)
	for i := range sessions {
		if sessions[i].Steps == nil {
			sessions[i].Steps = []Step{}
		}
	}
	req, err := json.Marshal(map[string]any{"sessions": sessions})
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
		Version  string     `json:"version"`
		Sessions [][]Answer `json:"sessions"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("chdb answer: %v\n%s", err, out)
	}
	if len(res.Sessions) != len(sessions) {
		t.Fatalf("chdb answered %d sessions, %d sent", len(res.Sessions), len(sessions))
	}
	for i, se := range sessions {
		if len(res.Sessions[i]) != len(se.Steps) {
			t.Fatalf("chdb answered %d steps of session %d, %d sent", len(res.Sessions[i]), i+1, len(se.Steps))
		}
	}
	t.Logf("chdb ClickHouse %s", res.Version)
	return res.Version, res.Sessions
}
