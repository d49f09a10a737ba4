package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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
	tok := s.issue(g, randomID(16)).AccessToken
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(tok)), "token-bytes")
}

// BenchmarkRefresh is one refresh of one grant at /token, over and over,
// with the state kept in a file (--oauth-state): each iteration spends the
// refresh token the previous one got. Its cost must not grow with the
// number of refreshes before it; run it at a fixed count to compare:
//
//	go test ./cmd/internal/oauth -run '^$' -bench Refresh -benchtime 5000x -benchmem
func BenchmarkRefresh(b *testing.B) {
	store, err := NewMemoryStore(filepath.Join(b.TempDir(), "oauth-state.json"), nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Issuer: "https://mcp.example.com", Key: testKey, Store: store, CheckKey: func(context.Context, string) error { return nil }})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Routes(mux)
	reg := httptest.NewRecorder()
	mux.ServeHTTP(reg, httptest.NewRequest("POST", "/register", strings.NewReader(`{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"none"}`)))
	var client struct {
		ID string `json:"client_id"`
	}
	if err := json.Unmarshal(reg.Body.Bytes(), &client); err != nil {
		b.Fatal(err)
	}
	g := grant{ID: randomID(12), Client: clientTag(client.ID), Key: "sk_live_a_typical_skimmer_key_0123456789", Write: true,
		Resource: s.resource, Ends: time.Now().Add(grantTTL).Unix()}
	serial := randomID(16)
	if err := store.Put(context.Background(), grantName(g.ID), []byte(serial), s.rotationTTL(g)); err != nil {
		b.Fatal(err)
	}
	refresh := s.issue(g, serial).RefreshToken
	for b.Loop() {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {client.ID}}
		req := httptest.NewRequest("POST", "/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var out tokenResponse
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
			b.Fatalf("refresh: %d %s", rec.Code, rec.Body)
		}
		refresh = out.RefreshToken
	}
	info, err := os.Stat(store.file)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(info.Size()), "state-bytes")
	b.ReportMetric(float64(store.Len()), "state-entries")
}

// BenchmarkVerifyDuringRefreshes is a token check while another grant is
// refreshed over and over, with the state (a thousand grants) kept in a
// file: what a request to the MCP endpoint waits for when sign-ins and
// refreshes happen beside it.
//
//	go test ./cmd/internal/oauth -run '^$' -bench VerifyDuringRefreshes -benchtime 20000x
func BenchmarkVerifyDuringRefreshes(b *testing.B) {
	store, err := NewMemoryStore(filepath.Join(b.TempDir(), "oauth-state.json"), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range 1000 {
		if err := store.Put(ctx, fmt.Sprintf("grant:%d", i), []byte(randomID(16)), time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	s, err := New(Config{Issuer: "https://mcp.example.com", Key: testKey, Store: store, CheckKey: func(context.Context, string) error { return nil }})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Routes(mux)
	reg := httptest.NewRecorder()
	mux.ServeHTTP(reg, httptest.NewRequest("POST", "/register", strings.NewReader(`{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"none"}`)))
	var client struct {
		ID string `json:"client_id"`
	}
	if err := json.Unmarshal(reg.Body.Bytes(), &client); err != nil {
		b.Fatal(err)
	}
	g := grant{ID: randomID(12), Client: clientTag(client.ID), Key: "sk_live_a_typical_skimmer_key_0123456789", Write: true,
		Resource: s.resource, Ends: time.Now().Add(grantTTL).Unix()}
	serial := randomID(16)
	tokens := s.issue(g, serial)
	refresh, access := tokens.RefreshToken, tokens.AccessToken
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {client.ID}}
			req := httptest.NewRequest("POST", "/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			var out tokenResponse
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
				panic(fmt.Sprintf("refresh: %d %s", rec.Code, rec.Body))
			}
			refresh = out.RefreshToken
		}
	}()
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := s.Verify(ctx, access); err != nil {
			b.Fatal(err)
		}
		worst = max(worst, time.Since(start))
	}
	close(stop)
	<-done
	b.ReportMetric(float64(worst.Microseconds()), "worst-µs")
}
