package gen

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Scenario names.
const (
	ScenarioBaseline           = "baseline"
	ScenarioSecretExpiry       = "secret-expiry"
	ScenarioRedirectDeploy     = "redirect-deploy"
	ScenarioRefreshReplay      = "refresh-replay"
	ScenarioCredentialStuffing = "credential-stuffing"
	ScenarioServerOutage       = "server-outage"
)

// DefaultScenarioClient is the client the scenarios hit unless told otherwise.
const DefaultScenarioClient = "billing-api"

// Scenarios lists the scenario names, baseline first.
func Scenarios() []string {
	return []string{ScenarioBaseline, ScenarioSecretExpiry, ScenarioRedirectDeploy, ScenarioRefreshReplay,
		ScenarioCredentialStuffing, ScenarioServerOutage}
}

const (
	clientNames = "web-shop mobile-ios mobile-android billing-api partner-portal grafana argo-cd backoffice spa-dashboard cli-tool"
	firstNames  = "anna ben clara david emma felix greta hugo ida jonas lena max nora oskar paula quentin rosa simon tara udo"
	lastNames   = "schmidt meyer weber wagner becker hoffmann koch richter klein wolf neumann schwarz braun zimmer krause hartmann lange werner vogel lehmann"
	numUsers    = 5000 // users of the normal traffic; credential stuffing tries others too

	realmID   = "8f1c2a8e-2b7c-4b61-9d2f-0c1b2d3e4f50"
	realmName = "prod"
	tenant    = "6f1c3a2e-8d4b-4f7a-9c3e-2b5d7e9f1a04"
	hydraHost = "auth.example.com"
	// Hydra's text for a redacted header or query (ory/x logrusx), JSON-escaped.
	hydraRedacted = `Value is sensitive and has been redacted. To see the value set config key \"log.leak_sensitive_values = true\" or environment variable \"LOG_LEAK_SENSITIVE_VALUES=true\".`
	hydraService  = `"service_name":"Ory Hydra","service_version":"v2.2.0","time":"`

	defaultStartUnix = 1795424400 // 2026-11-23T09:00:00Z: the first line when no clock is given
	defaultStep      = 10 * time.Millisecond
)

// Config configures a Generator. Only Seed is needed for the normal mix.
type Config struct {
	Seed int64
	// Scenarios to layer on the normal traffic (names of Scenarios;
	// "baseline" adds nothing).
	Scenarios []string
	// Client the scenarios hit (default DefaultScenarioClient); it is added
	// to the clients of the normal traffic when it is not one of them.
	Client string
	// After is how much generated time passes before the scenarios start;
	// For is how long they last then (0: to the end).
	After, For time.Duration
	// Clock, when set, is the time of every request (live traffic). Else
	// time starts at Start (zero: 2026-11-23T09:00:00Z) and advances by a
	// random step averaging Step (zero: 10ms) per request, so that the same
	// config gives the same bytes.
	Clock func() time.Time
	Start time.Time
	Step  time.Duration
}

// Generator writes realistic mixed-source auth-server log lines, one request
// per Append. Same config, same lines. Not safe for concurrent use.
type Generator struct {
	rnd   *rand.Rand
	clock func() time.Time
	now   time.Time
	step  int64

	clients []string // client ids as Keycloak and the gateway log them
	appIDs  []string // the same clients' Entra application ids
	spIDs   []string // and their service principals
	firsts  []string
	lasts   []string
	names   []string // capitalised first and last names, for display names

	items []item
	total int

	scen      []*scenario
	scenTotal int
	target    int       // index of the scenario client
	from      time.Time // the scenarios start
	until     time.Time // and end (zero: never)
	victims   [3][2]uint64
	stuffers  [4][]byte

	key []byte
	loc []byte // a redirect's Location
	ids [3][36]byte

	saas *saas  // Auth0 and Okta (saas.go)
	tok  []byte // the refresh token id of a $token detail

	// later holds requests that follow an earlier one after a while (a code
	// redeemed too late, a stolen refresh token replayed), by due time.
	later  []lateRequest
	shapes *shapes
}

// lateRequest is a request written when its time comes.
type lateRequest struct {
	due       time.Time
	kind      uint8 // lateCode, lateReplay
	c, user   int
	sess, tok [36]byte
}

const (
	lateCode   uint8  = iota // the exchange of a code issued long ago: Keycloak's "already used" warning + invalid_code
	lateReplay               // a used refresh token replayed from another network
	maxLater   = 1024        // at most this many pending (more are dropped)
)

// item is one kind of request of the normal traffic.
type item struct {
	weight int
	// class is the catalog class of the failure it writes ("" for
	// successes, ignored and context-only lines); the tests check it.
	class string
	flow  flows
	// guard: a configured scenario owns the class, so the normal traffic
	// never writes it for the scenario client.
	guard bool
	write func(g *Generator, b []byte, c int) []byte
}

// flows says which flow a successful request belongs to; a scenario turns
// the hit client's successes of the flows it breaks into its failures.
type flows uint8

const (
	flowLogin   flows = 1 << iota // the browser sign-in (/authorize, login form)
	flowCode                      // the code exchange at /token
	flowRefresh                   // refresh_token grant
	flowClient                    // client_credentials grant, service-principal sign-in
	flowAll     = flowLogin | flowCode | flowRefresh | flowClient
)

type scenario struct {
	name    string
	classes []string // the classes of its failures
	weight  int      // extra requests per ~1000 of normal traffic while active (retries, attacks)
	breaks  flows    // flows of the hit client(s) that fail while active
	share   float64  // the share of those requests that fail
	all     bool     // hits every client, not only the scenario client
	write   func(g *Generator, b []byte, c int) []byte
}

// New returns a generator of the normal traffic seeded with seed.
func New(seed int64) *Generator {
	g, _ := NewWithConfig(Config{Seed: seed})
	return g
}

// NewWithConfig returns a generator configured by cfg.
func NewWithConfig(cfg Config) (*Generator, error) {
	if cfg.After < 0 || cfg.For < 0 {
		return nil, errors.New("scenario start and length must not be negative")
	}
	client := cfg.Client
	if client == "" {
		client = DefaultScenarioClient
	}
	if !plainName(client) {
		return nil, fmt.Errorf("scenario client %q: use letters, digits and . _ - : @ /", client)
	}
	g := &Generator{
		rnd:     rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)),
		clock:   cfg.Clock,
		clients: strings.Fields(clientNames),
		firsts:  strings.Fields(firstNames),
		lasts:   strings.Fields(lastNames),
		step:    int64(cfg.Step),
	}
	if g.step <= 0 {
		g.step = int64(defaultStep)
	}
	start := cfg.Start
	if g.clock != nil {
		start = g.clock()
	} else if start.IsZero() {
		start = time.Unix(defaultStartUnix, 0)
	}
	g.now = start.UTC()
	g.target = slices.Index(g.clients, client)
	if g.target < 0 {
		g.clients = append(g.clients, client)
		g.target = len(g.clients) - 1
	}
	for _, c := range g.clients {
		g.appIDs = append(g.appIDs, AppID(c))
		g.spIDs = append(g.spIDs, AppID(c+"/service-principal"))
	}
	for _, n := range append(slices.Clone(g.firsts), g.lasts...) {
		g.names = append(g.names, strings.ToUpper(n[:1])+n[1:])
	}
	g.saas = newSaaS(g.clients)
	shapes := newShapes()
	g.shapes = shapes
	g.items = append(shapes.baseline(), saasItems()...)
	known := shapes.scenarios()
	for _, name := range cfg.Scenarios {
		if name == ScenarioBaseline {
			continue
		}
		s, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Scenarios(), ", "))
		}
		if !slices.Contains(g.scen, s) {
			g.scen = append(g.scen, s)
			g.scenTotal += s.weight
		}
	}
	for i := range g.items {
		g.total += g.items[i].weight
		for _, s := range g.scen {
			if slices.Contains(s.classes, g.items[i].class) {
				g.items[i].guard = true
			}
		}
	}
	g.from = g.now.Add(cfg.After)
	if cfg.For > 0 {
		g.until = g.from.Add(cfg.For)
	}
	for i := range g.victims { // the sessions whose rotated refresh tokens are replayed
		g.victims[i] = [2]uint64{uint64(g.rnd.IntN(numUsers)), g.rnd.Uint64()}
	}
	for i := range g.stuffers { // the stuffing bots: a few addresses of one provider
		g.stuffers[i] = fmt.Appendf(nil, "198.51.100.%d", 10+g.rnd.IntN(200))
	}
	return g, nil
}

func plainName(s string) bool {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("._-:@/", c):
		default:
			return false
		}
	}
	return s != ""
}

// AppID is the Entra application id of a client: stable, uuid-shaped.
func AppID(client string) string {
	h := fnv.New128a()
	h.Write([]byte(client))
	s := h.Sum(nil)
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(s[i])
		lo = lo<<8 | uint64(s[8+i])
	}
	return string(appendUUIDBits(nil, hi, lo))
}

// Append appends the lines of one request (one to three lines joined by
// newlines, no trailing newline) and sets Key.
func (g *Generator) Append(b []byte) []byte {
	if g.clock != nil {
		g.now = g.clock().UTC()
	} else {
		g.now = g.now.Add(time.Duration(g.rnd.Int64N(2 * g.step)))
	}
	g.key = g.key[:0]
	if len(g.later) > 0 && !g.later[0].due.After(g.now) {
		l := g.later[0]
		g.later = slices.Delete(g.later, 0, 1)
		return g.writeLater(b, &l)
	}
	active := g.active()
	w := g.total
	if active {
		w += g.scenTotal
	}
	n := g.rnd.IntN(w)
	if n >= g.total {
		n -= g.total
		for _, s := range g.scen {
			if n < s.weight {
				c := g.target
				if s.all {
					c = g.rnd.IntN(len(g.clients))
				}
				return s.write(g, b, c)
			}
			n -= s.weight
		}
	}
	i := 0
	for n >= g.items[i].weight {
		n -= g.items[i].weight
		i++
	}
	it := &g.items[i]
	c := g.client(it.guard)
	if active && it.flow != 0 {
		for _, s := range g.scen {
			if s.breaks&it.flow != 0 && (s.all || c == g.target) && g.rnd.Float64() < s.share {
				return s.write(g, b, c)
			}
		}
	}
	return it.write(g, b, c)
}

// Key is the Kafka message key of the lines of the last Append: the id that
// relates them (Keycloak session id, else thread; the Hydra request's remote
// address; the Entra correlation id; the gateway's trace id), so that they
// share a partition. Every line of the Append contains it. Valid until the
// next Append.
func (g *Generator) Key() []byte { return g.key }

// Now is the time of the last request.
func (g *Generator) Now() time.Time { return g.now }

func (g *Generator) active() bool {
	if len(g.scen) == 0 || g.now.Before(g.from) {
		return false
	}
	return g.until.IsZero() || g.now.Before(g.until)
}

// client picks a client; with guard, never the scenario client.
func (g *Generator) client(guard bool) int {
	if !guard {
		return g.rnd.IntN(len(g.clients))
	}
	c := g.rnd.IntN(len(g.clients) - 1)
	if c >= g.target {
		c++
	}
	return c
}

func (g *Generator) setKey(k []byte) { g.key = append(g.key[:0], k...) }
