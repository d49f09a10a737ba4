package skimmer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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
