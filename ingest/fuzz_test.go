package ingest

import (
	"github.com/authsift/authsift/ingest/redact"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/gen"
)

// FuzzDecode: no input panics, and every line gives at least one record.
func FuzzDecode(f *testing.F) {
	logs, _ := filepath.Glob("testdata/*/*.log")
	for _, p := range logs {
		data, _ := os.ReadFile(p)
		for _, l := range strings.Split(string(data), "\n") {
			f.Add(l)
		}
	}
	g := gen.New(3)
	for i := 0; i < 50; i++ {
		f.Add(string(g.Append(nil)))
	}
	f.Add(`{"records":[1,"x",{"category":"SignInLogs"}]}`)
	f.Add(`x type='unterminated, realmId=r`)
	engine := defaultEngine(f)
	f.Fuzz(func(t *testing.T, line string) {
		line = strings.ReplaceAll(line, "\n", " ")
		s, err := NewStream(engine, FormatAuto, classify.DefaultTrackerConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		s.Line(1, []byte(line), false, func(r *Record) {
			n++
			if r.Line != 1 {
				t.Fatalf("record for line %d", r.Line)
			}
			if r.Verdict.Outcome == classify.Failure && r.Verdict.Class == nil {
				t.Fatal("failure without class")
			}
			_ = AppendJSON(nil, r, redact.New([]byte("k")))
		})
		if n == 0 {
			t.Fatal("line lost: no record")
		}
	})
}

// FuzzUnquoteDouble checks the fast quoted-value scan against the plain
// escape state machine it replaced.
func FuzzUnquoteDouble(f *testing.F) {
	for _, s := range []string{`abc"`, `a\"b"c`, `a\\"b`, `\\\"x"`, `no quote`, `"`, `\`, `a\\\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		want := -1
		esc := false
		for i, c := range s {
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				want = i + 1
				break
			}
		}
		end, _, ok := unquoteDouble(s)
		if !ok {
			end = -1
		}
		if end != want {
			t.Fatalf("unquoteDouble(%q) ends at %d, want %d", s, end, want)
		}
	})
}
