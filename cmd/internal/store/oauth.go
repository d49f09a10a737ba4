package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/oauth"
)

// OAuth returns the OAuth authorization server's state on the store:
// codes waiting to be exchanged, spent codes, each grant's live refresh
// serial and revocations, so that a code issued by one replica is
// exchanged on another, a refresh token spent on one is refused on all,
// and a revocation holds on all. Values arrive sealed (a waiting code
// holds its Skimmer key encrypted); names are hashed like every other.
// While the store is down every operation fails, and the OAuth server
// refuses for now rather than guesses: no code, no refresh, and a token is
// refused (503, not revoked) when its revocation cannot be checked.
func (s *Redis) OAuth() oauth.Store { return oauthStore{s} }

type oauthStore struct{ s *Redis }

var _ oauth.Store = oauthStore{}

func (o oauthStore) run(ctx context.Context, op string, f func(ctx context.Context) error) error {
	if !o.s.Up() {
		return o.s.unavailable(ctx, op, nil)
	}
	err := o.s.do(ctx, op, f)
	switch {
	case err == nil, errors.Is(err, redis.Nil), callerErr(ctx) != nil:
		return err
	}
	return o.s.unavailable(ctx, op, err)
}

func (o oauthStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return o.run(ctx, "oauth_put", func(ctx context.Context) error {
		return o.s.rdb.Set(ctx, o.s.name("oauth", key), value, max(ttl, time.Millisecond)).Err()
	})
}

// swapScript is Swap: ARGV old, value, ttl ms. Run in reverse (value,
// old) it undoes a swap whose answer was lost.
var swapScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`)

// undoSwapScript puts old back only where the lost swap left value.
var undoSwapScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`)

// Swap is a compare-and-set in one script. A swap without an answer (the
// store's timeout, or the caller gave up) may still run late; the caller
// was refused ("try again in a moment") and will present the old value
// again, so the swap is undone once Redis answers (see undo). Otherwise a
// Redis stall would turn a refresh into "reused" and revoke the grant.
func (o oauthStore) Swap(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error) {
	name, ms := o.s.name("oauth", key), max(ttl, time.Millisecond).Milliseconds()
	var swapped int64
	sent, attempted := time.Now(), false
	err := o.run(ctx, "oauth_swap", func(ctx context.Context) error {
		attempted = true
		var err error
		swapped, err = swapScript.Run(ctx, o.s.rdb, []string{name}, old, value, ms).Int64()
		return err
	})
	if attempted && (err != nil || callerErr(ctx) != nil) {
		o.s.retract("oauth_swap", sent.Add(ttl), func(ctx context.Context) (int64, error) {
			return undoSwapScript.Run(ctx, o.s.rdb, []string{name}, value, old, ms).Int64()
		})
	}
	if err != nil {
		return false, err
	}
	if cerr := callerErr(ctx); cerr != nil {
		return false, cerr
	}
	return swapped == 1, nil
}

func (o oauthStore) Get(ctx context.Context, key string) ([]byte, error) {
	return o.value(ctx, "oauth_get", func(ctx context.Context) *redis.StringCmd { return o.s.rdb.Get(ctx, o.s.name("oauth", key)) })
}

// Take is GETDEL: of two replicas exchanging one code at once, one gets it.
func (o oauthStore) Take(ctx context.Context, key string) ([]byte, error) {
	return o.value(ctx, "oauth_take", func(ctx context.Context) *redis.StringCmd { return o.s.rdb.GetDel(ctx, o.s.name("oauth", key)) })
}

func (o oauthStore) value(ctx context.Context, op string, cmd func(ctx context.Context) *redis.StringCmd) ([]byte, error) {
	var out []byte
	err := o.run(ctx, op, func(ctx context.Context) error {
		var err error
		out, err = cmd(ctx).Bytes()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%s: %w", op, oauth.ErrNotFound)
	}
	return out, err
}
