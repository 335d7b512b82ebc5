package ingest

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/exporter-toolkit/web"
)

// validateWebConfig checks an exporter-toolkit web config file (TLS and
// basic auth of the HTTP endpoints, the format Prometheus and its exporters
// read); empty is none.
func validateWebConfig(path string) error {
	if path == "" {
		return nil
	}
	if err := web.Validate(path); err != nil {
		return fmt.Errorf("web config %s: %w", path, err)
	}
	return nil
}

// serveHTTP serves srv on ln; with a web config file, over TLS and/or with
// basic auth as the file says (re-read on every new connection, so
// certificates and users can change without a restart).
func serveHTTP(ln net.Listener, srv *http.Server, webConfigFile string, logger *slog.Logger) error {
	systemd := false
	addrs := []string{ln.Addr().String()}
	return web.Serve(ln, srv, &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &systemd, WebConfigFile: &webConfigFile},
		logger.With("component", "web"))
}
