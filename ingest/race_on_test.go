//go:build race

package ingest

// raceDetector: the tests run with -race (slower by an order of magnitude).
const raceDetector = true
