// Package rarebyte finds a substring by one of its rarer bytes: the scans of
// the hot path (decoding, redaction) look for separators whose first byte is
// in most words of a log line.
package rarebyte

import (
	"bytes"
	"unsafe"
)

// Index is bytes.Index(s, sep) found by sep[k], a byte rarer in log lines
// than sep's first ('a', 'r' and 't' are in most words).
func Index(s []byte, sep string, k int) int {
	c := sep[k]
	for off := k; off < len(s); {
		j := bytes.IndexByte(s[off:], c)
		if j < 0 {
			return -1
		}
		i := off + j - k
		if i+len(sep) > len(s) {
			return -1
		}
		if string(s[i:i+len(sep)]) == sep {
			return i
		}
		off += j + 1
	}
	return -1
}

// IndexString is Index for a string (read in place, not copied).
func IndexString(s, sep string, k int) int {
	return Index(unsafe.Slice(unsafe.StringData(s), len(s)), sep, k)
}
