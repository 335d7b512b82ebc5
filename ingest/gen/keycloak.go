package gen

import (
	"slices"
	"strconv"
	"time"
)

// Keycloak: org.keycloak.events records, OAuth2CodeParser warnings and noise.

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
		user = g.rnd.IntN(numUsers)
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
		b = kcField(b, legacy, "realmId", realmName)
	} else {
		b = kcField(b, legacy, "realmId", realmID)
		b = kcField(b, legacy, "realmName", realmName)
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
	user := g.rnd.IntN(numUsers)
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
	user := g.rnd.IntN(numUsers)
	b = g.kcEvent(b, c, &g.shapes.kcLogin, nil, user, sess)
	g.schedule(lateRequest{due: g.now.Add(time.Duration(70+g.rnd.IntN(80)) * time.Second), kind: lateCode, c: c, user: user}, sess, nil)
	return b
}

// kcRefreshRace: two tabs refresh one token at once from one browser: the
// first succeeds, the second exceeds the reuse limit.
func (g *Generator) kcRefreshRace(b []byte, c int) []byte {
	s := g.shapes
	thread := 1 + g.rnd.IntN(64)
	user := g.rnd.IntN(numUsers)
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
	g.schedule(lateRequest{due: g.now.Add(time.Duration(20+g.rnd.IntN(100)) * time.Second), kind: lateReplay, c: c,
		user: int(g.victims[v][0])}, sess, g.tok)
	return b
}

// schedule queues a later request, in due order; past maxLater it is dropped.
func (g *Generator) schedule(l lateRequest, sess, tok []byte) {
	if len(g.later) >= maxLater {
		return
	}
	copy(l.sess[:], sess)
	copy(l.tok[:], tok)
	i, _ := slices.BinarySearchFunc(g.later, l.due, func(x lateRequest, t time.Time) int { return x.due.Compare(t) })
	g.later = slices.Insert(g.later, i, l)
}

func (g *Generator) writeLater(b []byte, l *lateRequest) []byte {
	s := g.shapes
	switch l.kind {
	case lateReplay:
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
