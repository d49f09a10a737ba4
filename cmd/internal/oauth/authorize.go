package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/loopback"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// pending is an authorization request that passed every check, sealed into
// the sign-in form so that what the form posts back cannot be altered.
type pending struct {
	ClientID  string `json:"c"`
	Redirect  string `json:"ru"`
	Challenge string `json:"cc"`
	State     string `json:"s,omitempty"`
	Write     bool   `json:"w,omitempty"` // the client asked for changes too
	Expires   int64  `json:"e"`
}

// authResponse is what goes back to the client on its redirect URI: the
// code, or an error, with state and, per RFC 9207, the issuer.
type authResponse struct {
	Code        string `schema:"code,omitempty"`
	Error       string `schema:"error,omitempty"`
	Description string `schema:"error_description,omitempty"`
	State       string `schema:"state,omitempty"`
	Iss         string `schema:"iss"`
}

func (s *Server) redirectTo(w http.ResponseWriter, r *http.Request, redirect string, resp authResponse) {
	resp.Iss = s.issuer
	to, err := op.AuthResponseURL(redirect, oidc.ResponseTypeCode, oidc.ResponseModeQuery, &resp, s.encoder)
	if err != nil {
		errorPage(w, http.StatusBadRequest, "the app's redirect address cannot be used")
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// authorizePage answers GET /authorize: the checks of RFC 6749 section
// 4.1.1 and the MCP spec, then the sign-in page. A request whose client or
// redirect URI is not right gets a page saying so, never a redirect; any
// other problem goes back to the client's redirect URI.
func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	req, err := op.ParseAuthorizeRequest(r, s.decoder)
	if err != nil {
		errorPage(w, http.StatusBadRequest, "the sign-in request could not be read")
		return
	}
	if req.ClientID == "" {
		errorPage(w, http.StatusBadRequest, "the sign-in request names no app (client_id is missing)")
		return
	}
	c, err := s.client(r.Context(), req.ClientID)
	var de *documentError
	switch {
	case errors.As(err, &de):
		errorPage(w, http.StatusBadRequest, de.Error())
		return
	case err != nil:
		errorPage(w, http.StatusBadRequest, "this app is not registered with this server ("+strings.TrimPrefix(err.Error(), errUnknownClient.Error()+": ")+")")
		return
	}
	if req.RedirectURI == "" {
		errorPage(w, http.StatusBadRequest, "the sign-in request says nowhere to return to (redirect_uri is missing)")
		return
	}
	if err := c.checkRedirect(req.RedirectURI); err != nil {
		errorPage(w, http.StatusBadRequest, "the address to return to is not one this app registered")
		return
	}
	fail := func(code, description string) {
		s.redirectTo(w, r, req.RedirectURI, authResponse{Error: code, Description: description, State: req.State})
	}
	resources := r.Form["resource"]
	switch {
	case req.ResponseType != oidc.ResponseTypeCode:
		fail("unsupported_response_type", "only response_type=code is offered")
	case op.ValidateAuthReqCodeChallengeMethod(req.CodeChallenge, req.CodeChallengeMethod) != nil,
		req.CodeChallenge == "", req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256")
	case req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery:
		fail("invalid_request", "only response_mode=query is offered")
	case req.RequestParam != "" || r.Form.Get("request_uri") != "":
		fail("request_not_supported", "request objects are not supported")
	case len(resources) > 1:
		fail("invalid_target", "send one resource: this server's MCP endpoint")
	case len(resources) == 1 && !s.namesThisServer(resources[0]):
		fail("invalid_target", "the resource is not this server; use "+s.resource)
	case hasScopes(req.Prompt, oidc.PromptNone):
		fail("login_required", "signing in needs the person's Skimmer key")
	default:
		// A request that names none of this server's scopes (none at all,
		// or only others such as offline_access) asks for everything it
		// offers; the person still chooses on the page.
		write := hasScopes(req.Scopes, ScopeWrite) || !hasScopes(req.Scopes, ScopeRead)
		p := pending{ClientID: c.ID, Redirect: req.RedirectURI, Challenge: req.CodeChallenge, State: req.State, Write: write,
			Expires: s.now().Add(pendingTTL).Unix()}
		raw, _ := json.Marshal(p)
		s.showForm(w, r, c, p, s.seal.seal("pending", raw), "", http.StatusOK)
	}
}

// showForm renders the sign-in form, with problem said above it.
func (s *Server) showForm(w http.ResponseWriter, r *http.Request, c *client, p pending, sealed, problem string, status int) {
	cookie := s.csrfCookie(w, r)
	// An app that registered without a name is "this app", in a sentence
	// and at its start alike.
	name, start := c.Name, c.Name
	if name == "" {
		name, start = "this app", "This app"
	}
	title := "Connect " + name + " to Skimmer"
	if s.cfg.DemoKey != "" {
		title += " (demo account)"
	}
	write := p.Write && !s.cfg.ReadOnly
	u, _ := url.Parse(p.Redirect)
	renderPage(w, status, pageData{
		Title: title, Form: true, Client: name, ClientStart: start, Host: c.redirectHost(p.Redirect),
		Loopback: u != nil && u.Scheme == "http" && loopback.Host(u.Hostname()), Problem: problem,
		Pending: sealed, CSRF: s.seal.derive("csrf", cookie+"|"+sealed),
		WriteAllowed: write, WriteChecked: write && r.PostForm.Get("access") != "read", Confirmed: s.cfg.WritesConfirmed,
		ReadOnlyServer: s.cfg.ReadOnly, Demo: s.cfg.DemoKey != "",
	}, p.Redirect)
}

// The form is protected from cross-site posting by a cookie and a token
// derived from it and the form's request: a page elsewhere can make a
// browser post the form, but cannot read or set the cookie.
func (s *Server) csrfCookieName() string {
	if strings.HasPrefix(s.issuer, "https://") {
		return "__Host-skimmer_oauth"
	}
	return "skimmer_oauth"
}

func (s *Server) csrfCookie(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(s.csrfCookieName()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	v := randomID(32)
	http.SetCookie(w, &http.Cookie{Name: s.csrfCookieName(), Value: v, Path: "/", HttpOnly: true,
		Secure: strings.HasPrefix(s.issuer, "https://"), SameSite: http.SameSiteLaxMode, MaxAge: int(pendingTTL.Seconds())})
	return v
}

// authorizeSubmit answers the form: it checks the form came from this
// server's page, checks the key with one real read against Skimmer, and
// only then issues a code and sends the person back to the app.
func (s *Server) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		errorPage(w, http.StatusBadRequest, "the form could not be read")
		return
	}
	sealed := r.PostForm.Get("pending")
	var p pending
	raw, err := s.seal.open("pending", sealed)
	if err != nil || json.Unmarshal(raw, &p) != nil {
		errorPage(w, http.StatusBadRequest, "the form could not be read")
		return
	}
	if s.now().Unix() >= p.Expires {
		errorPage(w, http.StatusBadRequest, "this sign-in page has expired")
		return
	}
	cookie, cerr := r.Cookie(s.csrfCookieName())
	if cerr != nil || !s.seal.verifyDerived("csrf", cookie.Value+"|"+sealed, r.PostForm.Get("csrf")) {
		errorPage(w, http.StatusForbidden, "this form did not come from this server's own sign-in page, or your browser did not keep its cookie; nothing was connected")
		return
	}
	c, err := s.client(r.Context(), p.ClientID)
	if err != nil {
		errorPage(w, http.StatusBadRequest, "this app is no longer registered with this server")
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		s.redirectTo(w, r, p.Redirect, authResponse{Error: "access_denied", Description: "the person cancelled", State: p.State})
		return
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	if s.cfg.DemoKey != "" {
		// The demo account takes no key: whatever was typed is dropped,
		// and the grant holds the demo's own.
		key = s.cfg.DemoKey
	}
	if key == "" {
		s.showForm(w, r, c, p, sealed, "Paste your Skimmer API key.", http.StatusBadRequest)
		return
	}
	write := r.PostForm.Get("access") == "write"
	if write && (!p.Write || s.cfg.ReadOnly) {
		write = false // the app asked to read only, or the server only reads
	}
	// A key that cannot be a Skimmer key is said so here, and never sent
	// to Skimmer: only a well-formed key is checked there.
	if err := skimmer.CheckAPIKey(key); err != nil {
		var ke *skimmer.KeyError
		errors.As(err, &ke)
		s.log.InfoContext(r.Context(), "oauth sign-in refused", "reason", ke.Reason())
		s.showForm(w, r, c, p, sealed, keyProblem(ke), http.StatusOK)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	if err := s.cfg.CheckKey(ctx, key); err != nil {
		problem, reason := "Skimmer could not be reached to check the key, so nothing was connected. Try again in a minute.", "key not checked: Skimmer unreachable"
		if errors.Is(err, ErrKeyRejected) {
			problem, reason = "Skimmer did not accept that key: it is mistyped, cut short, or no longer valid. Paste it again, or ask for a new one.", "key refused by Skimmer"
		}
		s.log.InfoContext(r.Context(), "oauth sign-in refused", "reason", reason)
		s.showForm(w, r, c, p, sealed, problem, http.StatusOK)
		return
	}
	now := s.now()
	g := grant{ID: randomID(12), Client: clientTag(c.ID), Key: key, Write: write, Resource: s.resource, Ends: now.Add(grantTTL).Unix()}
	code := codePrefix + randomID(32)
	pc, _ := json.Marshal(pendingCode{grant: g, Redirect: p.Redirect, Challenge: p.Challenge, Expires: now.Add(codeTTL).Unix()})
	if err := s.store.Put(r.Context(), codeName(code), []byte(s.seal.seal("code", pc)), codeTTL); err != nil {
		s.log.ErrorContext(r.Context(), "oauth store unavailable", "err", err)
		s.showForm(w, r, c, p, sealed, "The server could not finish connecting. Try again in a minute.", http.StatusServiceUnavailable)
		return
	}
	s.redirectTo(w, r, p.Redirect, authResponse{Code: code, State: p.State})
}

// keyProblem is the page's sentence for a key that cannot be a Skimmer
// key, the one every other refusal of it says, addressed to the person
// who pasted it. It never repeats the key.
func keyProblem(e *skimmer.KeyError) string { return sentence(e.Of("that")) }
