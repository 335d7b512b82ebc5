// Package redact takes secrets out of text: authorization codes, tokens,
// client secrets, assertions, verifiers and passwords become a keyed hash,
// so that two mentions of one secret can still be matched without revealing
// it.
package redact

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/authsift/authsift/ingest/internal/rarebyte"
)

// Redactor replaces secrets (authorization codes, tokens, client secrets,
// assertions, verifiers, passwords) in text by a keyed hash, so that two
// mentions of one secret can still be matched without revealing it. It
// recognises key=value (query strings, form bodies, logfmt, Keycloak
// events), "key":"value" (JSON), Bearer and Basic credentials, JWTs, and
// Keycloak's Code '...' warnings. It scans once, without regular
// expressions: it runs on every stored failure.
type Redactor struct {
	key []byte
	// macs keeps keyed HMACs for reuse (Reset is cheaper than keying a new
	// one); Redact runs in the pipelines and the writer at once.
	macs sync.Pool
}

// New returns a redactor keyed with key; an empty key draws a random one
// (hashes then differ between runs).
func New(key []byte) *Redactor {
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	return &Redactor{key: key}
}

// Hash returns the keyed hash that stands for secret.
func (r *Redactor) Hash(secret string) string {
	m, _ := r.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, r.key)
	} else {
		m.Reset()
	}
	io.WriteString(m, secret)
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	r.macs.Put(m)
	var out [len(Mark) + 12 + 1]byte
	copy(out[:], Mark)
	hex.Encode(out[len(Mark):], sum[:6])
	out[len(out)-1] = '>'
	return string(out[:])
}

// Mark starts every hash that stands for a secret: <redacted:3f9a0c1b2d4e>.
const Mark = "<redacted:"

// isSecretKey reports whether a parameter name names a secret.
func isSecretKey(k string) bool {
	if len(k) < 3 || len(k) > 16 {
		return false
	}
	var buf [16]byte
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(k)]) {
	case "code", "refresh_token", "access_token", "id_token", "id_token_hint", "client_secret",
		"client_assertion", "assertion", "code_verifier", "password", "device_code", "user_code", "subject_token",
		"actor_token", "token", "otp", "totp",
		"statetoken", "sessiontoken": // Okta's authentication transaction and session tokens (System Log debugData.url)
		return true
	}
	return false
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isTokenByte(c byte) bool {
	return isIdentByte(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '='
}

// indexAfter returns the index of the first a that b follows, with b at or
// after from, or -1. It scans for b: the rarer byte of the patterns it
// serves (':' after '"', 'J' after 'y', ' ' after 'r' or 'c').
func indexAfter(s string, from int, a, b byte) int {
	for from < len(s) {
		j := strings.IndexByte(s[from:], b)
		if j < 0 {
			return -1
		}
		i := from + j
		if i > 0 && s[i-1] == a {
			return i - 1
		}
		from = i + 1
	}
	return -1
}

// span is a byte range of a secret.
type span struct{ start, end int }

// Redact returns s with every secret it recognises replaced by its hash.
// Each scanner below finds one shape of secret; overlapping finds are
// replaced once.
func (r *Redactor) Redact(s string) string {
	if len(s) < 5 {
		// The shortest secret a pattern takes is "k=v" behind a key of
		// three bytes; most of the fields redacted per row are empty.
		return s
	}
	var buf [8]span
	spans := buf[:0]
	spans = scanKeyValues(s, spans)
	spans = scanJSONKeys(s, spans)
	spans = scanEscapedJSONKeys(s, spans)
	spans = scanJWTs(s, spans)
	spans = scanSchemes(s, spans)
	spans = scanCodeWarnings(s, spans)
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

// addSpan appends the secret s[start:end], unless it is empty or a hash
// already.
func addSpan(s string, spans []span, start, end int) []span {
	if end > start && !strings.HasPrefix(s[start:], Mark) {
		spans = append(spans, span{start, end})
	}
	return spans
}

// scanKeyValues finds key=value (query strings, form bodies, logfmt,
// Keycloak events) under a secret key.
func scanKeyValues(s string, spans []span) []span {
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
			spans = addSpan(s, spans, start, end)
			off = max(off, end)
		}
	}
	return spans
}

// scanJSONKeys finds "key":"value" under a secret key, with optional spaces
// after the colon.
func scanJSONKeys(s string, spans []span) []span {
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
			spans = addSpan(s, spans, start, end)
			off = max(off, end)
		}
	}
	return spans
}

// scanEscapedJSONKeys finds \"key\":\"value\": a JSON body logged as a JSON
// string (nginx escape=json $resp_body, Envoy dynamic metadata, Docker's log
// field). It acts on \": only: a line without one (most) skips it.
func scanEscapedJSONKeys(s string, spans []span) []span {
	for off, has := 0, strings.Contains(s, `\":`); has; {
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
		spans = addSpan(s, spans, v+2, v+2+end)
		off = max(off, v+2+end)
	}
	return spans
}

// scanJWTs finds JSON Web Tokens.
func scanJWTs(s string, spans []span) []span {
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
			spans = addSpan(s, spans, i, end)
			off = end
		}
	}
	return spans
}

// scanSchemes finds Bearer and Basic credentials. It takes only a scheme
// behind a 'B' or 'b': a line without one (most) skips it, found by those
// rarer bytes instead of every space.
func scanSchemes(s string, spans []span) []span {
	bearer, basic := hasScheme(s)
	for _, scheme := range [...]string{"earer ", "asic "} {
		n := len(scheme)
		has := bearer
		if scheme[0] == 'a' {
			has = basic
		}
		for off := 0; has; {
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
				spans = addSpan(s, spans, v, end)
				off = end
			}
		}
	}
	return spans
}

// scanCodeWarnings finds the code of Keycloak's "Code '<code>' already used ...".
func scanCodeWarnings(s string, spans []span) []span {
	for off := 0; ; {
		j := rarebyte.IndexString(s[off:], "Code '", 5)
		if j < 0 {
			break
		}
		v := off + j + len("Code '")
		off = v
		if end := strings.IndexByte(s[v:], '\''); end > 0 {
			spans = addSpan(s, spans, v, v+end)
			off = v + end
		}
	}
	return spans
}

// hasScheme says whether s holds "Bearer " or "bearer ", and "Basic " or
// "basic ".
func hasScheme(s string) (bearer, basic bool) {
	for _, b := range [...]byte{'B', 'b'} {
		for off := 0; off < len(s); {
			j := strings.IndexByte(s[off:], b)
			if j < 0 {
				break
			}
			rest := s[off+j+1:]
			bearer = bearer || strings.HasPrefix(rest, "earer ")
			basic = basic || strings.HasPrefix(rest, "asic ")
			off += j + 1
		}
	}
	return bearer, basic
}

// valueAt returns the value that starts at i: a quoted one up to its
// closing quote, else up to a delimiter.
func valueAt(s string, i int) (start, end int) {
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		q := s[i]
		end = i + 1
		for end < len(s) && s[end] != q {
			if s[end] == '\\' {
				end++
			}
			end++
		}
		return i + 1, min(end, len(s))
	}
	end = i
	for end < len(s) {
		switch s[end] {
		case '&', ' ', '\t', '\r', '\n', ',', '"', '\'', '<', '>', ';', ')', ']', '}':
			return i, end
		}
		end++
	}
	return i, end
}

// jwtEnd returns the end of a JWT (three base64url parts) starting at i, or 0.
func jwtEnd(s string, i int) int {
	dots, end, partLen := 0, i, 0
	for end < len(s) {
		c := s[end]
		switch {
		case c == '.':
			if partLen < 4 {
				return 0
			}
			dots++
			partLen = -1
			if dots > 2 {
				return 0
			}
		case c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'):
		default:
			if dots == 2 {
				return end
			}
			return 0
		}
		partLen++
		end++
	}
	if dots == 2 {
		return end
	}
	return 0
}

// notAWord: a credential after "Bearer" has a digit or punctuation; a plain
// word ("Bearer challenge") is prose.
func notAWord(s string) bool {
	return strings.ContainsAny(s, "0123456789._~+/=-")
}
