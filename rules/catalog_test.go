package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// classesOnly returns the default classes without the default rules, so that
// loader tests do not depend on the rules of the day.
func classesOnly(t testing.TB) []File {
	t.Helper()
	files, err := DefaultFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name == "rules/catalog/classes.yaml" {
			return []File{f}
		}
	}
	t.Fatal("no rules/catalog/classes.yaml")
	return nil
}

func withDefault(t *testing.T, extra ...File) (*Catalog, error) {
	t.Helper()
	return Parse(append(classesOnly(t), extra...)...)
}

func TestDefaultCatalog(t *testing.T) {
	cat, err := Load()
	if err != nil {
		t.Fatalf("default catalog: %v", err)
	}
	for _, id := range TaxonomyIDs() {
		c := cat.Class(id)
		if c == nil {
			t.Errorf("taxonomy class %s missing", id)
			continue
		}
		if c.FixLine() == "" || len(c.FixLine()) > 120 {
			t.Errorf("class %s: fix line %q must be one line of at most 120 characters", id, c.FixLine())
		}
	}
	if len(cat.Rules()) == 0 || len(cat.Tests()) == 0 {
		t.Fatalf("default catalog has %d rules and %d tests", len(cat.Rules()), len(cat.Tests()))
	}
}

func TestFixtures(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.yaml")
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			cat, err := withDefault(t, File{Name: "rules/" + p, Data: data})
			if strings.HasSuffix(p, ".good.yaml") {
				if err != nil {
					t.Fatalf("good fixture refused: %v", err)
				}
				if cat.Class("code_from_staging") == nil {
					t.Fatal("added class missing")
				}
				return
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want := strings.TrimPrefix(first, "# error: ")
			if err == nil {
				t.Fatalf("bad fixture accepted; want %q", want)
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error is %T, want Problems", err)
			}
			if ps.Error() != want {
				t.Fatalf("got  %q\nwant %q", ps.Error(), want)
			}
		})
	}
}

func TestOverrideByID(t *testing.T) {
	good, err := os.ReadFile("testdata/override.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base, err := withDefault(t, File{Name: "good.yaml", Data: good})
	if err != nil {
		t.Fatal(err)
	}
	r := base.Rules()[0]
	over := "rules:\n  - id: " + r.ID + "\n    source: " + r.Source + "\n    class: server_error\n    match: {error: overridden}\n    ref: test\n"
	cat, err := withDefault(t, File{Name: "good.yaml", Data: good}, File{Name: "over.yaml", Data: []byte(over)})
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Rules()) != len(base.Rules()) {
		t.Fatalf("override added a rule: %d -> %d", len(base.Rules()), len(cat.Rules()))
	}
	got := cat.Rules()[0]
	if got.ID != r.ID || got.Class != "server_error" || got.Order != 0 {
		t.Fatalf("rule not replaced in place: %+v", got)
	}
}

func TestEveryProblemReported(t *testing.T) {
	bad := "rules:\n  - id: generic.a\n    source: nowhere\n    class: nope\n    match: {error: x}\n    ref: x\n  - id: BAD\n    source: generic\n    class: scope_invalid\n    match: {error: y}\n    ref: x\n"
	_, err := withDefault(t, File{Name: "b.yaml", Data: []byte(bad)})
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	f.Add([]byte("rules: [{id: a.b, match: {code: [1, {x: 2}]}}]"))
	f.Add([]byte("tests: &a [*a]"))
	files := classesOnly(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cat, err := Parse(append(files[:len(files):len(files)], File{Name: "fuzz.yaml", Data: data})...)
		if err == nil && cat == nil {
			t.Fatal("nil catalog without error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}
