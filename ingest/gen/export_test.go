package gen

import (
	"fmt"
	"time"
)

// What the external tests (package gen_test, which classify generated lines
// with package ingest) need of the generator's insides.

// DefaultStartUnix is the time of the first request when no clock is given.
const DefaultStartUnix = defaultStartUnix

// Shape is one kind of request of the normal traffic, or a scenario's
// request.
type Shape struct {
	Name    string
	Classes []string // the classes of its failures (none: successes, context or noise)
	Success bool     // it belongs to a flow: it writes successes only
	Write   func(b []byte, c int) []byte
}

// Shapes lists the kinds of request of the normal traffic, then the
// configured scenarios' requests; Write appends one of client c.
func (g *Generator) Shapes() []Shape {
	var out []Shape
	for i, it := range g.items {
		var cl []string
		if it.class != "" {
			cl = []string{it.class}
		}
		out = append(out, Shape{fmt.Sprintf("item %d %s", i, it.class), cl, it.flow != 0,
			func(b []byte, c int) []byte { return it.write(g, b, c) }})
	}
	for _, s := range g.scen {
		out = append(out, Shape{s.name, s.classes, false, func(b []byte, c int) []byte { return s.write(g, b, c) }})
	}
	return out
}

// Tick advances the generator's time by d.
func (g *Generator) Tick(d time.Duration) { g.now = g.now.Add(d) }

// Clients is the number of clients of the traffic.
func (g *Generator) Clients() int { return len(g.clients) }

// ClientIDs lists the clients' ids as source ("auth0" or "okta") logs them.
func (g *Generator) ClientIDs(source string) []string {
	if source == "okta" {
		return g.saas.oktaIDs
	}
	return g.saas.auth0IDs
}
