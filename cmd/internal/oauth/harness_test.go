package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testKey  = "test-oauth-key-0123456789abcdefghijklmnopqrstuvwxyz"
	goodKey  = "sk_live_GOOD_7c1e9a"
	redirect = "http://127.0.0.1:41999/callback"
	verifier = "a-pkce-verifier-that-is-long-enough-0123456789abcdef"
)

// clock is a settable time for a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// as is an authorization server on a test listener, with a fake Skimmer
// that knows one good key.
type as struct {
	t      *testing.T
	srv    *Server
	http   *httptest.Server
	clock  *clock
	store  *MemoryStore
	checks []string // the keys CheckKey was asked about
	mu     sync.Mutex
}

func newAS(t *testing.T, opts ...func(*Config)) *as {
	t.Helper()
	a := &as{t: t, clock: &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}}
	var err error
	a.store, err = NewMemoryStore("", a.clock.now)
	require.NoError(t, err)
	a.http = httptest.NewUnstartedServer(nil)
	issuer := "http://" + a.http.Listener.Addr().String()
	cfg := Config{
		Issuer: issuer, Key: testKey, Store: a.store, Now: a.clock.now, WritesConfirmed: true,
		CheckKey: func(_ context.Context, key string) error {
			a.mu.Lock()
			a.checks = append(a.checks, key)
			a.mu.Unlock()
			if key != goodKey {
				return fmt.Errorf("skimmer said 401: %w", ErrKeyRejected)
			}
			return nil
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	a.srv, err = New(cfg)
	require.NoError(t, err)
	mux := http.NewServeMux()
	a.srv.Routes(mux)
	a.http.Config.Handler = mux
	a.http.Start()
	t.Cleanup(a.http.Close)
	return a
}

// browser is a person's browser: it keeps cookies and does not follow
// redirects, so a test sees where it would go.
func (a *as) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (a *as) register(body map[string]any) (int, map[string]any) {
	raw, _ := json.Marshal(body)
	resp, err := http.Post(a.http.URL+"/register", "application/json", strings.NewReader(string(raw)))
	require.NoError(a.t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(a.t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// client registers a public client with the test redirect.
func (a *as) client() string {
	status, out := a.register(map[string]any{"client_name": "Test App", "redirect_uris": []string{redirect}, "token_endpoint_auth_method": "none"})
	require.Equal(a.t, http.StatusCreated, status, out)
	return out["client_id"].(string)
}

func challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL is a well-formed request; set overrides its parameters
// ("" removes one).
func (a *as) authorizeURL(clientID string, set map[string]string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
		"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}, "state": {"st-123"},
		"scope": {ScopeRead + " " + ScopeWrite}, "resource": {a.srv.Resource()}}
	for k, v := range set {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return a.http.URL + "/authorize?" + q.Encode()
}

var hidden = regexp.MustCompile(`name="(pending|csrf)" value="([^"]*)"`)

// form is the sign-in page as a browser got it.
type form struct {
	status  int
	body    string
	header  http.Header
	pending string
	csrf    string
}

func (a *as) open(b *http.Client, u string) form {
	resp, err := b.Get(u)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	f := form{status: resp.StatusCode, body: string(body), header: resp.Header}
	for _, m := range hidden.FindAllStringSubmatch(f.body, -1) {
		if m[1] == "pending" {
			f.pending = m[2]
		} else {
			f.csrf = m[2]
		}
	}
	return f
}

// submit posts the form; it returns the response, whose Location holds the
// code when one was issued.
func (a *as) submit(b *http.Client, f form, set map[string]string) (*http.Response, string) {
	v := url.Values{"pending": {f.pending}, "csrf": {f.csrf}, "key": {goodKey}, "access": {"write"}, "action": {"connect"}}
	for k, x := range set {
		if x == "" {
			v.Del(k)
		} else {
			v.Set(k, x)
		}
	}
	resp, err := b.PostForm(a.http.URL+"/authorize", v)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// code runs the sign-in for clientID and returns the code.
func (a *as) code(clientID string, set map[string]string) string {
	b := a.browser()
	f := a.open(b, a.authorizeURL(clientID, nil))
	require.Equal(a.t, http.StatusOK, f.status, f.body)
	resp, body := a.submit(b, f, set)
	require.Equal(a.t, http.StatusSeeOther, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(a.t, err)
	require.NotEmpty(a.t, loc.Query().Get("code"), loc.String())
	return loc.Query().Get("code")
}

func (a *as) post(path string, form url.Values) (int, map[string]any) {
	resp, err := http.PostForm(a.http.URL+path, form)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(a.t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp.StatusCode, out
}

func (a *as) exchange(clientID, code string, set map[string]string) (int, map[string]any) {
	v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {clientID}, "redirect_uri": {redirect},
		"code_verifier": {verifier}, "resource": {a.srv.Resource()}}
	for k, x := range set {
		if x == "" {
			v.Del(k)
		} else {
			v.Set(k, x)
		}
	}
	return a.post("/token", v)
}

func (a *as) refresh(clientID, rt string) (int, map[string]any) {
	return a.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}, "resource": {a.srv.Resource()}})
}

// tokens signs in and exchanges the code.
func (a *as) tokens(clientID string, set map[string]string) map[string]any {
	status, out := a.exchange(clientID, a.code(clientID, set), nil)
	require.Equal(a.t, http.StatusOK, status, out)
	return out
}

func (a *as) verify(token string) (Caller, error) {
	return a.srv.Verify(context.Background(), token)
}

func errorOf(out map[string]any) string {
	s, _ := out["error"].(string)
	return s
}

func assertNoCodeIssued(t *testing.T, resp *http.Response) {
	t.Helper()
	assert.NotContains(t, resp.Header.Get("Location"), "code=", "no code was issued")
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
