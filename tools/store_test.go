package tools

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryStoreLock(t *testing.T) {
	ctx := context.Background()
	m := &MemoryStore{Wait: 50 * time.Millisecond}

	release, err := m.Lock(ctx, "customer/a", time.Minute)
	require.NoError(t, err)
	_, err = m.Lock(ctx, "customer/a", time.Minute)
	assert.ErrorIs(t, err, ErrBusy, "a held name waits, bounded, then is busy")
	other, err := m.Lock(ctx, "customer/b", time.Minute)
	require.NoError(t, err, "names are independent")
	other()

	release()
	release() // twice is harmless
	again, err := m.Lock(ctx, "customer/a", time.Minute)
	require.NoError(t, err, "free again once released")

	// A lease that runs out goes to the next holder; its former holder's
	// release does not free the new one's.
	again()
	short, err := m.Lock(ctx, "customer/c", 10*time.Millisecond)
	require.NoError(t, err)
	next, err := m.Lock(ctx, "customer/c", time.Minute)
	require.NoError(t, err, "taken once the first lease expired")
	short()
	_, err = m.Lock(ctx, "customer/c", time.Minute)
	assert.ErrorIs(t, err, ErrBusy, "the expired holder's release left the new lease alone")
	next()

	patient := &MemoryStore{Wait: time.Minute}
	hold, err := patient.Lock(ctx, "customer/d", time.Minute)
	require.NoError(t, err)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = patient.Lock(cancelled, "customer/d", time.Minute)
	assert.ErrorIs(t, err, context.Canceled, "a caller that gives up stops waiting")
	hold()
}

func TestMemoryStoreLockQueuesWriters(t *testing.T) {
	m := NewMemoryStore()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := m.Lock(context.Background(), "r", time.Minute)
			if !assert.NoError(t, err) {
				return
			}
			n := inside.Add(1)
			if n > most.Load() {
				most.Store(n)
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			release()
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), most.Load(), "one holder at a time")
}

func TestMemoryStoreSpend(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryStore()
	first, err := m.Spend(ctx, "n1", time.Minute)
	require.NoError(t, err)
	assert.True(t, first)
	first, _ = m.Spend(ctx, "n1", time.Minute)
	assert.False(t, first, "spent once")
	first, _ = m.Spend(ctx, "n2", time.Millisecond)
	assert.True(t, first)
	time.Sleep(5 * time.Millisecond)
	first, _ = m.Spend(ctx, "n2", time.Minute)
	assert.True(t, first, "forgotten after its ttl")

	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := m.Spend(ctx, "race", time.Minute); ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load(), "exactly one of many concurrent spends is first")
}
