package classify

import (
	"strings"
	"time"
)

// The evidence texts of correlated verdicts: short, human, without secrets
// (keys are keyed hashes, shown by their first 8 hex digits).

// ago says when an earlier event happened relative to now (Unix ns; 0:
// unknown).
func ago(at, now int64) string {
	if at == 0 {
		return "earlier in the stream"
	}
	s := "at " + time.Unix(0, at).UTC().Format("2006-01-02T15:04:05.000Z")
	if now == 0 {
		return s
	}
	d := time.Duration(now - at)
	if d < 0 {
		return s + ", " + (-d).Round(100*time.Millisecond).String() + " after this attempt's time"
	}
	return s + ", " + d.Round(100*time.Millisecond).String() + " before this attempt"
}

func keyNote(k uint64) string {
	const hex = "0123456789abcdef"
	var b [8]byte
	for i := range b {
		b[i] = hex[(k>>(60-4*uint(i)))&0xf]
	}
	return " [key " + string(b[:]) + "]"
}

// strKey is FNV-1a of s, 0 for "".
func strKey(s string) uint64 {
	if s == "" {
		return 0
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	if h == 0 {
		h = 1
	}
	return h
}

// netKey names the network of an address: its /24 (IPv4) or /64 (IPv6).
func netKey(ip string) uint64 {
	if ip == "" || ip == "null" {
		return 0
	}
	if strings.IndexByte(ip, ':') >= 0 {
		n := 0
		for i := 0; i < len(ip); i++ {
			if ip[i] == ':' {
				if n++; n == 4 {
					return strKey(ip[:i])
				}
			}
		}
		return strKey(ip)
	}
	if i := strings.LastIndexByte(ip, '.'); i > 0 {
		return strKey(ip[:i])
	}
	return strKey(ip)
}

// issuerKey names a source's client.
func issuerKey(ev *Event) uint64 {
	return strKey(ev.Source) ^ strKey(ev.ClientID)*31
}
