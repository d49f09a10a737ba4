package skimmer

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Budget paces the requests made with each API key, so that everything
// sharing the key's rate-limit window stays inside it: one process with the
// default, every replica of a hosted server with a shared implementation
// (a Redis one lives in cmd/internal/store). Skimmer allows each key a fixed
// number of requests a minute and answers 429 past it; a request held here
// costs a caller a short wait, where a 429 costs a request and a retry.
type Budget interface {
	// Reserve takes one request from key's budget. It returns 0 when the
	// request may be sent now, or how long until one may be; a caller that
	// waits calls Reserve again, since others may take the place first.
	Reserve(ctx context.Context, key KeyHash) (time.Duration, error)
	// Observe records what an answer's RateLimit-* headers said of key's
	// window: its limit, and whether it is used up until it resets.
	Observe(ctx context.Context, key KeyHash, rl RateLimit)
}

// RateWindow is Skimmer's rate-limit window: a fixed minute per key,
// opened by the key's first request.
const RateWindow = time.Minute

// BudgetSpan is how long a request counts against its key's budget. A
// budget that allows a key's limit in any BudgetSpan allows it in any
// window Skimmer may have opened, wherever that window starts: a budget
// cannot know when Skimmer's window began, so it keeps a sliding one. The
// extra second covers requests that reach Skimmer a little after they
// were counted here.
const BudgetSpan = RateWindow + time.Second

// UnknownLimitLog bounds a key's log while no limit has been announced:
// twice Skimmer's 500. A shared Budget (cmd/internal/store) keeps the same
// bound.
const UnknownLimitLog = 1000

// memoryBudget is the default Budget: a sliding log per key of when its
// requests went out, in this process. The limit is learned from the
// RateLimit-Limit header, so an upstream that announces none is never
// held. Memory is bounded per key (twice the limit, or UnknownLimitLog),
// and a key's log goes away once it has been idle for a span.
type memoryBudget struct {
	now   func() time.Time
	mu    sync.Mutex
	keys  map[KeyHash]*keyBudget
	limit int // the last limit any key was told, for keys not yet told their own
	swept time.Time
}

type keyBudget struct {
	limit   int
	sent    []time.Time // oldest first
	blocked time.Time   // Skimmer said the window is used up until then
	seen    time.Time
}

// NewMemoryBudget returns the in-process Budget, on the given clock
// (time.Now when nil).
func NewMemoryBudget(now func() time.Time) Budget {
	if now == nil {
		now = time.Now
	}
	return &memoryBudget{now: now, keys: map[KeyHash]*keyBudget{}}
}

func (b *memoryBudget) Reserve(_ context.Context, key KeyHash) (time.Duration, error) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(now)
	k := b.keys[key]
	if k == nil {
		k = &keyBudget{}
		b.keys[key] = k
	}
	k.seen = now
	drop := 0
	for drop < len(k.sent) && now.Sub(k.sent[drop]) >= BudgetSpan {
		drop++
	}
	k.sent = k.sent[drop:]
	limit := k.limit
	if limit == 0 {
		limit = b.limit
	}
	wait := k.blocked.Sub(now)
	if limit > 0 && len(k.sent) >= limit {
		wait = max(wait, k.sent[len(k.sent)-limit].Add(BudgetSpan).Sub(now))
	}
	if wait > 0 {
		return wait, nil
	}
	// Requests are logged even before a limit is known, so that those made
	// while the first answers are on their way count once it is.
	if limit <= 0 && len(k.sent) >= UnknownLimitLog {
		k.sent = k.sent[1:]
	}
	k.sent = append(k.sent, now)
	return 0, nil
}

func (b *memoryBudget) Observe(_ context.Context, key KeyHash, rl RateLimit) {
	if !rl.Known || rl.Limit <= 0 {
		return
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.limit = rl.Limit
	k := b.keys[key]
	if k == nil {
		k = &keyBudget{seen: now}
		b.keys[key] = k
	}
	k.limit = rl.Limit
	// Skimmer counted more in its window than this log holds since the
	// window opened (requests made before the limit was known, or by another
	// program with the key): count the rest too, as made when the window
	// opened, so that they leave the log when it resets. Reset is in whole
	// seconds, rounded up: the window opened up to a second before it says.
	opened := now.Add(min(rl.Reset-RateWindow, 0))
	i, _ := slices.BinarySearchFunc(k.sent, opened.Add(-time.Second), time.Time.Compare)
	if extra := min(rl.Limit-rl.Remaining, rl.Limit) - (len(k.sent) - i); extra > 0 && len(k.sent)+extra <= 2*rl.Limit {
		at, _ := slices.BinarySearchFunc(k.sent, opened, time.Time.Compare)
		k.sent = slices.Insert(k.sent, at, slices.Repeat([]time.Time{opened}, extra)...)
	}
	if rl.Remaining <= 0 {
		// The answer has just come: its reset counts from now, on this
		// budget's clock.
		k.blocked = now.Add(rl.Reset)
	}
}

// sweep forgets keys idle for longer than a span, at most once a span.
func (b *memoryBudget) sweep(now time.Time) {
	if now.Sub(b.swept) < BudgetSpan {
		return
	}
	b.swept = now
	for id, k := range b.keys {
		if now.Sub(k.seen) >= BudgetSpan && !k.blocked.After(now) {
			delete(b.keys, id)
		}
	}
}
