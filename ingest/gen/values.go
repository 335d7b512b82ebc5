package gen

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// Values: ids, tokens, addresses, names and timestamps, appended without allocating.

const hexDigits = "0123456789abcdef"

func appendHexBits(b []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexDigits[(v>>(4*uint(i)))&0xf])
	}
	return b
}

// appendUUIDBits appends a version 4 uuid made of hi and lo.
func appendUUIDBits(b []byte, hi, lo uint64) []byte {
	b = appendHexBits(b, hi>>32, 8)
	b = append(b, '-')
	b = appendHexBits(b, hi>>16, 4)
	b = append(b, '-')
	b = appendHexBits(b, hi&0x0fff|0x4000, 4)
	b = append(b, '-')
	b = appendHexBits(b, lo>>48&0x3fff|0x8000, 4)
	b = append(b, '-')
	return appendHexBits(b, lo, 12)
}

func (g *Generator) appendUUID(b []byte) []byte {
	return appendUUIDBits(b, g.rnd.Uint64(), g.rnd.Uint64())
}

// uuid returns a new uuid in scratch slot i (valid until the slot's next use).
func (g *Generator) uuid(i int) []byte { return g.appendUUID(g.ids[i][:0]) }

func (g *Generator) appendHex(b []byte, n int) []byte {
	for n > 0 {
		d := min(n, 16)
		b = appendHexBits(b, g.rnd.Uint64(), d)
		n -= d
	}
	return b
}

const tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// appendToken appends n random base64url characters.
func (g *Generator) appendToken(b []byte, n int) []byte {
	for n > 0 {
		v := g.rnd.Uint64()
		for i := 0; i < 10 && n > 0; i, n = i+1, n-1 {
			b = append(b, tokenChars[v&63])
			v >>= 6
		}
	}
	return b
}

// appendIP appends prefix plus random octets up to four.
func (g *Generator) appendIP(b []byte, prefix string) []byte {
	b = append(b, prefix...)
	for i := strings.Count(prefix, "."); i < 3; i++ {
		b = strconv.AppendInt(b, int64(g.rnd.IntN(256)), 10)
		b = append(b, '.')
	}
	return strconv.AppendInt(b, int64(1+g.rnd.IntN(254)), 10)
}

// splitmix64 mixes a user number into stable ids.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func appendUserID(b []byte, user int) []byte {
	return appendUUIDBits(b, splitmix64(uint64(user)), splitmix64(uint64(user)+1<<40))
}

// appendUsername appends user's name: anna.schmidt, anna.schmidt3, ...
func (g *Generator) appendUsername(b []byte, user int) []byte {
	nf, nl := len(g.firsts), len(g.lasts)
	b = append(b, g.firsts[user%nf]...)
	b = append(b, '.')
	b = append(b, g.lasts[user/nf%nl]...)
	if n := user / (nf * nl); n > 0 {
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return b
}

func (g *Generator) appendDisplayName(b []byte, user int) []byte {
	nf, nl := len(g.firsts), len(g.lasts)
	b = append(b, g.names[user%nf]...)
	b = append(b, ' ')
	return append(b, g.names[nf+user/nf%nl]...)
}

// appendRedirect appends the client's registered callback, or the one a bad
// deploy sends instead (a trailing slash).
func appendRedirect(b []byte, client string, deployed bool) []byte {
	b = append(b, "https://"...)
	b = append(b, client...)
	b = append(b, ".example.com/oidc/callback"...)
	if deployed {
		b = append(b, '/')
	}
	return b
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// appendDateTime appends 2006-01-02<sep>15:04:05 (UTC).
func appendDateTime(b []byte, t time.Time, sep byte) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append2(b, y/100)
	b = append2(b, y%100)
	b = append(b, '-')
	b = append2(b, int(mo))
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, sep)
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	return append2(b, s)
}

// appendFrac appends the first digits of t's nanoseconds.
func appendFrac(b []byte, t time.Time, digits int) []byte {
	ns := t.Nanosecond()
	for i := 9; i > digits; i-- {
		ns /= 10
	}
	start := len(b)
	for i := 0; i < digits; i++ {
		b = append(b, '0')
	}
	for i := len(b) - 1; i >= start; i-- {
		b[i] = byte('0' + ns%10)
		ns /= 10
	}
	return b
}

// appendKCTime: 2006-01-02 15:04:05,000 (JBoss log manager).
func appendKCTime(b []byte, t time.Time) []byte {
	b = appendDateTime(b, t, ' ')
	b = append(b, ',')
	return appendFrac(b, t, 3)
}

// appendRFC3339Nano: time.RFC3339Nano (logrus), trailing zeros trimmed.
func appendRFC3339Nano(b []byte, t time.Time) []byte {
	b = appendDateTime(b, t, 'T')
	if t.Nanosecond() != 0 {
		b = append(b, '.')
		b = appendFrac(b, t, 9)
		b = bytes.TrimRight(b, "0")
	}
	return append(b, 'Z')
}

func appendRFC3339Milli(b []byte, t time.Time) []byte {
	b = appendDateTime(b, t, 'T')
	b = append(b, '.')
	b = appendFrac(b, t, 3)
	return append(b, 'Z')
}

// appendEntraTime: seven fraction digits, then zone ("Z" or "+00:00").
func appendEntraTime(b []byte, t time.Time, zone string) []byte {
	b = appendDateTime(b, t, 'T')
	b = append(b, '.')
	b = appendFrac(b, t, 7)
	return append(b, zone...)
}
