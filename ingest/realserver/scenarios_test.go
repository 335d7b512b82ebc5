package realserver

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest"
	"github.com/authsift/authsift/rules"
)

// span is one scenario of a captured log: lines first..last (1-based,
// inclusive) and the classes of the failures the driver caused in it, one
// entry per failure.
type span struct {
	first, last int
	name        string
	want        []string
}

// parseScenarios reads a .scenarios file: comment lines starting with '#',
// then "first-last<TAB>scenario<TAB>classes" with classes space-separated or
// "-" for none. The spans must be contiguous from line 1.
func parseScenarios(path string) ([]span, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var spans []span
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			return nil, fmt.Errorf("%s:%d: want 3 tab-separated columns, got %d", path, n, len(cols))
		}
		a, b, ok := strings.Cut(cols[0], "-")
		first, err1 := strconv.Atoi(a)
		last, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || last < first {
			return nil, fmt.Errorf("%s:%d: bad line range %q", path, n, cols[0])
		}
		want := []string(nil)
		if cols[2] != "-" {
			want = strings.Fields(cols[2])
		}
		if len(spans) > 0 && first != spans[len(spans)-1].last+1 || len(spans) == 0 && first != 1 {
			return nil, fmt.Errorf("%s:%d: range %q does not follow the previous one", path, n, cols[0])
		}
		spans = append(spans, span{first: first, last: last, name: cols[1], want: want})
	}
	return spans, sc.Err()
}

// formatScenarios writes spans in the format parseScenarios reads.
func formatScenarios(header []string, spans []span) []byte {
	var b bytes.Buffer
	for _, h := range header {
		fmt.Fprintf(&b, "# %s\n", h)
	}
	b.WriteString("# lines\tscenario\texpected failure classes (one per failure; - for none)\n")
	for _, s := range spans {
		want := "-"
		if len(s.want) > 0 {
			want = strings.Join(s.want, " ")
		}
		fmt.Fprintf(&b, "%d-%d\t%s\t%s\n", s.first, s.last, s.name, want)
	}
	return b.Bytes()
}

// failure is one failure authsift found in a captured log.
type failure struct {
	line  int
	class string
	text  string
}

// classifyLog classifies log as the service would (sources auto-detected,
// one stream with its correlation state) and returns its failures and the
// number of lines.
func classifyLog(t testing.TB, log []byte) ([]failure, int) {
	t.Helper()
	cat, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	var fails []failure
	lines := 0
	err = ingest.ClassifyReader(bytes.NewReader(log), "", classify.New(cat), ingest.FormatAuto, func(r *ingest.Record) {
		lines = max(lines, r.Line)
		if r.Verdict.Outcome != classify.Failure {
			return
		}
		class := "unclassified"
		if r.Verdict.Class != nil {
			class = r.Verdict.Class.ID
		}
		fails = append(fails, failure{line: r.Line, class: class})
	})
	if err != nil {
		t.Fatal(err)
	}
	return fails, lines
}

// checkLog compares the failures authsift finds in log with the spans'
// expectations and reports every difference: a failure of the wrong class, a
// normal step called a failure, a failure counted twice, a failure missed.
// It returns the number of failures expected and found right.
func checkLog(t testing.TB, name string, log []byte, spans []span) (right, expected int) {
	t.Helper()
	fails, lines := classifyLog(t, log)
	if len(spans) == 0 || spans[len(spans)-1].last != lines {
		last := 0
		if len(spans) > 0 {
			last = spans[len(spans)-1].last
		}
		t.Errorf("%s: scenarios cover lines 1-%d, the log has %d", name, last, lines)
	}
	lineText := bytes.Split(log, []byte("\n"))
	byspan := make([][]failure, len(spans))
	for _, f := range fails {
		i, _ := slices.BinarySearchFunc(spans, f.line, func(s span, l int) int {
			switch {
			case s.last < l:
				return -1
			case s.first > l:
				return 1
			}
			return 0
		})
		if i < len(spans) {
			if f.line <= len(lineText) {
				f.text = string(lineText[f.line-1])
			}
			byspan[i] = append(byspan[i], f)
		}
	}
	for i, s := range spans {
		expected += len(s.want)
		missing := slices.Clone(s.want)
		var extra []failure
		for _, f := range byspan[i] {
			if j := slices.Index(missing, f.class); j >= 0 {
				missing = slices.Delete(missing, j, j+1)
				right++
				continue
			}
			extra = append(extra, f)
		}
		for _, f := range extra {
			what := "a failure where none was expected (a normal step, or a failure counted twice)"
			if len(missing) > 0 {
				what = fmt.Sprintf("not the expected %s", strings.Join(missing, " or "))
			}
			t.Errorf("%s: scenario %s (lines %d-%d): line %d is %s: %s\n\t%.400s", name, s.name, s.first, s.last, f.line, f.class, what, f.text)
		}
		if len(missing) > len(extra) {
			t.Errorf("%s: scenario %s (lines %d-%d): expected failures %v, authsift found %d of them", name, s.name, s.first, s.last, s.want, len(s.want)-len(missing))
		}
	}
	return right, expected
}

// TestCapturedLogs checks every committed real-server capture
// (../testdata/*/real-*.log) against its .scenarios file.
func TestCapturedLogs(t *testing.T) {
	logs, _ := filepath.Glob("../testdata/*/real-*.log")
	if len(logs) == 0 {
		t.Fatal("no captured real-server logs in ../testdata/*/real-*.log")
	}
	for _, p := range logs {
		t.Run(filepath.Base(p), func(t *testing.T) {
			log, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			spans, err := parseScenarios(strings.TrimSuffix(p, ".log") + ".scenarios")
			if err != nil {
				t.Fatal(err)
			}
			right, expected := checkLog(t, p, log, spans)
			t.Logf("%s: %d of %d expected failures classified right, %d scenarios", p, right, expected, len(spans))
		})
	}
}
