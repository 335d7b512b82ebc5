package rarebyte

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestIndexString: IndexString finds what strings.Index finds.
func TestIndexString(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	const sep, k = "Code '", 5
	for n := 0; n < 20000; n++ {
		var s []byte
		for len(s) < rnd.IntN(80) {
			switch rnd.IntN(4) {
			case 0:
				s = append(s, sep[:rnd.IntN(len(sep)+1)]...)
			case 1:
				s = append(s, sep[rnd.IntN(len(sep)):]...)
			case 2:
				s = append(s, sep[k])
			default:
				s = append(s, byte('a'+rnd.IntN(26)))
			}
		}
		if got, want := IndexString(string(s), sep, k), bytes.Index(s, []byte(sep)); got != want {
			t.Fatalf("IndexString(%q) = %d, bytes.Index %d", s, got, want)
		}
	}
}

// TestIndex: Index finds what bytes.Index finds, also in lines made of
// fragments of the separator and of its rare byte.
func TestIndex(t *testing.T) {
	seps := []struct {
		sep string
		k   int
	}{{"OAuth2CodeParser", 10}, {"already used for userSession", 21}, {"realmId=", 5}, {"type=", 1}, {"ab", 0}, {"ab", 1}}
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
			if got := Index(s, c.sep, c.k); got != want {
				t.Fatalf("Index(%q, %q, %d) = %d, bytes.Index %d", s, c.sep, c.k, got, want)
			}
		}
	}
}
