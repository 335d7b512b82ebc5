package gen_test

import (
	"testing"
	"time"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest/gen"
)

// TestSaaS: the normal traffic has Auth0 and Okta successes and failures
// of several classes, every one classified (checkClean), and the clients
// keep their ids per source.
func TestSaaS(t *testing.T) {
	engine := newEngine(t)
	data := generateFor(t, gen.Config{Seed: 11}, 120*time.Second)
	recs := classifyLines(t, engine, data)
	checkClean(t, data, recs)
	g := gen.New(11)
	for _, source := range []string{"auth0", "okta"} {
		outcomes := map[classify.Outcome]int{}
		classes := map[string]bool{}
		for _, r := range recs {
			if r.source != source {
				continue
			}
			outcomes[r.outcome]++
			if r.outcome == classify.Failure {
				classes[r.class] = true
			}
			if r.client != "" && !contains(g.ClientIDs(source), r.client) {
				t.Errorf("%s client %q is none of the generator's clients", source, r.client)
			}
		}
		succ, fail := outcomes[classify.Success], outcomes[classify.Failure]
		if succ < 3*fail || fail == 0 {
			t.Errorf("%s: %d successes, %d failures: want some failures, most requests successful", source, succ, fail)
		}
		if len(classes) < 5 {
			t.Errorf("%s: only %d classes: %v", source, len(classes), classes)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
