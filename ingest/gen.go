package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// The traffic generator: auth-server log lines of every source the decoders
// read (Keycloak events and OAuth2CodeParser warnings, Ory Hydra v2 JSON
// request and error records, Entra sign-in records and token error bodies,
// an API gateway's RFC 6749 JSON log; Auth0 and Okta events in gen_saas.go):
// successes far more often than failures, context lines and noise, with
// incident scenarios layered on top for rehearsals. Line shapes are copied from ingest/testdata and
// rules/tests; gen_test.go runs every shape through the real catalog.

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

// GenScenarios lists the scenario names, baseline first.
func GenScenarios() []string {
	return []string{ScenarioBaseline, ScenarioSecretExpiry, ScenarioRedirectDeploy, ScenarioRefreshReplay,
		ScenarioCredentialStuffing, ScenarioServerOutage}
}

const (
	genClientNames = "web-shop mobile-ios mobile-android billing-api partner-portal grafana argo-cd backoffice spa-dashboard cli-tool"
	genFirstNames  = "anna ben clara david emma felix greta hugo ida jonas lena max nora oskar paula quentin rosa simon tara udo"
	genLastNames   = "schmidt meyer weber wagner becker hoffmann koch richter klein wolf neumann schwarz braun zimmer krause hartmann lange werner vogel lehmann"
	genUsers       = 5000 // users of the normal traffic; credential stuffing tries others too

	genRealmID   = "8f1c2a8e-2b7c-4b61-9d2f-0c1b2d3e4f50"
	genRealmName = "prod"
	genTenant    = "6f1c3a2e-8d4b-4f7a-9c3e-2b5d7e9f1a04"
	genHydraHost = "auth.example.com"
	// Hydra's text for a redacted header or query (ory/x logrusx), JSON-escaped.
	genHydraRedacted = `Value is sensitive and has been redacted. To see the value set config key \"log.leak_sensitive_values = true\" or environment variable \"LOG_LEAK_SENSITIVE_VALUES=true\".`
	genHydraService  = `"service_name":"Ory Hydra","service_version":"v2.2.0","time":"`

	genDefaultStartUnix = 1795424400 // 2026-11-23T09:00:00Z: the first line when no clock is given
	genDefaultStep      = 10 * time.Millisecond
)

// GenConfig configures a Generator. Only Seed is needed for the normal mix.
type GenConfig struct {
	Seed int64
	// Scenarios to layer on the normal traffic (names of GenScenarios;
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

	items []genItem
	total int

	scen      []*genScenario
	scenTotal int
	target    int       // index of the scenario client
	from      time.Time // the scenarios start
	until     time.Time // and end (zero: never)
	victims   [3][2]uint64
	stuffers  [4][]byte

	key []byte
	loc []byte // a redirect's Location
	ids [3][36]byte

	saas *genSaaS // Auth0 and Okta (gen_saas.go)
	tok  []byte   // the refresh token id of a $token detail

	// later holds requests that follow an earlier one after a while (a code
	// redeemed too late, a stolen refresh token replayed), by due time.
	later  []genLater
	shapes *genShapes
}

// genLater is a request written when its time comes.
type genLater struct {
	due       time.Time
	kind      uint8 // genLateCode, genLateReplay
	c, user   int
	sess, tok [36]byte
}

const (
	genLateCode   uint8  = iota // the exchange of a code issued long ago: Keycloak's "already used" warning + invalid_code
	genLateReplay               // a used refresh token replayed from another network
	genLaterMax   = 1024        // at most this many pending (more are dropped)
)

// genItem is one kind of request of the normal traffic.
type genItem struct {
	weight int
	// class is the catalog class of the failure it writes ("" for
	// successes, ignored and context-only lines); the tests check it.
	class string
	flow  genFlow
	// guard: a configured scenario owns the class, so the normal traffic
	// never writes it for the scenario client.
	guard bool
	write func(g *Generator, b []byte, c int) []byte
}

// genFlow says which flow a successful request belongs to; a scenario turns
// the hit client's successes of the flows it breaks into its failures.
type genFlow uint8

const (
	flowLogin   genFlow = 1 << iota // the browser sign-in (/authorize, login form)
	flowCode                        // the code exchange at /token
	flowRefresh                     // refresh_token grant
	flowClient                      // client_credentials grant, service-principal sign-in
	flowAll     = flowLogin | flowCode | flowRefresh | flowClient
)

type genScenario struct {
	name    string
	classes []string // the classes of its failures
	weight  int      // extra requests per ~1000 of normal traffic while active (retries, attacks)
	breaks  genFlow  // flows of the hit client(s) that fail while active
	share   float64  // the share of those requests that fail
	all     bool     // hits every client, not only the scenario client
	write   func(g *Generator, b []byte, c int) []byte
}

// NewGenerator returns a generator of the normal traffic seeded with seed.
func NewGenerator(seed int64) *Generator {
	g, _ := NewScenarioGenerator(GenConfig{Seed: seed})
	return g
}

// NewScenarioGenerator returns a generator configured by cfg.
func NewScenarioGenerator(cfg GenConfig) (*Generator, error) {
	if cfg.After < 0 || cfg.For < 0 {
		return nil, errors.New("scenario start and length must not be negative")
	}
	client := cfg.Client
	if client == "" {
		client = DefaultScenarioClient
	}
	if !genPlainName(client) {
		return nil, fmt.Errorf("scenario client %q: use letters, digits and . _ - : @ /", client)
	}
	g := &Generator{
		rnd:     rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)),
		clock:   cfg.Clock,
		clients: strings.Fields(genClientNames),
		firsts:  strings.Fields(genFirstNames),
		lasts:   strings.Fields(genLastNames),
		step:    int64(cfg.Step),
	}
	if g.step <= 0 {
		g.step = int64(genDefaultStep)
	}
	start := cfg.Start
	if g.clock != nil {
		start = g.clock()
	} else if start.IsZero() {
		start = time.Unix(genDefaultStartUnix, 0)
	}
	g.now = start.UTC()
	g.target = slices.Index(g.clients, client)
	if g.target < 0 {
		g.clients = append(g.clients, client)
		g.target = len(g.clients) - 1
	}
	for _, c := range g.clients {
		g.appIDs = append(g.appIDs, genAppID(c))
		g.spIDs = append(g.spIDs, genAppID(c+"/service-principal"))
	}
	for _, n := range append(slices.Clone(g.firsts), g.lasts...) {
		g.names = append(g.names, strings.ToUpper(n[:1])+n[1:])
	}
	g.saas = newGenSaaS(g.clients)
	shapes := newGenShapes()
	g.shapes = shapes
	g.items = append(shapes.baseline(), genSaaSItems()...)
	known := shapes.scenarios()
	for _, name := range cfg.Scenarios {
		if name == ScenarioBaseline {
			continue
		}
		s, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(GenScenarios(), ", "))
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
		g.victims[i] = [2]uint64{uint64(g.rnd.IntN(genUsers)), g.rnd.Uint64()}
	}
	for i := range g.stuffers { // the stuffing bots: a few addresses of one provider
		g.stuffers[i] = fmt.Appendf(nil, "198.51.100.%d", 10+g.rnd.IntN(200))
	}
	return g, nil
}

func genPlainName(s string) bool {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("._-:@/", c):
		default:
			return false
		}
	}
	return s != ""
}

// genAppID is the Entra application id of a client: stable, uuid-shaped.
func genAppID(client string) string {
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

// genShapes holds the line shapes: built per generator, so no package state.
type genShapes struct {
	kcLogin, kcCodeToToken, kcRefresh, kcClientLogin                      kcShape
	kcBadPassword, kcUserNotFound, kcPKCEMismatch, kcPKCEMalformed        kcShape
	kcRedirectMismatch, kcSecretInvalid, kcClientSecretRejected           kcShape
	kcCodeExpired, kcRefreshExpired, kcSessionEnded, kcRedirectUnknown    kcShape
	kcClientNotFound, kcDeployedRedirect, kcCodeInvalid, kcRefreshReused  kcShape
	kcRefreshUse, kcRefreshReusedTok                                      kcShape
	hydraCodeReused, hydraPKCE, hydraRedirectMismatch, hydraRefreshReused hydraError
	hydraRefreshExpired, hydraBadSecret, hydraUnknownClient               hydraError
	hydraGrantNotAllowed, hydraServerError                                hydraError
	entraOK, entraBadPassword, entraNoUser, entraLocked, entraCA          entraSignIn
	entraConsent, entraKMSI, entraRedirect                                entraSignIn
	entraSPOK, entraSPBadSecret, entraSPExpired                           entraSignIn
	entraCodeRedeemed, entraBadSecret, entraSecretExpired, entraPKCE      entraError
	entraRefreshInactive, entraRetryable                                  entraError
	gwInvalidScope, gwUnsupportedGrant, gwCodeRejected, gwUnavailable     gwError
	gwServerError, gwRedirectUnregistered, gwRefreshReused, gwBadPassword gwError
}

func newGenShapes() *genShapes {
	const (
		info, warn = "INFO ", "WARN "
		codeGrant  = "authorization_code"
	)
	return &genShapes{
		// Keycloak events: field order and strings from ingest/testdata/keycloak and rules/tests/keycloak.yaml.
		kcLogin: kcShape{level: info, typ: "LOGIN", user: true, details: []string{"auth_method", "openid-connect",
			"auth_type", "code", "response_type", "code", "redirect_uri", "$redirect", "consent", "no_consent_required",
			"code_id", "$session", "username", "$username"}},
		kcCodeToToken: kcShape{level: info, typ: "CODE_TO_TOKEN", user: true, session: true, details: []string{
			"token_id", "$uuid", "grant_type", codeGrant, "refresh_token_type", "Refresh", "scope", "openid email profile",
			"refresh_token_id", "$uuid", "code_id", "$session", "client_auth_method", "client-secret"}},
		kcRefresh: kcShape{level: info, typ: "REFRESH_TOKEN", user: true, session: true, details: []string{
			"token_id", "$uuid", "grant_type", "refresh_token", "refresh_token_type", "Refresh", "scope", "openid email profile",
			"refresh_token_id", "$uuid", "updated_refresh_token_id", "$uuid", "client_auth_method", "client-secret"}},
		kcClientLogin: kcShape{level: info, typ: "CLIENT_LOGIN", user: true, details: []string{"token_id", "$uuid",
			"grant_type", "client_credentials", "scope", "profile email", "client_auth_method", "client-secret"}},
		kcBadPassword: kcShape{level: warn, typ: "LOGIN_ERROR", user: true, err: "invalid_user_credentials", details: []string{
			"auth_method", "openid-connect", "auth_type", "code", "redirect_uri", "$redirect", "code_id", "$session", "username", "$username"}},
		kcUserNotFound: kcShape{level: warn, typ: "LOGIN_ERROR", err: "user_not_found", details: []string{
			"auth_method", "openid-connect", "auth_type", "code", "redirect_uri", "$redirect", "code_id", "$session", "username", "$username"}},
		kcPKCEMismatch: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", user: true, session: true, err: "pkce_verification_failed",
			details: []string{"reason", "Code mismatch", "grant_type", codeGrant, "code_id", "$session", "client_auth_method", "client-secret"}},
		kcPKCEMalformed: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", user: true, session: true, err: "invalid_code_verifier",
			details: []string{"reason", "Invalid code verifier", "grant_type", codeGrant, "code_id", "$session", "client_auth_method", "client-secret"}},
		kcRedirectMismatch: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", user: true, session: true, err: "invalid_redirect_uri",
			details: []string{"reason", "$mismatch", "grant_type", codeGrant, "code_id", "$session", "client_auth_method", "client-secret"}},
		kcSecretInvalid: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", err: "invalid_client_credentials",
			details: []string{"grant_type", codeGrant}},
		kcClientSecretRejected: kcShape{level: warn, typ: "CLIENT_LOGIN_ERROR", err: "invalid_client_credentials",
			details: []string{"grant_type", "client_credentials"}},
		kcCodeExpired: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", err: "expired_code",
			details: []string{"grant_type", codeGrant, "code_id", "$session", "client_auth_method", "client-secret"}},
		kcRefreshExpired: kcShape{level: warn, typ: "REFRESH_TOKEN_ERROR", user: true, session: true, err: "invalid_token", details: []string{
			"reason", "Token is not active", "grant_type", "refresh_token", "refresh_token_type", "Refresh", "client_auth_method", "client-secret"}},
		kcSessionEnded: kcShape{level: warn, typ: "REFRESH_TOKEN_ERROR", user: true, session: true, err: "invalid_token", details: []string{
			"reason", "Session not active", "grant_type", "refresh_token", "refresh_token_type", "Refresh", "client_auth_method", "client-secret"}},
		kcRedirectUnknown: kcShape{level: warn, typ: "LOGIN_ERROR", err: "invalid_redirect_uri",
			details: []string{"redirect_uri", "https://login-callback.example.net/cb"}},
		kcClientNotFound: kcShape{level: warn, typ: "CLIENT_LOGIN_ERROR", unknownClient: true, err: "client_not_found",
			details: []string{"grant_type", "client_credentials"}},
		kcDeployedRedirect: kcShape{level: warn, typ: "LOGIN_ERROR", err: "invalid_redirect_uri",
			details: []string{"redirect_uri", "$deployed"}},
		kcCodeInvalid: kcShape{level: warn, typ: "CODE_TO_TOKEN_ERROR", err: "invalid_code",
			details: []string{"grant_type", codeGrant, "code_id", "$session", "client_auth_method", "client-secret"}},
		kcRefreshReused: kcShape{level: warn, typ: "REFRESH_TOKEN_ERROR", user: true, session: true, err: "invalid_token", details: []string{
			"reason", "Maximum allowed refresh token reuse exceeded", "grant_type", "refresh_token", "refresh_token_type", "Refresh",
			"refresh_token_id", "$uuid", "client_auth_method", "client-secret"}},
		// the same, naming a given refresh token ($token): its use, then a second use
		kcRefreshUse: kcShape{level: info, typ: "REFRESH_TOKEN", user: true, session: true, details: []string{
			"token_id", "$uuid", "grant_type", "refresh_token", "refresh_token_type", "Refresh", "scope", "openid email profile",
			"refresh_token_id", "$token", "updated_refresh_token_id", "$uuid", "client_auth_method", "client-secret"}},
		kcRefreshReusedTok: kcShape{level: warn, typ: "REFRESH_TOKEN_ERROR", user: true, session: true, err: "invalid_token", details: []string{
			"reason", "Maximum allowed refresh token reuse exceeded", "grant_type", "refresh_token", "refresh_token_type", "Refresh",
			"refresh_token_id", "$token", "client_auth_method", "client-secret"}},

		// Hydra: fosite's strings (rules/catalog/hydra.yaml), record shapes of ingest/testdata/hydra.
		hydraCodeReused: hydraError{message: "invalid_grant", reason: "The authorization code has already been used.", status: 400},
		hydraPKCE:       hydraError{message: "invalid_grant", reason: "The PKCE code challenge did not match the code verifier.", status: 400},
		hydraRedirectMismatch: hydraError{message: "invalid_grant",
			reason: `The \"redirect_uri\" from this request does not match the one from the authorize request.`, status: 400},
		hydraRefreshReused: hydraError{message: "invalid_grant", reason: "The refresh token was already used.",
			debug: "Refresh token re-use was detected. All related tokens have been revoked.", status: 400},
		hydraRefreshExpired: hydraError{message: "invalid_grant", reason: "The refresh token expired.", status: 400},
		hydraBadSecret: hydraError{message: "invalid_client", debug: "crypto/bcrypt: hashedPassword is not the hash of the given password",
			status: 401},
		hydraUnknownClient: hydraError{message: "invalid_client", debug: "Unable to locate the resource", status: 401},
		hydraGrantNotAllowed: hydraError{message: "unauthorized_client",
			reason: `The OAuth 2.0 Client is not allowed to use authorization grant \"client_credentials\".`, status: 400},
		hydraServerError: hydraError{message: "server_error", status: 500, logged: true,
			debug: "failed to connect to `host=postgres user=hydra database=hydra`: dial error (dial tcp 10.43.0.12:5432: connect: connection refused)"},

		// Entra sign-in records: ingest/testdata/entra and rules/tests/entra.yaml.
		entraOK:          entraSignIn{code: "0"},
		entraBadPassword: entraSignIn{code: "50126", desc: "Error validating credentials due to invalid username or password."},
		entraNoUser:      entraSignIn{code: "50034", desc: "User does not exist in directory. Contact your tenant admin."},
		entraLocked: entraSignIn{code: "50053",
			desc: "Account is locked because user tried to sign in too many times with an incorrect user ID or password."},
		entraCA: entraSignIn{code: "53003", desc: "Access has been blocked due to conditional access policies."},
		entraConsent: entraSignIn{code: "65001",
			desc: "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource."},
		entraKMSI: entraSignIn{code: "50140", desc: "This error occurred due to 'Keep me signed in' interrupt when the user was signing-in."},
		entraRedirect: entraSignIn{code: "50011",
			desc: "The reply address is missing, misconfigured, or does not match reply addresses configured for the application."},
		entraSPOK:        entraSignIn{code: "0"},
		entraSPBadSecret: entraSignIn{code: "7000215", desc: "Invalid client secret provided."},
		entraSPExpired:   entraSignIn{code: "7000222"}, // service-principal records carry no description (ingest/testdata/entra)
		// Entra token error bodies ($app: the client's application id).
		entraCodeRedeemed: entraError{err: "invalid_grant", code: "54005",
			desc: "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."},
		entraBadSecret: entraError{err: "invalid_client", code: "7000215",
			desc: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '$app'."},
		entraSecretExpired: entraError{err: "invalid_client", code: "7000222",
			desc: "The provided client secret keys for app '$app' are expired. Visit the Azure portal to create new keys for your app, or consider using certificate credentials for added security."},
		entraPKCE: entraError{err: "invalid_grant", code: "50148",
			desc: "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE."},
		entraRefreshInactive: entraError{err: "invalid_grant", code: "700082",
			desc: "The refresh token has expired due to inactivity. The token was issued on 2026-08-01T09:00:00.0000000Z and was inactive for 90.00:00:00."},
		entraRetryable: entraError{err: "temporarily_unavailable", code: "50033", desc: "Retryable error has occurred."},

		// The gateway log: rules/tests/generic.yaml.
		gwInvalidScope: gwError{status: 400, grant: codeGrant, err: "invalid_scope",
			desc: "The requested scope is invalid, unknown, or malformed."},
		gwUnsupportedGrant: gwError{status: 400, grant: "urn:ietf:params:oauth:grant-type:device_code", err: "unsupported_grant_type",
			desc: "The authorization grant type is not supported by the authorization server."},
		gwCodeRejected: gwError{status: 400, grant: codeGrant, err: "invalid_grant",
			desc: "The authorization code is invalid or has expired."},
		gwUnavailable: gwError{status: 503, grant: "refresh_token", err: "temporarily_unavailable",
			desc: "The authorization server is currently unable to handle the request due to a temporary overloading or maintenance of the server."},
		gwServerError: gwError{status: 500, grant: codeGrant, err: "server_error", desc: "Internal Server Error"},
		gwRedirectUnregistered: gwError{status: 400, authorize: true, err: "invalid_request",
			desc: "Invalid parameter: redirect_uri"},
		gwRefreshReused: gwError{status: 400, grant: "refresh_token", err: "invalid_grant", desc: "The refresh token was already used."},
		gwBadPassword:   gwError{status: 401, grant: "password", err: "invalid_grant", desc: "Invalid user credentials"},
	}
}

// baseline is the normal traffic: about three successes in four requests
// with a success or failure, the rest noise.
func (s *genShapes) baseline() []genItem {
	kc := func(sh *kcShape) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.kcEvent(b, c, sh, nil, -1, nil) }
	}
	hy := func(e *hydraError) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.hydraToken(b, e, nil) }
	}
	user := func(e *entraSignIn, category string) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.entraUser(b, c, e, category, nil, -1) }
	}
	sp := func(e *entraSignIn) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.entraSP(b, c, e) }
	}
	tok := func(e *entraError) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.entraToken(b, c, e) }
	}
	gw := func(e *gwError) func(*Generator, []byte, int) []byte {
		return func(g *Generator, b []byte, c int) []byte { return g.gateway(b, c, e, nil, -1) }
	}
	items := []genItem{
		// Keycloak
		{weight: 90, flow: flowLogin, write: kc(&s.kcLogin)},
		{weight: 90, flow: flowCode, write: kc(&s.kcCodeToToken)},
		{weight: 130, flow: flowRefresh, write: kc(&s.kcRefresh)},
		{weight: 50, flow: flowClient, write: kc(&s.kcClientLogin)},
		{weight: 18, class: "user_credentials_invalid", write: kc(&s.kcBadPassword)},
		{weight: 6, class: "user_credentials_invalid", write: kc(&s.kcUserNotFound)},
		{weight: 4, class: "pkce_verifier_mismatch", write: kc(&s.kcPKCEMismatch)},
		{weight: 2, class: "pkce_verifier_malformed", write: kc(&s.kcPKCEMalformed)},
		{weight: 3, class: "redirect_uri_mismatch", write: kc(&s.kcRedirectMismatch)},
		{weight: 4, class: "client_auth_rejected", write: kc(&s.kcSecretInvalid)},
		{weight: 3, class: "code_expired", write: kc(&s.kcCodeExpired)},
		{weight: 10, class: "refresh_token_expired", write: kc(&s.kcRefreshExpired)},
		{weight: 8, class: "refresh_token_session_ended", write: kc(&s.kcSessionEnded)},
		{weight: 3, class: "redirect_uri_unregistered", write: kc(&s.kcRedirectUnknown)},
		{weight: 2, class: "client_unknown", write: kc(&s.kcClientNotFound)},
		{weight: 4, class: "code_reused", write: func(g *Generator, b []byte, c int) []byte { return g.kcCodeReused(b, c, &s.kcCodeInvalid) }},
		// correlation: a double submit without the warning (the redemption
		// decides), a code redeemed past the lifespan (its LOGIN now, the
		// exchange 70-150 s later), two tabs refreshing one token at once
		{weight: 3, class: "code_reused", write: func(g *Generator, b []byte, c int) []byte { return g.kcCodeDoubleSubmit(b, c) }},
		{weight: 3, flow: flowLogin, write: func(g *Generator, b []byte, c int) []byte { return g.kcLoginSlowExchange(b, c) }},
		{weight: 3, class: "refresh_token_concurrent", write: func(g *Generator, b []byte, c int) []byte { return g.kcRefreshRace(b, c) }},
		{weight: 2, class: "code_unknown", write: func(g *Generator, b []byte, c int) []byte { return g.kcCodeMalformed(b, c, &s.kcCodeInvalid) }},
		{weight: 40, write: func(g *Generator, b []byte, _ int) []byte { return g.kcNoise(b) }},
		// Hydra
		{weight: 100, flow: flowCode | flowRefresh | flowClient, write: func(g *Generator, b []byte, _ int) []byte { return g.hydraTokenOK(b) }},
		{weight: 40, flow: flowLogin, write: (*Generator).hydraAuthorizeOK},
		{weight: 3, class: "code_reused", write: hy(&s.hydraCodeReused)},
		{weight: 3, class: "pkce_verifier_mismatch", write: hy(&s.hydraPKCE)},
		{weight: 2, class: "redirect_uri_mismatch", write: hy(&s.hydraRedirectMismatch)},
		{weight: 2, class: "refresh_token_reused", write: hy(&s.hydraRefreshReused)},
		{weight: 5, class: "refresh_token_expired", write: hy(&s.hydraRefreshExpired)},
		{weight: 4, class: "client_auth_rejected", write: hy(&s.hydraBadSecret)},
		{weight: 2, class: "client_unknown", write: hy(&s.hydraUnknownClient)},
		{weight: 2, class: "grant_type_not_allowed", write: hy(&s.hydraGrantNotAllowed)},
		{weight: 1, class: "server_error", write: hy(&s.hydraServerError)},
		{weight: 2, class: "redirect_uri_unregistered", write: (*Generator).hydraAuthorizeBadRedirect},
		{weight: 3, class: "interaction_required", write: (*Generator).hydraLoginRequired},
		{weight: 60, write: func(g *Generator, b []byte, _ int) []byte { return g.hydraHealth(b) }},
		// Entra
		{weight: 50, flow: flowLogin | flowCode, write: user(&s.entraOK, "SignInLogs")},
		{weight: 40, flow: flowRefresh, write: user(&s.entraOK, "NonInteractiveUserSignInLogs")},
		{weight: 30, flow: flowClient, write: sp(&s.entraSPOK)},
		{weight: 10, class: "user_credentials_invalid", write: user(&s.entraBadPassword, "SignInLogs")},
		{weight: 2, class: "access_blocked", write: user(&s.entraLocked, "SignInLogs")},
		{weight: 4, class: "access_blocked", write: user(&s.entraCA, "SignInLogs")},
		{weight: 2, class: "consent_required", write: user(&s.entraConsent, "SignInLogs")},
		{weight: 5, write: user(&s.entraKMSI, "SignInLogs")}, // a normal interrupt of the sign-in: ignored
		{weight: 2, class: "client_secret_invalid", write: sp(&s.entraSPBadSecret)},
		{weight: 2, class: "code_reused", write: tok(&s.entraCodeRedeemed)},
		{weight: 2, class: "client_secret_invalid", write: tok(&s.entraBadSecret)},
		{weight: 1, class: "client_secret_expired", write: tok(&s.entraSecretExpired)},
		{weight: 2, class: "pkce_verifier_mismatch", write: tok(&s.entraPKCE)},
		{weight: 3, class: "refresh_token_expired", write: tok(&s.entraRefreshInactive)},
		{weight: 1, class: "server_unavailable", write: tok(&s.entraRetryable)},
		// the gateway
		{weight: 50, flow: flowCode | flowRefresh | flowClient, write: (*Generator).gatewayOK},
		{weight: 3, class: "scope_rejected", write: gw(&s.gwInvalidScope)},
		{weight: 2, class: "grant_type_unsupported", write: gw(&s.gwUnsupportedGrant)},
		{weight: 3, class: "code_rejected", write: gw(&s.gwCodeRejected)},
		{weight: 1, class: "server_unavailable", write: gw(&s.gwUnavailable)},
		{weight: 1, class: "server_error", write: gw(&s.gwServerError)},
	}
	// Zitadel, Authentik, Dex, the proxies, oauth2-proxy: gen_oss.go
	return append(items, ossBaseline()...)
}

// scenarios are the incidents; each writes failures of its classes only.
func (s *genShapes) scenarios() map[string]*genScenario {
	return map[string]*genScenario{
		// One client's secret expires: every token request it makes is
		// refused (Keycloak cannot tell an expired secret from a wrong or a
		// missing one: client_auth_rejected), and it retries.
		ScenarioSecretExpiry: {
			name: ScenarioSecretExpiry, classes: []string{"client_secret_expired", "client_auth_rejected", "client_secret_invalid"},
			weight: 60, breaks: flowCode | flowRefresh | flowClient, share: 1,
			write: func(g *Generator, b []byte, c int) []byte {
				switch n := g.rnd.IntN(10); {
				case n < 4:
					return g.kcEvent(b, c, &s.kcClientSecretRejected, nil, -1, nil)
				case n < 6:
					return g.kcEvent(b, c, &s.kcSecretInvalid, nil, -1, nil)
				case n < 9:
					return g.entraSP(b, c, &s.entraSPExpired)
				default:
					return g.entraToken(b, c, &s.entraSecretExpired)
				}
			},
		},
		// A deploy adds a trailing slash to one client's redirect_uri: every
		// sign-in of that client fails at /authorize (or, where the old URI
		// is still sent at /authorize, at the code exchange).
		ScenarioRedirectDeploy: {
			name: ScenarioRedirectDeploy, classes: []string{"redirect_uri_unregistered", "redirect_uri_mismatch"},
			weight: 30, breaks: flowLogin | flowCode, share: 1,
			write: func(g *Generator, b []byte, c int) []byte {
				switch n := g.rnd.IntN(20); {
				case n < 9:
					return g.kcEvent(b, c, &s.kcDeployedRedirect, nil, -1, nil)
				case n < 12:
					return g.kcEvent(b, c, &s.kcRedirectMismatch, nil, -1, nil)
				case n < 17:
					return g.entraUser(b, c, &s.entraRedirect, "SignInLogs", nil, -1)
				default:
					return g.gateway(b, c, &s.gwRedirectUnregistered, nil, -1)
				}
			},
		},
		// The rotated refresh tokens of a few users of one client are
		// replayed from another network (203.0.113.0/24): the servers detect
		// the reuse.
		ScenarioRefreshReplay: {
			name: ScenarioRefreshReplay, classes: []string{"refresh_token_reused"},
			weight: 36, // a sixth more than the other incidents: 3 in 20 of its requests are the victims' own refreshes
			write: func(g *Generator, b []byte, c int) []byte {
				ip := g.appendIP(g.ids[2][:0], "203.0.113.")
				switch v, n := g.rnd.IntN(len(g.victims)), g.rnd.IntN(20); {
				case n < 5:
					return g.hydraToken(b, &s.hydraRefreshReused, ip)
				case n < 8:
					// the victim refreshes as usual; the thief replays that
					// token from another network a little later
					return g.kcVictimRefresh(b, c, v)
				case n < 15:
					sess := appendUUIDBits(g.ids[0][:0], g.victims[v][1], ^g.victims[v][1])
					return g.kcEvent(b, c, &s.kcRefreshReused, ip, int(g.victims[v][0]), sess)
				default:
					return g.gateway(b, c, &s.gwRefreshReused, ip, -1)
				}
			},
		},
		// Bots try a leaked user/password list against one client's sign-in
		// from four addresses (198.51.100.0/24): most user names do not exist.
		ScenarioCredentialStuffing: {
			name: ScenarioCredentialStuffing, classes: []string{"user_credentials_invalid"},
			weight: 80,
			write: func(g *Generator, b []byte, c int) []byte {
				ip := g.stuffers[g.rnd.IntN(len(g.stuffers))]
				switch n := g.rnd.IntN(10); {
				case n < 4:
					return g.kcEvent(b, c, &s.kcUserNotFound, ip, genUsers+g.rnd.IntN(1_000_000), nil)
				case n < 6:
					return g.kcEvent(b, c, &s.kcBadPassword, ip, g.rnd.IntN(genUsers), nil)
				case n < 8:
					return g.entraUser(b, c, &s.entraNoUser, "SignInLogs", ip, genUsers+g.rnd.IntN(1_000_000))
				case n < 9:
					return g.entraUser(b, c, &s.entraBadPassword, "SignInLogs", ip, g.rnd.IntN(genUsers))
				default:
					return g.gateway(b, c, &s.gwBadPassword, ip, genUsers+g.rnd.IntN(1_000_000))
				}
			},
		},
		// The server loses its database: most requests of every client end
		// in server_error or temporarily_unavailable, and clients retry.
		ScenarioServerOutage: {
			name: ScenarioServerOutage, classes: []string{"server_error", "server_unavailable"},
			weight: 40, breaks: flowAll, share: 0.8, all: true,
			write: func(g *Generator, b []byte, c int) []byte {
				switch n := g.rnd.IntN(20); {
				case n < 7:
					return g.hydraToken(b, &s.hydraServerError, nil)
				case n < 13:
					return g.gateway(b, c, &s.gwUnavailable, nil, -1)
				case n < 18:
					return g.gateway(b, c, &s.gwServerError, nil, -1)
				default:
					return g.entraToken(b, c, &s.entraRetryable)
				}
			},
		},
	}
}

// ---------------------------------------------------------------- Keycloak

// kcShape is one org.keycloak.events record. Detail values starting with
// '$' are filled in: $uuid (a new id), $session (the session / code id),
// $redirect (the client's callback), $deployed (the callback after a bad
// deploy), $mismatch (Keycloak's redirect_uri mismatch reason), $username.
type kcShape struct {
	level         string // padded to 5: "INFO ", "WARN "
	typ           string
	user          bool // userId is set (else null)
	session       bool // sessionId is logged (token events of Keycloak >= 24)
	unknownClient bool // clientId is one the realm does not know
	modern        bool // always Keycloak >= 24 (sessionId logged): the session is the key
	err           string
	details       []string // key, value, ...
}

// kcEvent appends an event of client c. ip (nil: a random internal one),
// user (-1: a random one) and sess (nil: a new id) may be given.
func (g *Generator) kcEvent(b []byte, c int, s *kcShape, ip []byte, user int, sess []byte) []byte {
	return g.kcEventOn(b, c, s, ip, user, sess, 1+g.rnd.IntN(64))
}

func (g *Generator) kcEventOn(b []byte, c int, s *kcShape, ip []byte, user int, sess []byte, thread int) []byte {
	legacy := g.rnd.IntN(5) == 0 && !s.modern // Keycloak <= 23: key=value, 'quoted values', no sessionId
	codeID := false
	for i := 1; i < len(s.details); i += 2 {
		switch s.details[i] {
		case "$session":
			codeID = true
		case "$mismatch":
			legacy = false // the reason holds single quotes
		}
	}
	hasSession := codeID || s.session && !legacy // the line names the session: it is the key
	if hasSession && sess == nil {
		sess = g.uuid(0)
	}
	if user < 0 {
		user = g.rnd.IntN(genUsers)
	}
	b = g.kcHead(b, s.level, "org.keycloak.events", thread)
	if hasSession {
		g.setKey(sess)
	} else {
		g.threadKey(thread)
	}
	b = append(b, "type="...)
	b = kcValue(b, legacy, s.typ)
	if legacy {
		b = kcField(b, legacy, "realmId", genRealmName)
	} else {
		b = kcField(b, legacy, "realmId", genRealmID)
		b = kcField(b, legacy, "realmName", genRealmName)
	}
	if s.unknownClient {
		b = append(b, ", clientId="...)
		if !legacy {
			b = append(b, '"')
		}
		b = append(b, g.clients[c]...)
		b = append(b, "-staging"...)
		if !legacy {
			b = append(b, '"')
		}
	} else {
		b = kcField(b, legacy, "clientId", g.clients[c])
	}
	if s.user {
		b = kcField(b, legacy, "userId", appendUserID(g.ids[1][:0], user))
	} else {
		b = kcField(b, legacy, "userId", "null")
	}
	if s.session && !legacy {
		b = kcField(b, legacy, "sessionId", sess)
	}
	if ip == nil {
		ip = g.appendIP(g.ids[2][:0], "10.")
	}
	b = kcField(b, legacy, "ipAddress", ip)
	if s.err != "" {
		b = kcField(b, legacy, "error", s.err)
	}
	for i := 0; i+1 < len(s.details); i += 2 {
		k, v := s.details[i], s.details[i+1]
		if v == "" || v[0] != '$' {
			b = kcField(b, legacy, k, v)
			continue
		}
		b = append(b, ", "...)
		b = append(b, k...)
		b = append(b, '=')
		if !legacy {
			b = append(b, '"')
		}
		switch v {
		case "$uuid":
			b = g.appendUUID(b)
		case "$token":
			b = append(b, g.tok...)
		case "$session":
			b = append(b, sess...)
		case "$redirect":
			b = appendRedirect(b, g.clients[c], false)
		case "$deployed":
			b = appendRedirect(b, g.clients[c], true)
		case "$mismatch":
			b = append(b, "Parameter 'redirect_uri' did not match originally saved redirect URI used in initial OIDC request. Saved redirectUri: "...)
			b = appendRedirect(b, g.clients[c], false)
			b = append(b, ", redirectUri parameter: "...)
			b = appendRedirect(b, g.clients[c], true)
		case "$username":
			b = g.appendUsername(b, user)
		}
		if !legacy {
			b = append(b, '"')
		}
	}
	return b
}

// threadKey keys a Keycloak line without a session by its thread, the other
// thing Keycloak's context lines are joined by.
func (g *Generator) threadKey(thread int) {
	g.key = append(g.key[:0], "executor-thread-"...)
	g.key = strconv.AppendInt(g.key, int64(thread), 10)
}

// kcHead appends `2026-11-23 09:00:00,123 WARN  [logger] (executor-thread-7) `.
func (g *Generator) kcHead(b []byte, level, logger string, thread int) []byte {
	b = appendKCTime(b, g.now)
	b = append(b, ' ')
	b = append(b, level...)
	b = append(b, " ["...)
	b = append(b, logger...)
	b = append(b, "] (executor-thread-"...)
	b = strconv.AppendInt(b, int64(thread), 10)
	return append(b, ") "...)
}

func kcField[T string | []byte](b []byte, legacy bool, k string, v T) []byte {
	b = append(b, ", "...)
	b = append(b, k...)
	b = append(b, '=')
	return kcValue(b, legacy, v)
}

// kcValue appends v as Keycloak >= 24 writes it ("v") or as older releases
// do (v, or 'v' when it holds a space or a comma).
func kcValue[T string | []byte](b []byte, legacy bool, v T) []byte {
	if !legacy {
		b = append(b, '"')
		b = append(b, v...)
		return append(b, '"')
	}
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' || v[i] == ',' {
			b = append(b, '\'')
			b = append(b, v...)
			return append(b, '\'')
		}
	}
	return append(b, v...)
}

// kcCodeReused: OAuth2CodeParser's "already used" warning, then the event,
// on one thread and session (the warning decides the event's class).
func (g *Generator) kcCodeReused(b []byte, c int, s *kcShape) []byte {
	thread := 1 + g.rnd.IntN(64)
	sess := g.uuid(0)
	b = g.kcHead(b, "WARN ", "org.keycloak.protocol.oidc.utils.OAuth2CodeParser", thread)
	b = append(b, "Code '"...)
	b = g.appendUUID(b)
	b = append(b, "' already used for userSession '"...)
	b = append(b, sess...)
	b = append(b, "' and client '"...)
	b = append(b, g.appIDs[c]...) // the client's internal id
	b = append(b, "'.\n"...)
	return g.kcEventOn(b, c, s, nil, -1, sess, thread)
}

// kcCodeMalformed: OAuth2CodeParser's "Invalid format" warning, then the
// event without a code id, on one thread (joined by thread).
func (g *Generator) kcCodeMalformed(b []byte, c int, s *kcShape) []byte {
	thread := 1 + g.rnd.IntN(64)
	b = g.kcHead(b, "WARN ", "org.keycloak.protocol.oidc.utils.OAuth2CodeParser", thread)
	b = append(b, "Invalid format of the code\n"...)
	noCode := kcShape{level: s.level, typ: s.typ, err: s.err, details: []string{"grant_type", "authorization_code",
		"client_auth_method", "client-secret"}}
	return g.kcEventOn(b, c, &noCode, nil, -1, nil, thread)
}

// kcCodeDoubleSubmit: a sign-in, the code exchanged, and the same code sent
// again (a double submit) - with the warning lost (not shipped), so that
// only the earlier CODE_TO_TOKEN tells the reuse.
func (g *Generator) kcCodeDoubleSubmit(b []byte, c int) []byte {
	s := g.shapes
	sess := g.uuid(0)
	user := g.rnd.IntN(genUsers)
	b = g.kcEvent(b, c, &s.kcLogin, nil, user, sess)
	b = append(b, '\n')
	b = g.kcEvent(b, c, &s.kcCodeToToken, nil, user, sess)
	b = append(b, '\n')
	return g.kcEvent(b, c, &s.kcCodeInvalid, nil, user, sess)
}

// kcLoginSlowExchange: a sign-in whose code the client exchanges 70 to 150
// seconds later, past Keycloak's 60 s lifespan: the exchange is written when
// its time comes (Keycloak then warns "already used" and logs invalid_code).
func (g *Generator) kcLoginSlowExchange(b []byte, c int) []byte {
	sess := g.uuid(0)
	user := g.rnd.IntN(genUsers)
	b = g.kcEvent(b, c, &g.shapes.kcLogin, nil, user, sess)
	g.schedule(genLater{due: g.now.Add(time.Duration(70+g.rnd.IntN(80)) * time.Second), kind: genLateCode, c: c, user: user}, sess, nil)
	return b
}

// kcRefreshRace: two tabs refresh one token at once from one browser: the
// first succeeds, the second exceeds the reuse limit.
func (g *Generator) kcRefreshRace(b []byte, c int) []byte {
	s := g.shapes
	thread := 1 + g.rnd.IntN(64)
	user := g.rnd.IntN(genUsers)
	sess := append([]byte(nil), g.uuid(0)...)
	ip := append([]byte(nil), g.appendIP(g.ids[2][:0], "10.")...)
	g.tok = g.appendUUID(g.tok[:0])
	use, again := s.kcRefreshUse, s.kcRefreshReusedTok
	use.modern, again.modern = true, true // both name the session: the key
	b = g.kcEventOn(b, c, &use, ip, user, sess, thread)
	b = append(b, '\n')
	return g.kcEventOn(b, c, &again, ip, user, sess, 1+(thread%64))
}

// kcVictimRefresh: a victim of the refresh-replay scenario refreshes from
// its usual network; the thief replays that token 20 s to 2 minutes later.
func (g *Generator) kcVictimRefresh(b []byte, c, v int) []byte {
	sess := appendUUIDBits(g.ids[0][:0], g.victims[v][1], ^g.victims[v][1])
	g.tok = g.appendUUID(g.tok[:0])
	use := g.shapes.kcRefreshUse
	use.modern = true
	b = g.kcEvent(b, c, &use, nil, int(g.victims[v][0]), sess)
	g.schedule(genLater{due: g.now.Add(time.Duration(20+g.rnd.IntN(100)) * time.Second), kind: genLateReplay, c: c,
		user: int(g.victims[v][0])}, sess, g.tok)
	return b
}

// schedule queues a later request, in due order; past genLaterMax it is dropped.
func (g *Generator) schedule(l genLater, sess, tok []byte) {
	if len(g.later) >= genLaterMax {
		return
	}
	copy(l.sess[:], sess)
	copy(l.tok[:], tok)
	i, _ := slices.BinarySearchFunc(g.later, l.due, func(x genLater, t time.Time) int { return x.due.Compare(t) })
	g.later = slices.Insert(g.later, i, l)
}

func (g *Generator) writeLater(b []byte, l *genLater) []byte {
	s := g.shapes
	switch l.kind {
	case genLateReplay:
		ip := g.appendIP(g.ids[2][:0], "203.0.113.")
		g.tok = append(g.tok[:0], l.tok[:]...)
		replay := s.kcRefreshReusedTok
		replay.modern = true
		return g.kcEvent(b, l.c, &replay, ip, l.user, l.sess[:])
	default:
		thread := 1 + g.rnd.IntN(64)
		b = g.kcHead(b, "WARN ", "org.keycloak.protocol.oidc.utils.OAuth2CodeParser", thread)
		b = append(b, "Code '"...)
		b = g.appendUUID(b)
		b = append(b, "' already used for userSession '"...)
		b = append(b, l.sess[:]...)
		b = append(b, "' and client '"...)
		b = append(b, g.appIDs[l.c]...)
		b = append(b, "'.\n"...)
		return g.kcEventOn(b, l.c, &s.kcCodeInvalid, nil, l.user, l.sess[:], thread)
	}
}

func (g *Generator) kcNoise(b []byte) []byte {
	switch g.rnd.IntN(3) {
	case 0:
		b = appendKCTime(b, g.now)
		b = append(b, " INFO  [org.infinispan.CLUSTER] (jgroups-12,kc-1) ISPN000094: Received new cluster view for channel ISPN: [kc-0|4] (2) [kc-0, kc-1]"...)
		g.setKey([]byte("jgroups-12,kc-1"))
		return b
	case 1:
		thread := 1 + g.rnd.IntN(64)
		b = g.kcHead(b, "DEBUG", "org.keycloak.transaction.JtaTransactionWrapper", thread)
		g.threadKey(thread)
		return append(b, "new JtaTransactionWrapper"...)
	default:
		thread := 1 + g.rnd.IntN(64)
		b = g.kcHead(b, "INFO ", "org.keycloak.services.scheduled.ScheduledTaskRunner", thread)
		g.threadKey(thread)
		return append(b, "Executed scheduled task ClearExpiredUserSessions"...)
	}
}

// ---------------------------------------------------------------- Hydra

// hydraError is the error of a Hydra record (ory/x logrusx WithError).
type hydraError struct {
	message, reason, debug string
	status                 int
	// logged: Hydra logs it at level error ("An error occurred"), as it does
	// server_error; other token errors are audit records ("access denied").
	logged bool
}

// hydraRequest appends the http_request object of a token (API client) or
// browser (/oauth2/auth) request.
func hydraRequest(b []byte, browser bool, remote []byte) []byte {
	if browser {
		b = append(b, `"http_request":{"headers":{"accept":"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8","accept-encoding":"gzip, deflate, br","accept-language":"en-US,en;q=0.5","cookie":"`+genHydraRedacted+`","referer":"https://app.example.com/","user-agent":"Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0","x-forwarded-proto":"https"},"host":"`+genHydraHost+`","method":"GET","path":"/oauth2/auth","query":"`+genHydraRedacted+`","remote":"`...)
	} else {
		b = append(b, `"http_request":{"headers":{"accept":"application/json","authorization":"`+genHydraRedacted+`","content-length":"221","content-type":"application/x-www-form-urlencoded","user-agent":"Go-http-client/1.1"},"host":"`+genHydraHost+`","method":"POST","path":"/oauth2/token","query":null,"remote":"`...)
	}
	b = append(b, remote...)
	return append(b, `","scheme":"http"}`...)
}

func (g *Generator) hydraRemote(ip []byte) []byte {
	r := g.ids[2][:0]
	if ip == nil {
		r = g.appendIP(r, "10.42.")
	} else {
		r = append(r, ip...)
	}
	r = append(r, ':')
	r = strconv.AppendInt(r, int64(30000+g.rnd.IntN(30000)), 10)
	g.setKey(r)
	return g.key
}

func hydraStarted(b []byte, browser bool, remote []byte, t time.Time) []byte {
	b = append(b, `{"audience":"application",`...)
	b = hydraRequest(b, browser, remote)
	b = append(b, `,"level":"info","msg":"started handling request",`+genHydraService...)
	b = appendRFC3339Nano(b, t)
	return append(b, "\"}\n"...)
}

func hydraCompleted(b []byte, browser bool, remote []byte, status, size int, location []byte, took time.Duration, t time.Time) []byte {
	b = append(b, `{"audience":"application",`...)
	b = hydraRequest(b, browser, remote)
	if location != nil {
		b = append(b, `,"http_response":{"headers":{"location":"`...)
		b = append(b, location...)
		b = append(b, `"}`...)
	} else {
		b = append(b, `,"http_response":{"headers":{"cache-control":"no-store","content-type":"application/json;charset=UTF-8","pragma":"no-cache"}`...)
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"text_status":"`...)
	b = append(b, statusText(status)...)
	b = append(b, `","took":`...)
	b = strconv.AppendInt(b, int64(took), 10)
	b = append(b, `},"level":"info","msg":"completed handling request",`+genHydraService...)
	b = appendRFC3339Nano(b, t.Add(took))
	return append(b, `"}`...)
}

func hydraErrorRecord(b []byte, browser, audit bool, e *hydraError, remote []byte, t time.Time) []byte {
	if audit {
		b = append(b, `{"audience":"audit","error":{"debug":"`...)
	} else {
		b = append(b, `{"audience":"application","error":{"debug":"`...)
	}
	b = append(b, e.debug...)
	b = append(b, `","message":"`...)
	b = append(b, e.message...)
	b = append(b, `","reason":"`...)
	b = append(b, e.reason...)
	b = append(b, `","status":"`...)
	b = append(b, statusText(e.status)...)
	b = append(b, `","status_code":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, "},"...)
	b = hydraRequest(b, browser, remote)
	if e.logged {
		b = append(b, `,"level":"error","msg":"An error occurred",`+genHydraService...)
	} else {
		b = append(b, `,"level":"info","msg":"access denied",`+genHydraService...)
	}
	b = appendRFC3339Nano(b, t)
	return append(b, "\"}\n"...)
}

// hydraTook is a request's duration: base to five times base microseconds.
func (g *Generator) hydraTook(base int) time.Duration {
	return time.Duration(int64(base)*1000 + g.rnd.Int64N(int64(4*base)*1000))
}

func (g *Generator) hydraTokenOK(b []byte) []byte {
	remote := g.hydraRemote(nil)
	took := g.hydraTook(10000)
	b = hydraStarted(b, false, remote, g.now)
	return hydraCompleted(b, false, remote, 200, 1000+g.rnd.IntN(600), nil, took, g.now)
}

// hydraToken: a failed token request, from ip when given: started, the
// error record, completed.
func (g *Generator) hydraToken(b []byte, e *hydraError, ip []byte) []byte {
	remote := g.hydraRemote(ip)
	took := g.hydraTook(3000)
	b = hydraStarted(b, false, remote, g.now)
	b = hydraErrorRecord(b, false, false, e, remote, g.now.Add(took*9/10))
	return hydraCompleted(b, false, remote, e.status, 200+g.rnd.IntN(200), nil, took, g.now)
}

func (g *Generator) hydraAuthorizeOK(b []byte, c int) []byte {
	remote := g.hydraRemote(nil)
	took := g.hydraTook(8000)
	b = hydraStarted(b, true, remote, g.now)
	loc := appendRedirect(g.loc[:0], g.clients[c], false)
	loc = append(loc, "?code=ory_ac_"...)
	loc = g.appendToken(loc, 43)
	loc = append(loc, '.')
	loc = g.appendToken(loc, 43)
	loc = append(loc, "&scope=openid+offline_access&state="...)
	loc = g.appendToken(loc, 16)
	g.loc = loc
	return hydraCompleted(b, true, remote, 302, 0, loc, took, g.now)
}

// hydraAuthorizeBadRedirect: fosite refuses an unregistered redirect_uri at
// /oauth2/auth (level error) and sends the browser to the error page.
func (g *Generator) hydraAuthorizeBadRedirect(b []byte, _ int) []byte {
	e := hydraError{message: "invalid_request", status: 400, logged: true,
		reason: "The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls."}
	remote := g.hydraRemote(nil)
	took := g.hydraTook(2000)
	b = hydraStarted(b, true, remote, g.now)
	b = hydraErrorRecord(b, true, false, &e, remote, g.now.Add(took*9/10))
	loc := append(g.loc[:0], "https://login.example.com/error?error=invalid_request&error_description=The+request+is+missing+a+required+parameter%2C+includes+an+invalid+parameter+value%2C+includes+a+parameter+more+than+once%2C+or+is+otherwise+malformed.+The+%27redirect_uri%27+parameter+does+not+match+any+of+the+OAuth+2.0+Client%27s+pre-registered+redirect+urls.&state="...)
	loc = g.appendToken(loc, 16)
	g.loc = loc
	return hydraCompleted(b, true, remote, 302, 0, loc, took, g.now)
}

// hydraLoginRequired: prompt=none without a session (an audit record), the
// redirect carries the error to the client.
func (g *Generator) hydraLoginRequired(b []byte, c int) []byte {
	e := hydraError{message: "login_required", status: 400,
		reason: "Prompt 'none' was requested, but no existing login session was found."}
	remote := g.hydraRemote(nil)
	took := g.hydraTook(2000)
	b = hydraStarted(b, true, remote, g.now)
	b = hydraErrorRecord(b, true, true, &e, remote, g.now.Add(took*9/10))
	loc := appendRedirect(g.loc[:0], g.clients[c], false)
	loc = append(loc, "?error=login_required&error_description=The+Authorization+Server+requires+End-User+authentication.+Prompt+%27none%27+was+requested%2C+but+no+existing+login+session+was+found.&state="...)
	loc = g.appendToken(loc, 16)
	g.loc = loc
	return hydraCompleted(b, true, remote, 302, 0, loc, took, g.now)
}

func (g *Generator) hydraHealth(b []byte) []byte {
	remote := append(g.ids[2][:0], "10.0.0.1:"...)
	remote = strconv.AppendInt(remote, int64(30000+g.rnd.IntN(30000)), 10)
	g.setKey(remote)
	b = append(b, `{"audience":"application","http_request":{"headers":{"user-agent":"kube-probe/1.29"},"host":"10.0.0.7:4445","method":"GET","path":"/health/ready","query":null,"remote":"`...)
	b = append(b, remote...)
	b = append(b, `","scheme":"http"},"http_response":{"headers":{"content-type":"application/json; charset=utf-8"},"size":16,"status":200,"text_status":"OK","took":`...)
	b = strconv.AppendInt(b, int64(150000+g.rnd.IntN(200000)), 10)
	b = append(b, `},"level":"info","msg":"completed handling request",`+genHydraService...)
	b = appendRFC3339Nano(b, g.now)
	return append(b, `"}`...)
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 302:
		return "Found"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 500:
		return "Internal Server Error"
	case 503:
		return "Service Unavailable"
	}
	return "Error"
}

// ---------------------------------------------------------------- Entra

// entraSignIn is the result of a sign-in record ("0": success).
type entraSignIn struct{ code, desc string }

// entraError is a token endpoint error body ($app in desc: the application id).
type entraError struct{ err, code, desc string }

// entraUser appends a user sign-in record (diagnostic settings export) of
// client c's application, from ip and by user when given.
func (g *Generator) entraUser(b []byte, c int, e *entraSignIn, category string, ip []byte, user int) []byte {
	if ip == nil {
		ip = g.appendIP(g.ids[2][:0], "192.0.2.")
	}
	if user < 0 {
		user = g.rnd.IntN(genUsers)
	}
	corr := g.uuid(0)
	g.setKey(corr)
	b = append(b, `{"time":"`...)
	b = appendEntraTime(b, g.now, "Z")
	b = append(b, `","resourceId":"/tenants/`+genTenant+`/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"`...)
	b = append(b, category...)
	b = append(b, `","tenantId":"`+genTenant+`","resultType":"`...)
	b = append(b, e.code...)
	b = append(b, `","resultSignature":"None",`...)
	if e.desc != "" {
		b = append(b, `"resultDescription":"`...)
		b = append(b, e.desc...)
		b = append(b, `",`...)
	}
	b = append(b, `"durationMs":0,"callerIpAddress":"`...)
	b = append(b, ip...)
	b = append(b, `","correlationId":"`...)
	b = append(b, corr...)
	b = append(b, `","identity":"`...)
	b = g.appendDisplayName(b, user)
	b = append(b, `","Level":4,"location":"DE","properties":{"id":"`...)
	b = g.appendUUID(b)
	b = append(b, `","createdDateTime":"`...)
	b = appendEntraTime(b, g.now, "+00:00")
	b = append(b, `","userDisplayName":"`...)
	b = g.appendDisplayName(b, user)
	b = append(b, `","userPrincipalName":"`...)
	b = g.appendUsername(b, user)
	b = append(b, `@contoso.example","userId":"`...)
	if user < genUsers { // an unknown user name has no id
		b = appendUserID(b, user)
	}
	b = append(b, `","appId":"`...)
	b = append(b, g.appIDs[c]...)
	b = append(b, `","appDisplayName":"`...)
	b = append(b, g.clients[c]...)
	b = append(b, `","ipAddress":"`...)
	b = append(b, ip...)
	b = append(b, `","status":{"errorCode":`...)
	b = append(b, e.code...)
	if e.desc != "" {
		b = append(b, `,"failureReason":"`...)
		b = append(b, e.desc...)
		b = append(b, '"')
	}
	if category == "SignInLogs" {
		b = append(b, `},"clientAppUsed":"Browser","correlationId":"`...)
	} else {
		b = append(b, `},"clientAppUsed":"Mobile Apps and Desktop clients","correlationId":"`...)
	}
	b = append(b, corr...)
	b = append(b, `","conditionalAccessStatus":"notApplied","isInteractive":`...)
	if category == "SignInLogs" {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	return append(b, `,"tokenIssuerType":"AzureAD","resourceDisplayName":"Microsoft Graph","resourceId":"00000003-0000-0000-c000-000000000000","userType":"Member"}}`...)
}

// entraSP appends a service-principal sign-in record of client c (the
// client_credentials grant), keys sorted as in the real export.
func (g *Generator) entraSP(b []byte, c int, e *entraSignIn) []byte {
	ip := g.appendIP(g.ids[2][:0], "192.0.2.")
	corr := g.uuid(0)
	g.setKey(corr)
	b = append(b, `{"Level":4,"callerIpAddress":"`...)
	b = append(b, ip...)
	b = append(b, `","category":"ServicePrincipalSignInLogs","correlationId":"`...)
	b = append(b, corr...)
	b = append(b, `","durationMs":0,"location":"DE","operationName":"Sign-in activity","operationVersion":"1.0","properties":{"appId":"`...)
	b = append(b, g.appIDs[c]...)
	b = append(b, `","correlationId":"`...)
	b = append(b, corr...)
	b = append(b, `","createdDateTime":"`...)
	b = appendEntraTime(b, g.now, "+00:00")
	b = append(b, `","id":"`...)
	b = g.appendUUID(b)
	b = append(b, `","ipAddress":"`...)
	b = append(b, ip...)
	b = append(b, `","isInteractive":false,"resourceDisplayName":"Microsoft Graph","resourceId":"00000003-0000-0000-c000-000000000000","servicePrincipalId":"`...)
	b = append(b, g.spIDs[c]...)
	b = append(b, `","servicePrincipalName":"`...)
	b = append(b, g.clients[c]...)
	b = append(b, `","status":{"errorCode":`...)
	b = append(b, e.code...)
	if e.desc != "" {
		b = append(b, `,"failureReason":"`...)
		b = append(b, e.desc...)
		b = append(b, '"')
	}
	b = append(b, `},"tokenIssuerType":"AzureAD","userId":null},"resourceId":"/tenants/`+genTenant+`/providers/Microsoft.aadiam","resultSignature":"None","resultType":"`...)
	b = append(b, e.code...)
	b = append(b, `","tenantId":"`+genTenant+`","time":"`...)
	b = appendEntraTime(b, g.now, "Z")
	return append(b, `"}`...)
}

// entraToken appends a token endpoint error body as a client logs it
// (client c's application id where the text names the app).
func (g *Generator) entraToken(b []byte, c int, e *entraError) []byte {
	trace, corr := g.uuid(0), g.uuid(1)
	g.setKey(corr)
	b = append(b, `{"error":"`...)
	b = append(b, e.err...)
	b = append(b, `","error_description":"AADSTS`...)
	b = append(b, e.code...)
	b = append(b, ": "...)
	if before, after, ok := strings.Cut(e.desc, "$app"); ok {
		b = append(b, before...)
		b = append(b, g.appIDs[c]...)
		b = append(b, after...)
	} else {
		b = append(b, e.desc...)
	}
	b = append(b, `\r\nTrace ID: `...)
	b = append(b, trace...)
	b = append(b, `\r\nCorrelation ID: `...)
	b = append(b, corr...)
	b = append(b, `\r\nTimestamp: `...)
	b = appendDateTime(b, g.now, ' ')
	b = append(b, `Z","error_codes":[`...)
	b = append(b, e.code...)
	b = append(b, `],"timestamp":"`...)
	b = appendDateTime(b, g.now, ' ')
	b = append(b, `Z","trace_id":"`...)
	b = append(b, trace...)
	b = append(b, `","correlation_id":"`...)
	b = append(b, corr...)
	b = append(b, `","error_uri":"https://login.microsoftonline.com/error?code=`...)
	b = append(b, e.code...)
	return append(b, `"}`...)
}

// ---------------------------------------------------------------- the gateway

// gwError is an RFC 6749 error the gateway relays.
type gwError struct {
	status    int
	authorize bool   // at /oauth2/authorize (else /oauth2/token)
	grant     string // grant_type of a token request
	err, desc string
}

func (g *Generator) gatewayOK(b []byte, c int) []byte {
	grant := "refresh_token"
	switch g.rnd.IntN(3) {
	case 0:
		grant = "authorization_code"
	case 1:
		grant = "client_credentials"
	}
	return g.gatewayLine(b, c, 200, false, grant, nil, -1)
}

// gateway appends the gateway's record of a failed request of client c,
// from ip and for user when given.
func (g *Generator) gateway(b []byte, c int, e *gwError, ip []byte, user int) []byte {
	b = g.gatewayLine(b, c, e.status, e.authorize, e.grant, ip, user)
	b = b[:len(b)-1]
	if e.authorize {
		b = append(b, `,"redirect_uri":"`...)
		b = appendRedirect(b, g.clients[c], true)
		b = append(b, '"')
	}
	b = append(b, `,"error":"`...)
	b = append(b, e.err...)
	b = append(b, `","error_description":"`...)
	b = append(b, e.desc...)
	return append(b, `"}`...)
}

func (g *Generator) gatewayLine(b []byte, c, status int, authorize bool, grant string, ip []byte, user int) []byte {
	b = append(b, `{"time":"`...)
	b = appendRFC3339Milli(b, g.now)
	switch {
	case status >= 500:
		b = append(b, `","level":"error"`...)
	case status >= 400:
		b = append(b, `","level":"warn"`...)
	default:
		b = append(b, `","level":"info"`...)
	}
	b = append(b, `,"service":"api-gateway","trace_id":"`...)
	start := len(b)
	b = g.appendHex(b, 32)
	g.setKey(b[start:])
	if authorize {
		b = append(b, `","method":"GET","endpoint":"/oauth2/authorize","status":`...)
	} else {
		b = append(b, `","method":"POST","endpoint":"/oauth2/token","status":`...)
	}
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendInt(b, int64(5+g.rnd.IntN(60)), 10)
	b = append(b, `,"client_id":"`...)
	b = append(b, g.clients[c]...)
	if grant != "" {
		b = append(b, `","grant_type":"`...)
		b = append(b, grant...)
	}
	if user >= 0 {
		b = append(b, `","username":"`...)
		b = g.appendUsername(b, user)
	}
	b = append(b, `","ip":"`...)
	if ip == nil {
		b = g.appendIP(b, "10.")
	} else {
		b = append(b, ip...)
	}
	return append(b, `"}`...)
}

// ---------------------------------------------------------------- values

const genHex = "0123456789abcdef"

func appendHexBits(b []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, genHex[(v>>(4*uint(i)))&0xf])
	}
	return b
}

// appendUUIDBits appends a version 4 uuid made of hi and lo.
func appendUUIDBits(b []byte, hi, lo uint64) []byte {
	b = appendHexBits(b, hi>>32, 8)
	b = append(b, '-')
	b = appendHexBits(b, hi>>16, 4)
	b = append(b, '-')
	b = appendHexBits(b, hi&0x0fff|0x4000, 4)
	b = append(b, '-')
	b = appendHexBits(b, lo>>48&0x3fff|0x8000, 4)
	b = append(b, '-')
	return appendHexBits(b, lo, 12)
}

func (g *Generator) appendUUID(b []byte) []byte {
	return appendUUIDBits(b, g.rnd.Uint64(), g.rnd.Uint64())
}

// uuid returns a new uuid in scratch slot i (valid until the slot's next use).
func (g *Generator) uuid(i int) []byte { return g.appendUUID(g.ids[i][:0]) }

func (g *Generator) appendHex(b []byte, n int) []byte {
	for n > 0 {
		d := min(n, 16)
		b = appendHexBits(b, g.rnd.Uint64(), d)
		n -= d
	}
	return b
}

const genTokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// appendToken appends n random base64url characters.
func (g *Generator) appendToken(b []byte, n int) []byte {
	for n > 0 {
		v := g.rnd.Uint64()
		for i := 0; i < 10 && n > 0; i, n = i+1, n-1 {
			b = append(b, genTokenChars[v&63])
			v >>= 6
		}
	}
	return b
}

// appendIP appends prefix plus random octets up to four.
func (g *Generator) appendIP(b []byte, prefix string) []byte {
	b = append(b, prefix...)
	for i := strings.Count(prefix, "."); i < 3; i++ {
		b = strconv.AppendInt(b, int64(g.rnd.IntN(256)), 10)
		b = append(b, '.')
	}
	return strconv.AppendInt(b, int64(1+g.rnd.IntN(254)), 10)
}

// splitmix64 mixes a user number into stable ids.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func appendUserID(b []byte, user int) []byte {
	return appendUUIDBits(b, splitmix64(uint64(user)), splitmix64(uint64(user)+1<<40))
}

// appendUsername appends user's name: anna.schmidt, anna.schmidt3, ...
func (g *Generator) appendUsername(b []byte, user int) []byte {
	nf, nl := len(g.firsts), len(g.lasts)
	b = append(b, g.firsts[user%nf]...)
	b = append(b, '.')
	b = append(b, g.lasts[user/nf%nl]...)
	if n := user / (nf * nl); n > 0 {
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return b
}

func (g *Generator) appendDisplayName(b []byte, user int) []byte {
	nf, nl := len(g.firsts), len(g.lasts)
	b = append(b, g.names[user%nf]...)
	b = append(b, ' ')
	return append(b, g.names[nf+user/nf%nl]...)
}

// appendRedirect appends the client's registered callback, or the one a bad
// deploy sends instead (a trailing slash).
func appendRedirect(b []byte, client string, deployed bool) []byte {
	b = append(b, "https://"...)
	b = append(b, client...)
	b = append(b, ".example.com/oidc/callback"...)
	if deployed {
		b = append(b, '/')
	}
	return b
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// appendDateTime appends 2006-01-02<sep>15:04:05 (UTC).
func appendDateTime(b []byte, t time.Time, sep byte) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append2(b, y/100)
	b = append2(b, y%100)
	b = append(b, '-')
	b = append2(b, int(mo))
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, sep)
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	return append2(b, s)
}

// appendFrac appends the first digits of t's nanoseconds.
func appendFrac(b []byte, t time.Time, digits int) []byte {
	ns := t.Nanosecond()
	for i := 9; i > digits; i-- {
		ns /= 10
	}
	start := len(b)
	for i := 0; i < digits; i++ {
		b = append(b, '0')
	}
	for i := len(b) - 1; i >= start; i-- {
		b[i] = byte('0' + ns%10)
		ns /= 10
	}
	return b
}

// appendKCTime: 2006-01-02 15:04:05,000 (JBoss log manager).
func appendKCTime(b []byte, t time.Time) []byte {
	b = appendDateTime(b, t, ' ')
	b = append(b, ',')
	return appendFrac(b, t, 3)
}

// appendRFC3339Nano: time.RFC3339Nano (logrus), trailing zeros trimmed.
func appendRFC3339Nano(b []byte, t time.Time) []byte {
	b = appendDateTime(b, t, 'T')
	if t.Nanosecond() != 0 {
		b = append(b, '.')
		b = appendFrac(b, t, 9)
		b = bytes.TrimRight(b, "0")
	}
	return append(b, 'Z')
}

func appendRFC3339Milli(b []byte, t time.Time) []byte {
	b = appendDateTime(b, t, 'T')
	b = append(b, '.')
	b = appendFrac(b, t, 3)
	return append(b, 'Z')
}

// appendEntraTime: seven fraction digits, then zone ("Z" or "+00:00").
func appendEntraTime(b []byte, t time.Time, zone string) []byte {
	b = appendDateTime(b, t, 'T')
	b = append(b, '.')
	b = appendFrac(b, t, 7)
	return append(b, zone...)
}

// ---------------------------------------------------------------- writing

// GenRun says how much a generator run writes and how fast.
type GenRun struct {
	Lines    int64         // stop after this many lines (0: no limit)
	Bytes    int64         // stop once this many bytes are written (0: no limit)
	Duration time.Duration // stop after this much wall-clock time (0: no limit)
	Rate     float64       // lines per second (0: as fast as possible)
	// Progress, when set, gets a line every ProgressEvery (default 5s) with
	// the lines sent and the rate, and a summary at the end.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// GenStats is what a run delivered.
type GenStats struct {
	Lines, Bytes int64
	Elapsed      time.Duration
}

// Generate writes lines to w, each ended by a newline, until a limit of run
// is reached or ctx ends (which is not an error).
func (g *Generator) Generate(ctx context.Context, w io.Writer, run GenRun) (GenStats, error) {
	return g.run(ctx, &lineSink{w: bufio.NewWriterSize(w, 256<<10)}, run)
}

// Produce sends lines through w, one Kafka message per line keyed by Key
// (related lines share a partition and keep their order), until a limit of
// run is reached or ctx ends (which is not an error). Lines are sent in
// batches of up to genBatchLines per WriteMessages call.
func (g *Generator) Produce(ctx context.Context, w MessageWriter, run GenRun) (GenStats, error) {
	return g.run(ctx, &msgSink{w: w}, run)
}

// NewGenKafkaWriter returns the writer Produce is meant for: keys hashed to
// partitions, leader acks, a short batch timeout so that a synchronous write
// of one batch is not held back.
func NewGenKafkaWriter(brokers []string, topic string) *kafka.Writer {
	return &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Topic:                  topic,
		Balancer:               &kafka.Hash{},
		BatchSize:              genBatchLines,
		BatchBytes:             genRequestBytes,
		BatchTimeout:           2 * time.Millisecond,
		RequiredAcks:           kafka.RequireOne,
		AllowAutoTopicCreation: true,
	}
}

const (
	genBatchLines = 4096
	genBatchBytes = 8 << 20
	// genRequestBytes bounds one produce request per partition: a broker's
	// default message.max.bytes is 1 MiB, and a batch of large lines (Okta
	// events are ~1.3 kB) above it is refused (MESSAGE_TOO_LARGE).
	genRequestBytes = 1 << 20
	genFlushWait    = 10 * time.Second // the last batch after ctx ended
)

// genSink takes the lines of a run.
type genSink interface {
	line(l, key []byte)
	full() bool
	// flush delivers what is buffered and says how many lines and bytes
	// (newlines included) that was.
	flush(ctx context.Context) (lines, bytes int64, err error)
}

type lineSink struct {
	w             *bufio.Writer
	lines, nbytes int64
	err           error
}

func (s *lineSink) line(l, _ []byte) {
	if _, err := s.w.Write(l); err != nil && s.err == nil {
		s.err = err
	}
	s.w.WriteByte('\n')
	s.lines++
	s.nbytes += int64(len(l)) + 1
}

func (s *lineSink) full() bool { return s.err != nil }

func (s *lineSink) flush(context.Context) (int64, int64, error) {
	n, nb := s.lines, s.nbytes
	s.lines, s.nbytes = 0, 0
	if err := s.w.Flush(); err != nil {
		return 0, 0, fmt.Errorf("write lines: %w", err)
	}
	if s.err != nil {
		return 0, 0, fmt.Errorf("write lines: %w", s.err)
	}
	return n, nb, nil
}

type msgSink struct {
	w      MessageWriter
	arena  []byte
	offs   [][3]int // key start, value start, value end in arena
	msgs   []kafka.Message
	nbytes int64
}

func (s *msgSink) line(l, key []byte) {
	k := len(s.arena)
	s.arena = append(s.arena, key...)
	v := len(s.arena)
	s.arena = append(s.arena, l...)
	s.offs = append(s.offs, [3]int{k, v, len(s.arena)})
	s.nbytes += int64(len(l)) + 1
}

func (s *msgSink) full() bool { return len(s.offs) >= genBatchLines || len(s.arena) >= genBatchBytes }

func (s *msgSink) flush(ctx context.Context) (int64, int64, error) {
	if len(s.offs) == 0 {
		return 0, 0, nil
	}
	s.msgs = s.msgs[:0]
	for _, o := range s.offs {
		s.msgs = append(s.msgs, kafka.Message{Key: s.arena[o[0]:o[1]:o[1]], Value: s.arena[o[1]:o[2]:o[2]]})
	}
	n, nb := int64(len(s.offs)), s.nbytes
	s.offs, s.arena, s.nbytes = s.offs[:0], s.arena[:0], 0
	if err := s.w.WriteMessages(ctx, s.msgs...); err != nil {
		return 0, 0, fmt.Errorf("write to kafka: %w", err)
	}
	return n, nb, nil
}

func (g *Generator) run(ctx context.Context, s genSink, run GenRun) (GenStats, error) {
	start := time.Now()
	var sent atomic.Int64 // read by the progress writer
	var sentBytes int64
	if run.Progress != nil {
		stop := genProgress(run.Progress, run.ProgressEvery, start, &sent)
		defer stop()
	}
	var deadline <-chan time.Time
	if run.Duration > 0 {
		t := time.NewTimer(run.Duration)
		defer t.Stop()
		deadline = t.C
	}
	ended := func() bool {
		select {
		case <-ctx.Done():
			return true
		case <-deadline:
			deadline = closedChan()
			return true
		default:
			return false
		}
	}
	deliver := func(ctx context.Context) error {
		n, nb, err := s.flush(ctx)
		sent.Add(n)
		sentBytes += nb
		return err
	}
	stats := func() GenStats { return GenStats{Lines: sent.Load(), Bytes: sentBytes, Elapsed: time.Since(start)} }
	var perTick int64 = 1 // lines between two looks at the clock when paced: at most 50 waits a second
	if run.Rate > 0 {
		perTick = max(1, int64(run.Rate/50))
	}
	nextPace := perTick
	var lines, nbytes int64
	var buf []byte
loop:
	for i := 0; ; i++ {
		if i&63 == 0 && ended() {
			break
		}
		buf = g.Append(buf[:0])
		key := g.Key()
		for rest := buf; len(rest) > 0; {
			l := rest
			if j := bytes.IndexByte(rest, '\n'); j >= 0 {
				l, rest = rest[:j], rest[j+1:]
			} else {
				rest = nil
			}
			s.line(l, key)
			lines++
			nbytes += int64(len(l)) + 1
			if run.Lines > 0 && lines >= run.Lines || run.Bytes > 0 && nbytes >= run.Bytes {
				break loop
			}
			if run.Rate <= 0 || lines < nextPace {
				continue
			}
			nextPace = lines + perTick
			if wait := time.Until(start.Add(time.Duration(float64(lines) / run.Rate * float64(time.Second)))); wait > 0 {
				if err := deliver(ctx); err != nil {
					if ended() {
						return stats(), nil
					}
					return stats(), err
				}
				if !genSleep(ctx, deadline, wait) {
					break loop
				}
			}
		}
		if s.full() {
			if err := deliver(ctx); err != nil {
				if ended() {
					return stats(), nil
				}
				return stats(), err
			}
		}
	}
	fctx := ctx
	if ctx.Err() != nil { // deliver what was generated all the same
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), genFlushWait)
		defer cancel()
	}
	err := deliver(fctx)
	return stats(), err
}

func closedChan() <-chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}

// genSleep waits d; false when ctx or the deadline ended it.
func genSleep(ctx context.Context, deadline <-chan time.Time, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-deadline:
	}
	return false
}

// genProgress writes a progress line every interval until stop, which
// writes the summary.
func genProgress(w io.Writer, every time.Duration, start time.Time, sent *atomic.Int64) (stop func()) {
	if every <= 0 {
		every = 5 * time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				n := sent.Load()
				fmt.Fprintf(w, "gen: %d lines sent, %.0f lines/s\n", n, float64(n-last)/now.Sub(lastAt).Seconds())
				last, lastAt = n, now
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		el := time.Since(start)
		n := sent.Load()
		fmt.Fprintf(w, "gen: done, %d lines in %s (%.0f lines/s)\n", n, el.Round(time.Millisecond), float64(n)/max(el.Seconds(), 1e-9))
	}
}
