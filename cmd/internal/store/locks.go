package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

var _ tools.Store = (*Redis)(nil)

// releaseScript deletes a lock only for the holder whose token it holds:
// a holder whose lease ran out must not free its successor's lock.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Lock takes the lock called name for a read-merge-write, for at most the
// lease (so that a replica that dies holding it frees it), waiting up to
// Options.LockWait for another holder. It fails with ErrBusy after the
// wait, and with ErrUnavailable when the store cannot be reached: a write
// must not go ahead unguarded. The release frees the lock only while it is
// still this holder's, and may be called more than once.
func (s *Redis) Lock(ctx context.Context, name string, lease time.Duration) (func(), error) {
	lease = max(lease, time.Millisecond)
	key, token := s.name("lock", name), nonce()
	deadline := time.Now().Add(s.wait)
	pause := 2 * time.Millisecond
	for {
		if !s.Up() {
			return nil, s.unavailable(ctx, "lock", nil)
		}
		var got bool
		err := s.do(ctx, "lock", func(ctx context.Context) error {
			var err error
			got, err = s.rdb.SetNX(ctx, key, token, lease).Result()
			return err
		})
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			return nil, s.unavailable(ctx, "lock", err)
		case got:
			return s.hold(key, token), nil
		}
		wait := pause/2 + rand.N(pause/2+1)
		if time.Now().Add(wait).After(deadline) {
			s.m.busy(ctx)
			return nil, fmt.Errorf("lock: %w", ErrBusy)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		pause = min(pause*2, 100*time.Millisecond)
	}
}

// hold returns the release of a taken lock.
func (s *Redis) hold(key, token string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			// Past an outage the lease frees the lock by itself.
			_ = s.do(context.Background(), "unlock", func(ctx context.Context) error {
				return releaseScript.Run(ctx, s.rdb, []string{key}, token).Err()
			})
		})
	}
}

// Spend marks the confirmation id used, for ttl (its remaining lifetime),
// and reports whether this was its first use. It fails with ErrUnavailable
// when the store cannot be reached: a confirmation whose use cannot be
// recorded must not apply.
func (s *Redis) Spend(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	if !s.Up() {
		return false, s.unavailable(ctx, "spend", nil)
	}
	ttl = max(ttl, time.Millisecond)
	var first bool
	err := s.do(ctx, "spend", func(ctx context.Context) error {
		var err error
		first, err = s.rdb.SetNX(ctx, s.name("spent", id), "1", ttl).Result()
		return err
	})
	switch {
	case ctx.Err() != nil:
		return false, ctx.Err()
	case err != nil:
		return false, s.unavailable(ctx, "spend", err)
	}
	return first, nil
}
