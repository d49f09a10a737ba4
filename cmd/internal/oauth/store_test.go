package oauth

import (
	"context"
	"net/http"
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

	ok, err := m.Swap(ctx, "a", []byte("0"), []byte("1"), time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "nothing there: swapped")
	ok, _ = m.Swap(ctx, "a", []byte("0"), []byte("2"), time.Minute)
	assert.False(t, ok, "compare-and-set: it holds 1, not 0")
	v, err := m.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "1", string(v))
	ok, _ = m.Swap(ctx, "a", []byte("1"), []byte("2"), time.Minute)
	assert.True(t, ok)
	ok, _ = m.Swap(ctx, "a", []byte("1"), []byte("3"), time.Minute)
	assert.False(t, ok, "1 was swapped once")
	v, _ = m.Get(ctx, "a")
	assert.Equal(t, "2", string(v))

	v, err = m.Take(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "2", string(v))
	_, err = m.Take(ctx, "a")
	assert.ErrorIs(t, err, ErrNotFound, "taken once")

	require.NoError(t, m.Put(ctx, "b", []byte("x"), time.Second))
	c.add(time.Second)
	_, err = m.Get(ctx, "b")
	assert.ErrorIs(t, err, ErrNotFound, "expired")
	ok, _ = m.Swap(ctx, "b", []byte("not x"), []byte("y"), time.Second)
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

// TestMemoryStoreFolder: a state file the server cannot keep is found at
// start, with what to do, rather than at the first sign-in as a temporary
// file's name.
func TestMemoryStoreFolder(t *testing.T) {
	dir := t.TempDir()
	aFile := filepath.Join(dir, "plain-file")
	require.NoError(t, os.WriteFile(aFile, nil, 0o600))
	for _, tt := range []struct{ file, says string }{
		{filepath.Join(dir, "missing", "oauth-state.json"), "the folder " + filepath.Join(dir, "missing") + " does not exist: create it and make it writable by the server's user (" + who() + "); in a container, mount a volume there"},
		{filepath.Join(aFile, "oauth-state.json"), aFile + " is a file, not a folder"},
		// sysfs takes no new files, even from root, who runs CI.
		{"/sys/oauth-state.json", "the server's user (" + who() + ") cannot write in /sys: make the folder writable by that user (in a container, mount a volume there"},
	} {
		_, err := NewMemoryStore(tt.file, nil)
		require.Error(t, err, tt.file)
		assert.Contains(t, err.Error(), tt.says)
		assert.NotContains(t, err.Error(), ".oauth-state-", "no temporary file's name")
	}
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

// TestRefreshStateIsBoundedByLiveGrants: a grant refreshed 5,000 times
// leaves the state, in memory and in the file, as one refresh left it; and
// rotation still catches a reused token.
func TestRefreshStateIsBoundedByLiveGrants(t *testing.T) {
	file := filepath.Join(t.TempDir(), "oauth-state.json")
	var store *MemoryStore
	a := newAS(t, func(c *Config) {
		var err error
		store, err = NewMemoryStore(file, c.Now)
		require.NoError(t, err)
		c.Store = store
	})
	id := a.client()
	out := a.tokens(id, nil)
	status, out := a.refresh(id, out["refresh_token"].(string))
	require.Equal(t, http.StatusOK, status, out)
	entries := store.Len()
	info, err := os.Stat(file)
	require.NoError(t, err)
	size := info.Size()

	var spent string
	for range 5000 {
		spent = out["refresh_token"].(string)
		status, out = a.refresh(id, spent)
		require.Equal(t, http.StatusOK, status, out)
	}
	assert.Equal(t, entries, store.Len(), "5,000 more refreshes add no entry")
	info, err = os.Stat(file)
	require.NoError(t, err)
	assert.InDelta(t, size, info.Size(), 16, "nor bytes to the file")

	status, _ = a.refresh(id, spent)
	assert.Equal(t, http.StatusBadRequest, status, "a spent token is refused")
	_, err = a.verify(out["access_token"].(string))
	assert.EqualError(t, err, "the access token has been revoked", "and its reuse revoked the grant")
}

// TestRefreshOnceUnderConcurrency: one refresh token sent twenty times at
// once is honoured once; the other nineteen are reuse, and revoke.
func TestRefreshOnceUnderConcurrency(t *testing.T) {
	a := newAS(t)
	id := a.client()
	rt := a.tokens(id, nil)["refresh_token"].(string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := a.refresh(id, rt)
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusBadRequest: 19}, statuses)
}

// TestASwapThatCannotBeSavedDidNotHappen: when the file cannot be written
// the refresh is refused, and must work when tried again with the same
// token, not be taken for a reuse.
func TestASwapThatCannotBeSavedDidNotHappen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m, err := NewMemoryStore(filepath.Join(dir, "state.json"), nil)
	require.NoError(t, err)
	require.NoError(t, m.Put(ctx, "grant:g", []byte("s1"), time.Hour))
	m.file = filepath.Join(dir, "gone", "state.json") // as a disk that refuses writes
	_, err = m.Swap(ctx, "grant:g", []byte("s1"), []byte("s2"), time.Hour)
	require.Error(t, err)
	v, err := m.Get(ctx, "grant:g")
	require.NoError(t, err)
	assert.Equal(t, "s1", string(v), "the swap that was not saved is undone")
}
