package ingest

import (
	"bytes"
	"flag"
	"github.com/authsift/authsift/ingest/redact"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/gen"
	"github.com/authsift/authsift/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func defaultEngine(t testing.TB) *classify.Engine {
	t.Helper()
	cat, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	return classify.New(cat)
}

// TestGolden classifies every whole real log in testdata/<source>/*.log and
// compares the JSONL output with <name>.golden.jsonl (rewrite with -update).
func TestGolden(t *testing.T) {
	engine := defaultEngine(t)
	logs, _ := filepath.Glob("testdata/*/*.log")
	if len(logs) == 0 {
		t.Skip("no sample logs yet")
	}
	red := redact.New([]byte("golden"))
	for _, p := range logs {
		t.Run(p, func(t *testing.T) {
			in, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			lines := map[int]bool{}
			err = ClassifyReaderWith(bytes.NewReader(in), "", engine, FormatAuto, []byte("golden"), classify.DefaultTrackerConfig(), func(r *Record) {
				lines[r.Line] = true
				out = AppendJSON(out, r, red)
				out = append(out, '\n')
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(strings.TrimRight(string(in), "\n"), "\n") + 1; len(lines) != n {
				t.Fatalf("%d input lines gave records for %d lines", n, len(lines))
			}
			golden := strings.TrimSuffix(p, ".log") + ".golden.jsonl"
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./ingest -run TestGolden -update)", err)
			}
			if !bytes.Equal(out, want) {
				gl, wl := strings.Split(string(out), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(gl) && i < len(wl); i++ {
					if gl[i] != wl[i] {
						t.Fatalf("output line %d differs:\n got  %s\n want %s", i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("output has %d lines, golden %d", len(gl), len(wl))
			}
		})
	}
}

// TestRuleCases runs the catalog's own test cases (what `authsift rules test` does).
func TestRuleCases(t *testing.T) {
	rep := RunTests(defaultEngine(t))
	for _, r := range rep.Results {
		for _, p := range r.Problems {
			t.Errorf("%s %s: %s", r.Case.Pos, r.Case.Name, p)
		}
	}
	for _, r := range rep.UntestedRules {
		t.Errorf("%s: rule %s is exercised by no test case", r.Pos, r.ID)
	}
	for _, c := range rep.UnreachedClasses {
		t.Errorf("%s: class %s is reached by no test case and not marked unreachable", c.Pos, c.ID)
	}
}

// TestGeneratedTraffic: everything the generator writes decodes, and every
// failure it writes has a class.
func TestGeneratedTraffic(t *testing.T) {
	engine := defaultEngine(t)
	g := gen.New(7)
	var buf []byte
	for i := 0; i < 5000; i++ {
		buf = g.Append(buf)
		buf = append(buf, '\n')
	}
	counts := map[string]int{}
	bad := 0
	err := ClassifyReader(bytes.NewReader(buf), "", engine, FormatAuto, func(r *Record) {
		counts[r.Verdict.Outcome.String()]++
		if r.Verdict.Outcome == classify.Malformed || (r.Verdict.Outcome == classify.Failure && r.Verdict.Rule == nil) {
			bad++
			if bad > 5 {
				return
			}
		}
		if r.Verdict.Outcome == classify.Malformed {
			t.Errorf("line %d malformed: %s", r.Line, r.Event.Detail)
		}
		if r.Verdict.Outcome == classify.Failure && r.Verdict.Rule == nil {
			t.Errorf("line %d unclassified: %+v", r.Line, *r.Event)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"failure", "success", "context", "ignored"} {
		if counts[o] == 0 {
			t.Errorf("generator produced no %s", o)
		}
	}
}
