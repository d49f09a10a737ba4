package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/loopback"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/oauth"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
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
//   - With --oauth, an access token this server issued carries the key.
//
// A session is bound to the key that opened it: another key cannot use it.
// The gate checks exactly the session id the transport behind it routes by
// (see route), and what callers may hold open is capped (see sessions).
// Browser origins other than localhost ones must be allowed by name, which
// with mcp-go's Host check stops DNS rebinding.
// defaultBodyTimeout is --body-timeout's default: ample for the largest
// body --max-body allows over a slow link, short enough that trickling
// clients cannot pile up.
const defaultBodyTimeout = 10 * time.Second

type gate struct {
	token       [32]byte // sha256 of the auth token; zero when none
	hasToken    bool
	serverKey   string
	origins     []string
	maxBody     int64
	bodyTimeout time.Duration
	sessions    *sessions
	oauth       *oauth.Server // with --oauth: a valid access token is one more source of the key
	about       about         // what a person who opens the endpoint in a browser is told
}

// route is how the transport behind a gated handler finds a request's
// session, which is where the gate must look too.
type route int

const (
	streamableStateless route = iota // no sessions: any session id is dropped
	streamableStateful               // the Mcp-Session-Id header; initialize opens one
	sseStream                        // GET /sse opens a session that lasts as long as the stream
	sseMessage                       // POST /message: the sessionId query parameter
)

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
	g := &gate{serverKey: serverKey, origins: c.origins(), maxBody: c.maxBody, bodyTimeout: c.bodyTimeout, sessions: newSessions(c.caps())}
	if g.bodyTimeout <= 0 {
		g.bodyTimeout = defaultBodyTimeout
	}
	if c.authToken != "" {
		g.token, g.hasToken = sha256.Sum256([]byte(c.authToken)), true
	}
	return g
}

func (g *gate) wrap(rt route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if o := r.Header.Get("Origin"); o != "" {
			if !g.originAllowed(o) {
				refuse(w, http.StatusForbidden, "origin "+o+" is not allowed; the operator can add it with --allowed-origins")
				return
			}
			if allowCORS(w, r, o) {
				return // a preflight, answered: it carries no credentials
			}
		}
		if browserVisit(r) {
			// Someone opened the endpoint in a browser: say in words what
			// this is, rather than a protocol error or a 401.
			status := http.StatusNotAcceptable
			if rt == streamableStateless {
				w.Header().Set("Allow", "POST")
				status = http.StatusMethodNotAllowed
			}
			writeAbout(w, r, status, g.about)
			return
		}
		if r.ContentLength > g.maxBody {
			refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is over %d bytes, the most this server accepts (--max-body)", g.maxBody))
			return
		}
		cred, no := g.credentials(r)
		if no != nil {
			no.write(w)
			return
		}
		key := cred.key
		if !cred.server { // the server's own key was checked at start
			if err := skimmer.CheckAPIKey(key); err != nil {
				why := err.Error()
				if ke := (*skimmer.KeyError)(nil); errors.As(err, &ke) {
					why = ke.Of("the Skimmer API key you sent")
				}
				g.unauthorized(why).write(w)
				return
			}
		}
		body, ref := g.readBody(w, r)
		if ref != nil {
			ref.write(w)
			return
		}
		ctx := tools.WithKeySource(withKey(r.Context(), key), cred.source)
		if cred.readOnly {
			ctx = tools.WithReadOnlyCaller(ctx)
		}
		r = r.WithContext(ctx)
		switch rt {
		case streamableStateless:
			g.stateless(w, r, next)
		case streamableStateful:
			g.stateful(w, r, body, skimmer.HashKey(key), next)
		case sseStream:
			g.sse(w, r, skimmer.HashKey(key), next)
		case sseMessage:
			if id := r.URL.Query().Get("sessionId"); id != "" { // exactly what mcp-go routes by
				if ref := g.sessions.use(id, skimmer.HashKey(key), pastHandshake(body)); ref != nil {
					ref.write(w)
					return
				}
			}
			next.ServeHTTP(w, r) // without a sessionId mcp-go refuses it
		}
	})
}

// readBody reads the whole body (bodyDeadline bounds how long that may
// take) and hands the transport a copy.
func (g *gate) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *refusal) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &refusal{status: http.StatusRequestEntityTooLarge, why: fmt.Sprintf("the request body is over %d bytes, the most this server accepts (--max-body)", g.maxBody)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		w.Header().Set("Connection", "close")
		return nil, &refusal{status: http.StatusRequestTimeout, why: fmt.Sprintf("the request body did not arrive within %s; send it whole and at once (the operator sets the limit with --body-timeout)", g.bodyTimeout)}
	case err != nil:
		w.Header().Set("Connection", "close")
		return nil, &refusal{status: http.StatusBadRequest, why: "the request body could not be read: " + err.Error()}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// bodyDeadline gives every request that has a body d to send all of it, on
// every route the server has (the MCP endpoint and the OAuth ones alike):
// a client trickling a body cannot hold a connection and a handler for
// longer. net/http has only a deadline for the whole request, which would
// also cut the streams a request may answer with; this one is lifted once
// the body is in. A request that misses it cannot be read any further, so
// its connection is closed when its handler returns.
func bodyDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Now().Add(d))
			r.Body = &deadlineBody{ReadCloser: r.Body, lift: func() { _ = rc.SetReadDeadline(time.Time{}) }}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline once the body has been read to its
// end, so the rest of the request (a stream) is not cut by it.
type deadlineBody struct {
	io.ReadCloser
	lift   func()
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.lifted {
		b.lifted = true
		b.lift()
	}
	return n, err
}

// stateless: the transport keeps no sessions, so no session id may steer a
// request onto one, and there is no stream to listen on or session to end.
func (g *gate) stateless(w http.ResponseWriter, r *http.Request, next http.Handler) {
	switch r.Method {
	case http.MethodGet, http.MethodDelete:
		w.Header().Set("Allow", "POST")
		refuse(w, http.StatusMethodNotAllowed, "this endpoint is stateless: it keeps no sessions and no stream to listen on; send each request as a POST, and its answer comes back on that POST")
		return
	}
	r.Header.Del("Mcp-Session-Id")
	next.ServeHTTP(w, r)
}

// stateful: requests name their session in Mcp-Session-Id, except the two
// kinds mcp-go serves without one, an initialize on the protocols before
// 2026-07-28 (which opens a session) and anything on 2026-07-28 (which has
// no sessions).
func (g *gate) stateful(w http.ResponseWriter, r *http.Request, body []byte, key skimmer.KeyHash, next http.Handler) {
	id := r.Header.Get("Mcp-Session-Id")
	switch r.Method {
	case http.MethodPost:
		opens, sessionless := postKind(r.Header, body)
		if sessionless {
			next.ServeHTTP(w, r)
			return
		}
		if opens {
			if ref := g.sessions.admit(key, true, false); ref != nil {
				ref.write(w)
				return
			}
			o := &opening{key: key}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), openingKey{}, o)))
			if o.id == "" { // the transport opened nothing after all
				g.sessions.giveBack(key, true, false)
			}
			return
		}
	case http.MethodGet, http.MethodDelete:
		if id == "" {
			refuse(w, http.StatusBadRequest, "name the session in the Mcp-Session-Id header, as your initialize answer gave it")
			return
		}
	default:
		next.ServeHTTP(w, r) // the transport routes nothing else by session
		return
	}
	if ref := g.sessions.use(id, key, r.Method == http.MethodPost && pastHandshake(body)); ref != nil {
		ref.write(w)
		return
	}
	if r.Method != http.MethodGet {
		next.ServeHTTP(w, r) // a DELETE is unbound by the transport's Terminate, if it ends the session
		return
	}
	// A GET listens on the session: a stream, which the session's end closes.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	st, ref := g.sessions.openStream(id, key, cancel)
	if ref != nil {
		ref.write(w)
		return
	}
	defer g.sessions.closeStream(id, key, st)
	next.ServeHTTP(w, r.WithContext(ctx))
}

// postKind reads a POST as mcp-go does: whether it is an initialize that
// opens a session, or on protocol 2026-07-28, whose requests carry no
// session. Both are decoded the way mcp-go decodes them, so the two agree.
func postKind(h http.Header, body []byte) (opens, sessionless bool) {
	var msg struct {
		Method mcp.MCPMethod `json:"method,omitempty"`
	}
	var meta struct {
		Params struct {
			Meta *mcp.Meta `json:"_meta"`
		} `json:"params"`
	}
	version := ""
	if json.Unmarshal(body, &meta) == nil {
		version = meta.Params.Meta.ProtocolVersion()
	}
	if mcp.IsModernProtocol(version) || mcp.IsModernProtocol(h.Get(mcp.HeaderProtocolVersion)) {
		return false, true
	}
	return json.Unmarshal(body, &msg) == nil && msg.Method == mcp.MethodInitialize, false
}

// pastHandshake reports whether a POST's body is more than the handshake:
// anything but initialize, the initialized notification and ping, or an
// answer to the server (which comes only during a call). One message or
// a batch; a body that is not JSON-RPC is not.
func pastHandshake(body []byte) bool {
	type message struct {
		Method        *string         `json:"method"`
		ID            json.RawMessage `json:"id"`
		Result, Error json.RawMessage
	}
	var msgs []message
	if json.Unmarshal(body, &msgs) != nil {
		var one message
		if json.Unmarshal(body, &one) != nil {
			return false
		}
		msgs = append(msgs, one)
	}
	for _, m := range msgs {
		switch {
		case m.Method == nil:
			if m.ID != nil && (m.Result != nil || m.Error != nil) { // an answer to the server
				return true
			}
		case *m.Method != string(mcp.MethodInitialize) && *m.Method != string(mcp.MethodNotificationInitialized) && *m.Method != string(mcp.MethodPing):
			return true
		}
	}
	return false
}

// sse: a GET on /sse opens a session whose stream is the connection. The
// transport's id generator binds it (newSSESessionID); it ends when the
// stream does, or when it has been idle too long.
func (g *gate) sse(w http.ResponseWriter, r *http.Request, key skimmer.KeyHash, next http.Handler) {
	if r.Method != http.MethodGet {
		next.ServeHTTP(w, r) // the transport refuses it
		return
	}
	if ref := g.sessions.admit(key, true, true); ref != nil {
		ref.write(w)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	o := &opening{key: key, first: &stream{cancel: cancel}}
	next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, openingKey{}, o)))
	if o.id != "" {
		g.sessions.closeStream(o.id, key, o.first)
		g.sessions.end(o.id)
	} else {
		g.sessions.giveBack(key, true, true)
	}
}

// credential is what a request acts with.
type credential struct {
	key      string
	readOnly bool // an OAuth grant to read only
	server   bool // the server-wide key, not one the caller brought
	// source is where the key came from, for the sentence that tells a
	// person what to fix when Skimmer refuses it.
	source tools.KeySource
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
	unauthorized := g.unauthorized
	if g.oauth != nil && oauth.IsAccessToken(bearer) {
		if own != "" {
			return credential{}, &refusal{status: http.StatusBadRequest, why: "the request carries both an OAuth access token and a Skimmer key header: send one of them"}
		}
		caller, err := g.oauth.Verify(r.Context(), bearer)
		switch {
		case errors.Is(err, oauth.ErrStateUnavailable):
			// Not a verdict on the token: a client told invalid_token
			// drops it and signs its person out.
			return credential{}, &refusal{status: http.StatusServiceUnavailable, retryAfter: oauth.RetryAfter,
				why: "the server cannot check sign-ins right now; try again in a moment"}
		case err != nil:
			return credential{}, &refusal{status: http.StatusUnauthorized, why: err.Error() + "; sign in again", challenge: g.oauth.Challenge(err.Error())}
		}
		return credential{key: caller.Key, readOnly: caller.ReadOnly, source: tools.KeyFromSignIn}, nil
	}
	if g.hasToken {
		sum := sha256.Sum256([]byte(bearer))
		switch {
		case bearer == "":
			return credential{}, unauthorized("this server needs its team auth token: send it as Authorization: Bearer <token> (ask whoever runs the server for it), and your Skimmer key in the skimmer-api-key header")
		case subtle.ConstantTimeCompare(sum[:], g.token[:]) != 1:
			return credential{}, unauthorized("that is not this server's auth token: ask whoever runs the server for the right one (your Skimmer key goes in the skimmer-api-key header, not in Authorization)")
		}
		if own != "" {
			return credential{key: own, source: tools.KeyFromHeader}, nil
		}
		if g.serverKey != "" {
			return credential{key: g.serverKey, server: true, source: tools.KeyFromServer}, nil
		}
		return credential{}, unauthorized("send your Skimmer API key in the skimmer-api-key header")
	}
	switch {
	case own != "" && bearer != "" && own != bearer:
		return credential{}, &refusal{status: http.StatusBadRequest, why: "the request carries one Skimmer key in a header and another as Authorization: Bearer: send one of them"}
	case own != "":
		return credential{key: own, source: tools.KeyFromHeader}, nil
	case bearer != "":
		return credential{key: bearer, source: tools.KeyFromHeader}, nil
	case g.oauth != nil:
		return credential{}, unauthorized("sign in: add this server as a connector by its URL, and your app will open the sign-in page (or send your Skimmer API key in the skimmer-api-key header)")
	case g.serverKey != "":
		return credential{key: g.serverKey, server: true, source: tools.KeyFromServer}, nil // loopback only: the command checks at start
	}
	return credential{}, unauthorized("send your Skimmer API key in the skimmer-api-key header (or as Authorization: Bearer <key>)")
}

// unauthorized is a 401 with the challenge that tells a client how to
// authenticate here.
func (g *gate) unauthorized(why string) *refusal {
	c := `Bearer realm="skimmer-mcp"`
	if g.oauth != nil {
		c = g.oauth.Challenge("")
	}
	return &refusal{status: http.StatusUnauthorized, why: why, challenge: c}
}

// corsHeaders are what a browser client may send: MCP's own headers, the
// caller's Skimmer key and Authorization; and what it may read back.
var (
	corsAllowHeaders  = "Content-Type, Accept, Authorization, skimmer-api-key, x-api-key, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID"
	corsExposeHeaders = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate, Retry-After"
)

// allowCORS gives a request from an origin the gate let in its CORS
// answer, on every response to it (a refusal too, so that a browser client
// can read a 401's challenge), and answers a preflight whole, returning
// true. A request without an Origin, which no browser script sends
// cross-origin, gets no CORS headers at all.
func allowCORS(w http.ResponseWriter, r *http.Request, origin string) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// browserVisit reports a person opening the address in a browser: a GET
// that asks for a web page and not for an event stream, as every MCP
// client's GET does.
func browserVisit(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return r.Method == http.MethodGet && strings.Contains(accept, "text/html") && !strings.Contains(accept, "text/event-stream")
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
	return loopback.Host(u.Hostname())
}

func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// newSSESessionID is the SSE transport's id generator: it binds the new
// session to the caller's key as the transport opens it.
func (g *gate) newSSESessionID(_ context.Context, r *http.Request) (string, error) {
	return g.sessions.take(r), nil
}
