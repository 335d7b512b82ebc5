package ingest

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// byte also occurs.
func TestIndexBy(t *testing.T) {
	seps := []struct {
		sep string
		k   int
	}{{codeParserLogger, 10}, {"already used for userSession", 21}, {"realmId=", 5}, {"type=", 1}, {"ab", 0}, {"ab", 1}}
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, c := range seps {
		for n := 0; n < 20000; n++ {
			// lines of fragments of the separator, its anchor and noise
			var s []byte
			for len(s) < rnd.IntN(80) {
				switch rnd.IntN(4) {
				case 0:
					s = append(s, c.sep[:rnd.IntN(len(c.sep)+1)]...)
				case 1:
					s = append(s, c.sep[rnd.IntN(len(c.sep)):]...)
				case 2:
					s = append(s, c.sep[c.k])
				default:
					s = append(s, byte('a'+rnd.IntN(26)))
				}
			}
			want := bytes.Index(s, []byte(c.sep))
			if got := indexBy(s, c.sep, c.k); got != want {
				t.Fatalf("indexBy(%q, %q, %d) = %d, bytes.Index %d", s, c.sep, c.k, got, want)
			}
		}
	}
}

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
