package ingest

import (
	"bytes"
	"math/rand/v2"
	"strings"
)

// badInput is a message the pipeline must survive without loss of the
// messages around it, and what it must become.
type badInput struct {
	name   string
	value  []byte
	reason string // the dead-letter reason, "" when it is stored or ignored
}

// badInputs are the bad messages of the issue: random bytes, invalid
// UTF-8, a 10 MB message, deeply nested JSON, a cut-off JSON error.
func badInputs(rnd *rand.Rand) []badInput {
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rnd.UintN(256))
	}
	random[0] = 0 // surely binary
	big := append([]byte(`{"error":"invalid_client","error_description":"`), bytes.Repeat([]byte("a"), 10<<20)...)
	big = append(big, `"}`...)
	return []badInput{
		{"random bytes", random, "binary"},
		{"invalid utf-8", []byte("{\"error\":\"invalid_client\",\"error_description\":\"bad \xff\xfe secret\",\"client_id\":\"web\",\"endpoint\":\"/token\",\"status\":401}"), "binary"},
		{"10 MB", big, "too_large"},
		{"deeply nested json", []byte(strings.Repeat(`{"error":`, 100000) + `"invalid_grant"` + strings.Repeat("}", 100000)), "malformed"},
		{"deeply nested arrays", []byte(`{"error":"invalid_request","x":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`), "malformed"},
		{"cut-off json", []byte(`{"error":"invalid_gr`), "malformed"},
	}
}
