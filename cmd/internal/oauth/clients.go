package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/loopback"
)

// A client is an app that asks for access: Claude, ChatGPT, an IDE. It
// registers by DCR (RFC 7591), and gets an id that is its registration,
// sealed: nothing is stored, so a flood of registrations costs nothing and
// every replica, and the server after a restart, knows every client. Or
// its id is the https URL of its metadata document (CIMD), fetched when
// it asks.
type client struct {
	ID        string   `json:"-"`
	Name      string   `json:"n"`
	Redirects []string `json:"r"`
	// Confidential clients authenticate at /token with a secret derived
	// from their id; public clients (the usual kind) send none.
	Confidential bool   `json:"s,omitempty"`
	Method       string `json:"m,omitempty"` // client_secret_basic or client_secret_post
	IssuedAt     int64  `json:"t"`
}

const (
	clientPrefix = "smcp_c_"
	secretPrefix = "smcp_cs_"

	maxRedirectURIs = 10
	maxNameLength   = 100
	maxRegistration = 16 << 10
)

var errUnknownClient = errors.New("unknown client")

// redirectHost is what the sign-in page shows as where the person goes
// back to.
func (c *client) redirectHost(redirect string) string {
	u, err := url.Parse(redirect)
	if err != nil {
		return redirect
	}
	if u.Host == "" {
		return u.Scheme + ":"
	}
	return u.Hostname()
}

// checkRedirect accepts redirect if it is registered: exactly, or, for a
// loopback address, with any port (RFC 8252 section 7.3: a native app
// listens on whatever port is free). The library applies OAuth's rules;
// the port exception is then held to the same scheme and host.
func (c *client) checkRedirect(redirect string) error {
	if err := op.ValidateAuthReqRedirectURI(c, redirect, oidc.ResponseTypeCode); err != nil {
		return err
	}
	if slices.Contains(c.Redirects, redirect) {
		return nil
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return oidc.ErrInvalidRequestRedirectURI()
	}
	for _, r := range c.Redirects {
		if ru, err := url.Parse(r); err == nil && ru.Scheme == u.Scheme && ru.Hostname() == u.Hostname() &&
			ru.Path == u.Path && ru.RawQuery == u.RawQuery && loopback.Host(ru.Hostname()) {
			return nil
		}
	}
	return oidc.ErrInvalidRequestRedirectURI().WithDescription("the redirect_uri is not one this client registered")
}

// The rest is what the library asks of a client.

func (c *client) GetID() string                    { return c.ID }
func (c *client) RedirectURIs() []string           { return c.Redirects }
func (c *client) PostLogoutRedirectURIs() []string { return nil }
func (c *client) ApplicationType() op.ApplicationType {
	for _, r := range c.Redirects {
		if u, err := url.Parse(r); err == nil && (u.Scheme != "https" || loopback.Host(u.Hostname())) {
			return op.ApplicationTypeNative
		}
	}
	return op.ApplicationTypeWeb
}
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.Confidential {
		return oidc.AuthMethod(c.Method)
	}
	return oidc.AuthMethodNone
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(string) string                                          { return "" }
func (c *client) AccessTokenType() op.AccessTokenType                             { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration                                  { return 0 }
func (c *client) DevMode() bool                                                   { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func(scopes []string) []string { return nil }
func (c *client) RestrictAdditionalAccessTokenScopes() func(scopes []string) []string {
	return nil
}
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(scopesSupported, scope) }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

// validRedirect says what is wrong with a redirect URI a client asks to
// register, or "". Redirects go to https, to this machine over http (a
// native app listening on loopback), or to an app's own URI scheme.
func validRedirect(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs():
		return fmt.Sprintf("%q is not an absolute URI", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Sprintf("%q has a fragment, which a redirect URI may not have", raw)
	case u.Scheme == "https":
		if u.Host == "" {
			return fmt.Sprintf("%q has no host", raw)
		}
	case u.Scheme == "http":
		if !loopback.Host(u.Hostname()) {
			return fmt.Sprintf("%q uses http on a host other than this machine; use https, or http on 127.0.0.1, [::1] or localhost", raw)
		}
	case slices.Contains([]string{"javascript", "data", "file", "vbscript", "about", "blob", "filesystem", "ws", "wss", "ftp"}, strings.ToLower(u.Scheme)):
		return fmt.Sprintf("%q uses the %s scheme, which cannot be a redirect URI", raw, u.Scheme)
	}
	return ""
}

// registration is the part of an RFC 7591 request this server reads.
type registration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope"`
}

// check says what is wrong with a registration or a metadata document.
func (r *registration) check() error {
	if len(r.RedirectURIs) == 0 {
		return errors.New("redirect_uris is missing: list the URIs the app receives its sign-in at")
	}
	if len(r.RedirectURIs) > maxRedirectURIs {
		return fmt.Errorf("redirect_uris lists %d URIs; at most %d are accepted", len(r.RedirectURIs), maxRedirectURIs)
	}
	for _, u := range r.RedirectURIs {
		if why := validRedirect(u); why != "" {
			return errors.New(why)
		}
	}
	for _, g := range r.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return fmt.Errorf("grant_types: %q is not offered; this server offers authorization_code and refresh_token", g)
		}
	}
	for _, t := range r.ResponseTypes {
		if t != "code" {
			return fmt.Errorf("response_types: %q is not offered; this server offers code", t)
		}
	}
	if len([]rune(r.ClientName)) > maxNameLength {
		return fmt.Errorf("client_name is longer than %d characters", maxNameLength)
	}
	return nil
}

// register answers POST /register (RFC 7591).
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var reg registration
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRegistration))
	if err := dec.Decode(&reg); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_client_metadata", "the body is not a JSON client registration: "+err.Error())
		return
	}
	if err := reg.check(); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_redirect_uri", err.Error())
		return
	}
	c := &client{Name: strings.TrimSpace(reg.ClientName), Redirects: reg.RedirectURIs, IssuedAt: s.now().Unix()}
	// RFC 7591: a registration that names no method asks for
	// client_secret_basic. Public clients (Claude, ChatGPT, the MCP SDKs)
	// ask for none.
	method := reg.TokenEndpointAuthMethod
	switch method {
	case "none":
	case "", "client_secret_basic", "client_secret_post":
		if method == "" {
			method = "client_secret_basic"
		}
		c.Confidential, c.Method = true, method
	default:
		writeJSONError(w, http.StatusBadRequest, "invalid_client_metadata", fmt.Sprintf("token_endpoint_auth_method %q is not offered; use none, client_secret_basic or client_secret_post", method))
		return
	}
	raw, _ := json.Marshal(c)
	c.ID = clientPrefix + s.seal.seal("client", raw)
	resp := map[string]any{
		"client_id":                  c.ID,
		"client_id_issued_at":        c.IssuedAt,
		"redirect_uris":              c.Redirects,
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": method,
	}
	if c.Name != "" {
		resp["client_name"] = c.Name
	}
	if reg.Scope != "" {
		resp["scope"] = strings.Join(scopesSupported, " ")
	}
	if c.Confidential {
		resp["client_secret"] = secretPrefix + s.seal.derive("client secret", c.ID)
		resp["client_secret_expires_at"] = 0
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, resp)
}

// client finds the client an id names: a sealed registration, or the URL
// of a metadata document.
func (s *Server) client(ctx context.Context, id string) (*client, error) {
	switch {
	case strings.HasPrefix(id, clientPrefix):
		raw, err := s.seal.open("client", strings.TrimPrefix(id, clientPrefix))
		if err != nil {
			return nil, errUnknownClient
		}
		c := &client{}
		if err := json.Unmarshal(raw, c); err != nil {
			return nil, errUnknownClient
		}
		c.ID = id
		return c, nil
	case strings.HasPrefix(id, "https://"):
		return s.documents.client(ctx, id)
	}
	return nil, errUnknownClient
}

// authenticate checks what a client sent at /token or /revoke: a public
// client sends no secret, a confidential one the secret it was given.
func (s *Server) authenticate(c *client, secret string) error {
	if !c.Confidential {
		if secret != "" {
			return errors.New("this client was registered without a secret, and sent one")
		}
		return nil
	}
	if !s.seal.verifyDerived("client secret", c.ID, strings.TrimPrefix(secret, secretPrefix)) || !strings.HasPrefix(secret, secretPrefix) {
		return errors.New("the client secret is missing or wrong")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}
