package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// downStore is a store that stops answering on demand, as a shared store
// does when it is down or slow.
type downStore struct {
	Store
	down atomic.Bool
}

var errStoreTimeout = errors.New("redis 10.0.0.7:6379: i/o timeout")

func (d *downStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if d.down.Load() {
		return errStoreTimeout
	}
	return d.Store.Put(ctx, key, value, ttl)
}

func (d *downStore) Swap(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error) {
	if d.down.Load() {
		return false, errStoreTimeout
	}
	return d.Store.Swap(ctx, key, old, value, ttl)
}

func (d *downStore) Get(ctx context.Context, key string) ([]byte, error) {
	if d.down.Load() {
		return nil, errStoreTimeout
	}
	return d.Store.Get(ctx, key)
}

func (d *downStore) Take(ctx context.Context, key string) ([]byte, error) {
	if d.down.Load() {
		return nil, errStoreTimeout
	}
	return d.Store.Take(ctx, key)
}

// TestAStoreOutageIsNoSignOut: while the store cannot answer, tokens are
// refused for now, never called revoked or invalid (a client drops tokens
// on invalid_token or invalid_grant, which signs its person out), and
// nothing a client holds is spent; once the store answers, the same tokens
// work.
func TestAStoreOutageIsNoSignOut(t *testing.T) {
	var store *downStore
	a := newAS(t, func(c *Config) {
		store = &downStore{Store: c.Store}
		c.Store = store
	})
	id := a.client()
	out := a.tokens(id, nil)
	code := a.code(id, nil)
	at, rt := out["access_token"].(string), out["refresh_token"].(string)

	store.down.Store(true)
	_, err := a.verify(at)
	require.ErrorIs(t, err, ErrStateUnavailable, "not checked, so not served, and not revoked either")
	assert.NotContains(t, err.Error(), "revoked")

	for name, form := range map[string]url.Values{
		"refresh": {"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {id}},
		"code": {"grant_type": {"authorization_code"}, "code": {code}, "client_id": {id}, "redirect_uri": {redirect},
			"code_verifier": {verifier}},
	} {
		resp, err := http.PostForm(a.http.URL+"/token", form)
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, decodeJSON(resp, &body))
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, name)
		assert.Equal(t, "temporarily_unavailable", errorOf(body), name)
		assert.Equal(t, "the server cannot check sign-ins right now; try again in a moment", body["error_description"], name)
		assert.Equal(t, "5", resp.Header.Get("Retry-After"), name)
	}
	status, body := a.post("/revoke", url.Values{"token": {rt}, "client_id": {id}})
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "temporarily_unavailable", errorOf(body))

	store.down.Store(false)
	_, err = a.verify(at)
	assert.NoError(t, err, "the access token works again")
	status, fresh := a.refresh(id, rt)
	assert.Equal(t, http.StatusOK, status, "the refresh token was not spent by the refused refresh: %v", fresh)
}
