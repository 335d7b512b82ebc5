// Package realserver is the real-server suite: it starts real authorization
// servers and proxies on 127.0.0.1 (Keycloak, Ory Hydra, nginx, oauth2-proxy),
// drives them through failing OAuth flows between successes, captures their
// logs and checks that authsift classifies every captured line as the flow
// driver expects: each failure with its class and counted once, no normal step
// a failure.
//
// The expectation of each line comes from what the driver did (a scenario
// file beside each captured log: line ranges, the scenario, the expected
// failure classes), never from authsift's output. The captured logs are
// committed under ../testdata/<source>/real-*.log with their .scenarios files,
// so `make test` checks them without the servers (TestCapturedLogs);
// `make test-real` starts the servers, captures afresh and checks the fresh
// logs the same way (AUTHSIFT_TEST_REAL=required).
package realserver
