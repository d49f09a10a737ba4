package skimmer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// BenchmarkFailingRequest is a read that fails every attempt, as in a 503
// storm: five attempts, each answered 503 with a ProblemDetails body, the
// retry waits skipped. "one client" is stdio's client, made once; "a copy
// per call" is a hosted server's, which makes one per call with the
// caller's key (WithAPIKey).
//
//	go test ./skimmer -run '^$' -bench FailingRequest -benchmem -count 6
func BenchmarkFailingRequest(b *testing.B) {
	const key = "sk_live_0123456789abcdefghijklmnopqrstuv" // 40 characters
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"title":"Service Unavailable","detail":"The service is busy; try again later.","traceId":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`))
	}))
	defer srv.Close()
	c, err := skimmer.New(skimmer.Options{BaseURL: srv.URL, APIKey: key, Retry: skimmer.RetryPolicy{
		MaxAttempts: 5, Sleep: func(context.Context, time.Duration) error { return nil }}})
	require.NoError(b, err)
	id := "0123456789abcdef0123456789abcdef"
	for _, bc := range []struct {
		name   string
		client func() *skimmer.Client
	}{
		{"one client", func() *skimmer.Client { return c }},
		{"a copy per call", func() *skimmer.Client { return c.WithAPIKey(key) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, err := bc.client().GetCustomer(context.Background(), id, false)
				if !errors.Is(err, skimmer.ErrUnavailable) {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFailuresDoNotRebuildTheScrubber: what keeps the key out of error
// texts is made once per client key, not on every failed attempt (nor for
// a debug line nobody logs): a storm of 503s costs the requests, not a
// scrubber each. Building one costs some 2,000 allocations (key of 40), so a
// failing call of five attempts must stay under that. A copy with another
// key scrubs its own key.
func TestFailuresDoNotRebuildTheScrubber(t *testing.T) {
	const key, other = "sk_live_0123456789abcdefghijklmnopqrstuv", "sk_live_vutsrqponmlkjihgfedcba9876543210"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"title":"Service Unavailable","detail":"busy serving key ` + r.Header.Get("skimmer-api-key") + `"}`))
	}))
	defer srv.Close()
	c, err := skimmer.New(skimmer.Options{BaseURL: srv.URL, APIKey: key, Retry: skimmer.RetryPolicy{
		MaxAttempts: 5, Sleep: func(context.Context, time.Duration) error { return nil }}})
	require.NoError(t, err)
	fail := func(c *skimmer.Client) error {
		_, err := c.GetCustomer(context.Background(), "0123456789abcdef0123456789abcdef", false)
		require.ErrorIs(t, err, skimmer.ErrUnavailable)
		return err
	}
	allocs := testing.AllocsPerRun(10, func() { _ = fail(c) })
	assert.Less(t, allocs, 2000.0, "a failing call of five attempts, its client's scrubber made")

	err = fail(c)
	assert.NotContains(t, err.Error(), key)
	assert.Contains(t, err.Error(), "busy serving key [redacted]")
	err = fail(c.WithAPIKey(other))
	assert.NotContains(t, err.Error(), other, "a copy made after the first scrubber has its own")
	assert.Contains(t, err.Error(), "busy serving key [redacted]")
}
