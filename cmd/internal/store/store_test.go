package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/oauth"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/redistest"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/store"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// open is one replica's connection to a Redis (a redistest Server, or a
// Proxy in front of one).
func open(t *testing.T, srv interface{ URL() string }, opts store.Options) (*store.Redis, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	if opts.Probe == 0 {
		opts.Probe = 50 * time.Millisecond
	}
	s, err := store.Open(context.Background(), srv.URL(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, logs
}

func TestLocksExcludeAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := open(t, srv, store.Options{})
	b, _ := open(t, srv, store.Options{LockWait: 300 * time.Millisecond})
	c, _ := open(t, srv, store.Options{LockWait: time.Minute})
	ctx := context.Background()

	release, err := a.Lock(ctx, "customer:c1", time.Minute)
	require.NoError(t, err)
	_, err = b.Lock(ctx, "customer:c1", time.Second)
	require.ErrorIs(t, err, store.ErrBusy, "held by the other replica")
	other, err := b.Lock(ctx, "customer:c2", time.Second)
	require.NoError(t, err, "another record's lock is free")
	other()

	// A holder is held out only while the lock is held: once released, the
	// waiter has it.
	got := make(chan error, 1)
	go func() {
		r, err := c.Lock(ctx, "customer:c1", time.Second)
		if err == nil {
			r()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the waiter returned while the lock was held: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	require.NoError(t, <-got)
	release() // twice is harmless
}

func TestALeaseThatRunsOutGoesToTheNextHolder(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := open(t, srv, store.Options{})
	b, _ := open(t, srv, store.Options{LockWait: 2 * time.Second})
	ctx := context.Background()
	_, err := a.Lock(ctx, "customer:stuck", 200*time.Millisecond) // a replica that died holding it
	require.NoError(t, err)
	start := time.Now()
	release, err := b.Lock(ctx, "customer:stuck", time.Second)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "taken only once the lease ran out")
	release()
}

func TestAnExpiredHolderCannotFreeItsSuccessorsLock(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := open(t, srv, store.Options{})
	b, _ := open(t, srv, store.Options{LockWait: 200 * time.Millisecond})
	ctx := context.Background()
	release, err := a.Lock(ctx, "customer:c1", 10*time.Second)
	require.NoError(t, err)
	// The lease runs out (as for a replica that stopped): drop the lock as
	// Redis would.
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	keys, err := raw.Keys(ctx, "skimmer-mcp:lock:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.NoError(t, raw.Del(ctx, keys[0]).Err())

	successor, err := b.Lock(ctx, "customer:c1", 10*time.Second)
	require.NoError(t, err)
	release() // the first holder's release must not free the successor's lock
	_, err = b.Lock(ctx, "customer:c1", time.Second)
	require.ErrorIs(t, err, store.ErrBusy)
	successor()
}

func TestSpendOnceAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	replicas := make([]*store.Redis, 3)
	for i := range replicas {
		replicas[i], _ = open(t, srv, store.Options{})
	}
	ctx := context.Background()
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 { // ten at once on each replica
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := replicas[i%3].Spend(ctx, "nonce-1", time.Minute)
			assert.NoError(t, err)
			if first {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), firsts.Load())
	first, err := replicas[1].Spend(ctx, "nonce-2", time.Minute)
	require.NoError(t, err)
	assert.True(t, first, "another confirmation is its own")
}

func TestEntriesAreHashedAndExpire(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := open(t, srv, store.Options{})
	ctx := context.Background()
	const apiKey, customer, nonce = "sk_live_9c1f2e7a3b5d4c6e", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "3a7c9e1b5d2f4a6c8e0b"
	release, err := s.Lock(ctx, "customer:"+customer, 5*time.Second)
	require.NoError(t, err)
	_, err = s.Spend(ctx, nonce, 10*time.Minute)
	require.NoError(t, err)
	b := s.Budget()
	id := skimmer.HashKey(apiKey)
	b.Observe(ctx, id, skimmer.RateLimit{Known: true, Limit: 500, Remaining: 0, Reset: 30 * time.Second, At: time.Now()})
	require.Eventually(t, func() bool {
		wait, err := b.Reserve(ctx, id)
		return err == nil && wait > 0
	}, 2*time.Second, 10*time.Millisecond, "the used-up window reached the store")

	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	keys, err := raw.Keys(ctx, "*").Result()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(keys), 4, "a lock, a spend, a budget log and its meta: %v", keys)
	for _, k := range keys {
		assert.True(t, strings.HasPrefix(k, "skimmer-mcp:"), k)
		for _, secret := range []string{apiKey, customer, nonce, id.String()} {
			assert.NotContains(t, k, secret)
		}
		ttl, err := raw.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Greater(t, ttl, time.Duration(0), "%s expires", k)
		if strings.Contains(k, ":budget:") {
			assert.LessOrEqual(t, ttl, skimmer.BudgetSpan, "%s lasts no longer than its span", k)
		}
	}
	release()
}

func TestBudgetSharedAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	var budgets []skimmer.Budget
	for range 3 {
		s, _ := open(t, srv, store.Options{})
		budgets = append(budgets, s.Budget())
	}
	id := skimmer.HashKey("a-key-shared-by-three-replicas")
	// Before any limit is known, nothing is held.
	for _, b := range budgets {
		wait, err := b.Reserve(ctx, id)
		require.NoError(t, err)
		assert.Zero(t, wait)
	}
	// One replica hears the limit; Skimmer has counted the three requests.
	budgets[0].Observe(ctx, id, skimmer.RateLimit{Known: true, Limit: 10, Remaining: 7, Reset: time.Minute, At: time.Now()})
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	require.Eventually(t, func() bool { // the observation is written in the background
		keys, _ := raw.Keys(ctx, "skimmer-mcp:budget:*:meta").Result()
		return len(keys) == 1
	}, 2*time.Second, 10*time.Millisecond)
	// The three replicas, taking turns, get the seven places left, and no more.
	sent := 0
	for i := range 30 {
		wait, err := budgets[i%3].Reserve(ctx, id)
		require.NoError(t, err)
		if wait == 0 {
			sent++
		}
	}
	assert.Equal(t, 7, sent)
	for i, b := range budgets {
		wait, err := b.Reserve(ctx, id)
		require.NoError(t, err)
		assert.Greater(t, wait, 55*time.Second, "replica %d is held for the window", i)
		assert.LessOrEqual(t, wait, skimmer.BudgetSpan)
	}
	// Another key is not.
	wait, err := budgets[2].Reserve(ctx, skimmer.HashKey("another-key"))
	require.NoError(t, err)
	assert.Zero(t, wait)
}

func TestOutageReadsGoOnWritesRefuseThenRecover(t *testing.T) {
	srv := redistest.Start(t)
	s, logs := open(t, srv, store.Options{Timeout: 200 * time.Millisecond})
	ctx := context.Background()
	b := s.Budget()
	id := skimmer.HashKey("key-during-outage")
	b.Observe(ctx, id, skimmer.RateLimit{Known: true, Limit: 3, Remaining: 3, Reset: time.Minute, At: time.Now()})

	srv.Stop()
	for range 5 {
		wait, err := b.Reserve(ctx, id)
		require.NoError(t, err, "a read's budget falls back to this replica's own")
		_ = wait
	}
	wait, err := b.Reserve(ctx, id)
	require.NoError(t, err)
	assert.Greater(t, wait, time.Duration(0), "the local budget knows the limit it heard")
	assert.False(t, s.Up())

	start := time.Now()
	_, err = s.Lock(ctx, "customer:c1", time.Second)
	require.ErrorIs(t, err, store.ErrStoreDown)
	_, err = s.Spend(ctx, "nonce", time.Minute)
	require.ErrorIs(t, err, store.ErrStoreDown)
	assert.Less(t, time.Since(start), 100*time.Millisecond, "refused at once while down, not after a timeout each")
	assert.Equal(t, 1, strings.Count(logs.String(), "shared store unreachable"), "logged once per outage: %s", logs)

	srv.Restart()
	require.Eventually(t, s.Up, 5*time.Second, 20*time.Millisecond, "back without a restart")
	release, err := s.Lock(ctx, "customer:c1", time.Second)
	require.NoError(t, err)
	release()
	first, err := s.Spend(ctx, "nonce", time.Minute)
	require.NoError(t, err)
	assert.True(t, first)
	assert.Contains(t, logs.String(), "shared store answering again")

	// A second outage is logged again, once.
	srv.Stop()
	_, err = s.Spend(ctx, "other", time.Minute)
	require.True(t, errors.Is(err, store.ErrStoreDown))
	_, _ = s.Spend(ctx, "other", time.Minute)
	assert.Equal(t, 2, strings.Count(logs.String(), "shared store unreachable"))
}

func TestOpenSaysWhatIsWrong(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://localhost:6379", `scheme "http": use redis:// or rediss://`},
		{"localhost:6379", "use redis://host:6379"},
		{"redis://:s3cret-pass@127.0.0.1:1", "--store: Redis at redis://127.0.0.1:1 does not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := store.Open(context.Background(), tt.url, store.Options{Timeout: 100 * time.Millisecond})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "s3cret-pass")
		})
	}
}

// TestOpenSaysWhatIsWrongWithThePassword: a Redis that wants a password,
// or another one, is said so, with where the password goes and
// the setting named as it was given; the password is never repeated.
func TestOpenSaysWhatIsWrongWithThePassword(t *testing.T) {
	srv := redistest.Start(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	ctx := context.Background()
	open := func(url string) error {
		s, err := store.Open(ctx, url, store.Options{Timeout: time.Second, Setting: "SKIMMER_STORE"})
		if err == nil {
			s.Close()
		}
		return err
	}
	host := strings.TrimPrefix(srv.URL(), "redis://")

	require.NoError(t, admin.ConfigSet(ctx, "requirepass", "r1ght-pa55").Err())
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "r1ght-pa55"})
		_ = c.ConfigSet(context.Background(), "requirepass", "").Err()
		_ = c.Close()
	})
	for _, tt := range []struct{ url, says string }{
		{srv.URL(), "SKIMMER_STORE: Redis at " + srv.URL() + " wants a password: put it in SKIMMER_STORE as redis://:PASSWORD@host:6379"},
		{"redis://:wr0ng-pa55@" + host, "SKIMMER_STORE: Redis at " + srv.URL() + " refused the password: put the right one in SKIMMER_STORE as redis://:PASSWORD@host:6379"},
	} {
		err := open(tt.url)
		require.Error(t, err, tt.url)
		assert.Contains(t, err.Error(), tt.says)
		assert.NotContains(t, err.Error(), "does not answer")
		assert.NotContains(t, err.Error(), "wr0ng-pa55")
	}
	require.NoError(t, open("redis://:r1ght-pa55@"+host))
}

func TestOAuthStateIsShared(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := open(t, srv, store.Options{})
	b, _ := open(t, srv, store.Options{})
	oa, ob := a.OAuth(), b.OAuth()
	ctx := context.Background()

	require.NoError(t, oa.Put(ctx, "code:abc", []byte("sealed"), time.Minute))
	got, err := ob.Get(ctx, "code:abc")
	require.NoError(t, err)
	assert.Equal(t, []byte("sealed"), got, "put on one replica, read on another")

	// Two replicas exchange one code at once: one gets it.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := oa
			if i%2 == 1 {
				o = ob
			}
			if _, err := o.Take(ctx, "code:abc"); err == nil {
				wins.Add(1)
			} else {
				assert.ErrorIs(t, err, oauth.ErrNotFound)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())

	// A grant's refresh serial: swapped from one value once, across
	// replicas, twenty at once.
	swapped, err := oa.Swap(ctx, "grant:g", []byte("s0"), []byte("s1"), time.Minute)
	require.NoError(t, err)
	assert.True(t, swapped, "nothing there: swapped")
	wins.Store(0)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := oa
			if i%2 == 1 {
				o = ob
			}
			ok, err := o.Swap(ctx, "grant:g", []byte("s1"), []byte(fmt.Sprint("s2-", i)), time.Minute)
			assert.NoError(t, err)
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load(), "one swap from s1")
	got, err = ob.Get(ctx, "grant:g")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(got), "s2-"), string(got))
	_, err = ob.Get(ctx, "revoked:nothing")
	assert.ErrorIs(t, err, oauth.ErrNotFound)

	srv.Stop()
	_, err = oa.Get(ctx, "revoked:g")
	require.Error(t, err)
	assert.NotErrorIs(t, err, oauth.ErrNotFound, "an unreachable store is not an empty one: the token is refused, not served unchecked")
	_, err = oa.Swap(ctx, "grant:g", got, []byte("s3"), time.Minute)
	assert.ErrorIs(t, err, store.ErrStoreDown)
}

func TestASlowStoreIsDownOnlyAfterThreeTimeoutsInARow(t *testing.T) {
	srv := redistest.Start(t)
	proxy := srv.Proxy(t)
	s, logs := open(t, proxy, store.Options{Timeout: 300 * time.Millisecond})
	ctx := context.Background()
	proxy.Stall() // Redis answers nobody until Resume

	b := s.Budget()
	id := skimmer.HashKey("slow-key")
	for i := range 2 {
		_, err := b.Reserve(ctx, id)
		require.NoError(t, err, "a read falls back")
		assert.True(t, s.Up(), "after %d timeout(s) the store is not yet down", i+1)
	}
	_, err := s.Spend(ctx, "n", time.Minute)
	require.ErrorIs(t, err, store.ErrStoreDown, "a write that timed out is refused")
	assert.False(t, s.Up(), "three in a row: down")
	assert.Equal(t, 1, strings.Count(logs.String(), "shared store unreachable"))
	proxy.Resume()
	require.Eventually(t, s.Up, 5*time.Second, 20*time.Millisecond, "back once Redis answers")
}

// setsRun is how many SET commands Redis has run.
func setsRun(t *testing.T, raw *redis.Client) int {
	t.Helper()
	info, err := raw.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_set:calls="); ok {
			n, err := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			require.NoError(t, err)
			return n
		}
	}
	return 0
}

// TestALockWithoutAnAnswerIsFreed: a SET NX that Redis runs after its
// caller gave up (the store's timeout, or the caller's own context ended)
// takes the lock under a token nobody kept. The replica frees it as soon
// as Redis answers again, rather than holding every writer of the record
// out for the whole lease.
func TestALockWithoutAnAnswerIsFreed(t *testing.T) {
	srv := redistest.Start(t)
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	for _, tt := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"the store's timeout", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, store.ErrStoreDown},
		{"the caller's deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proxy := srv.Proxy(t)
			a, _ := open(t, proxy, store.Options{Timeout: 300 * time.Millisecond})
			b, _ := open(t, srv, store.Options{LockWait: 5 * time.Second})
			name := "customer:" + tt.name
			sets := setsRun(t, raw)

			proxy.Stall()
			ctx, cancel := tt.ctx()
			_, err := a.Lock(ctx, name, time.Minute)
			cancel()
			require.ErrorIs(t, err, tt.want)
			proxy.Resume()
			require.Eventually(t, func() bool { return setsRun(t, raw) > sets }, 5*time.Second, 5*time.Millisecond,
				"the SET NX without an answer has run now")

			start := time.Now()
			release, err := b.Lock(context.Background(), name, time.Second)
			require.NoError(t, err, "the lock is free long before its minute's lease")
			release()
			t.Logf("the other replica had the lock %s after Redis answered again", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestASpendWithoutAnAnswerIsUndone: a confirmation whose spend got no
// answer was not applied (the write was refused, "try again in a
// moment"), so the mark its SET NX leaves when Redis runs it late is
// removed: trying again is a first use, not "already used".
func TestASpendWithoutAnAnswerIsUndone(t *testing.T) {
	srv := redistest.Start(t)
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	proxy := srv.Proxy(t)
	a, _ := open(t, proxy, store.Options{Timeout: 300 * time.Millisecond})
	b, _ := open(t, srv, store.Options{})
	ctx := context.Background()
	sets := setsRun(t, raw)

	proxy.Stall()
	_, err := a.Spend(ctx, "nonce-without-answer", 10*time.Minute)
	require.ErrorIs(t, err, store.ErrStoreDown)
	proxy.Resume()
	require.Eventually(t, func() bool { return setsRun(t, raw) > sets }, 5*time.Second, 5*time.Millisecond,
		"the SET NX without an answer has run now")
	require.Eventually(t, func() bool {
		keys, err := raw.Keys(ctx, "skimmer-mcp:spent:*").Result()
		return err == nil && len(keys) == 0
	}, 5*time.Second, 10*time.Millisecond, "its mark is removed")
	first, err := b.Spend(ctx, "nonce-without-answer", 10*time.Minute)
	require.NoError(t, err)
	assert.True(t, first, "trying again is the confirmation's first use")
	first, err = b.Spend(ctx, "nonce-without-answer", 10*time.Minute)
	require.NoError(t, err)
	assert.False(t, first, "and the second is refused as ever")
}

// TestASwapWithoutAnAnswerIsUndone: a refresh whose rotation got no answer
// was refused ("try again in a moment"), and the client presents the same
// refresh token again; the rotation Redis ran late is undone, so that
// second try is not taken for a reuse (which would revoke the grant).
func TestASwapWithoutAnAnswerIsUndone(t *testing.T) {
	srv := redistest.Start(t)
	proxy := srv.Proxy(t)
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	a, _ := open(t, proxy, store.Options{Timeout: 300 * time.Millisecond})
	b, _ := open(t, srv, store.Options{})
	ctx := context.Background()
	require.NoError(t, b.OAuth().Put(ctx, "grant:g", []byte("s1"), time.Hour))
	_, err := a.OAuth().Swap(ctx, "grant:other", nil, []byte("x"), time.Hour) // Redis has the script now, as in use
	require.NoError(t, err)

	proxy.Stall()
	_, err = a.OAuth().Swap(ctx, "grant:g", []byte("s1"), []byte("s2"), time.Hour)
	require.ErrorIs(t, err, store.ErrStoreDown)
	proxy.Resume()
	require.NoError(t, raw.Ping(ctx).Err()) // answered after the late swap ran
	require.Eventually(t, func() bool {
		v, err := b.OAuth().Get(ctx, "grant:g")
		return err == nil && string(v) == "s1"
	}, 5*time.Second, 10*time.Millisecond, "the swap Redis ran late is undone")
	ok, err := b.OAuth().Swap(ctx, "grant:g", []byte("s1"), []byte("s2"), time.Hour)
	require.NoError(t, err)
	assert.True(t, ok, "the same refresh, tried again, rotates")
}
