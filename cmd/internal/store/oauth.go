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
// codes waiting to be exchanged, spent codes and refresh tokens, and
// revocations, so that a code issued by one replica is exchanged on
// another, and a revocation holds on all. Values arrive sealed (a waiting
// code holds its Skimmer key encrypted); names are hashed like every
// other. While the store is down every operation fails, and the OAuth
// server refuses rather than guesses: no code, no refresh, and a token is
// refused when its revocation cannot be checked.
func (s *Redis) OAuth() oauth.Store { return oauthStore{s} }

type oauthStore struct{ s *Redis }

var _ oauth.Store = oauthStore{}

func (o oauthStore) run(ctx context.Context, op string, f func(ctx context.Context) error) error {
	if !o.s.Up() {
		return o.s.unavailable(ctx, op, nil)
	}
	err := o.s.do(ctx, op, f)
	switch {
	case err == nil, errors.Is(err, redis.Nil), ctx.Err() != nil:
		return err
	}
	return o.s.unavailable(ctx, op, err)
}

func (o oauthStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return o.run(ctx, "oauth_put", func(ctx context.Context) error {
		return o.s.rdb.Set(ctx, o.s.name("oauth", key), value, max(ttl, time.Millisecond)).Err()
	})
}

func (o oauthStore) PutNew(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	var first bool
	err := o.run(ctx, "oauth_put_new", func(ctx context.Context) error {
		var err error
		first, err = o.s.rdb.SetNX(ctx, o.s.name("oauth", key), value, max(ttl, time.Millisecond)).Result()
		return err
	})
	return first, err
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
