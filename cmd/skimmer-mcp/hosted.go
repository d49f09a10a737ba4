package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// gate stands in front of the hosted transports. Every request must say
// whose Skimmer account it acts on; the key it resolves goes into the
// request's context and is used for that request's upstream calls only.
//
//   - With an auth token configured, every request must send it as
//     Authorization: Bearer <token>. The caller's own key then comes in the
//     skimmer-api-key header, or else the server-wide key is used.
//   - Without one, a caller sends its own key, in skimmer-api-key or as
//     Authorization: Bearer <key>. The server-wide key is served only on a
//     loopback address (the command refuses to start otherwise).
//
// A session is bound to the key that opened it: another key cannot use it.
// Browser origins other than localhost ones must be allowed by name, which
// with mcp-go's Host check stops DNS rebinding.
type gate struct {
	token     [32]byte // sha256 of the auth token; zero when none
	hasToken  bool
	serverKey string
	origins   []string
	maxBody   int64
	sessions  *bindings
}

type keyCtx struct{}

// withKey returns ctx carrying the caller's Skimmer key.
func withKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyCtx{}, key)
}

func keyFrom(ctx context.Context) string {
	k, _ := ctx.Value(keyCtx{}).(string)
	return k
}

func newGate(c *config, serverKey string) *gate {
	g := &gate{serverKey: serverKey, origins: c.origins(), maxBody: c.maxBody, sessions: newBindings()}
	if c.authToken != "" {
		g.token, g.hasToken = sha256.Sum256([]byte(c.authToken)), true
	}
	return g
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && !g.originAllowed(o) {
			refuse(w, http.StatusForbidden, "origin "+o+" is not allowed; the operator can add it with --allowed-origins")
			return
		}
		if r.ContentLength > g.maxBody {
			refuse(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, g.maxBody)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			next.ServeHTTP(w, r) // a CORS preflight carries no credentials; the transport answers it
			return
		}
		key, why := g.credentials(r)
		if key == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="skimmer-mcp"`)
			refuse(w, http.StatusUnauthorized, why)
			return
		}
		sid := r.Header.Get("Mcp-Session-Id")
		if sid == "" {
			sid = r.URL.Query().Get("sessionId") // the SSE message endpoint
		}
		if sid != "" && !g.sessions.owns(sid, key) {
			refuse(w, http.StatusForbidden, "this session was opened with another Skimmer key")
			return
		}
		slot := &sessionSlot{}
		ctx := context.WithValue(withKey(r.Context(), key), slotKey{}, slot)
		next.ServeHTTP(w, r.WithContext(ctx))
		switch id := w.Header().Get("Mcp-Session-Id"); {
		case slot.id != "": // an SSE stream that has ended
			g.sessions.drop(slot.id)
		case sid != "" && r.Method == http.MethodDelete:
			g.sessions.drop(sid)
		case id != "" && id != sid:
			// A streamable session was just opened: an initialize makes a new
			// one whatever session id, stale or made up, the request carried.
			g.sessions.bind(id, key)
		}
	})
}

// credentials resolves the Skimmer key a request acts with, or says why
// there is none.
func (g *gate) credentials(r *http.Request) (string, string) {
	bearer := ""
	if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		bearer = strings.TrimSpace(auth[7:])
	}
	own := strings.TrimSpace(r.Header.Get("skimmer-api-key"))
	if g.hasToken {
		sum := sha256.Sum256([]byte(bearer))
		if bearer == "" || subtle.ConstantTimeCompare(sum[:], g.token[:]) != 1 {
			return "", "send the server's auth token as Authorization: Bearer <token>"
		}
		if own != "" {
			return own, ""
		}
		if g.serverKey != "" {
			return g.serverKey, ""
		}
		return "", "send your Skimmer API key in the skimmer-api-key header"
	}
	switch {
	case own != "":
		return own, ""
	case bearer != "":
		return bearer, ""
	case g.serverKey != "":
		return g.serverKey, "" // loopback only: the command checks at start
	}
	return "", "send your Skimmer API key in the skimmer-api-key header (or as Authorization: Bearer <key>)"
}

// originAllowed accepts localhost origins and the ones the operator named.
func (g *gate) originAllowed(origin string) bool {
	origin = strings.TrimRight(origin, "/")
	if slices.Contains(g.origins, origin) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return loopbackHost(u.Hostname())
}

func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// sessionSlot lets the SSE session-id generator tell the gate which session
// a stream opened, so the binding is dropped when the stream ends.
type sessionSlot struct{ id string }

type slotKey struct{}

// newSSESessionID makes a session id for an SSE stream and binds it to the
// stream's key.
func (g *gate) newSSESessionID(ctx context.Context, r *http.Request) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := hex.EncodeToString(b)
	g.sessions.bind(id, keyFrom(r.Context()))
	if slot, ok := r.Context().Value(slotKey{}).(*sessionSlot); ok {
		slot.id = id
	}
	return id, nil
}

// bindings remembers which key (as a hash) each session belongs to.
// Entries idle for longer than the sessions' own idle limit are forgotten.
type bindings struct {
	mu   sync.Mutex
	byID map[string]*binding
	idle time.Duration
}

type binding struct {
	key  [32]byte
	seen time.Time
}

const sessionIdle = 30 * time.Minute

func newBindings() *bindings { return &bindings{byID: map[string]*binding{}, idle: sessionIdle} }

func (b *bindings) bind(id, key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	for sid, e := range b.byID {
		if now.Sub(e.seen) > b.idle {
			delete(b.byID, sid)
		}
	}
	b.byID[id] = &binding{key: sha256.Sum256([]byte(key)), seen: now}
}

// owns reports whether key may use session id. An id the gate never bound
// passes: mcp-go answers it (404 for an unknown session).
func (b *bindings) owns(id, key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.byID[id]
	if !ok {
		return true
	}
	sum := sha256.Sum256([]byte(key))
	if subtle.ConstantTimeCompare(sum[:], e.key[:]) != 1 {
		return false
	}
	e.seen = time.Now()
	return true
}

func (b *bindings) drop(id string) {
	b.mu.Lock()
	delete(b.byID, id)
	b.mu.Unlock()
}
