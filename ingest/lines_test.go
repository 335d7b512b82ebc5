package ingest

import (
	"strings"
	"testing"
)

func TestReadLines(t *testing.T) {
	long := strings.Repeat("x", 5000)
	in := "a\r\nb\n\n" + long + "\nc"
	type line struct {
		n         int
		text      string
		truncated bool
	}
	var got []line
	err := ReadLines(strings.NewReader(in), 1024, func(n int, b []byte, tr bool) error {
		got = append(got, line{n, string(b), tr})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []line{{1, "a", false}, {2, "b", false}, {3, "", false}, {4, long[:1024], true}, {5, "c", false}}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].n != want[i].n || got[i].truncated != want[i].truncated || (!want[i].truncated && got[i].text != want[i].text) {
			t.Errorf("line %d: got %+v", i, got[i])
		}
	}
}
