package ingest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// keyHasher makes the correlation keys of events (classify.Event CodeKey,
// TokenKey): HMAC-SHA256, keyed with the redaction key, of an identifier (a
// code, a refresh token id, Keycloak's code_id with its client), cut to 64
// bits. The identifier itself never reaches the correlation state, a row, a
// log or a metric. Not safe for concurrent use: one per decoder.
type keyHasher struct {
	mac     hash.Hash
	scratch []byte
	sum     [sha256.Size]byte
}

func newKeyHasher(key []byte) *keyHasher {
	return &keyHasher{mac: hmac.New(sha256.New, key)}
}

// of returns the key of a (and b, when given: a scope such as the client);
// 0 when a is empty.
func (k *keyHasher) of(a []byte, b string) uint64 {
	if len(a) == 0 {
		return 0
	}
	k.scratch = append(k.scratch[:0], a...)
	if b != "" {
		k.scratch = append(k.scratch, 0)
		k.scratch = append(k.scratch, b...)
	}
	k.mac.Reset()
	k.mac.Write(k.scratch)
	v := binary.BigEndian.Uint64(k.mac.Sum(k.sum[:0]))
	if v == 0 {
		v = 1
	}
	return v
}

// keyOrRandom returns key, or 32 random bytes when it is empty.
func keyOrRandom(key []byte) []byte {
	if len(key) > 0 {
		return key
	}
	key = make([]byte, 32)
	_, _ = rand.Read(key)
	return key
}
