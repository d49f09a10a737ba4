package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/redistest"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

const oauthKey = "test-oauth-key-for-the-binary-0123456789abcdef"

// signIn does what a connector host and a person do: register by DCR, open
// the sign-in page, paste the key, choose the access, and exchange the
// code. It returns the token answer and every value the flow carried
// (codes, tokens) for the secrets scan.
func signIn(t testing.TB, base, key, access string) (map[string]any, []string) {
	t.Helper()
	done, id, verifier := submitSignIn(t, base, key, access)
	done.Body.Close()
	require.Equal(t, http.StatusSeeOther, done.StatusCode)
	loc, err := url.Parse(done.Header.Get("Location"))
	require.NoError(t, err)
	code := loc.Query().Get("code")
	require.NotEmpty(t, code)

	tok, err := http.PostForm(base+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {id},
		"redirect_uri": {signInCallback}, "code_verifier": {verifier}, "resource": {base + "/mcp"}})
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.NewDecoder(tok.Body).Decode(&out))
	tok.Body.Close()
	require.Equal(t, http.StatusOK, tok.StatusCode, out)
	out["client_id"] = id
	return out, []string{code, out["access_token"].(string), out["refresh_token"].(string)}
}

// signInCallback is where the test host says it takes its codes.
const signInCallback = "http://127.0.0.1:9/callback"

// submitSignIn registers a client, opens the sign-in page and submits it
// with key, returning the page's answer (a redirect with a code, or the
// page again saying what was wrong), the client id and the PKCE verifier.
func submitSignIn(t testing.TB, base, key, access string) (*http.Response, string, string) {
	t.Helper()
	reg, err := http.Post(base+"/register", "application/json", strings.NewReader(`{"client_name":"Go Test Host","redirect_uris":["`+signInCallback+`"],"token_endpoint_auth_method":"none"}`))
	require.NoError(t, err)
	var client map[string]any
	require.NoError(t, json.NewDecoder(reg.Body).Decode(&client))
	reg.Body.Close()
	require.Equal(t, http.StatusCreated, reg.StatusCode, client)
	id := client["client_id"].(string)

	verifier := "verifier-" + strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {signInCallback}, "state": {"s1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"resource": {base + "/mcp"}, "scope": {"skimmer:read skimmer:write"}}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := browser.Get(base + "/authorize?" + q.Encode())
	require.NoError(t, err)
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	require.Equal(t, http.StatusOK, page.StatusCode, string(body))
	form := url.Values{"key": {key}, "access": {access}, "action": {"connect"}}
	for _, m := range regexp.MustCompile(`name="(pending|csrf)" value="([^"]*)"`).FindAllStringSubmatch(string(body), -1) {
		form.Set(m[1], m[2])
	}
	done, err := browser.PostForm(base+"/authorize", form)
	require.NoError(t, err)
	return done, id, verifier
}

// TestConnector runs the binary as a connector against a sandbox upstream:
// a 401 that says where to sign in, a read-and-change grant that lists
// every tool and writes, a read-only grant that lists the read tools and
// is refused a write, refresh, revocation, and the same secrets scan as
// TestSecretsNeverLeave over everything the server wrote.
func TestConnector(t *testing.T) {
	const key = "sk_live_RECOGNISABLE_OAUTH_4d3c2b1a"
	sb, upstream := upstreamSandbox(t)
	p := start(t, []string{"SKIMMER_BASE_URL=" + upstream, "SKIMMER_OAUTH_KEY=" + oauthKey},
		"--transport", "http", "--oauth", "--addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug")
	endpoint := p.waitURL(t)
	base := strings.TrimSuffix(endpoint, "/mcp")

	resp := postMCP(t, endpoint, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, nil)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp", scope="skimmer:read skimmer:write"`, resp.Header.Get("WWW-Authenticate"))

	write, secrets := signIn(t, base, key, "write")
	c := httpClient(t, endpoint, map[string]string{"Authorization": "Bearer " + write["access_token"].(string)})
	tools, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	assert.Len(t, tools.Tools, 11)
	id := firstCustomerID(t, upstream)
	text, isErr := callText(t, c, "create_customer_activity", map[string]any{"customerId": id, "type": "Other", "title": "Called about the pump", "confirm": true})
	require.False(t, isErr, text)
	writes := 0
	for _, r := range sb.Requests() {
		if r.Method == http.MethodPost {
			writes++
			assert.Equal(t, key, r.Key, "the write went to Skimmer with the key from the sign-in")
		}
	}
	assert.Equal(t, 1, writes)

	// A key Skimmer stops taking (revoked in Skimmer after the sign-in) is
	// fixed by signing in again; a key a header brings, in the app.
	sb.Inject(sandbox.Fault{Status: http.StatusUnauthorized, Times: 1})
	text, isErr = callText(t, c, "get_customer", map[string]any{"id": id})
	assert.True(t, isErr)
	assert.Contains(t, text, "Tell the user to sign in again: remove this connector and add it again")
	sb.Inject(sandbox.Fault{Status: http.StatusUnauthorized, Times: 1})
	text, isErr = callText(t, httpClient(t, endpoint, map[string]string{"x-api-key": key}), "get_customer", map[string]any{"id": id})
	assert.True(t, isErr)
	assert.Contains(t, text, "Tell the user to check the key their app sends to this server")

	read, more := signIn(t, base, key, "read")
	secrets = append(secrets, more...)
	ro := httpClient(t, endpoint, map[string]string{"Authorization": "Bearer " + read["access_token"].(string)})
	tools, err = ro.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	assert.Len(t, tools.Tools, 5)
	text, isErr = callText(t, ro, "create_customer_activity", map[string]any{"customerId": id, "type": "Other", "title": "x", "confirm": true})
	assert.True(t, isErr)
	assert.Contains(t, text, "may only read")

	// Refresh, then revoke: the grant's tokens stop working at /mcp.
	r, err := http.PostForm(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {write["refresh_token"].(string)}, "client_id": {write["client_id"].(string)}})
	require.NoError(t, err)
	var fresh map[string]any
	require.NoError(t, json.NewDecoder(r.Body).Decode(&fresh))
	r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode, fresh)
	secrets = append(secrets, fresh["access_token"].(string), fresh["refresh_token"].(string))
	r, err = http.PostForm(base+"/revoke", url.Values{"token": {fresh["refresh_token"].(string)}, "client_id": {write["client_id"].(string)}})
	require.NoError(t, err)
	r.Body.Close()
	resp = postMCP(t, endpoint, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Authorization": "Bearer " + fresh["access_token"].(string)})
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token", error_description="the access token has been revoked"`)

	// An access token and a key header together are refused, not ranked.
	resp = postMCP(t, endpoint, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Authorization": "Bearer " + read["access_token"].(string), "x-api-key": "another"})
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	p.stop(t)
	logs := p.stderr.String()
	assert.Contains(t, logs, `"msg":"oauth grant issued"`)
	assert.Contains(t, logs, `"msg":"http request"`, "debug lines were written, and scanned")
	assert.NotContains(t, logs, key, "no log line holds the Skimmer key")
	assert.NotContains(t, logs, "RECOGNISABLE")
	for _, s := range secrets {
		assert.NotContains(t, logs, s, "no log line holds a code or token")
	}
}

// TestAStoreOutageIsNoSignOut: with the OAuth state on Redis, Redis
// stalling is not a sign-out. A token is refused for now with 503,
// Retry-After and a sentence, never 401 invalid_token (on which clients
// throw their tokens away); a refresh is answered temporarily_unavailable,
// and spends nothing; once Redis answers, the same tokens work.
func TestAStoreOutageIsNoSignOut(t *testing.T) {
	redis := redistest.Start(t)
	proxy := redis.Proxy(t)
	g := newGated(t, "--transport", "http", "--oauth", "--store", proxy.URL())
	base := strings.TrimSuffix(g.url, "/mcp")
	tok, _ := signIn(t, base, "sk_live_outage_key_12345678", "write")
	bearer := map[string]string{"Authorization": "Bearer " + tok["access_token"].(string)}
	call := func() (*http.Response, string) {
		req, err := http.NewRequest("POST", g.url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		for k, v := range bearer {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	refresh := func() (int, map[string]any) {
		r, err := http.PostForm(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {tok["client_id"].(string)}})
		require.NoError(t, err)
		defer r.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&out))
		return r.StatusCode, out
	}
	resp, body := call()
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	proxy.Stall()
	for range 4 { // a slow answer, then the outage noticed: the same answer
		resp, body = call()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
		assert.Equal(t, "5", resp.Header.Get("Retry-After"))
		assert.Empty(t, resp.Header.Get("WWW-Authenticate"), "no invalid_token: the client keeps its tokens")
		assert.Contains(t, body, "the server cannot check sign-ins right now; try again in a moment")
	}
	status, out := refresh()
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "temporarily_unavailable", out["error"])

	proxy.Resume()
	require.Eventually(t, func() bool { r, _ := call(); return r.StatusCode == http.StatusOK }, 10*time.Second, 50*time.Millisecond,
		"the same access token works once Redis answers")
	status, out = refresh()
	assert.Equal(t, http.StatusOK, status, "the refresh token was not spent during the outage: %v", out)
}

// TestRedisHoldsOneEntryPerGrant: on a shared store, refreshing a grant
// again and again leaves Redis holding what one refresh left, not an
// entry per refresh.
func TestRedisHoldsOneEntryPerGrant(t *testing.T) {
	srv := redistest.Start(t)
	g := newGated(t, "--transport", "http", "--oauth", "--store", srv.URL())
	base := strings.TrimSuffix(g.url, "/mcp")
	tok, _ := signIn(t, base, "sk_live_refreshing_key_12345678", "write")
	rt := tok["refresh_token"].(string)
	refresh := func() {
		t.Helper()
		r, err := http.PostForm(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {tok["client_id"].(string)}})
		require.NoError(t, err)
		defer r.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&out))
		require.Equal(t, http.StatusOK, r.StatusCode, out)
		rt = out["refresh_token"].(string)
	}
	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer raw.Close()
	keys := func() int64 {
		n, err := raw.DBSize(context.Background()).Result()
		require.NoError(t, err)
		return n
	}
	refresh()
	after1 := keys()
	for range 300 {
		refresh()
	}
	assert.Equal(t, after1, keys(), "300 more refreshes, no more keys")
}

// TestDemoConnector: `--sandbox --oauth`, as the README says to try the
// connector on one machine. The page says it is the demo account and that
// no key is needed; any text (here three letters, which a real sign-in
// refuses) signs in, and the tools answer from the demo account. With
// --read-only the page offers reading only.
func TestDemoConnector(t *testing.T) {
	for _, readOnly := range []bool{false, true} {
		args := []string{"--sandbox", "--transport", "http", "--oauth", "--addr", "127.0.0.1:0", "--log-format", "json"}
		if readOnly {
			args = append(args, "--read-only")
		}
		p := start(t, nil, args...)
		endpoint := p.waitURL(t)
		base := strings.TrimSuffix(endpoint, "/mcp")
		page, _, _ := submitSignIn(t, base, "abc", "write")
		page.Body.Close()
		require.Equal(t, http.StatusSeeOther, page.StatusCode, "the demo takes any text")

		_, signedIn := signIn(t, base, "abc", "write")
		c := httpClient(t, endpoint, map[string]string{"Authorization": "Bearer " + signedIn[1]})
		text, isErr := callText(t, c, "search_customers", map[string]any{"text": "smith"})
		require.False(t, isErr, text)
		assert.Contains(t, text, "6 customers match")
		tools, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		if readOnly {
			assert.Len(t, tools.Tools, 5, "a read-only server grants reading only")
		} else {
			assert.Len(t, tools.Tools, 11)
		}

		// What the page says, read as a person would.
		reg, err := http.Post(base+"/register", "application/json", strings.NewReader(`{"client_name":"Claude","redirect_uris":["`+signInCallback+`"],"token_endpoint_auth_method":"none"}`))
		require.NoError(t, err)
		var client map[string]any
		require.NoError(t, json.NewDecoder(reg.Body).Decode(&client))
		reg.Body.Close()
		q := url.Values{"response_type": {"code"}, "client_id": {client["client_id"].(string)}, "redirect_uri": {signInCallback},
			"code_challenge": {strings.Repeat("c", 43)}, "code_challenge_method": {"S256"}, "scope": {"skimmer:read skimmer:write"}}
		resp, err := http.Get(base + "/authorize?" + q.Encode())
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Contains(t, string(body), "Connect Claude to Skimmer (demo account)")
		assert.Contains(t, string(body), "No key is needed")
		assert.Equal(t, !readOnly, strings.Contains(string(body), "Read and change"), "read-only %v", readOnly)
	}
}
