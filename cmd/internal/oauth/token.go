package oauth

import (
	"context"
	"encoding/json"
	"errors"
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
	key := hashKey("code:", req.Code)
	raw, err := s.store.Take(ctx, key)
	if errors.Is(err, ErrNotFound) {
		// Spent, or never issued. A code presented twice was seen by
		// someone else: revoke what the first exchange granted
		// (OAuth 2.1 section 4.1.3).
		if g, serr := s.store.Get(ctx, "code-spent:"+key); serr == nil {
			var spent grant
			if json.Unmarshal(g, &spent) == nil {
				if err := s.revoke(ctx, spent); err != nil {
					return nil, err
				}
			}
			return nil, invalidGrant("this authorization code was already used; the access it gave has been revoked")
		}
		return nil, invalidGrant("this authorization code is not valid, or has expired; sign in again")
	}
	if err != nil {
		return nil, err
	}
	var pc pendingCode
	plain, err := s.seal.open("code", string(raw))
	if err != nil || json.Unmarshal(plain, &pc) != nil {
		return nil, invalidGrant("this authorization code is not valid; sign in again")
	}
	spent, _ := json.Marshal(grant{ID: pc.ID, Ends: pc.Ends})
	if err := s.store.Put(ctx, "code-spent:"+key, spent, codeSpentTTL); err != nil {
		return nil, err
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
	s.log.InfoContext(ctx, "oauth grant issued", "grant", pc.ID, "read_only", !pc.Write)
	return s.issue(pc.grant), nil
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
	case s.revoked(ctx, t.ID):
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
	// Rotation: each refresh token is spent once. Presented again, it was
	// copied: whoever holds it, the grant is revoked.
	first, err := s.store.PutNew(ctx, "refresh-spent:"+t.Serial, []byte(t.ID), time.Until(time.Unix(t.Expires, 0))+time.Minute)
	if err != nil {
		return nil, err
	}
	if !first {
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
	return s.issue(g), nil
}

func hasScopes(list []string, scope string) bool {
	for _, s := range list {
		if s == scope {
			return true
		}
	}
	return false
}

// issue mints an access token and a new refresh token for g.
func (s *Server) issue(g grant) *tokenResponse {
	now := s.now()
	ends := time.Unix(g.Ends, 0)
	access := now.Add(s.cfg.AccessTTL)
	if access.After(ends) {
		access = ends
	}
	refresh := now.Add(refreshTTL)
	if refresh.After(ends) {
		refresh = ends
	}
	return &tokenResponse{
		AccessToken:  s.mint("access", accessPrefix, token{grant: g, Expires: access.Unix()}),
		TokenType:    "Bearer",
		ExpiresIn:    int64(access.Sub(now).Seconds()),
		RefreshToken: s.mint("refresh", refreshPrefix, token{grant: g, Serial: randomID(16), Expires: refresh.Unix()}),
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
			s.log.ErrorContext(r.Context(), "oauth revocation failed", "err", err)
			writeJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the revocation could not be recorded; try again")
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}
