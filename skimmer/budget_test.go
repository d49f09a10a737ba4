package skimmer_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// clock is a fake time that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestMemoryBudget(t *testing.T) {
	ctx := context.Background()
	a, b := skimmer.HashKey("key-a"), skimmer.HashKey("key-b")
	type step struct {
		after   time.Duration // clock advance before the step
		key     skimmer.KeyHash
		observe *skimmer.RateLimit
		want    time.Duration // Reserve's answer; -1 for "any positive wait"
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"no limit announced: never held", []step{{key: a}, {key: a}, {key: a}}},
		{"a limit of 2: the third waits until the first leaves the span", []step{
			{key: a, observe: &skimmer.RateLimit{Known: true, Limit: 2, Remaining: 2, Reset: 60 * time.Second}},
			{after: 10 * time.Second, key: a},
			{after: 5 * time.Second, key: a, want: skimmer.BudgetSpan - 15*time.Second},
			{key: b, want: 0}, // another key has its own budget, with the limit learned
			{key: b},
			{key: b, want: skimmer.BudgetSpan},
			{after: skimmer.BudgetSpan - 15*time.Second, key: a},
			{key: a, want: 10 * time.Second},
		}},
		{"requests made before the limit was known count once it is", []step{
			{key: a}, {key: a}, {key: a},
			// the answers to those three arrive: Skimmer counted them all
			{key: a, observe: &skimmer.RateLimit{Known: true, Limit: 4, Remaining: 1, Reset: time.Minute}}, // the last place
			{key: a, want: skimmer.BudgetSpan},
		}},
		{"Skimmer counted more than the log holds: the log catches up", []step{
			{key: a, observe: &skimmer.RateLimit{Known: true, Limit: 3, Remaining: 1, Reset: 50 * time.Second}},
			{key: a, want: skimmer.BudgetSpan - 10*time.Second}, // the two Skimmer counted were made when its window opened
		}},
		{"a used-up window holds until Skimmer's reset, and the span's extra second", []step{
			{key: a, observe: &skimmer.RateLimit{Known: true, Limit: 100, Remaining: 0, Reset: 30 * time.Second}, want: 31 * time.Second},
			{after: 31 * time.Second, key: a},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
			budget := skimmer.NewMemoryBudget(c.now)
			for i, s := range tt.steps {
				c.advance(s.after)
				if s.observe != nil {
					rl := *s.observe
					rl.At = c.now()
					budget.Observe(ctx, s.key, rl)
				}
				wait, err := budget.Reserve(ctx, s.key)
				require.NoError(t, err)
				assert.Equal(t, s.want, wait, "step %d", i)
			}
		})
	}
}

// Two clients with one key and one budget, as two replicas on a shared
// store are, never make Skimmer answer 429: the budget holds the calls that
// would, and a wait longer than a caller is held is told instead.
func TestBudgetSharedByClients(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	sb, err := sandbox.New(sandbox.Options{Seed: 3, Customers: 5, RateLimit: 5, Clock: c.now})
	require.NoError(t, err)
	srv := httpServer(t, sb)
	budget := skimmer.NewMemoryBudget(c.now)
	var mu sync.Mutex
	var slept []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		c.advance(d)
		return nil
	}
	var clients []*skimmer.Client
	for range 2 {
		cl, err := skimmer.New(skimmer.Options{BaseURL: srv, APIKey: testKey, Budget: budget, Retry: skimmer.RetryPolicy{Sleep: sleep, MaxRetryAfter: 90 * time.Second}})
		require.NoError(t, err)
		clients = append(clients, cl)
	}
	ctx := context.Background()
	for i := range 15 {
		trace := &skimmer.Trace{}
		_, err := clients[i%2].AllCustomers(skimmer.WithTrace(ctx, trace), false)
		require.NoError(t, err, "call %d", i)
		if i%5 == 0 && i > 0 {
			// Skimmer's window resets a minute after it opened; the budget's
			// span is a second longer.
			assert.Equal(t, []skimmer.Hold{{Op: skimmer.OpListCustomers, Duration: skimmer.BudgetSpan}}, trace.Holds(), "call %d waited for the next window", i)
		} else {
			assert.Empty(t, trace.Holds(), "call %d", i)
		}
	}
	for _, r := range sb.Requests() {
		assert.NotEqual(t, http.StatusTooManyRequests, r.Status)
	}
	assert.Equal(t, 15, sb.Count(skimmer.OpListCustomers))
	assert.Equal(t, []time.Duration{skimmer.BudgetSpan, skimmer.BudgetSpan}, slept, "one hold a window, as long as it needs")

	// A caller is held only as long as the policy allows (20s by default);
	// past that it is told how long to wait, and nothing is sent.
	short, err := skimmer.New(skimmer.Options{BaseURL: srv, APIKey: testKey, Budget: budget, Retry: skimmer.RetryPolicy{Sleep: sleep}})
	require.NoError(t, err)
	_, err = short.AllCustomers(ctx, false)
	require.ErrorIs(t, err, skimmer.ErrRateLimited)
	assert.Contains(t, err.Error(), "not sent")
	assert.Contains(t, err.Error(), "retry after 1m1s")
	assert.Equal(t, 15, sb.Count(skimmer.OpListCustomers))
}

func httpServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
