package oauth

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	m, err := NewMemoryStore("", c.now)
	require.NoError(t, err)

	ok, err := m.PutNew(ctx, "a", []byte("1"), time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, _ = m.PutNew(ctx, "a", []byte("2"), time.Minute)
	assert.False(t, ok, "set-if-absent")
	v, err := m.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "1", string(v))

	v, err = m.Take(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "1", string(v))
	_, err = m.Take(ctx, "a")
	assert.ErrorIs(t, err, ErrNotFound, "taken once")

	require.NoError(t, m.Put(ctx, "b", []byte("x"), time.Second))
	c.add(time.Second)
	_, err = m.Get(ctx, "b")
	assert.ErrorIs(t, err, ErrNotFound, "expired")
	ok, _ = m.PutNew(ctx, "b", []byte("y"), time.Second)
	assert.True(t, ok, "an expired entry is absent")

	// Of many concurrent takers, exactly one gets the value.
	require.NoError(t, m.Put(ctx, "code", []byte("c"), time.Minute))
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Take(ctx, "code"); err == nil {
				mu.Lock()
				got++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, got)

	for i := range 600 {
		require.NoError(t, m.Put(ctx, string(rune('A'+i%26))+time.Duration(i).String(), nil, time.Second))
	}
	c.add(2 * time.Second)
	require.NoError(t, m.Put(ctx, "fresh", nil, time.Minute))
	for range 256 {
		require.NoError(t, m.Put(ctx, "fresh", nil, time.Minute))
	}
	assert.LessOrEqual(t, m.Len(), 2, "expired entries are pruned; the map does not grow without bound")
}

// TestMemoryStoreFile: revocations and spent tokens survive a restart.
func TestMemoryStoreFile(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	file := filepath.Join(t.TempDir(), "oauth-state.json")
	m, err := NewMemoryStore(file, c.now)
	require.NoError(t, err)
	require.NoError(t, m.Put(ctx, "revoked:g1", []byte{1}, time.Hour))
	require.NoError(t, m.Put(ctx, "short", []byte{1}, time.Second))
	info, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "only the server's user reads it")

	c.add(2 * time.Second)
	again, err := NewMemoryStore(file, c.now)
	require.NoError(t, err)
	_, err = again.Get(ctx, "revoked:g1")
	assert.NoError(t, err, "kept across the restart")
	_, err = again.Get(ctx, "short")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, 1, again.Len(), "expired entries are dropped on load")

	require.NoError(t, os.WriteFile(file, []byte("{broken"), 0o600))
	_, err = NewMemoryStore(file, c.now)
	assert.ErrorContains(t, err, "not valid JSON")
}

// TestGrantsSurviveARestart: a new server process with the same key and a
// fresh store serves the old tokens, and with the same state file still
// refuses what was revoked.
func TestGrantsSurviveARestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	withFile := func(a *as) func(*Config) {
		return func(c *Config) {
			s, err := NewMemoryStore(file, time.Now)
			require.NoError(t, err)
			c.Store, c.Now = s, time.Now
		}
	}
	a := newAS(t, withFile(nil))
	id := a.client()
	kept, revoked := a.tokens(id, nil), a.tokens(id, nil)
	status, _ := a.post("/revoke", map[string][]string{"token": {revoked["refresh_token"].(string)}, "client_id": {id}})
	require.Equal(t, 200, status)

	b := newAS(t, withFile(nil))
	b.srv.resource, b.srv.issuer = a.srv.resource, a.srv.issuer
	_, err := b.verify(kept["access_token"].(string))
	assert.NoError(t, err)
	status, out := b.refresh(id, kept["refresh_token"].(string))
	assert.Equal(t, 200, status, out)
	_, err = b.verify(revoked["access_token"].(string))
	assert.EqualError(t, err, "the access token has been revoked")
}
