package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authsift/authsift/ingest/gen"
)

// seedLines are the lines of the real logs in testdata and of the generator.
func seedLines() []string {
	var out []string
	logs, _ := filepath.Glob("../testdata/*/*.log")
	for _, p := range logs {
		data, _ := os.ReadFile(p)
		out = append(out, strings.Split(string(data), "\n")...)
	}
	g := gen.New(3)
	for i := 0; i < 2000; i++ {
		out = append(out, strings.Split(string(g.Append(nil)), "\n")...)
	}
	return out
}

// were narrowed (kept below as redactReference).
func FuzzRedactReference(f *testing.F) {
	for _, l := range seedLines() {
		f.Add(l)
	}
	for _, l := range []string{"Authorization: Bearer abc.def-123", "basic dXNlcjpwYXNz", "BBearer bearer  x1234567.",
		`{\"code\":\"abc\"}`, `\":\"`, "Code 'abc' already used", "Code '", "xBasic abcdefgh1"} {
		f.Add(l)
	}
	red := New([]byte("k"))
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := red.Redact(s), red.redactReference(s); got != want {
			t.Fatalf("Redact(%q)\n = %q\nwant %q", s, got, want)
		}
	})
}

// patterns spliced in) through both redactors.
func TestRedactReference(t *testing.T) {
	red := New([]byte("k"))
	rnd := rand.New(rand.NewPCG(3, 4))
	bits := []string{"Bearer ", "bearer ", "Basic ", "basic ", `\":`, `":`, "Code '", "'", "eyJ", "=", "code=", `"code":"`,
		`\"code\":\"`, " ", "B", "b", "\\"}
	for _, l := range seedLines() {
		for n := 0; n < 4; n++ {
			s := l
			if n > 0 && len(s) > 0 {
				for m := 0; m < n*2; m++ {
					i := rnd.IntN(len(s) + 1)
					s = s[:i] + bits[rnd.IntN(len(bits))] + s[i:]
				}
			}
			if got, want := red.Redact(s), red.redactReference(s); got != want {
				t.Fatalf("Redact(%q)\n = %q\nwant %q", s, got, want)
			}
		}
	}
}

// TestHashReused: a pooled HMAC gives the hash a fresh one gives.
func TestHashReused(t *testing.T) {
	red := New([]byte("k"))
	for _, s := range []string{"", "a", "SplxlOBeZQQYbYS6WxSbIA", strings.Repeat("x", 300), "a"} {
		m := hmac.New(sha256.New, []byte("k"))
		m.Write([]byte(s))
		want := "<redacted:" + hex.EncodeToString(m.Sum(nil)[:6]) + ">"
		for i := 0; i < 3; i++ {
			if got := red.Hash(s); got != want {
				t.Fatalf("Hash(%q) = %q, want %q", s, got, want)
			}
		}
	}
}

// redactReference is Redact before its scans were narrowed (commit 7efe9bb).
func (r *Redactor) redactReference(s string) string {
	var buf [8]span
	spans := buf[:0]
	add := func(start, end int) {
		if end > start && !strings.HasPrefix(s[start:], Mark) {
			spans = append(spans, span{start, end})
		}
	}
	// key=value
	for off := 0; ; {
		j := strings.IndexByte(s[off:], '=')
		if j < 0 {
			break
		}
		i := off + j
		k := i
		for k > 0 && isIdentByte(s[k-1]) {
			k--
		}
		off = i + 1
		if isSecretKey(s[k:i]) {
			start, end := valueAt(s, i+1)
			add(start, end)
			off = max(off, end)
		}
	}
	// "key":"value", with optional spaces after the colon
	for off := 0; ; {
		j := indexAfter(s, off+1, '"', ':')
		if j < 0 {
			break
		}
		i := j // the closing quote of the key
		off = i + 2
		k := strings.LastIndexByte(s[:i], '"')
		if k < 0 || !isSecretKey(s[k+1:i]) {
			continue
		}
		v := i + 2
		for v < len(s) && s[v] == ' ' {
			v++
		}
		if v < len(s) && s[v] == '"' {
			start, end := valueAt(s, v)
			add(start, end)
			off = max(off, end)
		}
	}
	// \"key\":\"value\": a JSON body logged as a JSON string (nginx
	// escape=json $resp_body, Envoy dynamic metadata, Docker's log field)
	for off := 0; ; {
		j := indexAfter(s, off+2, '"', ':')
		for j >= 0 && s[j-1] != '\\' {
			j = indexAfter(s, j+2, '"', ':')
		}
		if j < 0 {
			break
		}
		i := j - 1 // the backslash before the key's closing quote
		off = i + 3
		k := strings.LastIndex(s[:i], `\"`)
		if k < 0 || !isSecretKey(s[k+2:i]) {
			continue
		}
		v := i + 3
		for v < len(s) && s[v] == ' ' {
			v++
		}
		if !strings.HasPrefix(s[v:], `\"`) {
			continue
		}
		end := strings.Index(s[v+2:], `\"`)
		if end < 0 {
			end = len(s) - v - 2
		}
		add(v+2, v+2+end)
		off = max(off, v+2+end)
	}
	// JWTs
	for off := 0; ; {
		// "eyJ" found by its rare 'J' (an 'e' is in most words)
		j := indexAfter(s, off+2, 'y', 'J')
		for j >= 0 && s[j-1] != 'e' {
			j = indexAfter(s, j+2, 'y', 'J')
		}
		if j < 0 {
			break
		}
		i := j - 1
		off = i + 3
		if i > 0 && isTokenByte(s[i-1]) {
			continue
		}
		if end := jwtEnd(s, i); end > 0 {
			add(i, end)
			off = end
		}
	}
	// Bearer and Basic credentials
	for _, scheme := range [...]string{"earer ", "asic "} {
		n := len(scheme)
		for off := 0; ; {
			// found by its last two bytes: 'e' and 'a' are in most words
			q := indexAfter(s, off+n-1, scheme[n-2], ' ')
			for q >= 0 && !strings.HasPrefix(s[q-n+2:], scheme) {
				q = indexAfter(s, q+2, scheme[n-2], ' ')
			}
			if q < 0 {
				break
			}
			i := q - n + 2
			off = i + n
			if i == 0 || (s[i-1] != 'B' && s[i-1] != 'b') || (i > 1 && isIdentByte(s[i-2])) {
				continue
			}
			v := off
			for v < len(s) && s[v] == ' ' {
				v++
			}
			end := v
			for end < len(s) && isTokenByte(s[end]) {
				end++
			}
			if end-v >= 8 && notAWord(s[v:end]) {
				add(v, end)
				off = end
			}
		}
	}
	// Keycloak's "Code '<code>' already used ..."
	for off := 0; ; {
		j := strings.Index(s[off:], "Code '")
		if j < 0 {
			break
		}
		v := off + j + len("Code '")
		off = v
		if end := strings.IndexByte(s[v:], '\''); end > 0 {
			add(v, v+end)
			off = v + end
		}
	}
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s) + 16*len(spans))
	last := 0
	for _, sp := range spans {
		if sp.start < last {
			continue // overlaps one already replaced
		}
		b.WriteString(s[last:sp.start])
		b.WriteString(r.Hash(s[sp.start:sp.end]))
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}
