package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// Budget is the rate budget every replica shares: skimmer's sliding log
// per key (see skimmer.BudgetSpan), kept in Redis and timed by Redis's
// clock, so that the replicas' clocks need not agree. While the store is
// down, each replica budgets alone with skimmer's in-memory Budget, which
// has heard every answer's RateLimit-* headers all along: a read may then
// meet a 429 (and waits out its Retry-After), never a wrong answer.
func (s *Redis) Budget() skimmer.Budget {
	return &budget{s: s, local: skimmer.NewMemoryBudget(nil), observing: make(chan struct{}, 64), told: map[skimmer.KeyHash]time.Time{}}
}

type budget struct {
	s     *Redis
	local skimmer.Budget
	mu    sync.Mutex
	told  map[skimmer.KeyHash]time.Time // when this replica last wrote a key's limit
	swept time.Time
	// limit is the last limit any key was told, for keys whose own is not
	// in the store yet (Skimmer's is the same for every key).
	limit     atomic.Int64
	observing chan struct{} // bounds the observations in flight
}

// reserveScript takes one place in a key's log, or says how long until
// one frees: the later of a used-up window's reset and the oldest counted
// request leaving the span. Requests are logged before a limit is known
// too (up to ARGV[4]), so that the first ones count once it is. KEYS: the
// log (a sorted set of send times, in ms), the meta (limit, blocked).
// ARGV: span ms, a unique member, the default limit, the cap without one
// (skimmer.UnknownLimitLog).
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local span = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local wait = tonumber(redis.call('HGET', KEYS[2], 'blocked') or '0') - now
local limit = tonumber(redis.call('HGET', KEYS[2], 'limit') or ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
if limit > 0 and n >= limit then
  local first = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  wait = math.max(wait, tonumber(first[2]) + span - now)
end
if wait > 0 then return wait end
if limit <= 0 and n >= tonumber(ARGV[4]) then redis.call('ZPOPMIN', KEYS[1]) end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], span)
return 0
`)

// observeScript records what an answer's headers said: the key's limit,
// requests Skimmer counted that the log lacks (made before the limit was
// known, or by another program with the key), and a used-up window. ARGV:
// limit, remaining, reset ms, span ms, window ms, a unique member prefix.
var observeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, remaining, reset = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local span, window = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('HSET', KEYS[2], 'limit', limit)
local opened = now + math.min(reset - window, 0)
local extra = math.min(limit - remaining, limit) - redis.call('ZCOUNT', KEYS[1], opened - 1000, '+inf')
if extra > 0 and redis.call('ZCARD', KEYS[1]) + extra <= 2 * limit then
  for i = 1, extra do redis.call('ZADD', KEYS[1], opened, ARGV[6] .. ':' .. i) end
  redis.call('PEXPIRE', KEYS[1], span)
end
local ttl = span
if remaining <= 0 then
  redis.call('HSET', KEYS[2], 'blocked', now + reset)
  ttl = math.max(span, reset)
end
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 0
`)

func (b *budget) keys(key skimmer.KeyHash) []string {
	log := b.s.name("budget", key.String())
	return []string{log, log + ":meta"}
}

func (b *budget) Reserve(ctx context.Context, key skimmer.KeyHash) (time.Duration, error) {
	if !b.s.Up() {
		b.s.fellBack(ctx, "reserve")
		return b.local.Reserve(ctx, key)
	}
	var ms int64
	err := b.s.do(ctx, "reserve", func(ctx context.Context) error {
		var err error
		ms, err = reserveScript.Run(ctx, b.s.rdb, b.keys(key), skimmer.BudgetSpan.Milliseconds(), nonce(), b.limit.Load(), skimmer.UnknownLimitLog).Int64()
		return err
	})
	switch {
	case callerErr(ctx) != nil:
		return 0, callerErr(ctx)
	case err != nil:
		b.s.fellBack(ctx, "reserve")
		return b.local.Reserve(ctx, key)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Observe tells the local budget at once, and the store in the background
// once the window is half spent: the caller already has its answer and
// need not wait for Redis. When too many observations are in flight, one
// that does not say the window is used up is dropped.
func (b *budget) Observe(ctx context.Context, key skimmer.KeyHash, rl skimmer.RateLimit) {
	b.local.Observe(ctx, key, rl)
	if !rl.Known || rl.Limit <= 0 || !b.s.Up() {
		return
	}
	b.limit.Store(int64(rl.Limit))
	if rl.Remaining >= rl.Limit/2 && !b.stale(key) {
		// Half the window is left and the store has the key's limit: the
		// log, which counts every request the replicas made, is what holds
		// them; nothing here needs writing.
		return
	}
	write := func() {
		_ = b.s.do(context.WithoutCancel(ctx), "observe", func(ctx context.Context) error {
			return observeScript.Run(ctx, b.s.rdb, b.keys(key), rl.Limit, rl.Remaining, rl.Reset.Milliseconds(),
				skimmer.BudgetSpan.Milliseconds(), skimmer.RateWindow.Milliseconds(), nonce()).Err()
		})
	}
	select {
	case b.observing <- struct{}{}:
		go func() {
			defer func() { <-b.observing }()
			write()
		}()
	default:
		if rl.Remaining <= 0 {
			write() // a used-up window must reach the others
		}
	}
}

// stale reports whether the store may lack key's limit, which it keeps for
// a span after it was last written, and if so counts it as written now.
func (b *budget) stale(key skimmer.KeyHash) bool {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) > skimmer.BudgetSpan {
		for k, at := range b.told {
			if now.Sub(at) > skimmer.BudgetSpan/2 {
				delete(b.told, k)
			}
		}
		b.swept = now
	}
	if at, ok := b.told[key]; ok && now.Sub(at) < skimmer.BudgetSpan/2 {
		return false
	}
	b.told[key] = now
	return true
}

// nonce is a unique member for a log entry.
func nonce() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
