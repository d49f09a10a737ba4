package tools

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Store holds what the replicas of one endpoint must share for writes to
// stay exact: locks on records for a read-merge-write, and the
// confirmations already spent. NewMemoryStore, the default, shares them
// within one process only; a store reachable from every replica (Redis)
// makes them hold across replicas.
//
// Names and ids are opaque to the store, and never hold a Skimmer key: a
// lock is named by the record's kind and id, a confirmation by its nonce.
//
// An implementation on Redis:
//   - Lock: SET name token NX PX lease, token random per call; while another
//     holder has it, retry with a short backoff until the store's own bound
//     or ctx ends, then ErrBusy. release runs
//     `if redis.call("GET", name) == token then return redis.call("DEL", name) end`,
//     so a lease that expired and went to someone else is not freed by its
//     former holder.
//   - Spend: SET id 1 NX PX ttl; "OK" means first, nil means already spent.
//
// Any other error (the store is unreachable) makes the write fail closed:
// nothing is sent to Skimmer.
type Store interface {
	// Lock takes a lease on name for at most lease. It waits, bounded, while
	// another holder has it, then fails with ErrBusy. release frees it only
	// if this holder still has it; it may be called more than once.
	Lock(ctx context.Context, name string, lease time.Duration) (release func(), err error)
	// Spend marks id used for ttl, and reports whether this was the first
	// time: false means it was already spent.
	Spend(ctx context.Context, id string, ttl time.Duration) (first bool, err error)
}

// ErrBusy is a lock another holder kept past the store's wait.
var ErrBusy = errors.New("another holder has the lock")

// DefaultLockWait is how long a Store's Lock waits for another holder,
// unless told otherwise: the same for this process's store and a shared
// one.
const DefaultLockWait = 20 * time.Second

// lockLease bounds how long one write holds its record: its re-read and its
// PUT, each bounded by the client's timeout and retries. A holder that dies
// (a replica killed mid-write) frees the record when the lease runs out.
const lockLease = 2 * time.Minute

// MemoryStore is the Store of one process: enough for one server, and for
// replicas that each see only their own writes. Its zero value is ready.
type MemoryStore struct {
	// Wait is how long Lock waits for another holder; DefaultLockWait
	// when 0.
	Wait time.Duration

	mu        sync.Mutex
	locks     map[string]*memoryLease
	spent     map[string]time.Time // id → when it may be forgotten
	nextPrune time.Time
}

type memoryLease struct {
	expires time.Time
	freed   chan struct{} // closed when released or taken over after expiry
}

// NewMemoryStore returns an empty store for this process.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Lock implements Store.
func (m *MemoryStore) Lock(ctx context.Context, name string, lease time.Duration) (func(), error) {
	wait := m.Wait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	giveUp := time.NewTimer(wait)
	defer giveUp.Stop()
	for {
		m.mu.Lock()
		if m.locks == nil {
			m.locks = map[string]*memoryLease{}
		}
		now := time.Now()
		held := m.locks[name]
		if held == nil || now.After(held.expires) {
			if held != nil {
				close(held.freed) // expired: its holder's release must not free ours
			}
			mine := &memoryLease{expires: now.Add(lease), freed: make(chan struct{})}
			m.locks[name] = mine
			m.mu.Unlock()
			return func() {
				m.mu.Lock()
				defer m.mu.Unlock()
				if m.locks[name] == mine {
					delete(m.locks, name)
					close(mine.freed)
				}
			}, nil
		}
		freed, expires := held.freed, held.expires
		m.mu.Unlock()
		expiry := time.NewTimer(time.Until(expires))
		select {
		case <-freed:
		case <-expiry.C:
		case <-giveUp.C:
			expiry.Stop()
			return nil, ErrBusy
		case <-ctx.Done():
			expiry.Stop()
			return nil, ctx.Err()
		}
		expiry.Stop()
	}
}

// Spend implements Store.
func (m *MemoryStore) Spend(_ context.Context, id string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.spent == nil {
		m.spent = map[string]time.Time{}
	}
	now := time.Now()
	if now.After(m.nextPrune) {
		for k, until := range m.spent {
			if now.After(until) {
				delete(m.spent, k)
			}
		}
		m.nextPrune = now.Add(time.Minute)
	}
	if until, ok := m.spent[id]; ok && !now.After(until) {
		return false, nil
	}
	m.spent[id] = now.Add(ttl)
	return true, nil
}
