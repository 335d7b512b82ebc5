package gen

import (
	"strconv"
)

// The API gateway: an RFC 6749 JSON access log.

// gwError is an RFC 6749 error the gateway relays.
type gwError struct {
	status    int
	authorize bool   // at /oauth2/authorize (else /oauth2/token)
	grant     string // grant_type of a token request
	err, desc string
}

func (g *Generator) gatewayOK(b []byte, c int) []byte {
	grant := "refresh_token"
	switch g.rnd.IntN(3) {
	case 0:
		grant = "authorization_code"
	case 1:
		grant = "client_credentials"
	}
	return g.gatewayLine(b, c, 200, false, grant, nil, -1)
}

// gateway appends the gateway's record of a failed request of client c,
// from ip and for user when given.
func (g *Generator) gateway(b []byte, c int, e *gwError, ip []byte, user int) []byte {
	b = g.gatewayLine(b, c, e.status, e.authorize, e.grant, ip, user)
	b = b[:len(b)-1]
	if e.authorize {
		b = append(b, `,"redirect_uri":"`...)
		b = appendRedirect(b, g.clients[c], true)
		b = append(b, '"')
	}
	b = append(b, `,"error":"`...)
	b = append(b, e.err...)
	b = append(b, `","error_description":"`...)
	b = append(b, e.desc...)
	return append(b, `"}`...)
}

func (g *Generator) gatewayLine(b []byte, c, status int, authorize bool, grant string, ip []byte, user int) []byte {
	b = append(b, `{"time":"`...)
	b = appendRFC3339Milli(b, g.now)
	switch {
	case status >= 500:
		b = append(b, `","level":"error"`...)
	case status >= 400:
		b = append(b, `","level":"warn"`...)
	default:
		b = append(b, `","level":"info"`...)
	}
	b = append(b, `,"service":"api-gateway","trace_id":"`...)
	start := len(b)
	b = g.appendHex(b, 32)
	g.setKey(b[start:])
	if authorize {
		b = append(b, `","method":"GET","endpoint":"/oauth2/authorize","status":`...)
	} else {
		b = append(b, `","method":"POST","endpoint":"/oauth2/token","status":`...)
	}
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendInt(b, int64(5+g.rnd.IntN(60)), 10)
	b = append(b, `,"client_id":"`...)
	b = append(b, g.clients[c]...)
	if grant != "" {
		b = append(b, `","grant_type":"`...)
		b = append(b, grant...)
	}
	if user >= 0 {
		b = append(b, `","username":"`...)
		b = g.appendUsername(b, user)
	}
	b = append(b, `","ip":"`...)
	if ip == nil {
		b = g.appendIP(b, "10.")
	} else {
		b = append(b, ip...)
	}
	return append(b, `"}`...)
}
