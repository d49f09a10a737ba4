package oauth

import (
	"context"
	"testing"
	"time"
)

// BenchmarkVerify is the cost an access token adds to every request to the
// MCP endpoint: open the sealed token (AES-256-GCM), check its audience and
// expiry, and look its grant up among the revocations (here the in-process
// store).
//
//	go test ./cmd/internal/oauth -run '^$' -bench Verify -benchmem
func BenchmarkVerify(b *testing.B) {
	store, err := NewMemoryStore("", nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Issuer: "https://mcp.example.com", Key: testKey, Store: store, CheckKey: func(context.Context, string) error { return nil }})
	if err != nil {
		b.Fatal(err)
	}
	g := grant{ID: randomID(12), Client: clientTag("smcp_c_x"), Key: "sk_live_a_typical_skimmer_key_0123456789", Write: true,
		Resource: s.resource, Ends: time.Now().Add(grantTTL).Unix()}
	tok := s.issue(g).AccessToken
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(tok)), "token-bytes")
}
