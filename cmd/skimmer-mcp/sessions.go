package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// What a hosted server lets callers hold: sessions (a stateful HTTP
// session, an SSE connection) and streams (a connection the server keeps
// open: an SSE connection, a GET listener of a stateful session). Each is
// capped per key and in total, and a session nobody has used for idle
// ends, closing its streams; one that never got past the handshake ends
// after freshIdle. The numbers are per process: replicas keep their own.
type caps struct {
	sessions, sessionsPerKey int
	streams, streamsPerKey   int
	idle                     time.Duration
	// freshIdle ends a session that never got past the handshake (see
	// pastHandshake). Without an auth token anyone can open sessions
	// with made-up keys, which the per-key caps cannot tell apart; left
	// empty, they would hold the server's places for idle. A client that
	// means to use its session lists its tools at once.
	freshIdle time.Duration
}

// defaultCaps are the flags' defaults. Under them a full server holds
// about 50 MiB of sessions (mcp-go keeps some 25 KB each) or 30 MiB of
// streams (four goroutines and their buffers each): see the resource tests.
var defaultCaps = caps{sessions: 2000, sessionsPerKey: 200, streams: 500, streamsPerKey: 50, idle: 30 * time.Minute, freshIdle: time.Minute}

// orDefaults fills what is unset (zero) from defaultCaps.
func (c caps) orDefaults() caps {
	for _, f := range []struct{ v, def *int }{{&c.sessions, &defaultCaps.sessions}, {&c.sessionsPerKey, &defaultCaps.sessionsPerKey}, {&c.streams, &defaultCaps.streams}, {&c.streamsPerKey, &defaultCaps.streamsPerKey}} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	if c.idle <= 0 {
		c.idle = defaultCaps.idle
	}
	if c.freshIdle <= 0 {
		c.freshIdle = defaultCaps.freshIdle
	}
	c.freshIdle = min(c.freshIdle, c.idle)
	return c
}

// retryAfter is what a refused caller is told to wait. Sessions end when
// their clients close them or when they expire, neither of which the server
// can foresee, so this is a pause, not a promise.
const (
	retryAfterKey   = 60 * time.Second // this key holds its share: close one, or wait
	retryAfterTotal = 30 * time.Second // the server is full: others will leave
)

// refusal is an answer the gate gives instead of the transport's: a
// status, a sentence that names the problem and its fix, and what a client
// needs to act on it.
type refusal struct {
	status     int
	why        string
	challenge  string        // WWW-Authenticate, for a 401
	retryAfter time.Duration // for a 429 or 503
}

func (r *refusal) write(w http.ResponseWriter) {
	if r.challenge != "" {
		w.Header().Set("WWW-Authenticate", r.challenge)
	}
	if r.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(r.retryAfter.Seconds())))
	}
	refuse(w, r.status, r.why)
}

// sessions is the one record of which sessions exist, whose they are (a
// key's skimmer.KeyHash, never the key) and what they hold. For stateful HTTP it is mcp-go's session id manager too
// (see sessionIDs), so a session exists for the gate exactly when it exists
// for the transport: bound when the transport mints its id, unbound when
// the transport ends it.
type sessions struct {
	caps caps
	now  func() time.Time

	mu    sync.Mutex
	byID  map[string]*session
	byKey map[skimmer.KeyHash]*tally
	all   tally
	stop  chan struct{}
	once  sync.Once
}

type tally struct{ sessions, streams int }

type session struct {
	key     skimmer.KeyHash
	seen    time.Time
	streams map[*stream]struct{}
	used    bool // got past the handshake: it may idle for caps.idle
}

// idleFor is how long e may go unused.
func (s *sessions) idleFor(e *session) time.Duration {
	if e.used {
		return s.caps.idle
	}
	return s.caps.freshIdle
}

// expired reports whether e has gone unused for longer than it may.
func (s *sessions) expired(e *session, now time.Time) bool {
	return now.Sub(e.seen) > s.idleFor(e)
}

// stream is one open connection; cancel ends its request, which closes it.
type stream struct{ cancel context.CancelFunc }

func newSessions(c caps) *sessions {
	s := &sessions{caps: c.orDefaults(), now: time.Now, byID: map[string]*session{}, byKey: map[skimmer.KeyHash]*tally{}, stop: make(chan struct{})}
	go s.sweep()
	return s
}

// close stops the sweeper.
func (s *sessions) close() { s.once.Do(func() { close(s.stop) }) }

// sweep ends idle sessions in the background, so their streams close and
// their places free up even when nobody asks for one.
func (s *sessions) sweep() {
	t := time.NewTicker(min(max(s.caps.freshIdle/4, 50*time.Millisecond), time.Minute))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.expire()
		}
	}
}

func (s *sessions) expire() {
	var cancels []context.CancelFunc
	s.mu.Lock()
	now := s.now()
	for id, e := range s.byID {
		if s.expired(e, now) {
			cancels = append(cancels, s.endLocked(id)...)
		}
	}
	s.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

func (s *sessions) tallyOf(key skimmer.KeyHash) *tally {
	t := s.byKey[key]
	if t == nil {
		t = &tally{}
		s.byKey[key] = t
	}
	return t
}

// admit takes a session place, a stream place or both for key, or says
// why not: 429 when the key holds its share, 503 when the server is full.
func (s *sessions) admit(key skimmer.KeyHash, session, stream bool) *refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tallyOf(key)
	switch {
	case session && t.sessions >= s.caps.sessionsPerKey:
		return &refusal{status: http.StatusTooManyRequests, retryAfter: retryAfterKey, why: fmt.Sprintf("this Skimmer key already has %d sessions open here, the most one key may hold: end one you no longer use (clients end a session when they disconnect), or wait for an idle one to expire after %s; the operator can raise --max-sessions-per-key", t.sessions, s.caps.idle)}
	case stream && t.streams >= s.caps.streamsPerKey:
		return &refusal{status: http.StatusTooManyRequests, retryAfter: retryAfterKey, why: fmt.Sprintf("this Skimmer key already has %d streams open here, the most one key may hold: close one you no longer use; the operator can raise --max-streams-per-key", t.streams)}
	case session && s.all.sessions >= s.caps.sessions:
		return &refusal{status: http.StatusServiceUnavailable, retryAfter: retryAfterTotal, why: fmt.Sprintf("the server holds its most sessions (%d); try again shortly", s.all.sessions)}
	case stream && s.all.streams >= s.caps.streams:
		return &refusal{status: http.StatusServiceUnavailable, retryAfter: retryAfterTotal, why: fmt.Sprintf("the server holds its most open streams (%d); try again shortly", s.all.streams)}
	}
	s.count(key, session, stream, 1)
	return nil
}

// count adds d to key's tallies and the totals; a tally back at zero is
// forgotten, so made-up keys leave nothing behind.
func (s *sessions) count(key skimmer.KeyHash, session, stream bool, d int) {
	t := s.tallyOf(key)
	if session {
		t.sessions += d
		s.all.sessions += d
	}
	if stream {
		t.streams += d
		s.all.streams += d
	}
	if t.sessions == 0 && t.streams == 0 {
		delete(s.byKey, key)
	}
}

// giveBack returns places admit took.
func (s *sessions) giveBack(key skimmer.KeyHash, session, stream bool) {
	s.mu.Lock()
	s.count(key, session, stream, -1)
	s.mu.Unlock()
}

// bind records a session the transport has just opened, with its first
// stream when it is one (SSE). Its place was taken by admit.
func (s *sessions) bind(id string, key skimmer.KeyHash, first *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &session{key: key, seen: s.now(), streams: map[*stream]struct{}{}}
	if first != nil {
		e.streams[first] = struct{}{}
	}
	s.byID[id] = e
}

// use checks that key may use session id, and marks it used; past says
// the request got past the handshake (see pastHandshake). A session that
// is not here, or has expired, is 404: clients open a new one.
func (s *sessions) use(id string, key skimmer.KeyHash, past bool) *refusal {
	s.mu.Lock()
	e, ok := s.byID[id]
	var cancels []context.CancelFunc
	if ok && s.expired(e, s.now()) {
		cancels, ok = s.endLocked(id), false
	}
	switch {
	case !ok:
		s.mu.Unlock()
		for _, c := range cancels {
			c()
		}
		return &refusal{status: http.StatusNotFound, why: fmt.Sprintf("no such session here: it was ended, expired after %s without use (%s if nothing but initialize was sent on it), or was opened on another server (each server keeps its own); open a new session", s.caps.idle, s.caps.freshIdle)}
	case subtle.ConstantTimeCompare(e.key[:], key[:]) != 1:
		s.mu.Unlock()
		return &refusal{status: http.StatusForbidden, why: "this session was opened with another Skimmer key; open your own session with your key"}
	}
	e.seen = s.now()
	e.used = e.used || past
	s.mu.Unlock()
	return nil
}

// exists reports whether session id is here and not expired.
func (s *sessions) exists(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	return ok && !s.expired(e, s.now())
}

// openStream takes a stream place on session id for key.
func (s *sessions) openStream(id string, key skimmer.KeyHash, cancel context.CancelFunc) (*stream, *refusal) {
	if r := s.admit(key, false, true); r != nil {
		return nil, r
	}
	st := &stream{cancel: cancel}
	s.mu.Lock()
	e, ok := s.byID[id]
	if ok {
		e.streams[st] = struct{}{}
	}
	s.mu.Unlock()
	if !ok { // ended between the check and now
		s.giveBack(key, false, true)
		return nil, &refusal{status: http.StatusNotFound, why: "the session ended; open a new session"}
	}
	return st, nil
}

// closeStream gives back a stream's place once its request has returned.
func (s *sessions) closeStream(id string, key skimmer.KeyHash, st *stream) {
	s.mu.Lock()
	if e, ok := s.byID[id]; ok {
		delete(e.streams, st)
	}
	s.count(key, false, true, -1)
	s.mu.Unlock()
}

// end forgets session id and closes its streams. Ending a session that is
// gone already does nothing.
func (s *sessions) end(id string) {
	s.mu.Lock()
	cancels := s.endLocked(id)
	s.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

func (s *sessions) endLocked(id string) []context.CancelFunc {
	e, ok := s.byID[id]
	if !ok {
		return nil
	}
	delete(s.byID, id)
	s.count(e.key, true, false, -1)
	cancels := make([]context.CancelFunc, 0, len(e.streams))
	for st := range e.streams {
		cancels = append(cancels, st.cancel)
	}
	return cancels
}

// held reports the totals, for tests and figures.
func (s *sessions) held() tally {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all
}

// opening is a session the gate has admitted and the transport may open
// while it serves the request: the transport's id generator binds it.
type opening struct {
	key   skimmer.KeyHash
	first *stream // the SSE connection, which is the session's stream
	id    string  // set when bound
}

type openingKey struct{}

func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// take binds a new session for the request r is serving. A session the
// gate did not admit (the transport opened one where the gate foresaw
// none) is still bound to the caller's key, and counted.
func (s *sessions) take(r *http.Request) string {
	id := newSessionID()
	o, _ := r.Context().Value(openingKey{}).(*opening)
	if o == nil || o.id != "" {
		o = &opening{key: skimmer.HashKey(keyFrom(r.Context()))}
		s.mu.Lock()
		s.count(o.key, true, false, 1)
		s.mu.Unlock()
	}
	o.id = id
	s.bind(id, o.key, o.first)
	return id
}

// sessionIDs makes sessions mcp-go's session id manager for stateful
// streamable HTTP: ids are minted (and bound to the caller) when the
// transport opens a session, valid while the gate holds them, and unbound
// only when the transport terminates one, so a DELETE the transport
// refuses ends nothing.
type sessionIDs struct{ s *sessions }

func (m sessionIDs) ResolveSessionIdManager(r *http.Request) server.SessionIdManager {
	return requestIDs{s: m.s, r: r}
}

// requestIDs serves one request; r is nil for the transport's own sweeps
// and shutdown, which only terminate.
type requestIDs struct {
	s *sessions
	r *http.Request
}

var errNoSession = errors.New("no such session")

func (m requestIDs) Generate() string {
	if m.r == nil {
		return newSessionID() // bound to nobody: no key can use it
	}
	return m.s.take(m.r)
}

func (m requestIDs) Validate(id string) (bool, error) {
	if !m.s.exists(id) {
		return false, errNoSession
	}
	return false, nil
}

func (m requestIDs) Terminate(id string) (bool, error) {
	m.s.end(id)
	return false, nil
}
