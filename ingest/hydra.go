package ingest

import (
	"bytes"
	"github.com/valyala/fastjson"
	"sort"
	"strconv"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Ory Hydra v2: logrus JSON. An error record ("An error occurred", level
// error) carries error.{message,reason,debug,status_code} and http_request;
// the request-completion record of the same request ("completed handling
// request", http_response.status) is its context. A completed token request
// with a status below 400 is a success.

func isHydra(t *top) bool {
	// Kratos and Oathkeeper write the same logrusx records: only Hydra's count.
	if name := bytesOf(t.serviceName); name != nil && !bytes.Contains(name, []byte("Hydra")) && !bytes.Contains(name, []byte("hydra")) {
		return false
	}
	if isObject(t.errorV) && t.msg != nil {
		return true
	}
	return t.httpRequest != nil && t.msg != nil
}

// hydraReq is what a Hydra record says of its HTTP request.
type hydraReq struct {
	path, remote, host []byte
	// headers: the record lists the request headers; auth: one of them
	// is Authorization (its value is redacted by Hydra).
	headers, auth bool
}

func (r *hydraReq) scan(x *fastjson.Value) {
	*r = hydraReq{}
	o, err := x.Object()
	if err != nil {
		return
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "path":
			r.path = bytesOf(v)
		case "remote":
			r.remote = bytesOf(v)
		case "host":
			r.host = bytesOf(v)
		case "headers":
			if h, err := v.Object(); err == nil {
				r.headers = true
				r.auth = h.Get("authorization") != nil
			}
		}
	})
}

func (d *Decoder) decodeHydra(t *top) []classify.Event {
	var req hydraReq
	if t.httpRequest != nil {
		req.scan(t.httpRequest)
	}
	endpoint := endpointOf(d.sym(req.path))
	if isObject(t.errorV) {
		if endpoint == "other" {
			return nil // admin and health APIs are not auth events
		}
		e := t.errorV
		ev := d.next(rules.SourceHydra, classify.Failure)
		ev.Error = d.symAt(e, "message")
		ev.Reason = d.symAt(e, "reason")
		ev.Debug = d.symAt(e, "debug")
		ev.Status = num(e, "status_code")
		ev.Endpoint = endpoint
		if ev.Error == "request_unauthorized" && endpoint == "userinfo" && req.headers && !req.auth {
			// No Authorization header at all: the token was not sent (the
			// same record as for a bad token, but for the headers).
			ev.Error = "missing_token"
		}
		d.hydraRequest(ev, t, &req)
		if ev.Error == "" {
			d.events = d.events[:0]
			return d.malformed(rules.SourceHydra, "hydra error record without error.message")
		}
		return d.events
	}
	if !isObject(t.httpResponse) {
		return nil
	}
	status := num(t.httpResponse, "status")
	if status == 0 || endpoint == "" || endpoint == "other" {
		return nil
	}
	var ev *classify.Event
	switch {
	case status >= 400:
		ev = d.next(rules.SourceHydra, classify.Context)
	case endpoint == "token" && status < 300:
		ev = d.next(rules.SourceHydra, classify.Success)
	case status >= 300 && bytes.Contains(t.httpResponse.GetStringBytes("headers", "location"), []byte("error=")):
		// the redirect that carries an error to the client: the request log
		// of a failure Hydra logged in its own error record
		ev = d.next(rules.SourceHydra, classify.Context)
	case status >= 300 && endpoint == "authorize" && hasParam(t.httpResponse.GetStringBytes("headers", "location"), "code"):
		// the redirect that hands the client its authorization code
		ev = d.next(rules.SourceHydra, classify.Success)
	default:
		return nil
	}
	ev.Status = status
	ev.Endpoint = endpoint
	d.hydraRequest(ev, t, &req)
	return d.events
}

func (d *Decoder) hydraRequest(ev *classify.Event, t *top, req *hydraReq) {
	ev.IP = hostOnly(toString(req.remote))
	ev.Host = d.sym(req.host)
	if isObject(t.otel) {
		ev.TraceID = str(t.otel, "trace_id")
	} else if t.traceID != nil {
		ev.TraceID = toString(bytesOf(t.traceID))
	}
	ev.Time = parseTimeBytes(bytesOf(t.time))
	ev.ClientID = d.sym(bytesOf(t.clientID))
}

// Hydra v1 and text-format v2 logs are logfmt:
//   time="..." level=error msg="An error occurred" debug="..." description="..." error=server_error hint="..."
// (behind an optional container prefix such as `hydra_1 | `).

// decodeHydraText decodes a logfmt error line; ok is false when the line is
// not one.
func (d *Decoder) decodeHydraText(line []byte) ([]classify.Event, bool) {
	if !bytes.Contains(line, []byte("msg=")) || !bytes.Contains(line, []byte("error=")) || !bytes.Contains(line, []byte("level=")) {
		return nil, false
	}
	if bytes.Contains(line, []byte("error=map[")) {
		return d.decodeHydraTextMap(line)
	}
	var ev classify.Event
	var msg []byte
	var description []byte
	parseLogfmt(line, func(k, v []byte) {
		switch string(k) {
		case "msg":
			msg = v
		case "error":
			ev.Error = d.sym(v)
		case "hint", "error_hint", "reason":
			ev.Reason = d.sym(v)
		case "description", "error_description":
			description = v
		case "debug", "error_debug":
			ev.Debug = d.sym(v)
		case "time":
			ev.Time = parseTime(string(v))
		case "request", "path":
			ev.Endpoint = endpointOf(string(v))
		case "status", "status_code":
			ev.Status, _ = strconv.Atoi(string(v))
		case "remote":
			ev.IP = hostOnly(string(v))
		}
	})
	if !isIdentifier(ev.Error) || !(bytes.Contains(msg, []byte("error")) || bytes.Contains(msg, []byte("denied"))) {
		return nil, false
	}
	if ev.Reason == "" {
		ev.Reason = d.sym(description)
	}
	out := d.next(rules.SourceHydra, classify.Failure)
	ev.Source, ev.Outcome = out.Source, out.Outcome
	*out = ev
	return d.events, true
}

// Hydra v2's default text format prints nested fields as Go maps, unquoted:
//   time=... level=info msg=access denied audience=application error=map[debug: message:invalid_grant reason:The authorization code has already been used. status:Bad Request status_code:400] http_request=map[headers:map[...] host:... method:POST path:/oauth2/token ...]
// Go prints map keys sorted, so a field's value runs up to the next known key.

func (d *Decoder) decodeHydraTextMap(line []byte) ([]classify.Event, bool) {
	errMap := goMapAt(line, "error=map[")
	fields := goMapFields(errMap, []string{"debug", "message", "reason", "stack_trace", "status", "status_code"})
	if !isIdentifier(string(fields["message"])) {
		return nil, false
	}
	if p := goMapAt(line, "http_request=map["); p != nil {
		if e := endpointOf(string(goMapScalar(p, "path:"))); e == "other" {
			return nil, false
		}
	}
	ev := d.next(rules.SourceHydra, classify.Failure)
	ev.Error = d.sym(fields["message"])
	ev.Reason = d.sym(fields["reason"])
	ev.Debug = d.sym(fields["debug"])
	ev.Status, _ = strconv.Atoi(string(fields["status_code"]))
	if p := goMapAt(line, "http_request=map["); p != nil {
		ev.Endpoint = endpointOf(string(goMapScalar(p, "path:")))
		ev.IP = hostOnly(string(goMapScalar(p, "remote:")))
	}
	if i := bytes.Index(line, []byte("time=")); i >= 0 {
		t := line[i+5:]
		if j := bytes.IndexByte(t, ' '); j >= 0 {
			t = t[:j]
		}
		ev.Time = parseTime(string(bytes.Trim(t, `"`)))
	}
	return d.events, true
}

// goMapAt returns the content of the Go map printed after prefix (which ends
// in "map["), brackets balanced; nil when absent or unbalanced.
func goMapAt(line []byte, prefix string) []byte {
	i := bytes.Index(line, []byte(prefix))
	if i < 0 {
		return nil
	}
	start := i + len(prefix)
	depth := 1
	for j := start; j < len(line); j++ {
		switch line[j] {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return line[start:j]
			}
		}
	}
	return nil
}

// goMapFields splits "k1:v1 k2:v two k3:v3" for the known keys, in order.
func goMapFields(m []byte, keys []string) map[string][]byte {
	out := map[string][]byte{}
	type pos struct {
		key        string
		start, end int
	}
	var found []pos
	for _, k := range keys {
		needle := []byte(k + ":")
		for off := 0; off < len(m); {
			i := bytes.Index(m[off:], needle)
			if i < 0 {
				break
			}
			i += off
			if i == 0 || m[i-1] == ' ' {
				found = append(found, pos{k, i, i + len(needle)})
				break
			}
			off = i + len(needle)
		}
	}
	sort.Slice(found, func(a, b int) bool { return found[a].start < found[b].start })
	for n, f := range found {
		end := len(m)
		if n+1 < len(found) {
			end = found[n+1].start - 1
		}
		if end < f.end {
			end = f.end
		}
		out[f.key] = bytes.TrimSpace(m[f.end:end])
	}
	return out
}

// goMapScalar returns the value after key up to the next space.
func goMapScalar(m []byte, key string) []byte {
	i := bytes.Index(m, []byte(key))
	for i > 0 && m[i-1] != ' ' {
		j := bytes.Index(m[i+1:], []byte(key))
		if j < 0 {
			return nil
		}
		i += 1 + j
	}
	if i < 0 {
		return nil
	}
	v := m[i+len(key):]
	if j := bytes.IndexAny(v, " ]"); j >= 0 {
		v = v[:j]
	}
	return v
}
