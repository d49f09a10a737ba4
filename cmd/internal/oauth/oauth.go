// Package oauth is skimmer-mcp's own OAuth 2.1 authorization server, for
// hosts (Claude, ChatGPT) that add a remote MCP server by its URL alone and
// authenticate only by OAuth. A person signs in once by pasting their
// Skimmer API key into a page this server serves; the key is checked with
// Skimmer, then travels encrypted inside the grant: in the refresh token
// and in every short-lived access token, which any replica holding
// SKIMMER_OAUTH_KEY can open without a lookup.
//
// It follows the MCP authorization spec (2025-11-25 and 2026-07-28):
// protected-resource metadata (RFC 9728), authorization-server metadata
// (RFC 8414), client ID metadata documents and dynamic registration
// (RFC 7591), PKCE with S256 only, resource indicators (RFC 8707), the iss
// response parameter (RFC 9207), rotating refresh tokens whose reuse
// revokes the grant, and revocation (RFC 7009). Parsing and validating
// requests is left to github.com/zitadel/oidc's op package; what is ours
// is the grant, the tokens, the page and the state.
package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/schema"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/loopback"
)

// The scopes a grant carries. A read-and-change grant carries both.
const (
	ScopeRead  = "skimmer:read"
	ScopeWrite = "skimmer:write"
)

var scopesSupported = []string{ScopeRead, ScopeWrite}

// Lifetimes.
const (
	codeTTL          = time.Minute
	codeSpentTTL     = 10 * time.Minute // longer than a code lives: its reuse is seen
	refreshTTL       = 30 * days        // renewed on every use
	grantTTL         = 180 * days       // then the person signs in again
	pendingTTL       = 15 * time.Minute // to fill in the sign-in page
	DefaultAccessTTL = 15 * time.Minute
	days             = 24 * time.Hour
)

// Token prefixes: they tell an access token from a key at a glance, for the
// gate and for secret scanners.
const (
	accessPrefix  = "smcp_at_"
	refreshPrefix = "smcp_rt_"
	codePrefix    = "smcp_ac_"
)

// ErrKeyRejected is what Config.CheckKey returns, wrapped, when Skimmer
// refuses the key: the page then asks for the key again.
var ErrKeyRejected = errors.New("skimmer rejected the key")

// ErrStateUnavailable is returned, wrapped, when the store could not be
// read or written (a shared store that is down or slow). It is no verdict
// on a token: the request is refused for now (fail closed) and answered
// 503 with RetryAfter, never "revoked" or "invalid", which would make the
// client throw its tokens away and sign its person out.
var ErrStateUnavailable = errors.New("the server cannot check sign-ins right now")

// RetryAfter is what a request refused with ErrStateUnavailable is told to
// wait: a shared store's outage is noticed at once and probed every half
// second, so a few seconds is usually enough.
const RetryAfter = 5 * time.Second

// Config is what the server needs from the command.
type Config struct {
	// Issuer is the public URL clients reach, an origin such as
	// https://mcp.example.com. The MCP endpoint is Issuer + "/mcp".
	Issuer string
	// Key is SKIMMER_OAUTH_KEY; PreviousKey, during a rotation, the one
	// it replaced, still accepted.
	Key, PreviousKey string
	// Store keeps codes, spent tokens and revocations.
	Store Store
	// CheckKey makes one real read against Skimmer with key; an error
	// wrapping ErrKeyRejected means the key is wrong. It is called only
	// with a key that skimmer.CheckAPIKey accepts: the page says what is
	// wrong with any other, and sends it nowhere.
	CheckKey func(ctx context.Context, key string) error
	// ReadOnly: the server offers only its read tools, so the page offers
	// reading only, and every grant is to read.
	ReadOnly bool
	// DemoKey, when set, makes this the sign-in of a demo account (the
	// sandbox): the page says so, any text or none is accepted, and every
	// grant holds DemoKey instead of what was typed, which is dropped.
	DemoKey string
	// AccessTTL is how long an access token lives: DefaultAccessTTL when 0.
	AccessTTL time.Duration
	// WritesConfirmed: every write is previewed before it is applied, as
	// the page tells the person choosing "read and change".
	WritesConfirmed bool
	Documents       DocumentOptions
	Logger          *slog.Logger
	Now             func() time.Time
}

// Server is the authorization server, and the check of its access tokens
// for the MCP endpoint.
type Server struct {
	cfg       Config
	issuer    string
	resource  string
	seal      *sealer
	store     Store
	documents *documents
	decoder   *schema.Decoder
	encoder   *schema.Encoder
	log       *slog.Logger
	now       func() time.Time
}

// New checks the config and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.Store == nil || cfg.CheckKey == nil {
		return nil, errors.New("oauth: Config.Store and Config.CheckKey are required")
	}
	issuer, err := CheckIssuer(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("the public URL %q: %w", cfg.Issuer, err)
	}
	seal, err := newSealer(cfg.Key, cfg.PreviousKey)
	if err != nil {
		return nil, fmt.Errorf("SKIMMER_OAUTH_KEY: %w", err)
	}
	dec := schema.NewDecoder()
	dec.IgnoreUnknownKeys(true)
	return &Server{
		cfg: cfg, issuer: issuer, resource: issuer + "/mcp", seal: seal, store: cfg.Store,
		documents: newDocuments(cfg.Documents, cfg.Now, cfg.Logger), decoder: dec, encoder: oidc.NewEncoder(),
		log: cfg.Logger, now: cfg.Now,
	}, nil
}

// CheckIssuer returns the public URL in its canonical form, or says what
// is wrong with it: an origin, https unless it is this machine.
func CheckIssuer(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "", errors.New("give the URL clients reach, e.g. https://mcp.example.com")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", errors.New("give an origin only (scheme, host and port), e.g. https://mcp.example.com; the server answers at its root")
	case u.Scheme != "https" && !(u.Scheme == "http" && loopback.Host(u.Hostname())):
		return "", errors.New("use https (terminate TLS in front of the server); plain http is only for this machine")
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), nil
}

// Resource is the MCP endpoint's URL: what tokens are issued for.
func (s *Server) Resource() string { return s.resource }

// Issuer is the authorization server's identifier, its public URL.
func (s *Server) Issuer() string { return s.issuer }

// Routes adds the authorization server's endpoints to mux.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.metadata)
	prm := s.protectedResource()
	mux.Handle("/.well-known/oauth-protected-resource", prm)
	mux.Handle("/.well-known/oauth-protected-resource/mcp", prm)
	mux.HandleFunc("GET /authorize", s.authorizePage)
	mux.HandleFunc("POST /authorize", s.authorizeSubmit)
	mux.Handle("/token", cors(http.HandlerFunc(s.token)))
	mux.Handle("/register", cors(http.HandlerFunc(s.register)))
	mux.Handle("/revoke", cors(http.HandlerFunc(s.revocation)))
}

// cors lets browser-based MCP clients call the token, registration and
// revocation endpoints: they carry no cookies, so any origin may.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Mcp-Protocol-Version")
			w.Header().Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// grant is what a person granted one client: sealed into its codes and
// tokens, never stored in clear.
type grant struct {
	ID       string `json:"g"`
	Client   string `json:"c"` // clientTag of the client id
	Key      string `json:"k"` // the Skimmer key
	Write    bool   `json:"w,omitempty"`
	Resource string `json:"r"`
	Ends     int64  `json:"ge"` // unix seconds; no token of the grant outlives it
}

func (g grant) scope() string {
	if g.Write {
		return ScopeRead + " " + ScopeWrite
	}
	return ScopeRead
}

// token is an access or refresh token's content.
type token struct {
	grant
	Serial  string `json:"n,omitempty"` // refresh tokens: spent once, by this
	Expires int64  `json:"e"`
}

// clientTag names a client in a token: a hash, because a sealed client id
// is long.
func clientTag(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// codeName is the store entry of a waiting authorization code: a hash,
// since the store must not hold the code itself.
func codeName(code string) string {
	sum := sha256.Sum256([]byte(code))
	return "code:" + hex.EncodeToString(sum[:])
}

func (s *Server) mint(purpose, prefix string, t token) string {
	raw, _ := json.Marshal(t)
	return prefix + s.seal.seal(purpose, raw)
}

func (s *Server) openToken(purpose, prefix, value string) (token, error) {
	var t token
	if !strings.HasPrefix(value, prefix) {
		return t, errUnsealed
	}
	raw, err := s.seal.open(purpose, strings.TrimPrefix(value, prefix))
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return t, errUnsealed
	}
	return t, nil
}

// revoked reports whether grant id was revoked. A store that cannot
// answer is not a revocation, nor a clean bill: ErrStateUnavailable, and
// the caller refuses the request for now.
func (s *Server) revoked(ctx context.Context, id string) (bool, error) {
	_, err := s.store.Get(ctx, "revoked:"+id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, s.unavailable(ctx, err)
}

// unavailable is the error for a store that did not answer. The store
// logs its outage once; each request refused by it is logged at debug.
func (s *Server) unavailable(ctx context.Context, err error) error {
	s.log.DebugContext(ctx, "oauth state unavailable: request refused for now", "err", err)
	return fmt.Errorf("%w: %w", ErrStateUnavailable, err)
}

func (s *Server) revoke(ctx context.Context, g grant) error {
	ttl := time.Until(time.Unix(g.Ends, 0)) + time.Minute
	if err := s.store.Put(ctx, "revoked:"+g.ID, []byte{1}, max(ttl, time.Minute)); err != nil {
		return s.unavailable(ctx, fmt.Errorf("recording the revocation: %w", err))
	}
	s.log.InfoContext(ctx, "oauth grant revoked", "grant", g.ID)
	return nil
}

// Caller is who an access token speaks for.
type Caller struct {
	Key      string // the Skimmer key
	ReadOnly bool
}

// IsAccessToken tells an access token of this server from anything else a
// caller may send as a bearer token (a Skimmer key, the auth token).
func IsAccessToken(bearer string) bool { return strings.HasPrefix(bearer, "smcp_") }

// Verify checks an access token presented at the MCP endpoint: sealed by
// this server's key, for this server, not expired, its grant not revoked.
// The error's text says which, for the WWW-Authenticate answer; an error
// wrapping ErrStateUnavailable says only that revocations could not be
// checked now: the request is refused, the token is not.
func (s *Server) Verify(ctx context.Context, bearer string) (Caller, error) {
	t, err := s.openToken("access", accessPrefix, bearer)
	switch {
	case err != nil:
		return Caller{}, errors.New("the access token is not valid")
	case t.Resource != s.resource:
		return Caller{}, errors.New("the access token was issued for another server")
	case s.now().Unix() >= t.Expires:
		return Caller{}, errors.New("the access token has expired")
	}
	switch revoked, err := s.revoked(ctx, t.ID); {
	case err != nil:
		return Caller{}, err
	case revoked:
		return Caller{}, errors.New("the access token has been revoked")
	}
	return Caller{Key: t.Key, ReadOnly: !t.Write}, nil
}

// Challenge is the WWW-Authenticate value for a request to the MCP
// endpoint without a usable token: where to find out how to get one, and,
// when a token was sent, why it was refused.
func (s *Server) Challenge(problem string) string {
	c := fmt.Sprintf(`Bearer resource_metadata=%q, scope=%q`, s.issuer+"/.well-known/oauth-protected-resource/mcp", strings.Join(scopesSupported, " "))
	if problem != "" {
		c = fmt.Sprintf(`Bearer error="invalid_token", error_description=%q, resource_metadata=%q`, problem, s.issuer+"/.well-known/oauth-protected-resource/mcp")
	}
	return c
}

// namesThisServer reports whether a resource parameter (RFC 8707) names
// this server: its MCP endpoint or its origin, compared after the
// normalisation RFC 3986 allows (case of scheme and host, a trailing /).
func (s *Server) namesThisServer(resource string) bool {
	u, err := url.Parse(resource)
	if err != nil || !u.IsAbs() || u.Fragment != "" || u.RawQuery != "" {
		return false
	}
	got := strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + strings.TrimSuffix(u.Path, "/")
	return got == s.resource || got == s.issuer
}
