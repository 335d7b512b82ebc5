package ingest

import (
	"github.com/valyala/fastjson"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// Ory Hydra v2: logrus JSON. An error record ("An error occurred", level
// error) carries error.{message,reason,debug,status_code} and http_request;
// the request-completion record of the same request ("completed handling
// request", http_response.status) is its context. A completed token request
// with a status below 400 is a success.

func isHydra(v *fastjson.Value) bool {
	if e := v.Get("error"); e != nil && e.Type() == fastjson.TypeObject && v.Exists("msg") {
		return true
	}
	return v.Exists("http_request") && v.Exists("msg")
}

func (d *Decoder) decodeHydra(v *fastjson.Value) []classify.Event {
	path := str(v, "http_request", "path")
	endpoint := endpointOf(path)
	if e := v.Get("error"); e != nil && e.Type() == fastjson.TypeObject {
		if endpoint == "other" {
			return nil // admin and health APIs are not auth events
		}
		ev := d.next(rules.SourceHydra, classify.Failure)
		ev.Error = str(e, "message")
		ev.Reason = str(e, "reason")
		ev.Debug = str(e, "debug")
		ev.Status = num(e, "status_code")
		ev.Endpoint = endpoint
		d.hydraRequest(ev, v)
		if ev.Error == "" {
			d.events = d.events[:0]
			return d.malformed(rules.SourceHydra, "hydra error record without error.message")
		}
		return d.events
	}
	status := num(v, "http_response", "status")
	if status == 0 || endpoint == "" || endpoint == "other" {
		return nil
	}
	var ev *classify.Event
	switch {
	case status >= 400:
		ev = d.next(rules.SourceHydra, classify.Context)
	case endpoint == "token" && status < 300:
		ev = d.next(rules.SourceHydra, classify.Success)
	default:
		return nil
	}
	ev.Status = status
	ev.Endpoint = endpoint
	d.hydraRequest(ev, v)
	return d.events
}

func (d *Decoder) hydraRequest(ev *classify.Event, v *fastjson.Value) {
	ev.IP = hostOnly(str(v, "http_request", "remote"))
	ev.Host = str(v, "http_request", "host")
	ev.TraceID = str(v, "otel", "trace_id")
	if ev.TraceID == "" {
		ev.TraceID = str(v, "trace_id")
	}
	ev.Time = parseTime(str(v, "time"))
	if c := str(v, "client_id"); c != "" {
		ev.ClientID = c
	}
}
