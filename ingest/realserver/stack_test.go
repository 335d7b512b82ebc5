package realserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nginxConf is nginx in front of Keycloak with the JSON access log of the
// proxy source: request and (JSON) response bodies, the Location header,
// the client address taken from X-Forwarded-For.
const nginxConf = `daemon off;
worker_processes 1;
pid {{dir}}/nginx.pid;
error_log {{dir}}/nginx-error.log warn;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
events { worker_connections 256; }
http {
  client_body_temp_path {{dir}}/nginx-body; proxy_temp_path {{dir}}/nginx-proxy;
  fastcgi_temp_path {{dir}}/nginx-fcgi; uwsgi_temp_path {{dir}}/nginx-uwsgi; scgi_temp_path {{dir}}/nginx-scgi;
  log_format oauth escape=json '{"time_iso8601":"$time_iso8601","remote_addr":"$remote_addr",'
    '"request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,'
    '"request_time":$request_time,"upstream_addr":"$upstream_addr",'
    '"upstream_status":"$upstream_status","upstream_response_time":"$upstream_response_time",'
    '"http_user_agent":"$http_user_agent","request_id":"$request_id",'
    '"sent_http_location":"$sent_http_location","sent_http_www_authenticate":"$sent_http_www_authenticate",'
    '"request_body":"$request_body","resp_body":"$resp_body"}';
  access_log {{dir}}/nginx-access.log oauth;
  server {
    listen 127.0.0.1:{{port}};
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    lua_need_request_body on;
    set $resp_body "";
    body_filter_by_lua_block {
      local ct = ngx.header.content_type or ""
      if ct:find("json", 1, true) and #ngx.var.resp_body < 4096 then
        ngx.var.resp_body = ngx.var.resp_body .. (ngx.arg[1] or "")
      end
    }
    location / {
      proxy_pass http://127.0.0.1:{{upstream}};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
    }
  }
}
`

// startNginx runs nginx in front of Keycloak and returns its access log's
// capture.
func startNginx(t *testing.T, dir string) *Capture {
	t.Helper()
	nginx := "/usr/sbin/nginx"
	if _, err := os.Stat(nginx); err != nil {
		t.Fatalf("nginx missing (run .ci/real/install): %v", err)
	}
	portFree(t, proxyPort)
	conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", fmt.Sprint(proxyPort), "{{upstream}}", fmt.Sprint(kcPort)).Replace(nginxConf)
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	access := filepath.Join(dir, "nginx-access.log")
	os.WriteFile(access, nil, 0o644)
	p := start(t, filepath.Join(dir, "nginx-stderr.log"), nil, nginx, "-c", cf, "-e", filepath.Join(dir, "nginx-error.log"))
	waitHTTP(t, p, kcBase+"/realms/master", time.Minute)
	out, _ := execOutput(nginx, "-v")
	return &Capture{Name: "nginx", Path: access, Out: "../testdata/proxy/real-nginx-keycloak" + keycloakVersion,
		Header: []string{strings.TrimSpace(out) + " (Debian bookworm, libnginx-mod-http-lua) in front of Keycloak " + keycloakVersion,
			"log_format: ingest/realserver/stack_test.go nginxConf (escape=json, request body, JSON response bodies by body_filter_by_lua, sent_http_location)"}}
}
