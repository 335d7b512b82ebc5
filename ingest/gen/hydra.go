package gen

import (
	"strconv"
	"time"
)

// Ory Hydra v2: JSON request records and error records.

// hydraError is the error of a Hydra record (ory/x logrusx WithError).
type hydraError struct {
	message, reason, debug string
	status                 int
	// logged: Hydra logs it at level error ("An error occurred"), as it does
	// server_error; other token errors are audit records ("access denied").
	logged bool
}

// hydraRequest appends the http_request object of a token (API client) or
// browser (/oauth2/auth) request.
func hydraRequest(b []byte, browser bool, remote []byte) []byte {
	if browser {
		b = append(b, `"http_request":{"headers":{"accept":"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8","accept-encoding":"gzip, deflate, br","accept-language":"en-US,en;q=0.5","cookie":"`+hydraRedacted+`","referer":"https://app.example.com/","user-agent":"Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0","x-forwarded-proto":"https"},"host":"`+hydraHost+`","method":"GET","path":"/oauth2/auth","query":"`+hydraRedacted+`","remote":"`...)
	} else {
		b = append(b, `"http_request":{"headers":{"accept":"application/json","authorization":"`+hydraRedacted+`","content-length":"221","content-type":"application/x-www-form-urlencoded","user-agent":"Go-http-client/1.1"},"host":"`+hydraHost+`","method":"POST","path":"/oauth2/token","query":null,"remote":"`...)
	}
	b = append(b, remote...)
	return append(b, `","scheme":"http"}`...)
}

func (g *Generator) hydraRemote(ip []byte) []byte {
	r := g.ids[2][:0]
	if ip == nil {
		r = g.appendIP(r, "10.42.")
	} else {
		r = append(r, ip...)
	}
	r = append(r, ':')
	r = strconv.AppendInt(r, int64(30000+g.rnd.IntN(30000)), 10)
	g.setKey(r)
	return g.key
}

func hydraStarted(b []byte, browser bool, remote []byte, t time.Time) []byte {
	b = append(b, `{"audience":"application",`...)
	b = hydraRequest(b, browser, remote)
	b = append(b, `,"level":"info","msg":"started handling request",`+hydraService...)
	b = appendRFC3339Nano(b, t)
	return append(b, "\"}\n"...)
}

func hydraCompleted(b []byte, browser bool, remote []byte, status, size int, location []byte, took time.Duration, t time.Time) []byte {
	b = append(b, `{"audience":"application",`...)
	b = hydraRequest(b, browser, remote)
	if location != nil {
		b = append(b, `,"http_response":{"headers":{"location":"`...)
		b = append(b, location...)
		b = append(b, `"}`...)
	} else {
		b = append(b, `,"http_response":{"headers":{"cache-control":"no-store","content-type":"application/json;charset=UTF-8","pragma":"no-cache"}`...)
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"text_status":"`...)
	b = append(b, statusText(status)...)
	b = append(b, `","took":`...)
	b = strconv.AppendInt(b, int64(took), 10)
	b = append(b, `},"level":"info","msg":"completed handling request",`+hydraService...)
	b = appendRFC3339Nano(b, t.Add(took))
	return append(b, `"}`...)
}

func hydraErrorRecord(b []byte, browser, audit bool, e *hydraError, remote []byte, t time.Time) []byte {
	if audit {
		b = append(b, `{"audience":"audit","error":{"debug":"`...)
	} else {
		b = append(b, `{"audience":"application","error":{"debug":"`...)
	}
	b = append(b, e.debug...)
	b = append(b, `","message":"`...)
	b = append(b, e.message...)
	b = append(b, `","reason":"`...)
	b = append(b, e.reason...)
	b = append(b, `","status":"`...)
	b = append(b, statusText(e.status)...)
	b = append(b, `","status_code":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, "},"...)
	b = hydraRequest(b, browser, remote)
	if e.logged {
		b = append(b, `,"level":"error","msg":"An error occurred",`+hydraService...)
	} else {
		b = append(b, `,"level":"info","msg":"access denied",`+hydraService...)
	}
	b = appendRFC3339Nano(b, t)
	return append(b, "\"}\n"...)
}

// hydraTook is a request's duration: base to five times base microseconds.
func (g *Generator) hydraTook(base int) time.Duration {
	return time.Duration(int64(base)*1000 + g.rnd.Int64N(int64(4*base)*1000))
}

func (g *Generator) hydraTokenOK(b []byte) []byte {
	remote := g.hydraRemote(nil)
	took := g.hydraTook(10000)
	b = hydraStarted(b, false, remote, g.now)
	return hydraCompleted(b, false, remote, 200, 1000+g.rnd.IntN(600), nil, took, g.now)
}

// hydraToken: a failed token request, from ip when given: started, the
// error record, completed.
func (g *Generator) hydraToken(b []byte, e *hydraError, ip []byte) []byte {
	remote := g.hydraRemote(ip)
	took := g.hydraTook(3000)
	b = hydraStarted(b, false, remote, g.now)
	b = hydraErrorRecord(b, false, false, e, remote, g.now.Add(took*9/10))
	return hydraCompleted(b, false, remote, e.status, 200+g.rnd.IntN(200), nil, took, g.now)
}

func (g *Generator) hydraAuthorizeOK(b []byte, c int) []byte {
	remote := g.hydraRemote(nil)
	took := g.hydraTook(8000)
	b = hydraStarted(b, true, remote, g.now)
	loc := appendRedirect(g.loc[:0], g.clients[c], false)
	loc = append(loc, "?code=ory_ac_"...)
	loc = g.appendToken(loc, 43)
	loc = append(loc, '.')
	loc = g.appendToken(loc, 43)
	loc = append(loc, "&scope=openid+offline_access&state="...)
	loc = g.appendToken(loc, 16)
	g.loc = loc
	return hydraCompleted(b, true, remote, 302, 0, loc, took, g.now)
}

// hydraAuthorizeBadRedirect: fosite refuses an unregistered redirect_uri at
// /oauth2/auth (level error) and sends the browser to the error page.
func (g *Generator) hydraAuthorizeBadRedirect(b []byte, _ int) []byte {
	e := hydraError{message: "invalid_request", status: 400, logged: true,
		reason: "The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls."}
	remote := g.hydraRemote(nil)
	took := g.hydraTook(2000)
	b = hydraStarted(b, true, remote, g.now)
	b = hydraErrorRecord(b, true, false, &e, remote, g.now.Add(took*9/10))
	loc := append(g.loc[:0], "https://login.example.com/error?error=invalid_request&error_description=The+request+is+missing+a+required+parameter%2C+includes+an+invalid+parameter+value%2C+includes+a+parameter+more+than+once%2C+or+is+otherwise+malformed.+The+%27redirect_uri%27+parameter+does+not+match+any+of+the+OAuth+2.0+Client%27s+pre-registered+redirect+urls.&state="...)
	loc = g.appendToken(loc, 16)
	g.loc = loc
	return hydraCompleted(b, true, remote, 302, 0, loc, took, g.now)
}

// hydraLoginRequired: prompt=none without a session (an audit record), the
// redirect carries the error to the client.
func (g *Generator) hydraLoginRequired(b []byte, c int) []byte {
	e := hydraError{message: "login_required", status: 400,
		reason: "Prompt 'none' was requested, but no existing login session was found."}
	remote := g.hydraRemote(nil)
	took := g.hydraTook(2000)
	b = hydraStarted(b, true, remote, g.now)
	b = hydraErrorRecord(b, true, true, &e, remote, g.now.Add(took*9/10))
	loc := appendRedirect(g.loc[:0], g.clients[c], false)
	loc = append(loc, "?error=login_required&error_description=The+Authorization+Server+requires+End-User+authentication.+Prompt+%27none%27+was+requested%2C+but+no+existing+login+session+was+found.&state="...)
	loc = g.appendToken(loc, 16)
	g.loc = loc
	return hydraCompleted(b, true, remote, 302, 0, loc, took, g.now)
}

func (g *Generator) hydraHealth(b []byte) []byte {
	remote := append(g.ids[2][:0], "10.0.0.1:"...)
	remote = strconv.AppendInt(remote, int64(30000+g.rnd.IntN(30000)), 10)
	g.setKey(remote)
	b = append(b, `{"audience":"application","http_request":{"headers":{"user-agent":"kube-probe/1.29"},"host":"10.0.0.7:4445","method":"GET","path":"/health/ready","query":null,"remote":"`...)
	b = append(b, remote...)
	b = append(b, `","scheme":"http"},"http_response":{"headers":{"content-type":"application/json; charset=utf-8"},"size":16,"status":200,"text_status":"OK","took":`...)
	b = strconv.AppendInt(b, int64(150000+g.rnd.IntN(200000)), 10)
	b = append(b, `},"level":"info","msg":"completed handling request",`+hydraService...)
	b = appendRFC3339Nano(b, g.now)
	return append(b, `"}`...)
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 302:
		return "Found"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 500:
		return "Internal Server Error"
	case 503:
		return "Service Unavailable"
	}
	return "Error"
}
