// Package gen generates realistic auth-server traffic: log lines of every
// source the decoders read (Keycloak events and OAuth2CodeParser warnings,
// Ory Hydra v2 JSON request and error records, Entra sign-in records and
// token error bodies, an API gateway's RFC 6749 JSON log, Zitadel,
// Authentik, Dex, reverse proxies and oauth2-proxy, Auth0 and Okta events),
// successes far more often than failures, context lines and noise, with
// incident scenarios layered on top for demos, rehearsals and benchmarks.
// Same config, same bytes.
//
// Its one job is writing that traffic, to an io.Writer or to Kafka; it
// imports nothing of ingest. Line shapes are copied from ingest/testdata and
// rules/tests, one file per source family (keycloak.go, hydra.go, entra.go,
// gateway.go, oss.go, saas.go); its tests run every shape through the real
// decoders and catalog.
package gen
