package ingest

import (
	"testing"
)

// FuzzParseTimeBytes: parseTimeBytes(b) is parseTime(toString(b)).
func FuzzParseTimeBytes(f *testing.F) {
	for _, s := range []string{"2024-05-14 09:12:01,124", "2026-11-23T09:00:00.123456789Z", "2026-11-23T09:00:00Z",
		"2026-11-23T09:00:00+02:00", "2026-11-23T09:00:00.1234567891Z", "1795424400", "1795424400123", "2026-13-01 00:00:00",
		"2026-11-23 09:00:00", "2026-11-23T09:00:00.000+0200", "", "2026-11-23T09:00:60Z", "2026-11-23T09:00:00.Z"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := parseTimeBytes(b), parseTime(toString(b)); !got.Equal(want) || got.Location() != want.Location() {
			t.Fatalf("parseTimeBytes(%q) = %v, parseTime %v", b, got, want)
		}
	})
}
