package tools

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// BenchmarkCustomerLine is the cost of one line of a list or search page.
//
//	go test ./tools -run '^$' -bench CustomerLine -benchmem
func BenchmarkCustomerLine(b *testing.B) {
	sb, err := sandbox.New(sandbox.Options{Seed: 1, Customers: 50, RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	sk, _ := skimmer.New(skimmer.Options{BaseURL: srv.URL, APIKey: "bench"})
	all, err := sk.AllCustomers(context.Background(), false)
	if err != nil {
		b.Fatal(err)
	}
	for _, detail := range []bool{false, true} {
		b.Run(fmt.Sprintf("detail=%t", detail), func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				_ = customerLine(&all[n%len(all)], detail)
				n++
			}
		})
	}
}

// BenchmarkListCustomers is list_customers (its defaults: one page of 25)
// as the account grows, against a server that answers from memory, so the
// figures are this code's and not the sandbox's. The list streams through
// a decoder that keeps only the page: time grows with the account, memory
// held does not. "all" loads the whole list into a slice, for contrast.
//
//	go test ./tools -run '^$' -bench ListCustomers -benchmem
func BenchmarkListCustomers(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		body := customerListBody(b, n)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}))
		sk, _ := skimmer.New(skimmer.Options{BaseURL: srv.URL, APIKey: "bench", Timeout: time.Minute})
		tool := listCustomers()
		b.Run(fmt.Sprintf("streamed/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			peak := peakHeap(func() {
				for b.Loop() {
					if _, err := tool.run(context.Background(), &call{client: sk, raw: []byte(`{}`)}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(peak/(1<<20), "peak-live-MB")
			b.ReportMetric(float64(len(body))/(1<<20), "body-MB")
		})
		b.Run(fmt.Sprintf("all/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			peak := peakHeap(func() {
				for b.Loop() {
					if _, err := sk.AllCustomers(context.Background(), false); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(peak/(1<<20), "peak-live-MB")
		})
		srv.Close()
	}
}

// customerListBody is the raw answer of GET /Customers for n customers.
func customerListBody(b *testing.B, n int) []byte {
	sb, err := sandbox.New(sandbox.Options{Seed: 1, Customers: n, RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/Customers", nil)
	req.Header.Set("skimmer-api-key", "bench")
	w := httptest.NewRecorder()
	sb.ServeHTTP(w, req)
	body, _ := io.ReadAll(w.Result().Body)
	return body
}

// peakHeap runs f and returns how far the live heap (what the GC found
// reachable, as of each collection) rose above where it stood before,
// sampled every 100µs. Garbage waiting for the next collection is not
// counted: it measures what the code holds, not how often the GC runs.
func peakHeap(f func()) float64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	f()
	runtime.GC() // a last collection, so the call's own high point is seen
	if v := read(); v > peak.Load() {
		peak.Store(v)
	}
	close(done)
	if p := peak.Load(); p > base {
		return float64(p - base)
	}
	return 0
}
