package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const maxForm = 64 << 10

// pendingCode is an authorization code's content, sealed in the store
// until it is exchanged: the grant, and what the exchange must match.
type pendingCode struct {
	grant
	Redirect  string `json:"ru"`
	Challenge string `json:"cc"` // S256
	Expires   int64  `json:"e"`
}

// tokenError is an RFC 6749 section 5.2 error answer.
type tokenError struct {
	status      int
	code        string
	description string
}

func (e *tokenError) Error() string { return e.code + ": " + e.description }

func invalidGrant(description string) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_grant", description}
}

func invalidRequest(description string) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_request", description}
}

func invalidClient(description string) *tokenError {
	return &tokenError{http.StatusUnauthorized, "invalid_client", description}
}

// temporarilyUnavailable is the answer while the store cannot be reached:
// the client keeps its code or refresh token and tries again, rather than
// taking the refusal for a verdict and signing its person out.
var temporarilyUnavailable = &tokenError{http.StatusServiceUnavailable, "temporarily_unavailable",
	"the server cannot check sign-ins right now; try again in a moment"}

// tokenResponse is the RFC 6749 section 5.1 answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// token answers POST /token: an authorization code or a refresh token for
// a fresh access token and a new refresh token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	var resp *tokenResponse
	var err error
	if perr := r.ParseForm(); perr != nil {
		err = invalidRequest("the body is not a form (application/x-www-form-urlencoded)")
	} else {
		switch gt := r.PostForm.Get("grant_type"); gt {
		case "authorization_code":
			resp, err = s.exchangeCode(r)
		case "refresh_token":
			resp, err = s.refresh(r)
		case "":
			err = invalidRequest("grant_type is missing")
		default:
			err = &tokenError{http.StatusBadRequest, "unsupported_grant_type", "grant_type " + gt + " is not offered; use authorization_code or refresh_token"}
		}
	}
	if err != nil {
		var te *tokenError
		var oe *oidc.Error
		switch {
		case errors.Is(err, ErrStateUnavailable):
			te = temporarilyUnavailable
			w.Header().Set("Retry-After", fmt.Sprint(int(RetryAfter.Seconds())))
		case errors.As(err, &te):
		case errors.As(err, &oe):
			te = &tokenError{http.StatusBadRequest, string(oe.ErrorType), oe.Description}
			if oe.ErrorType == oidc.InvalidClient {
				te.status = http.StatusUnauthorized
			}
		default:
			s.log.ErrorContext(r.Context(), "oauth token endpoint failed", "err", err)
			te = &tokenError{http.StatusInternalServerError, "server_error", "the server could not complete the request; try again"}
		}
		if te.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="skimmer-mcp"`)
		}
		writeJSONError(w, te.status, te.code, te.description)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// clientFor finds and authenticates the client a token request names.
func (s *Server) clientFor(ctx context.Context, id, secret string) (*client, error) {
	if id == "" {
		return nil, invalidClient("client_id is missing")
	}
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, invalidClient("this client is not known to this server; register again")
	}
	if err := s.authenticate(c, secret); err != nil {
		return nil, invalidClient(err.Error())
	}
	return c, nil
}

// checkResource holds a token request's resource parameter, if sent, to
// the one the grant was made for.
func (s *Server) checkResource(r *http.Request, g grant) error {
	rs := r.PostForm["resource"]
	switch {
	case len(rs) > 1:
		return &tokenError{http.StatusBadRequest, "invalid_target", "send one resource: this server's MCP endpoint"}
	case len(rs) == 1 && !s.namesThisServer(rs[0]):
		return &tokenError{http.StatusBadRequest, "invalid_target", "the resource " + rs[0] + " is not this server; use " + s.resource}
	}
	return nil
}

func (s *Server) exchangeCode(r *http.Request) (*tokenResponse, error) {
	ctx := r.Context()
	req, err := op.ParseAccessTokenRequest(r, s.decoder)
	if err != nil {
		return nil, err
	}
	c, err := s.clientFor(ctx, req.ClientID, req.ClientSecret)
	if err != nil {
		return nil, err
	}
	if req.Code == "" {
		return nil, invalidRequest("code is missing")
	}
	key := codeName(req.Code)
	raw, err := s.store.Take(ctx, key)
	if errors.Is(err, ErrNotFound) {
		// Spent, or never issued. A code presented twice was seen by
		// someone else: revoke what the first exchange granted
		// (OAuth 2.1 section 4.1.3).
		g, serr := s.store.Get(ctx, "code-spent:"+key)
		switch {
		case serr == nil:
			var spent grant
			if json.Unmarshal(g, &spent) == nil {
				if err := s.revoke(ctx, spent); err != nil {
					return nil, err
				}
			}
			return nil, invalidGrant("this authorization code was already used; the access it gave has been revoked")
		case !errors.Is(serr, ErrNotFound):
			return nil, s.unavailable(ctx, serr)
		}
		return nil, invalidGrant("this authorization code is not valid, or has expired; sign in again")
	}
	if err != nil {
		return nil, s.unavailable(ctx, err)
	}
	var pc pendingCode
	plain, err := s.seal.open("code", string(raw))
	if err != nil || json.Unmarshal(plain, &pc) != nil {
		return nil, invalidGrant("this authorization code is not valid; sign in again")
	}
	spent, _ := json.Marshal(grant{ID: pc.ID, Ends: pc.Ends})
	if err := s.store.Put(ctx, "code-spent:"+key, spent, codeSpentTTL); err != nil {
		return nil, s.unavailable(ctx, err)
	}
	switch {
	case s.now().Unix() >= pc.Expires:
		return nil, invalidGrant("this authorization code has expired; sign in again")
	case pc.Client != clientTag(c.ID):
		return nil, invalidGrant("this authorization code was issued to another client")
	case req.RedirectURI != pc.Redirect:
		return nil, invalidGrant("redirect_uri does not match the one the code was issued to")
	}
	if err := op.AuthorizeCodeChallenge(req.CodeVerifier, &oidc.CodeChallenge{Challenge: pc.Challenge, Method: oidc.CodeChallengeMethodS256}); err != nil {
		return nil, err
	}
	if err := s.checkResource(r, pc.grant); err != nil {
		return nil, err
	}
	serial := randomID(16)
	if err := s.store.Put(ctx, grantName(pc.ID), []byte(serial), s.rotationTTL(pc.grant)); err != nil {
		return nil, s.unavailable(ctx, err)
	}
	s.log.InfoContext(ctx, "oauth grant issued", "grant", pc.ID, "read_only", !pc.Write)
	return s.issue(pc.grant, serial), nil
}

func (s *Server) refresh(r *http.Request) (*tokenResponse, error) {
	ctx := r.Context()
	req, err := op.ParseRefreshTokenRequest(r, s.decoder)
	if err != nil {
		return nil, err
	}
	c, err := s.clientFor(ctx, req.ClientID, req.ClientSecret)
	if err != nil {
		return nil, err
	}
	t, err := s.openToken("refresh", refreshPrefix, req.RefreshToken)
	now := s.now().Unix()
	switch {
	case err != nil:
		return nil, invalidGrant("the refresh token is not valid; sign in again")
	case t.Client != clientTag(c.ID):
		return nil, invalidGrant("the refresh token was issued to another client")
	case now >= t.Expires || now >= t.Ends:
		return nil, invalidGrant("the refresh token has expired; sign in again")
	}
	switch revoked, err := s.revoked(ctx, t.ID); {
	case err != nil:
		return nil, err
	case revoked:
		return nil, invalidGrant("this access has been revoked; sign in again")
	}
	if err := s.checkResource(r, t.grant); err != nil {
		return nil, err
	}
	for _, sc := range req.Scopes {
		if sc != ScopeRead && !(sc == ScopeWrite && t.Write) {
			return nil, &tokenError{http.StatusBadRequest, "invalid_scope", "a refresh cannot add scope " + sc + " to what was granted"}
		}
	}
	// Rotation: a grant's entry holds the serial of its one live refresh
	// token, swapped for the next one's in one step, so of two uses of one
	// token one succeeds. A token whose serial is not the grant's any more
	// was used before: it was copied, and whoever holds it, the grant is
	// revoked. The state is one entry per grant however often it is
	// refreshed. (An entry lost with the state, as after a restart without
	// --oauth-state, is taken by whichever of the grant's tokens comes
	// first, and rotation goes on from there.)
	next := randomID(16)
	rotated, err := s.store.Swap(ctx, grantName(t.ID), []byte(t.Serial), []byte(next), s.rotationTTL(t.grant))
	if err != nil {
		return nil, s.unavailable(ctx, err)
	}
	if !rotated {
		if err := s.revoke(ctx, t.grant); err != nil {
			return nil, err
		}
		s.log.WarnContext(ctx, "oauth refresh token reused: grant revoked", "grant", t.ID)
		return nil, invalidGrant("this refresh token was already used, so the access it gave has been revoked; sign in again")
	}
	g := t.grant
	if len(req.Scopes) > 0 && !hasScopes(req.Scopes, ScopeWrite) {
		g.Write = false // narrowed to reading
	}
	return s.issue(g, next), nil
}

// grantName is the store entry that holds a grant's live refresh serial.
func grantName(id string) string { return "grant:" + id }

// refreshExpiry is when a refresh token minted now for g expires.
func (s *Server) refreshExpiry(g grant) time.Time {
	return earlier(s.now().Add(refreshTTL), time.Unix(g.Ends, 0))
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// rotationTTL is how long a grant's entry must last: as long as the
// refresh token minted with it.
func (s *Server) rotationTTL(g grant) time.Duration {
	return max(s.refreshExpiry(g).Sub(s.now()), 0) + time.Minute
}

func hasScopes(list []string, scope string) bool {
	for _, s := range list {
		if s == scope {
			return true
		}
	}
	return false
}

// issue mints an access token for g, and a refresh token with serial, the
// one the grant's entry now holds.
func (s *Server) issue(g grant, serial string) *tokenResponse {
	now := s.now()
	access := earlier(now.Add(s.cfg.AccessTTL), time.Unix(g.Ends, 0))
	return &tokenResponse{
		AccessToken:  s.mint("access", accessPrefix, token{grant: g, Expires: access.Unix()}),
		TokenType:    "Bearer",
		ExpiresIn:    int64(access.Sub(now).Seconds()),
		RefreshToken: s.mint("refresh", refreshPrefix, token{grant: g, Serial: serial, Expires: s.refreshExpiry(g).Unix()}),
		Scope:        g.scope(),
	}
}

// revocation answers POST /revoke (RFC 7009): a refresh or access token of
// this server revokes its whole grant. Anything else is answered 200 too,
// as the RFC asks, so the endpoint tells nothing about what it was sent.
func (s *Server) revocation(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the body is not a form (application/x-www-form-urlencoded)")
		return
	}
	var req oidc.RevocationRequest
	_ = s.decoder.Decode(&req, r.PostForm)
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, err := s.clientFor(r.Context(), id, secret)
	if err != nil {
		var te *tokenError
		errors.As(err, &te)
		writeJSONError(w, te.status, te.code, te.description)
		return
	}
	t, err := s.openToken("refresh", refreshPrefix, req.Token)
	if err != nil {
		t, err = s.openToken("access", accessPrefix, req.Token)
	}
	if err == nil && t.Client == clientTag(c.ID) {
		if err := s.revoke(r.Context(), t.grant); err != nil {
			w.Header().Set("Retry-After", fmt.Sprint(int(RetryAfter.Seconds())))
			writeJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the revocation could not be recorded just now; try again in a moment")
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}
