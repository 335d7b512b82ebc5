package ingest

import "github.com/valyala/fastjson"

// top holds the top-level fields of a JSON record that decide its source and
// that the decoders read most, found in one pass over the keys instead of a
// scan per lookup.
type top struct {
	records, errorV, errorCodes, errorDesc, category, status, appID     *fastjson.Value
	loggerName, logLogger, realmID, typ, msg, httpRequest, httpResponse *fastjson.Value
	serviceName, time, otel, traceID, clientID                          *fastjson.Value
	logID, data, detail, eventType, published                           *fastjson.Value // auth0.go, okta.go
	// Zitadel (slog group oidc_error), Authentik (structlog logger/event).
	oidcError, logger, event *fastjson.Value
	// proxy: a key only a reverse proxy's access log has (nginx
	// $body_bytes_sent / $upstream_*, Envoy %RESPONSE_CODE% / %UPSTREAM_*%).
	proxy bool
}

func (t *top) scan(v *fastjson.Value) {
	*t = top{}
	o, err := v.Object()
	if err != nil {
		return
	}
	o.Visit(func(k []byte, x *fastjson.Value) {
		switch string(k) {
		case "records":
			t.records = x
		case "error":
			t.errorV = x
		case "error_codes":
			t.errorCodes = x
		case "error_description":
			t.errorDesc = x
		case "category":
			t.category = x
		case "status":
			t.status = x
		case "appId":
			t.appID = x
		case "loggerName":
			t.loggerName = x
		case "log.logger":
			t.logLogger = x
		case "realmId":
			t.realmID = x
		case "type":
			t.typ = x
		case "msg":
			t.msg = x
		case "http_request":
			t.httpRequest = x
		case "http_response":
			t.httpResponse = x
		case "service_name":
			t.serviceName = x
		case "time":
			t.time = x
		case "otel":
			t.otel = x
		case "trace_id":
			t.traceID = x
		case "client_id":
			t.clientID = x
		case "log_id":
			t.logID = x
		case "data":
			t.data = x
		case "detail":
			t.detail = x
		case "eventType":
			t.eventType = x
		case "published":
			t.published = x
		case "oidc_error":
			t.oidcError = x
		case "logger":
			t.logger = x
		case "event":
			t.event = x
		case "body_bytes_sent", "bytes_sent", "upstream_status", "upstream_addr", "upstream_response_time",
			"response_code", "response_flags", "upstream_cluster", "upstream_host", "resp_body", "response_body",
			"DownstreamStatus", "OriginStatus":
			t.proxy = true
		}
	})
}

// bytesOf returns the bytes of a JSON string value, nil otherwise.
func bytesOf(x *fastjson.Value) []byte {
	if x == nil || x.Type() != fastjson.TypeString {
		return nil
	}
	b, _ := x.StringBytes()
	return b
}

func isObject(x *fastjson.Value) bool { return x != nil && x.Type() == fastjson.TypeObject }
