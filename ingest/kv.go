package ingest

import "bytes"

// The text formats several sources share: comma-separated key=value lists
// (Keycloak's event records, the auth-params of a WWW-Authenticate header)
// and logfmt (Hydra's, Dex's and Zitadel's text records).

// kvVisitor receives the key/value pairs of an event line.
type kvVisitor func(key, value []byte)

// parseCommaKV parses `type=X, realmId=Y, reason='a b', k="v"`. It reports
// false when a quoted value is not closed.
func parseCommaKV(s []byte, visit kvVisitor) bool {
	for len(s) > 0 {
		eq := bytes.IndexByte(s, '=')
		if eq <= 0 {
			return true
		}
		key := bytes.TrimSpace(s[:eq])
		s = s[eq+1:]
		var val []byte
		switch {
		case len(s) > 0 && s[0] == '"':
			end, out, ok := unquoteDouble(s[1:])
			if !ok {
				return false
			}
			val = out
			s = s[1+end:]
		case len(s) > 0 && s[0] == '\'':
			// Single quotes are not escaped (<=23): the value ends at the
			// last quote before `, key=` or the end of the line.
			end := singleQuoteEnd(s[1:])
			if end < 0 {
				return false
			}
			val = s[1 : 1+end]
			s = s[1+end+1:]
		default:
			end := bytes.Index(s, []byte(", "))
			if end < 0 {
				end = len(s)
			}
			val = bytes.TrimSpace(s[:end])
			s = s[end:]
		}
		visit(key, val)
		s = bytes.TrimPrefix(bytes.TrimLeft(s, " "), []byte(","))
		s = bytes.TrimLeft(s, " ")
	}
	return true
}

// unquoteDouble reads up to the closing unescaped quote. It returns the index
// just past the quote, the unescaped value, and whether a quote was found.
func unquoteDouble(s []byte) (int, []byte, bool) {
	for off := 0; ; {
		j := bytes.IndexByte(s[off:], '"')
		if j < 0 {
			return 0, nil, false
		}
		i := off + j
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for k := i - 1; k >= 0 && s[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			v := s[:i]
			if bytes.IndexByte(v, '\\') >= 0 {
				v = unescape(v)
			}
			return i + 1, v, true
		}
		off = i + 1
	}
}

// singleQuoteEnd finds the quote that closes a '...' value: one followed by
// `, identifier=` or by the end of the line.
func singleQuoteEnd(s []byte) int {
	last := -1
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' {
			continue
		}
		last = i
		rest := s[i+1:]
		if len(bytes.TrimSpace(rest)) == 0 {
			return i
		}
		if bytes.HasPrefix(rest, []byte(", ")) && startsWithKey(rest[2:]) {
			return i
		}
	}
	return last
}

// isIdentifier: a wire error looks like invalid_grant, not like &{Forbidden 403}.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// parseLogfmt visits key=value and key="quoted value" pairs separated by spaces.
func parseLogfmt(s []byte, visit func(k, v []byte)) {
	for len(s) > 0 {
		s = bytes.TrimLeft(s, " ")
		eq := bytes.IndexByte(s, '=')
		if eq < 0 {
			return
		}
		key := s[:eq]
		if sp := bytes.LastIndexByte(key, ' '); sp >= 0 {
			key = key[sp+1:] // a word without "=" before the key
		}
		s = s[eq+1:]
		var val []byte
		if len(s) > 0 && s[0] == '"' {
			end, out, ok := unquoteDouble(s[1:])
			if !ok {
				return
			}
			val, s = out, s[1+end:]
		} else {
			end := bytes.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		visit(key, val)
	}
}
