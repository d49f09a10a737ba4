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

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/oauth"
	"github.com/skimmer-mcp/skimmer-mcp/tools"
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
	oauth     *oauth.Server // with --oauth: a valid access token is one more source of the key
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
		cred, no := g.credentials(r)
		if no != nil {
			if no.challenge != "" {
				w.Header().Set("WWW-Authenticate", no.challenge)
			}
			refuse(w, no.status, no.why)
			return
		}
		key := cred.key
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
		if cred.readOnly {
			ctx = tools.WithReadOnlyCaller(ctx)
		}
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

// credential is what a request acts with.
type credential struct {
	key      string
	readOnly bool // an OAuth grant to read only
}

// refusal is why a request has no credential, and how to answer it.
type refusal struct {
	status    int
	why       string
	challenge string // WWW-Authenticate, for a 401
}

// credentials resolves the Skimmer key a request acts with. A key comes in
// skimmer-api-key or x-api-key (the name Claude's connectors may send), as
// Authorization: Bearer <key>, or inside an OAuth access token. Two sources
// that disagree are refused, not ranked: a guess could act on the wrong
// account.
func (g *gate) credentials(r *http.Request) (credential, *refusal) {
	bearer := ""
	if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		bearer = strings.TrimSpace(auth[7:])
	}
	own := strings.TrimSpace(r.Header.Get("skimmer-api-key"))
	if x := strings.TrimSpace(r.Header.Get("x-api-key")); x != "" {
		if own != "" && own != x {
			return credential{}, &refusal{status: http.StatusBadRequest, why: "the skimmer-api-key and x-api-key headers hold different keys: send your Skimmer key in one of them"}
		}
		own = x
	}
	unauthorized := func(why string) *refusal {
		c := `Bearer realm="skimmer-mcp"`
		if g.oauth != nil {
			c = g.oauth.Challenge("")
		}
		return &refusal{status: http.StatusUnauthorized, why: why, challenge: c}
	}
	if g.oauth != nil && oauth.IsAccessToken(bearer) {
		if own != "" {
			return credential{}, &refusal{status: http.StatusBadRequest, why: "the request carries both an OAuth access token and a Skimmer key header: send one of them"}
		}
		caller, err := g.oauth.Verify(r.Context(), bearer)
		if err != nil {
			return credential{}, &refusal{status: http.StatusUnauthorized, why: err.Error() + "; sign in again", challenge: g.oauth.Challenge(err.Error())}
		}
		return credential{key: caller.Key, readOnly: caller.ReadOnly}, nil
	}
	if g.hasToken {
		sum := sha256.Sum256([]byte(bearer))
		if bearer == "" || subtle.ConstantTimeCompare(sum[:], g.token[:]) != 1 {
			return credential{}, unauthorized("send the server's auth token as Authorization: Bearer <token>")
		}
		if own != "" {
			return credential{key: own}, nil
		}
		if g.serverKey != "" {
			return credential{key: g.serverKey}, nil
		}
		return credential{}, unauthorized("send your Skimmer API key in the skimmer-api-key header")
	}
	switch {
	case own != "" && bearer != "" && own != bearer:
		return credential{}, &refusal{status: http.StatusBadRequest, why: "the request carries one Skimmer key in a header and another as Authorization: Bearer: send one of them"}
	case own != "":
		return credential{key: own}, nil
	case bearer != "":
		return credential{key: bearer}, nil
	case g.oauth != nil:
		return credential{}, unauthorized("sign in: add this server as a connector by its URL, and your app will open the sign-in page (or send your Skimmer API key in the skimmer-api-key header)")
	case g.serverKey != "":
		return credential{key: g.serverKey}, nil // loopback only: the command checks at start
	}
	return credential{}, unauthorized("send your Skimmer API key in the skimmer-api-key header (or as Authorization: Bearer <key>)")
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
