// Package dashboards holds what SREs use to watch authsift: the Prometheus
// recording rules (recording.yaml) and alert rules (alerts.yaml), their
// promtool unit tests (tests/*.yaml) and the runbook (runbook.md) that every
// alert links to, with a section for every alert and every class of the
// catalog.
//
// The package has no code of its own yet; its tests check the files: they run
// `promtool check rules` and `promtool test rules` (skipped when promtool is
// not installed, unless $CI is set), check that every alert has a severity,
// a summary, a description and a runbook_url whose anchor exists, that every
// alert has a promtool case that fires it and one that keeps it quiet, that
// every metric an expression (or a PromQL query of the runbook) names is
// exported by ingest/metrics.go, that the class and family values match
// rules/catalog/classes.yaml, and that the runbook's class sections are the
// ones generated from that catalog:
//
//	go test ./dashboards -run TestRunbookClasses -update
//
// rewrites them after a catalog change.
package dashboards
