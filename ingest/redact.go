package ingest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// Redactor replaces secrets (authorization codes, tokens, client secrets,
// assertions, verifiers, passwords) in text by a keyed hash, so that two
// mentions of one secret can still be matched without revealing it.
type Redactor struct {
	key      []byte
	params   *regexp.Regexp
	jsonKeys *regexp.Regexp
	auth     *regexp.Regexp
	jwt      *regexp.Regexp
	kcCode   *regexp.Regexp
}

const secretKeys = `code|refresh_token|access_token|id_token|id_token_hint|client_secret|client_assertion|assertion|` +
	`code_verifier|password|device_code|user_code|subject_token|actor_token|token|otp|totp`

// NewRedactor returns a redactor keyed with key; an empty key draws a random
// one (hashes then differ between runs).
func NewRedactor(key []byte) *Redactor {
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	return &Redactor{
		key:      key,
		params:   regexp.MustCompile(`(?i)\b(` + secretKeys + `)=([^&\s,"'<>]+)`),
		jsonKeys: regexp.MustCompile(`(?i)"(` + secretKeys + `)"\s*:\s*"([^"]*)"`),
		auth:     regexp.MustCompile(`(?i)\b(Bearer|Basic)\s+([A-Za-z0-9._~+/=-]{8,})`),
		jwt:      regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`),
		kcCode:   regexp.MustCompile(`(Code ')([^']+)(')`),
	}
}

// Hash returns the keyed hash that stands for secret.
func (r *Redactor) Hash(secret string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(secret))
	return "<redacted:" + hex.EncodeToString(m.Sum(nil)[:6]) + ">"
}

// Redact returns s with every secret it recognises replaced by its hash.
func (r *Redactor) Redact(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	s = r.jwt.ReplaceAllStringFunc(s, r.Hash)
	s = r.replaceGroup(r.auth, s, 2, notAWord)
	s = r.replaceGroup(r.jsonKeys, s, 2, nil)
	s = r.replaceGroup(r.params, s, 2, nil)
	s = r.replaceGroup(r.kcCode, s, 2, nil)
	return s
}

func mayHoldSecret(s string) bool {
	return strings.Contains(s, "=") || strings.Contains(s, "eyJ") || strings.Contains(s, "earer") ||
		strings.Contains(s, "asic") || strings.Contains(s, "Code '") || strings.Contains(s, `":`)
}

// notAWord: a credential after "Bearer" has a digit or punctuation; a plain
// word ("Bearer challenge") is prose.
func notAWord(s string) bool {
	return strings.ContainsAny(s, "0123456789._~+/=-")
}

// replaceGroup replaces submatch g of every match of re by its hash, where
// keep (if set) says the submatch is a secret.
func (r *Redactor) replaceGroup(re *regexp.Regexp, s string, g int, keep func(string) bool) string {
	idx := re.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		start, end := m[2*g], m[2*g+1]
		if start < 0 || strings.HasPrefix(s[start:end], "<redacted:") || (keep != nil && !keep(s[start:end])) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(r.Hash(s[start:end]))
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}
