package oauth

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlow(t *testing.T) {
	a := newAS(t)
	id := a.client()
	b := a.browser()
	f := a.open(b, a.authorizeURL(id, nil))
	require.Equal(t, http.StatusOK, f.status)
	assert.Contains(t, f.body, "Connect Test App to Skimmer")
	assert.Contains(t, f.body, "you go back to <strong>127.0.0.1</strong>")
	assert.Contains(t, f.body, "Test App runs on this computer (127.0.0.1)", "a loopback redirect is pointed out")
	assert.Contains(t, f.header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Contains(t, f.header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Equal(t, "no-referrer", f.header.Get("Referrer-Policy"))
	assert.Equal(t, "DENY", f.header.Get("X-Frame-Options"))

	resp, _ := a.submit(b, f, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:41999", loc.Host)
	assert.Equal(t, "st-123", loc.Query().Get("state"), "state comes back")
	assert.Equal(t, a.srv.Issuer(), loc.Query().Get("iss"), "RFC 9207 iss comes back")
	assert.Equal(t, []string{goodKey}, a.checks, "the key was checked with Skimmer before a code was issued")

	status, out := a.exchange(id, loc.Query().Get("code"), nil)
	require.Equal(t, http.StatusOK, status, out)
	assert.Equal(t, "Bearer", out["token_type"])
	assert.Equal(t, ScopeRead+" "+ScopeWrite, out["scope"])
	assert.EqualValues(t, 900, out["expires_in"])
	at, rt := out["access_token"].(string), out["refresh_token"].(string)
	for _, tok := range []string{at, rt} {
		assert.NotContains(t, tok, goodKey)
		assert.NotContains(t, tok, "GOOD")
	}
	caller, err := a.verify(at)
	require.NoError(t, err)
	assert.Equal(t, Caller{Key: goodKey, ReadOnly: false}, caller)
	grantOf := func(access string) string {
		tok, err := a.srv.openToken("access", accessPrefix, access)
		require.NoError(t, err)
		return tok.ID
	}

	// Refresh rotates: a new pair, the same grant.
	status, out2 := a.refresh(id, rt)
	require.Equal(t, http.StatusOK, status, out2)
	assert.NotEqual(t, rt, out2["refresh_token"])
	c2, err := a.verify(out2["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, Caller{Key: goodKey}, c2)
	assert.Equal(t, grantOf(at), grantOf(out2["access_token"].(string)), "the same grant")
	status, out3 := a.refresh(id, out2["refresh_token"].(string))
	require.Equal(t, http.StatusOK, status, out3)
}

func TestReadOnlyGrant(t *testing.T) {
	a := newAS(t)
	id := a.client()
	out := a.tokens(id, map[string]string{"access": "read"})
	assert.Equal(t, ScopeRead, out["scope"])
	c, err := a.verify(out["access_token"].(string))
	require.NoError(t, err)
	assert.True(t, c.ReadOnly)

	// A client that asks to read only is offered nothing more, and a
	// forged "write" in the form does not widen it.
	b := a.browser()
	f := a.open(b, a.authorizeURL(id, map[string]string{"scope": ScopeRead}))
	assert.NotContains(t, f.body, `value="write"`)
	for _, scope := range []string{"", "offline_access", ScopeWrite} {
		g := a.open(a.browser(), a.authorizeURL(id, map[string]string{"scope": scope}))
		assert.Contains(t, g.body, `value="write"`, "scope %q offers both", scope)
	}
	assert.Equal(t, ScopeRead, a.scopeOfForgedWrite(t, id, b, f))
}

// scopeOfForgedWrite submits f as if its form offered "write", and
// returns the scope the code it gives is exchanged for.
func (a *as) scopeOfForgedWrite(t *testing.T, id string, b *http.Client, f form) any {
	t.Helper()
	resp, _ := a.submit(b, f, map[string]string{"access": "write"})
	code, _ := url.Parse(resp.Header.Get("Location"))
	status, out := a.exchange(id, code.Query().Get("code"), nil)
	require.Equal(t, http.StatusOK, status)
	return out["scope"]
}

// TestTokenRefusals: every way a token request can be wrong, each refused
// with the error RFC 6749 names.
func TestTokenRefusals(t *testing.T) {
	a := newAS(t)
	id := a.client()
	other := a.client()
	cases := []struct {
		name   string
		set    map[string]string
		status int
		error  string
		says   string
	}{
		{"wrong PKCE verifier", map[string]string{"code_verifier": strings.Repeat("x", 50)}, 400, "invalid_grant", "code_verifier"},
		{"no PKCE verifier", map[string]string{"code_verifier": ""}, 400, "invalid_request", "code_verifier required"},
		{"redirect mismatch", map[string]string{"redirect_uri": "http://127.0.0.1:41999/other"}, 400, "invalid_grant", "redirect_uri does not match"},
		{"wrong resource", map[string]string{"resource": "https://elsewhere.example.com/mcp"}, 400, "invalid_target", "not this server"},
		{"another client", map[string]string{"client_id": other}, 400, "invalid_grant", "another client"},
		{"unknown client", map[string]string{"client_id": "smcp_c_forged"}, 401, "invalid_client", "not known"},
		{"no client", map[string]string{"client_id": ""}, 401, "invalid_client", "client_id is missing"},
		{"a secret from a public client", map[string]string{"client_secret": "guess"}, 401, "invalid_client", "without a secret"},
		{"unknown code", map[string]string{"code": "smcp_ac_made-up"}, 400, "invalid_grant", "not valid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out := a.exchange(id, a.code(id, nil), c.set)
			assert.Equal(t, c.status, status, out)
			assert.Equal(t, c.error, errorOf(out))
			assert.Contains(t, out["error_description"], c.says)
			assert.Nil(t, out["access_token"])
		})
	}

	t.Run("expired code", func(t *testing.T) {
		code := a.code(id, nil)
		a.clock.add(61 * time.Second)
		status, out := a.exchange(id, code, nil)
		assert.Equal(t, 400, status)
		assert.Equal(t, "invalid_grant", errorOf(out))
	})
	t.Run("unsupported grant type", func(t *testing.T) {
		status, out := a.post("/token", url.Values{"grant_type": {"password"}, "client_id": {id}})
		assert.Equal(t, 400, status)
		assert.Equal(t, "unsupported_grant_type", errorOf(out))
	})
}

// TestReusedCode: a code is spent once; presented again, the access the
// first exchange gave is revoked (OAuth 2.1 section 4.1.3).
func TestReusedCode(t *testing.T) {
	a := newAS(t)
	id := a.client()
	code := a.code(id, nil)
	status, out := a.exchange(id, code, nil)
	require.Equal(t, 200, status)
	_, err := a.verify(out["access_token"].(string))
	require.NoError(t, err)

	status, again := a.exchange(id, code, nil)
	assert.Equal(t, 400, status)
	assert.Equal(t, "invalid_grant", errorOf(again))
	assert.Contains(t, again["error_description"], "already used")
	_, err = a.verify(out["access_token"].(string))
	assert.EqualError(t, err, "the access token has been revoked")
	status, r := a.refresh(id, out["refresh_token"].(string))
	assert.Equal(t, 400, status)
	assert.Contains(t, r["error_description"], "revoked")
}

// TestRefreshReuseRevokesTheGrant: a refresh token presented twice was
// copied; every token of its grant stops working.
func TestRefreshReuseRevokesTheGrant(t *testing.T) {
	a := newAS(t)
	id := a.client()
	first := a.tokens(id, nil)
	status, second := a.refresh(id, first["refresh_token"].(string))
	require.Equal(t, 200, status)

	status, out := a.refresh(id, first["refresh_token"].(string))
	assert.Equal(t, 400, status)
	assert.Equal(t, "invalid_grant", errorOf(out))
	assert.Contains(t, out["error_description"], "already used")
	for _, tok := range []string{first["access_token"].(string), second["access_token"].(string)} {
		_, err := a.verify(tok)
		assert.EqualError(t, err, "the access token has been revoked")
	}
	status, _ = a.refresh(id, second["refresh_token"].(string))
	assert.Equal(t, 400, status, "the rotated token is revoked with its grant")

	// Another grant of the same client is untouched.
	other := a.tokens(id, nil)
	_, err := a.verify(other["access_token"].(string))
	assert.NoError(t, err)
}

func TestRefreshRefusals(t *testing.T) {
	a := newAS(t)
	id, other := a.client(), a.client()
	out := a.tokens(id, nil)
	rt := out["refresh_token"].(string)
	status, r := a.refresh(other, rt)
	assert.Equal(t, 400, status)
	assert.Contains(t, r["error_description"], "another client")
	status, r = a.refresh(id, out["access_token"].(string))
	assert.Equal(t, 400, status, "an access token is not a refresh token")
	assert.Equal(t, "invalid_grant", errorOf(r))
	status, r = a.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {id}, "scope": {ScopeRead + " admin"}})
	assert.Equal(t, 400, status)
	assert.Equal(t, "invalid_scope", errorOf(r))

	// Narrowed to reading.
	status, r = a.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {id}, "scope": {ScopeRead}})
	require.Equal(t, 200, status, r)
	assert.Equal(t, ScopeRead, r["scope"])
	c, err := a.verify(r["access_token"].(string))
	require.NoError(t, err)
	assert.True(t, c.ReadOnly)

	a.clock.add(refreshTTL + time.Minute)
	status, r = a.refresh(id, r["refresh_token"].(string))
	assert.Equal(t, 400, status)
	assert.Contains(t, r["error_description"], "expired")
}

// TestVerify: what the MCP endpoint accepts.
func TestVerify(t *testing.T) {
	a := newAS(t)
	id := a.client()
	out := a.tokens(id, nil)
	at := out["access_token"].(string)

	tampered := []byte(at)
	tampered[len(tampered)-5] ^= 0x01
	if tampered[len(tampered)-5] == '-' || tampered[len(tampered)-5] == '_' {
		tampered[len(tampered)-5] = 'A'
	}
	_, err := a.verify(string(tampered))
	assert.EqualError(t, err, "the access token is not valid", "tampered")
	_, err = a.verify(out["refresh_token"].(string))
	assert.EqualError(t, err, "the access token is not valid", "a refresh token is not an access token")
	_, err = a.verify(goodKey)
	assert.Error(t, err)

	// Another SKIMMER_OAUTH_KEY: nothing of ours opens.
	b := newAS(t, func(c *Config) { c.Key = strings.Repeat("k", 40) })
	_, err = b.verify(at)
	assert.EqualError(t, err, "the access token is not valid", "a token from another key")

	// The same key on a server at another address: wrong audience.
	c := newAS(t)
	_, err = c.verify(at)
	assert.EqualError(t, err, "the access token was issued for another server")

	// Rotation: the new key with the old one as previous still serves it.
	d := newAS(t, func(c *Config) { c.Key, c.PreviousKey = strings.Repeat("n", 40), testKey })
	d.srv.resource = a.srv.resource
	got, err := d.verify(at)
	require.NoError(t, err)
	assert.Equal(t, goodKey, got.Key)

	a.clock.add(15*time.Minute + time.Second)
	_, err = a.verify(at)
	assert.EqualError(t, err, "the access token has expired")
}

func TestRevocation(t *testing.T) {
	a := newAS(t)
	id := a.client()
	for _, which := range []string{"refresh_token", "access_token"} {
		out := a.tokens(id, nil)
		status, _ := a.post("/revoke", url.Values{"token": {out[which].(string)}, "client_id": {id}})
		require.Equal(t, 200, status)
		_, err := a.verify(out["access_token"].(string))
		assert.EqualError(t, err, "the access token has been revoked", which)
		status, _ = a.refresh(id, out["refresh_token"].(string))
		assert.Equal(t, 400, status, which)
	}
	// Another client cannot revoke a grant it does not hold; garbage is
	// answered 200 and changes nothing.
	out := a.tokens(id, nil)
	other := a.client()
	status, _ := a.post("/revoke", url.Values{"token": {out["refresh_token"].(string)}, "client_id": {other}})
	assert.Equal(t, 200, status)
	status, _ = a.post("/revoke", url.Values{"token": {"nonsense"}, "client_id": {id}})
	assert.Equal(t, 200, status)
	_, err := a.verify(out["access_token"].(string))
	assert.NoError(t, err)
}

// TestAuthorizeRefusals: requests whose client or redirect is wrong get a
// page, never a redirect; other problems go back to the client with
// state and iss.
func TestAuthorizeRefusals(t *testing.T) {
	a := newAS(t)
	id := a.client()
	pages := []struct {
		name string
		set  map[string]string
		says string
	}{
		{"unknown client", map[string]string{"client_id": "smcp_c_forged"}, "not registered"},
		{"no client", map[string]string{"client_id": ""}, "client_id is missing"},
		{"redirect mismatch", map[string]string{"redirect_uri": "https://evil.example.com/callback"}, "not one this app registered"},
		{"redirect on another loopback path", map[string]string{"redirect_uri": "http://127.0.0.1:41999/elsewhere"}, "not one this app registered"},
		{"no redirect", map[string]string{"redirect_uri": ""}, "redirect_uri is missing"},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			f := a.open(a.browser(), a.authorizeURL(id, p.set))
			assert.Equal(t, http.StatusBadRequest, f.status)
			assert.Contains(t, f.body, p.says)
			assert.Empty(t, f.pending, "no form")
			assert.Contains(t, f.header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		})
	}
	redirects := []struct {
		name  string
		set   map[string]string
		error string
	}{
		{"plain PKCE", map[string]string{"code_challenge_method": "plain", "code_challenge": verifier}, "invalid_request"},
		{"no PKCE", map[string]string{"code_challenge": "", "code_challenge_method": ""}, "invalid_request"},
		{"no PKCE method", map[string]string{"code_challenge_method": ""}, "invalid_request"},
		{"token response type", map[string]string{"response_type": "token"}, "unsupported_response_type"},
		{"wrong resource", map[string]string{"resource": "https://elsewhere.example.com/mcp"}, "invalid_target"},
		{"prompt none", map[string]string{"prompt": "none"}, "login_required"},
		{"form_post", map[string]string{"response_mode": "form_post"}, "invalid_request"},
	}
	for _, r := range redirects {
		t.Run(r.name, func(t *testing.T) {
			resp, err := a.browser().Get(a.authorizeURL(id, r.set))
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			loc, _ := url.Parse(resp.Header.Get("Location"))
			assert.Equal(t, r.error, loc.Query().Get("error"))
			assert.Equal(t, "st-123", loc.Query().Get("state"))
			assert.Equal(t, a.srv.Issuer(), loc.Query().Get("iss"))
			assert.Empty(t, loc.Query().Get("code"))
		})
	}
	// A native app's loopback redirect may come back on any port.
	f := a.open(a.browser(), a.authorizeURL(id, map[string]string{"redirect_uri": "http://127.0.0.1:50123/callback"}))
	assert.Equal(t, http.StatusOK, f.status, f.body)
	f = a.open(a.browser(), a.authorizeURL(id, map[string]string{"redirect_uri": "http://localhost:41999/callback"}))
	assert.Equal(t, http.StatusBadRequest, f.status, "but not on another host name")
	// The resource may be left out (it is then this server) or name the origin.
	f = a.open(a.browser(), a.authorizeURL(id, map[string]string{"resource": ""}))
	assert.Equal(t, http.StatusOK, f.status)
	f = a.open(a.browser(), a.authorizeURL(id, map[string]string{"resource": strings.ToUpper(a.srv.Issuer()[:4]) + a.srv.Issuer()[4:] + "/"}))
	assert.Equal(t, http.StatusOK, f.status)
}

func TestSignInForm(t *testing.T) {
	a := newAS(t)
	id := a.client()

	t.Run("wrong Skimmer key", func(t *testing.T) {
		b := a.browser()
		f := a.open(b, a.authorizeURL(id, nil))
		resp, body := a.submit(b, f, map[string]string{"key": "sk_live_WRONG_5566"})
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assertNoCodeIssued(t, resp)
		assert.Contains(t, body, "Skimmer did not accept that key")
		assert.NotContains(t, body, "sk_live_WRONG_5566", "the key is never echoed")
		assert.Contains(t, body, `name="pending"`, "the form is shown again")
	})
	t.Run("no key", func(t *testing.T) {
		b := a.browser()
		resp, body := a.submit(b, a.open(b, a.authorizeURL(id, nil)), map[string]string{"key": ""})
		assertNoCodeIssued(t, resp)
		assert.Contains(t, body, "Paste your Skimmer API key")
	})
	t.Run("Skimmer unreachable", func(t *testing.T) {
		down := newAS(t, func(c *Config) {
			c.CheckKey = func(context.Context, string) error { return context.DeadlineExceeded }
		})
		cid := down.client()
		b := down.browser()
		resp, body := down.submit(b, down.open(b, down.authorizeURL(cid, nil)), nil)
		assertNoCodeIssued(t, resp)
		assert.Contains(t, body, "could not be reached")
	})
	t.Run("missing CSRF token", func(t *testing.T) {
		b := a.browser()
		resp, body := a.submit(b, a.open(b, a.authorizeURL(id, nil)), map[string]string{"csrf": ""})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assertNoCodeIssued(t, resp)
		assert.Contains(t, body, "nothing was connected")
	})
	t.Run("wrong CSRF token", func(t *testing.T) {
		b := a.browser()
		resp, _ := a.submit(b, a.open(b, a.authorizeURL(id, nil)), map[string]string{"csrf": "bm90LXRoZS10b2tlbg"})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assertNoCodeIssued(t, resp)
	})
	t.Run("a form posted from another browser", func(t *testing.T) {
		f := a.open(a.browser(), a.authorizeURL(id, nil))
		resp, _ := a.submit(a.browser(), f, nil) // no cookie
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assertNoCodeIssued(t, resp)
	})
	t.Run("an altered request", func(t *testing.T) {
		b := a.browser()
		f := a.open(b, a.authorizeURL(id, nil))
		f.pending = f.pending[:len(f.pending)-3] + "AAA"
		resp, _ := a.submit(b, f, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assertNoCodeIssued(t, resp)
	})
	t.Run("an expired page", func(t *testing.T) {
		b := a.browser()
		f := a.open(b, a.authorizeURL(id, nil))
		a.clock.add(pendingTTL + time.Second)
		resp, body := a.submit(b, f, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, body, "expired")
	})
	t.Run("cancel", func(t *testing.T) {
		b := a.browser()
		resp, _ := a.submit(b, a.open(b, a.authorizeURL(id, nil)), map[string]string{"action": "cancel", "key": ""})
		loc, _ := url.Parse(resp.Header.Get("Location"))
		assert.Equal(t, "access_denied", loc.Query().Get("error"))
		assert.Equal(t, "st-123", loc.Query().Get("state"))
	})
}

func TestRegistration(t *testing.T) {
	a := newAS(t)
	bad := []struct {
		name string
		body map[string]any
		says string
	}{
		{"no redirect", map[string]any{"client_name": "x"}, "redirect_uris is missing"},
		{"http elsewhere", map[string]any{"redirect_uris": []string{"http://app.example.com/cb"}}, "http on a host other than this machine"},
		{"javascript", map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, "javascript scheme"},
		{"fragment", map[string]any{"redirect_uris": []string{"https://app.example.com/cb#x"}}, "fragment"},
		{"implicit", map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}, "grant_types": []string{"implicit"}}, "not offered"},
		{"private_key_jwt", map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}, "token_endpoint_auth_method": "private_key_jwt"}, "not offered"},
	}
	for _, c := range bad {
		status, out := a.register(c.body)
		assert.Equal(t, http.StatusBadRequest, status, c.name)
		assert.Contains(t, out["error_description"], c.says, c.name)
	}

	// A confidential client gets a secret, and must send it.
	status, out := a.register(map[string]any{"client_name": "Server App", "redirect_uris": []string{redirect}, "token_endpoint_auth_method": "client_secret_post"})
	require.Equal(t, http.StatusCreated, status)
	id, secret := out["client_id"].(string), out["client_secret"].(string)
	require.NotEmpty(t, secret)
	code := a.code(id, nil)
	status, r := a.exchange(id, code, nil)
	assert.Equal(t, 401, status)
	assert.Equal(t, "invalid_client", errorOf(r))
	status, r = a.exchange(id, a.code(id, nil), map[string]string{"client_secret": secret + "x"})
	assert.Equal(t, 401, status)
	status, r = a.exchange(id, a.code(id, nil), map[string]string{"client_secret": secret})
	assert.Equal(t, 200, status, r)

	// A client id survives a restart (nothing was stored) and a key
	// rotation, but not a change of key.
	rotated := newAS(t, func(c *Config) { c.Key, c.PreviousKey = strings.Repeat("n", 40), testKey })
	_, err := rotated.srv.client(context.Background(), id)
	assert.NoError(t, err)
	other := newAS(t, func(c *Config) { c.Key = strings.Repeat("n", 40) })
	_, err = other.srv.client(context.Background(), id)
	assert.ErrorIs(t, err, errUnknownClient)
}

func TestMetadata(t *testing.T) {
	a := newAS(t)
	var m map[string]any
	resp, err := http.Get(a.http.URL + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	require.NoError(t, decodeJSON(resp, &m))
	assert.Equal(t, a.srv.Issuer(), m["issuer"])
	assert.Equal(t, []any{"S256"}, m["code_challenge_methods_supported"])
	assert.Equal(t, true, m["client_id_metadata_document_supported"])
	assert.Equal(t, true, m["authorization_response_iss_parameter_supported"])
	assert.Equal(t, a.srv.Issuer()+"/register", m["registration_endpoint"])
	for _, p := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		resp, err := http.Get(a.http.URL + p)
		require.NoError(t, err)
		var prm map[string]any
		require.NoError(t, decodeJSON(resp, &prm))
		assert.Equal(t, a.srv.Resource(), prm["resource"])
		assert.Equal(t, []any{a.srv.Issuer()}, prm["authorization_servers"])
	}
	assert.Equal(t, `Bearer resource_metadata="`+a.srv.Issuer()+`/.well-known/oauth-protected-resource/mcp", scope="skimmer:read skimmer:write"`, a.srv.Challenge(""))
}

func TestCheckIssuer(t *testing.T) {
	for in, want := range map[string]string{
		"https://MCP.example.com/": "https://mcp.example.com",
		"http://127.0.0.1:8080":    "http://127.0.0.1:8080",
	} {
		got, err := CheckIssuer(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for in, says := range map[string]string{
		"http://mcp.example.com":      "use https",
		"https://mcp.example.com/mcp": "origin only",
		"mcp.example.com":             "give the URL",
	} {
		_, err := CheckIssuer(in)
		assert.ErrorContains(t, err, says, in)
	}
}

// TestReadOnlyServer: a server that offers only its read tools offers only
// reading on the page, says why, and grants nothing more to a forged form.
func TestReadOnlyServer(t *testing.T) {
	a := newAS(t, func(c *Config) { c.ReadOnly = true })
	id := a.client()
	b := a.browser()
	f := a.open(b, a.authorizeURL(id, nil)) // the app asks for both
	assert.NotContains(t, f.body, `value="write"`)
	assert.NotContains(t, f.body, "Read and change")
	assert.Contains(t, f.body, "This server only reads")
	assert.Equal(t, ScopeRead, a.scopeOfForgedWrite(t, id, b, f))
}

// TestSignInSaysWhatIsWrongWithTheKey: a key that cannot be a Skimmer key
// is said so in its own sentence, logged by its own reason, and never sent
// to Skimmer; only a well-formed key Skimmer refuses is "Skimmer did not
// accept that key".
func TestSignInSaysWhatIsWrongWithTheKey(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	a := newAS(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return logs.Write(p)
		}), nil))
	})
	id := a.client()
	for _, tt := range []struct {
		key, says, reason string
		checked           bool
	}{
		{"abc", "That is 3 characters long; Skimmer keys are longer: paste the whole key.", "key too short", false},
		{"x", "That is 1 character long;", "key too short", false},
		{"good key 123456789", "That has a space or a line break in it; Skimmer keys have none", `key has a space or line break`, false},
		{"first-half-0123\nsecond-half", "That has a space or a line break in it", `key has a space or line break`, false},
		{"“sk_live_0123456789”", "That has a character no Skimmer key has", "key has a character no key has", false},
		{"sk_live_WRONG_5566", "Skimmer did not accept that key", "key refused by Skimmer", true},
	} {
		a.mu.Lock()
		a.checks = nil
		a.mu.Unlock()
		mu.Lock()
		logs.Reset()
		mu.Unlock()
		b := a.browser()
		resp, body := a.submit(b, a.open(b, a.authorizeURL(id, nil)), map[string]string{"key": tt.key})
		assert.Equal(t, http.StatusOK, resp.StatusCode, tt.key)
		assertNoCodeIssued(t, resp)
		assert.Contains(t, html.UnescapeString(body), tt.says, tt.key)
		if len(tt.key) > 1 { // the page's random values aside
			visible := hidden.ReplaceAllString(body, "")
			assert.NotContains(t, html.UnescapeString(visible), strings.TrimSpace(tt.key), "the key is never echoed")
		}
		if !tt.checked {
			assert.NotContains(t, body, "Skimmer did not accept", "%q never reached Skimmer", tt.key)
		}
		a.mu.Lock()
		assert.Equal(t, tt.checked, len(a.checks) == 1, "%q sent to Skimmer: %v", tt.key, len(a.checks))
		a.mu.Unlock()
		mu.Lock()
		assert.Contains(t, logs.String(), `reason="`+tt.reason+`"`, tt.key)
		if len(tt.key) > 1 {
			assert.NotContains(t, logs.String(), strings.TrimSpace(tt.key))
		}
		mu.Unlock()
	}
}

// TestDemoSignIn: on the demo account the page says so and asks for no key;
// whatever is typed, the grant holds the demo's key, never the text.
func TestDemoSignIn(t *testing.T) {
	const demo = "sandbox-demo-key"
	a := newAS(t, func(c *Config) {
		c.DemoKey = demo
		check := c.CheckKey
		c.CheckKey = func(ctx context.Context, key string) error {
			if key == demo {
				return check(ctx, goodKey)
			}
			return check(ctx, key)
		}
	})
	id := a.client()
	f := a.open(a.browser(), a.authorizeURL(id, nil))
	assert.Contains(t, f.body, "Connect Test App to Skimmer (demo account)")
	assert.Contains(t, f.body, "No key is needed: type anything, or nothing")
	assert.NotRegexp(t, `name="key"[^>]*required`, f.body, "the field may be left empty")
	for _, typed := range []string{"", "abc", "my real key 123"} {
		out := a.tokens(id, map[string]string{"key": typed})
		c, err := a.verify(out["access_token"].(string))
		require.NoError(t, err)
		assert.Equal(t, demo, c.Key, "typed %q", typed)
	}
	a.mu.Lock()
	assert.NotContains(t, a.checks, "my real key 123")
	a.mu.Unlock()
}

// TestUnnamedApp: an app registered without a name is "this app" in the
// middle of a sentence and "This app" at its start.
func TestUnnamedApp(t *testing.T) {
	a := newAS(t)
	status, out := a.register(map[string]any{"redirect_uris": []string{redirect}, "token_endpoint_auth_method": "none"})
	require.Equal(t, http.StatusCreated, status, out)
	f := a.open(a.browser(), a.authorizeURL(out["client_id"].(string), nil))
	require.Equal(t, http.StatusOK, f.status)
	assert.Contains(t, f.body, "<h1>Connect this app to Skimmer</h1>")
	assert.Contains(t, f.body, "What may this app do?")
	assert.Contains(t, f.body, "<strong>This app</strong> is asking")
	assert.NotContains(t, f.body, "An app")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
