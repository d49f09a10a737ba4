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
// a holder whose lease ran out must not free its successor's lock. It
// removes a spent confirmation's mark the same way (see undo).
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Lock takes the lock called name for a read-merge-write, for at most the
// lease (so that a replica that dies holding it frees it), waiting up to
// Options.LockWait for another holder. It fails with ErrBusy after the
// wait, and with ErrStoreDown when the store cannot be reached: a write
// must not go ahead unguarded. The release frees the lock only while it is
// still this holder's, and may be called more than once.
//
// A SET NX that got no answer (it timed out, or the caller's context
// ended while it was out) may still have taken the lock: a stalled Redis
// runs it once it resumes. Lock then fails, and frees the lock in the
// background with the token it was sent (see undo), so that nobody is
// held out for the lease by a lock that nobody holds.
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
		sent := time.Now()
		err := s.do(ctx, "lock", func(ctx context.Context) error {
			var err error
			got, err = s.rdb.SetNX(ctx, key, token, lease).Result()
			return err
		})
		switch {
		case err != nil || callerErr(ctx) != nil:
			s.undo("lock", key, token, sent.Add(lease))
			if cerr := callerErr(ctx); cerr != nil {
				return nil, cerr
			}
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

// undo removes, in the background, what a SET NX without an answer may
// have set under token (a lock, a spent confirmation), trying until Redis
// answers, the entry would have expired anyway (by expires), or the store
// is closed. Its caller was told the operation failed, and went no
// further: the entry stands for nothing.
//
// One answered delete is not enough: Redis runs the commands of every
// client that became readable in one pass of its event loop, in no set
// order, and sends their answers after the pass. A delete sent while
// Redis stalled can run in the same pass as the lost SET NX, and before
// it. Its answer proves only that the SET NX has run by now (or was
// dropped with its connection); so a second delete, sent after that
// answer, runs after it, and removes the entry if it was set.
func (s *Redis) undo(op, key, token string, expires time.Time) {
	s.retract(op, expires, func(ctx context.Context) (int64, error) {
		return releaseScript.Run(ctx, s.rdb, []string{key}, token).Int64()
	})
}

// retract runs run, an operation that reverses one whose answer was lost
// and reports 1 when it changed something, as undo describes: in the
// background, until it changed something or two runs were answered, or
// until expires, or the store is closed.
func (s *Redis) retract(op string, expires time.Time, run func(ctx context.Context) (int64, error)) {
	s.releasing.Add(1)
	go func() {
		defer s.releasing.Done()
		answered := 0
		for answered < 2 && time.Now().Before(expires) {
			if !s.Up() { // the probe says when to try again
				select {
				case <-s.closed:
					return
				case <-time.After(s.probe):
				}
				continue
			}
			var freed int64
			err := s.do(context.Background(), "undo_"+op, func(ctx context.Context) error {
				var err error
				freed, err = run(ctx)
				return err
			})
			switch {
			case err == nil && freed == 1:
				s.log.Debug("shared store: an entry set by a command without an answer was removed", "op", op)
				return
			case err == nil:
				answered++
				continue
			}
			select {
			case <-s.closed:
				return
			case <-time.After(s.probe):
			}
		}
	}()
}

// Spend marks the confirmation id used, for ttl (its remaining lifetime),
// and reports whether this was its first use. It fails with ErrStoreDown
// when the store cannot be reached: a confirmation whose use cannot be
// recorded must not apply. A mark that a SET NX without an answer may
// still make is removed again (see undo): the write it guarded was not
// made, and the person who is told to try again must be able to.
func (s *Redis) Spend(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	if !s.Up() {
		return false, s.unavailable(ctx, "spend", nil)
	}
	ttl = max(ttl, time.Millisecond)
	key, token := s.name("spent", id), nonce()
	var first bool
	sent := time.Now()
	err := s.do(ctx, "spend", func(ctx context.Context) error {
		var err error
		first, err = s.rdb.SetNX(ctx, key, token, ttl).Result()
		return err
	})
	if err != nil || callerErr(ctx) != nil {
		s.undo("spend", key, token, sent.Add(ttl))
		if cerr := callerErr(ctx); cerr != nil {
			return false, cerr
		}
		return false, s.unavailable(ctx, "spend", err)
	}
	return first, nil
}
